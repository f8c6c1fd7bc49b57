"""What an operator runs: the image's build steps (Dockerfile) run here as a script, gunicorn with
the production settings serving the health checks and a resident's page, compose.yaml read for
its services and the variables the production settings require, and checked by compose's own
`config` where compose is installed. (Docker itself cannot run here: no engine.)"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from django.conf import settings
from django.test import override_settings

from tests.reports.test_reports import unused_port
from tests.worker import database_url

ROOT = Path(__file__).resolve().parents[2]


def image_build_steps() -> list[str]:
    """The steps of the Dockerfile's RUN after `COPY . .`, one per `&&` (read from the Dockerfile)."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    [run] = [line for line in dockerfile.splitlines() if line.startswith("RUN pip install --no-deps .")]
    return [" ".join(step.split()) for step in run.removeprefix("RUN ").split("&&")]


def clean_env(**extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "KTO_", "CELERY_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    return {**env, "DJANGO_SETTINGS_MODULE": "kto.settings.production", **extra}


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Path:
    """The image's build steps run as a script on a copy of what `COPY . .` takes (.dockerignore's
    folders and the compiled translations left out), with the test's Python for the image's; the
    image's own `pip install` and `useradd` are left out (the dependencies are this venv's)."""
    app = tmp_path_factory.mktemp("image") / "app"
    left_out = (".git", ".venv", ".pgdata*", "media", "staticfiles", "test-artifacts", "__pycache__", "*.mo")
    shutil.copytree(ROOT, app, ignore=shutil.ignore_patterns(*left_out))
    steps = [step for step in image_build_steps() if not step.startswith(("pip install", "useradd"))]
    env = clean_env(PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    subprocess.run(["bash", "-ec", " && ".join(steps)], cwd=app, env=env, check=True, timeout=300)
    return app


def test_the_images_build_steps_run_with_the_production_settings_and_their_build_time_values(image):
    assert [step.split()[:3] for step in image_build_steps()[1:]] == [
        ["export", "DJANGO_SECRET_KEY=build-only", "KTO_ADDRESS_HASH_KEY=build-only-not-a-secret-0123456789abcdef"],
        ["python", "manage.py", "compilemessages"],
        ["python", "manage.py", "collectstatic"],
        ["useradd", "--system", "--uid"],
    ]
    assert (image / "surveys/locale/en/LC_MESSAGES/django.mo").stat().st_size > 10_000
    manifest = (image / "staticfiles/staticfiles.json").read_text()
    assert "surveys/kto.css" in manifest and "admin/css/base.css" in manifest


@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_the_production_settings_serves_the_checks_and_a_residents_page(tmp_path, image):
    from tests.factories import OrganisationFactory

    organisation = OrganisationFactory(name="Stichtse Vecht", slug="stichtse-vecht")
    port = unused_port()
    env = clean_env(
        DJANGO_SECRET_KEY="test-secret-" + "x" * 40,
        KTO_ADDRESS_HASH_KEY="test-address-hash-key-" + "y" * 20,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        KTO_BASE_URL="https://kto.example.nl",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.CELERY_BROKER_URL,
        KTO_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        DJANGO_STATIC_ROOT=str(image / "staticfiles"),
    )
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "kto/gunicorn.conf.py", "kto.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = requests.get(base + "/healthz", timeout=15)  # the workers may still be loading
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
        assert health.status_code == 200  # over plain HTTP: the load balancer's check is not redirected
        ready = requests.get(base + "/readyz", timeout=5)
        assert (ready.status_code, ready.json()) == (200, {"status": "ok", "database": "ok", "broker": "ok"})
        assert requests.get(base + "/o/stichtse-vecht/balie/", allow_redirects=False, timeout=5).status_code == 301
        https = {"X-Forwarded-Proto": "https"}
        page = requests.get(base + "/o/stichtse-vecht/balie/", headers=https, timeout=5)
        assert page.status_code == 200 and "Stichtse Vecht" in page.text
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert "camera=()" in page.headers["Permissions-Policy"]
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Set-Cookie" not in page.headers
        # Each worker keeps the page (surveys/questionnaires/open_links.py); a change saved here,
        # with the workers' Redis as this process's cache, shows in every worker's next answer.
        pages = [requests.get(page.url, headers=https, timeout=5).text for _ in range(12)]
        assert all("Stichtse Vecht" in text for text in pages)
        redis_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env["REDIS_URL"]}
        with override_settings(CACHES={"default": redis_cache}):
            organisation.name = "Gemeente Stichtse Vecht"
            organisation.save()
        pages = [requests.get(page.url, headers=https, timeout=5).text for _ in range(12)]
        assert all("Gemeente Stichtse Vecht" in text for text in pages)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_compose_runs_web_worker_beat_on_postgresql_and_redis_with_every_required_variable():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    for name in ("migrate", "web", "worker", "beat"):
        assert services[name]["build"] == "." and services[name]["env_file"] == ".env"
    assert services["worker"]["command"][:4] == ["celery", "-A", "kto", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "kto", "beat"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    required = set(re.findall(r'required\("(\w+)"\)', (ROOT / "kto/settings/production.py").read_text()))
    example = {
        line.split("=", 1)[0] for line in (ROOT / ".env.production.example").read_text().splitlines() if "=" in line
    }
    assert required <= example, required - example


def compose_command() -> list[str] | None:
    """Docker's compose plugin, or the standalone docker-compose (Debian's package): either one
    reads and checks the file without an engine."""
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.mark.skipif(compose_command() is None, reason="neither docker compose nor docker-compose is installed")
def test_compose_config_accepts_the_filled_in_example_and_refuses_it_without_a_database_password(tmp_path):
    """`docker compose config`, the operator's own check, on the example .env filled in."""
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    example = (ROOT / ".env.production.example").read_text()
    (tmp_path / ".env").write_text(example)
    refused = subprocess.run([*compose_command(), "config"], cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode != 0 and "set POSTGRES_PASSWORD in .env" in refused.stderr
    (tmp_path / ".env").write_text(example.replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=a-long-password\n"))
    checked = subprocess.run([*compose_command(), "config"], cwd=tmp_path, capture_output=True, text=True, check=True)
    services = yaml.safe_load(checked.stdout)["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat"}
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == "a-long-password"
    for name in ("migrate", "web", "worker", "beat"):  # every process gets the .env's settings
        assert services[name]["environment"]["DATABASE_URL"] == "postgres://kto:CHANGE-ME@db:5432/kto"
