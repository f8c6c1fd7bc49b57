"""Production settings: secrets only from the environment, and Django's deploy check passes.
Each case runs in a fresh process, because settings are read once at start-up."""

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
REQUIRED = [
    "DJANGO_SECRET_KEY",
    "KTO_ADDRESS_HASH_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "DJANGO_ALLOWED_HOSTS",
    "KTO_BASE_URL",
]


def random_key(length: int) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def production_environment(**changes) -> dict[str, str]:
    """A complete, valid production environment; a change to None removes the variable."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "KTO_")) and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "kto.settings.production",
            "DJANGO_SECRET_KEY": random_key(64),
            "KTO_ADDRESS_HASH_KEY": random_key(48),
            "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kto"),
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"),
            "DJANGO_ALLOWED_HOSTS": "kto.example.nl",
            "KTO_BASE_URL": "https://kto.example.nl",
        }
    )
    for key, value in changes.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return environment


def run(args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=120
    )


def deploy_check(environment: dict[str, str]) -> subprocess.CompletedProcess:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment)


def defined_in_dot_env(name: str) -> bool:
    """A developer's .env fills in variables missing from the environment (never empty ones)."""
    dot_env = BASE_DIR / ".env"
    return dot_env.exists() and any(
        line.strip().startswith(f"{name}=") and line.split("=", 1)[1].strip()
        for line in dot_env.read_text().splitlines()
    )


def test_production_settings_pass_the_deploy_check():
    result = deploy_check(production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_without_the_secret_key():
    if defined_in_dot_env("DJANGO_SECRET_KEY"):
        pytest.skip(".env defines DJANGO_SECRET_KEY")
    result = deploy_check(production_environment(DJANGO_SECRET_KEY=None))
    assert result.returncode != 0
    assert "KTO cannot start: Set the DJANGO_SECRET_KEY environment variable" in result.stderr
    assert "Traceback" not in result.stderr


# Imports the production settings once per case, each time with the case's changes to the
# environment, and prints what happened: one process for many cases keeps the suite fast.
IMPORT_CASES = """
import importlib, json, os, sys
from django.core.exceptions import ImproperlyConfigured
outcomes = {}
for label, changes in json.load(sys.stdin).items():
    saved = dict(os.environ)
    for key, value in changes.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    for module in [name for name in sys.modules if name.startswith("kto.settings")]:
        del sys.modules[module]
    try:
        importlib.import_module("kto.settings.production")
        outcomes[label] = "imported"
    except ImproperlyConfigured as exc:
        outcomes[label] = str(exc)
    os.environ.clear()
    os.environ.update(saved)
print(json.dumps(outcomes))
"""


def import_outcomes(cases: dict[str, dict]) -> dict[str, str]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-c", IMPORT_CASES],
        cwd=BASE_DIR,
        env=production_environment(),
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_required_variable_is_named_when_missing_or_empty():
    cases = {}
    for name in REQUIRED:
        if not defined_in_dot_env(name):
            cases[f"{name} missing"] = {name: None}
        cases[f"{name} empty"] = {name: ""}
        cases[f"{name} blank"] = {name: "   "}
    outcomes = import_outcomes(cases)
    for label, changes in cases.items():
        (name,) = changes
        assert outcomes[label] == f"Set the {name} environment variable: production has no default for it.", label


def test_unsafe_values_are_refused_with_a_clear_message():
    outcomes = import_outcomes(
        {
            "short address key": {"KTO_ADDRESS_HASH_KEY": "kort"},
            "shared key": {"DJANGO_SECRET_KEY": "s" * 60, "KTO_ADDRESS_HASH_KEY": "s" * 60},
            "http base url": {"KTO_BASE_URL": "http://127.0.0.1:8000"},
            "valid": {},
        }
    )
    assert outcomes == {
        "short address key": (
            "KTO_ADDRESS_HASH_KEY must be a random value of at least 32 characters, different from DJANGO_SECRET_KEY."
        ),
        "shared key": (
            "KTO_ADDRESS_HASH_KEY must be a random value of at least 32 characters, different from DJANGO_SECRET_KEY."
        ),
        "http base url": "KTO_BASE_URL must be the public https:// address of the site.",
        "valid": "imported",
    }


def test_production_settings_take_their_values_from_the_environment():
    code = (
        "from kto.settings import production as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.DATABASES['default']['NAME'], s.CELERY_BROKER_URL, "
        "s.CELERY_TASK_ALWAYS_EAGER)"
    )
    environment = production_environment(
        DJANGO_ALLOWED_HOSTS="kto.example.nl, www.kto.example.nl",
        DATABASE_URL="postgres://kto@db.internal:5432/kto_prod",
        REDIS_URL="redis://redis.internal:6379/0",
    )
    result = run(["-c", code], environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "['kto.example.nl',",
        "'www.kto.example.nl']",
        "kto_prod",
        "redis://redis.internal:6379/0",
        "False",
    ]


# Collects the static files into a manifest, then renders pages the way production serves them:
# a template naming a static file that does not exist fails here instead of on the live site.
# Django's manifest storage stands in for WhiteNoise's compressing subclass: the same manifest,
# without compressing megabytes of API-documentation JavaScript on every test run.
STATIC_PAGES = """
import sys
import django
from django.conf import settings
settings.STATIC_ROOT = sys.argv[1]
assert settings.STORAGES["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("collectstatic", "--noinput", verbosity=0)
client = Client()
for url in ["/admin/login/", "/s/" + "x" * 65 + "/", "/static/surveys/kto.css"]:
    response = client.get(url, HTTP_HOST="kto.example.nl", HTTP_X_FORWARDED_PROTO="https")
    print(url[:15], response.status_code, response.headers.get("Strict-Transport-Security"))
"""


def test_production_serves_collected_static_files_and_pages(tmp_path):
    result = run(["-c", STATIC_PAGES, str(tmp_path)], production_environment())
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "staticfiles.json").exists()
    hsts = "max-age=31536000; includeSubDomains; preload"
    assert result.stdout.splitlines() == [
        f"/admin/login/ 200 {hsts}",
        f"/s/xxxxxxxxxxxx 404 {hsts}",
        f"/static/surveys 200 {hsts}",
    ]
