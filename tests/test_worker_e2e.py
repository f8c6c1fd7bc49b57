"""End to end with a real Celery worker on real Redis: a response submitted here is rolled up by
the worker after the beat task (rollup_pass) is sent to the broker."""

import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection

from kto.celery import app as celery_app
from surveys import services
from surveys.models import Channel, RollupChange, ScoreRollup, Source
from surveys.tasks import rollup_pass
from tests.factories import OrganisationFactory

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 90


def database_url() -> str:
    """The URL of the test database this process uses, for the worker."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def wait_for(condition, what: str, worker: subprocess.Popen, log: Path):
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        if worker.poll() is not None:
            pytest.fail(f"The worker stopped (exit {worker.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.25)
    pytest.fail(f"Timed out after {TIMEOUT}s waiting for {what}:\n{log.read_text()[-3000:]}")


@pytest.fixture
def worker(tmp_path):
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kto.settings.test",
        "KTO_CELERY_EAGER": "0",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.CELERY_BROKER_URL,
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "kto",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"e2e-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "ready." in log.read_text(), "the worker to start", process, log)
        yield process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_rolls_up_a_new_response(worker, settings):
    process, log = worker
    # As in production: no eager rollup after commit; the beat task goes through Redis.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        organisation = OrganisationFactory()
        for score in (6, 9):
            services.submit_response(
                organisation=organisation,
                channel=Channel.TELEFOON,
                score=score,
                source=Source.OPEN,
                contact_moment=datetime(2018, 12, 31, 23, 30, tzinfo=AMSTERDAM),
            )
        assert RollupChange.objects.filter(organisation=organisation).exists()
        rollup_pass.apply_async()

        def month_row():
            return ScoreRollup.objects.filter(
                organisation=organisation, channel=Channel.TELEFOON, period="month", period_start=date(2018, 12, 1)
            ).first()

        row = wait_for(month_row, "the month row", process, log)
        assert (row.n, row.total, row.mean) == (2, 15, 7.5)
        year = ScoreRollup.objects.get(
            organisation=organisation, channel="all", period="year", period_start=date(2018, 1, 1)
        )
        assert year.n == 2
        wait_for(lambda: not RollupChange.objects.exists(), "the change to be taken in", process, log)
        assert "rollup_organisation" in log.read_text()
    finally:
        celery_app.conf.task_always_eager = eager
