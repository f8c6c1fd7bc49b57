"""PostgreSQL stopped under a running site: a private PostgreSQL (the embedded server, its own data
folder and socket, so the suite's database stays up) behind a real server process. While it is
down, residents get a 503 page with Retry-After in their language, the API a 503 in JSON, nobody a
traceback; /healthz stays 200 and /readyz says what is missing; once it is back the same process
serves again, without a restart."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from kto import embedded_db
from tests.reports.test_reports import unused_port

ROOT = Path(__file__).resolve().parents[2]


def embedded(folder: Path, command: str) -> None:
    env = {**os.environ, "KTO_PGDATA": str(folder)}
    subprocess.run([sys.executable, "kto/embedded_db.py", command], cwd=ROOT, env=env, check=True, capture_output=True)


@pytest.fixture
def site(tmp_path):
    """The private PostgreSQL (migrated) and a server process on it; yields (base URL, folder)."""
    folder = ROOT / f".pgdata-down-{os.getpid()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KTO_", "DATABASE_URL"))},
        "DJANGO_SETTINGS_MODULE": "kto.settings.test",
        "DATABASE_URL": embedded_db.database_url(folder),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "KTO_CELERY_EAGER": "0",
    }
    embedded(folder, "start")
    server = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=300
        )
        port = unused_port()
        log = (tmp_path / "server.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield base, folder
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        subprocess.run(
            [sys.executable, "kto/embedded_db.py", "stop"], cwd=ROOT, env={**os.environ, "KTO_PGDATA": str(folder)}
        )
        shutil.rmtree(folder, ignore_errors=True)


def fetch(url: str, *, data: dict | None = None, headers: dict | None = None) -> tuple[int, dict, str]:
    method = requests.post if data is not None else requests.get
    answer = method(url, data=data, headers=headers, timeout=15, allow_redirects=False)
    return answer.status_code, answer.headers, answer.text


def test_with_postgresql_down_the_site_answers_503_and_recovers_without_a_restart(site):
    base, folder = site
    assert fetch(base + "/healthz")[0] == 200
    status, _headers, body = fetch(base + "/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok", "broker": "ok"})

    embedded(folder, "stop")

    status, headers, body = fetch(base + "/o/stichtse-vecht/balie/")
    assert (status, headers["Retry-After"]) == (503, "30")
    assert "Even niet bereikbaar" in body and "Traceback" not in body
    status, headers, body = fetch(base + "/o/stichtse-vecht/balie/?lang=en")
    assert status == 503 and "Temporarily unavailable" in body
    status, headers, body = fetch(base + "/o/stichtse-vecht/balie/", data={"score": "8"})
    assert status == 503 and "Uw antwoord is nog niet opgeslagen" in body
    status, headers, body = fetch(base + "/api/v1/rollups/", headers={"Authorization": "Api-Key abc"})
    assert (status, headers["Content-Type"], headers["Retry-After"]) == (503, "application/json", "30")
    assert json.loads(body) == {"detail": "KTO is even niet bereikbaar. Probeer het over een halve minuut opnieuw."}
    assert fetch(base + "/healthz")[0] == 200  # alive: no reason to restart it
    status, headers, body = fetch(base + "/readyz")
    assert (status, json.loads(body)["database"], headers["Retry-After"]) == (503, "unavailable", "30")

    embedded(folder, "start")

    assert fetch(base + "/readyz")[0] == 200
    status, _headers, body = fetch(base + "/o/nergens/balie/")
    assert status == 404  # the database answers again, to the same process
