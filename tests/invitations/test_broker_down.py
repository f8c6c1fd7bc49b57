"""Redis stopped (a private instance on its own port, so the suite's Redis stays up) while
integrators register contacts: every POST /api/v1/contacts/ answers 201 at once, as with Redis up;
the deliveries wait in PostgreSQL; once Redis is back the sweep queues them and a real worker sends
each invitation exactly once (counted at a fake MessageBird)."""

import subprocess
import time
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from kto.celery import app as celery_app
from surveys.api.models import ApiKey
from surveys.invitations.models import Delivery
from surveys.invitations.services import requeue_deliveries
from surveys.organisations.models import Channel
from surveys.organisations.services import create_organisation
from tests.api.client import ApiClient
from tests.invitations.test_tasks import messagebird_for_worker  # noqa: F401
from tests.reports.test_reports import unused_port
from tests.worker import wait_for


class PrivateRedis:
    def __init__(self, directory):
        self.port, self.directory, self.process = unused_port(), directory, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        pytest.fail("the private Redis did not start")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path, settings, monkeypatch):
    """A Redis of this test only, as the broker of this process and of the worker it starts."""
    server = PrivateRedis(tmp_path)
    server.start()
    # Celery's conf reads Django's settings: it is patched first, so that undoing it restores the
    # suite's Redis, not this one.
    monkeypatch.setitem(celery_app.conf, "broker_url", server.url)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    settings.CELERY_BROKER_URL = server.url  # read by the worker fixture
    celery_app._after_fork()  # drop the connection pools made for the suite's Redis
    yield server
    if server.process.poll() is None:
        server.stop()
    monkeypatch.undo()
    celery_app._after_fork()


def contact(number: int) -> dict:
    return {
        "channel": "telefoon",
        "contact_moment": timezone.now().isoformat(),
        "reference": f"call-{number}",
        "recipient": f"06 1234 56{number:02d}",
        "method": "sms",
    }


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_redis_down_contacts_are_registered_and_every_invitation_is_sent_once_after(
    private_redis,
    messagebird_for_worker,  # noqa: F811
    worker,
):
    process, log = worker
    organisation = create_organisation(name="Utrecht", slug="utrecht", channels=[Channel.TELEFOON])
    _key, plain = ApiKey.objects.create_key(organisation=organisation, name="telefonie")
    api = ApiClient(plain)

    assert api.post("/api/v1/contacts/", contact(0)).status_code == 201  # Redis up: sent at once
    wait_for(lambda: len(messagebird_for_worker.requests) == 1, "the first SMS", process, log)

    private_redis.stop()
    timings = []
    for number in range(1, 6):
        started = time.monotonic()
        answer = api.post("/api/v1/contacts/", contact(number))
        timings.append(time.monotonic() - started)
        assert answer.status_code == 201, answer.content
        assert answer.json()["invited"] is True
    assert max(timings) < 0.5, timings  # no waiting for the broker
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 5

    private_redis.start()
    assert requeue_deliveries() == 0  # too early: their tasks may still be on their way
    later = timezone.now() + timedelta(minutes=3)
    assert requeue_deliveries(now=later) == 5
    wait_for(lambda: Delivery.objects.filter(status=Delivery.Status.SENT).count() == 6, "the five SMS", process, log)
    assert requeue_deliveries(now=later + timedelta(minutes=3)) == 0
    time.sleep(1)
    recipients = sorted(request.body["recipients"][0] for request in messagebird_for_worker.requests)
    assert recipients == [f"3161234560{n}" for n in range(6)]  # each exactly once
