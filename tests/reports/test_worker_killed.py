"""A worker killed while it sends a report (SIGKILL in the middle of the SMTP conversation): the
delivery stays "sending", the sweep then shows it as unknown, nothing sends it again by itself,
and "Opnieuw versturen" sends it once."""

import asyncio
import logging
import os
import signal
import time
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.db import connection, transaction
from django.utils import timezone

from kto.celery import app
from surveys.reports import services
from surveys.reports.models import DeliveryState, ReportDelivery, ReportRecipient, ReportSubscription
from tests.factories import OrganisationFactory

from .test_reports import YEAR_2018, unused_port
from .test_two_workers_two_beats import harness_env, start


class StallingSink:
    """Takes the whole message, then waits before it answers: the worker is killed meanwhile."""

    def __init__(self):
        self.data_started = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.data_started += 1
        await asyncio.sleep(30)
        return "250 OK"


def wait(condition, what, process, log, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_leaves_an_unknown_delivery_sent_again_only_by_hand(tmp_path, mailoutbox):
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    organisation = OrganisationFactory(slug="gemeente-kill", name="Gemeente Kill")
    subscription = ReportSubscription.objects.create(organisation=organisation, name="Directie")
    ReportRecipient.objects.create(subscription=subscription, email="directie@gemeente-kill.example")
    sink = StallingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=unused_port())
    controller.start()
    queue = f"kto-reports-kill-{os.getpid()}"
    # the fast clock's harness at the real speed: a worker that sends to this SMTP server
    env = harness_env(
        smtp_port=controller.port, queue=queue, start=timezone.now().isoformat(), origin=time.time(), speed=1
    )
    worker, log = start("worker", f"kill-{os.getpid()}", tmp_path, env)
    try:
        wait(lambda: "ready." in log.read_text(), "the worker to start", worker, log)
        # Claimed and committed; its own queueing is left out (it would run eagerly here), and the
        # task goes to this worker's queue instead.
        with transaction.atomic():
            queued = len(connection.run_on_commit)
            (pk,) = services.claim(organisation.pk, "year", YEAR_2018)
            del connection.run_on_commit[queued:]
        app.send_task("surveys.reports.tasks.deliver_report", args=[pk], queue=queue)
        wait(lambda: sink.data_started, "the worker to send the message", worker, log)
        assert ReportDelivery.objects.get(pk=pk).state == DeliveryState.SENDING
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
        controller.stop()
    assert ReportDelivery.objects.get(pk=pk).state == DeliveryState.SENDING  # nobody knows yet
    assert services.settle(now=timezone.now() + timedelta(minutes=1)) == {"unknown": 0, "queued": 0}
    assert services.settle(now=timezone.now() + services.STALE_SENDING + timedelta(seconds=1)) == {
        "unknown": 1,
        "queued": 0,
    }
    delivery = ReportDelivery.objects.get(pk=pk)
    assert delivery.state == DeliveryState.UNKNOWN and "may or may not" in delivery.last_error
    assert services.deliver(pk) == DeliveryState.UNKNOWN  # a task that runs again sends nothing
    assert mailoutbox == []
    services.resend([pk], user=None)  # someone asked (here: outside a transaction, so it runs now)
    assert ReportDelivery.objects.get(pk=pk).state == DeliveryState.SENT
    assert len(mailoutbox) == 1
