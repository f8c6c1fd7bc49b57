"""Two real Celery workers and two beats on the real Redis live through a month on a fast clock
(tests/reports/fast_clock.py), from 31 December 2018 to 1 February 2019: a real SMTP server
(aiosmtpd) receives every report e-mail exactly once: the yearly 2018 and the monthly December
2018 on 2 January (1 January is a holiday), the monthly January on 1 February."""

import logging
import os
import subprocess
import sys
import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from surveys.reports.models import DeliveryState, ReportDelivery, ReportRecipient, ReportSubscription
from tests.factories import OrganisationFactory
from tests.worker import database_url

from .test_reports import unused_port

ROOT = Path(__file__).resolve().parents[2]
SPEED = 86_400  # a simulated day per real second
STARTUP = 15  # real seconds for four processes to start, before the clock reaches the month
EXPECTED = 12  # 2 organisations × 2 recipients × (yearly 2018, December 2018, January 2019)


class Sink:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        message = message_from_bytes(envelope.content, policy=policy.default)
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, message["Subject"]))
        return "250 OK"


def harness_env(*, smtp_port: int, queue: str, start: str, origin: float, speed: float) -> dict[str, str]:
    """The environment of a worker or beat on tests/reports/fast_clock.py: the test database and
    Redis, this SMTP server and queue, the clock's start, origin and speed."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kto.settings.test",
        "KTO_CELERY_EAGER": "0",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "KTO_CLOCK_START": start,
        "KTO_CLOCK_ORIGIN": str(origin),
        "KTO_CLOCK_SPEED": str(speed),
        "KTO_TEST_SMTP_PORT": str(smtp_port),
        "KTO_TEST_QUEUE": queue,
    }


def start(role: str, name: str, tmp_path: Path, env: dict) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"{name}.log"
    if role == "worker":
        args = [
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}@%h",
        ]
    else:
        args = ["beat", "-s", str(tmp_path / f"{name}-schedule")]
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "reports" / "fast_clock.py"), *args, "--loglevel=INFO"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return process, log


@pytest.mark.django_db(transaction=True)
def test_two_workers_and_two_beats_send_each_report_once_over_a_month(tmp_path):
    for number in (1, 2):
        organisation = OrganisationFactory(slug=f"gemeente-{number}", name=f"Gemeente {number}")
        subscription = ReportSubscription.objects.create(organisation=organisation, name="Directie")
        for who in ("a", "b"):
            ReportRecipient.objects.create(subscription=subscription, email=f"{who}@gemeente-{number}.example")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every envelope's addresses
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=unused_port())
    controller.start()
    env = harness_env(
        smtp_port=controller.port,
        queue=f"kto-reports-e2e-{os.getpid()}",
        start="2018-12-31T06:00:00+01:00",
        origin=time.time() + STARTUP,
        speed=SPEED,
    )
    processes = [start(role, f"{role}-{n}-{os.getpid()}", tmp_path, env) for role in ("worker", "beat") for n in (1, 2)]
    try:
        # 1 February 07:00 is 32 simulated days and an hour after the start: 32 real seconds.
        deadline = time.time() + STARTUP + 32 + 30
        while len(sink.received) < EXPECTED and time.time() < deadline:
            for process, log in processes:
                assert process.poll() is None, log.read_text()[-3000:]
            time.sleep(0.5)
        time.sleep(3)  # room for a second send, if there were one
    finally:
        for process, _log in processes:
            process.terminate()
        for process, _log in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        controller.stop()
    logs = "\n".join(log.read_text()[-2000:] for _process, log in processes)
    counts = Counter(sink.received)
    assert len(counts) == EXPECTED, (counts, logs)
    assert set(counts.values()) == {1}, counts
    subjects = Counter(subject.split(" – ")[0] for _to, subject in counts)
    assert subjects == {
        "Jaarrapport klanttevredenheid 2018": 4,
        "Klanttevredenheid december 2018": 4,
        "Klanttevredenheid januari 2019": 4,
    }
    assert ReportDelivery.objects.filter(state=DeliveryState.SENT, sent_count=1).count() == EXPECTED
    assert ReportDelivery.objects.count() == EXPECTED
    plans = sum(log.read_text().count("plan_reports") for _p, log in processes if "beat" in log.name)
    assert plans >= 2 * 30  # both beats sent the daily plan every simulated day
