"""End to end with a real Celery worker on real Redis: a registered contact's SMS leaves through
the MessageBird gateway (a local HTTP server) exactly once, however often the task is sent."""

import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from kto.celery import app as celery_app
from surveys.invitations.contacts import register_contact
from surveys.invitations.delivery import DELIVERY_LEASE
from surveys.invitations.models import Delivery, InvitationStatus
from surveys.invitations.services import requeue_deliveries
from surveys.invitations.tasks import send_invitation
from surveys.organisations.models import Channel
from surveys.organisations.services import create_organisation
from surveys.rollups.models import ContactRollup, PeriodKind
from tests.invitations import fake_messagebird
from tests.worker import wait_for


@pytest.fixture
def messagebird_for_worker(monkeypatch):
    """The fake MessageBird, configured through the environment the worker process inherits."""
    fake = fake_messagebird.start()
    monkeypatch.setenv("KTO_MESSAGE_GATEWAY", "messagebird")
    monkeypatch.setenv("KTO_MESSAGEBIRD_API_KEY", "worker-key")
    monkeypatch.setenv("KTO_MESSAGEBIRD_BASE_URL", fake.url)
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_invitation_once(messagebird_for_worker, worker, settings, monkeypatch):  # noqa: F811
    process, log = worker
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    organisation = create_organisation(name="Utrecht", slug="utrecht", channels=[Channel.TELEFOON])
    result = register_contact(
        organisation=organisation,
        channel=Channel.TELEFOON,
        contact_moment=timezone.now(),
        recipient="06 12345678",
        method="sms",
    )  # committed: the task goes to Redis

    def sent():
        delivery = Delivery.objects.get(pk=result.delivery.pk)
        return delivery if delivery.status == Delivery.Status.SENT else None

    delivery = wait_for(sent, "the delivery to be sent", process, log)
    assert (delivery.recipient, delivery.token, delivery.provider_reference) == ("", "", "mb-1")
    assert delivery.invitation.status == InvitationStatus.SENT
    [request] = messagebird_for_worker.requests
    assert request.headers["Authorization"] == "AccessKey worker-key"
    assert request.body["recipients"] == ["31612345678"]

    # The same task again (a redelivered or duplicated message): nothing more is sent.
    send_invitation.delay(delivery.pk)
    send_invitation.delay(delivery.pk)
    wait_for(lambda: log.read_text().count("'skipped'") >= 2, "the duplicate tasks to run", process, log)
    assert len(messagebird_for_worker.requests) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_is_settled_as_unknown_within_the_lease_and_never_resent(
    messagebird_for_worker, worker, settings, monkeypatch
):
    process, log = worker
    messagebird_for_worker.delay = 30  # the gateway has the message; the worker dies waiting for the answer
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    organisation = create_organisation(name="Utrecht", slug="utrecht", channels=[Channel.TELEFOON])
    result = register_contact(
        organisation=organisation,
        channel=Channel.TELEFOON,
        contact_moment=timezone.now(),
        recipient="06 12345678",
        method="sms",
    )
    wait_for(lambda: messagebird_for_worker.requests, "the gateway to receive the SMS", process, log)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert Delivery.objects.get(pk=result.delivery.pk).status == Delivery.Status.SENDING
    assert requeue_deliveries(now=timezone.now() + DELIVERY_LEASE + timedelta(seconds=1)) == 0
    delivery = Delivery.objects.get(pk=result.delivery.pk)
    assert (delivery.status, delivery.recipient, delivery.token) == (Delivery.Status.UNKNOWN, "", "")
    assert delivery.invitation.status == InvitationStatus.SENT  # counted as sent: it reached the gateway
    sent = ContactRollup.objects.filter(organisation=organisation, channel=Channel.TELEFOON, period=PeriodKind.MONTH)
    assert sent.get().invitations_sent == 1  # in the response rate's denominator
    send_invitation.apply(args=[delivery.pk])  # the task once more, as a redelivered message would
    assert len(messagebird_for_worker.requests) == 1
