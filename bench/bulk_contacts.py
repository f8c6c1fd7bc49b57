"""Registering contacts through POST /api/v1/contacts/bulk/ compared with PostgreSQL COPY.

    .venv/bin/python bench/bulk_contacts.py [--database-url postgres://postgres@127.0.0.1:5432/kto_bench_api]
                                            [--contacts 100000] [--batch 1000] [--sample-one-in 1]

Creates the database when it is missing and migrates it, then:
1. sends ``--contacts`` contacts in calls of ``--batch`` through the bulk endpoint (Django's test
   client in this process: the full stack of middleware, authentication, parsing, validation,
   the invitation rules, the inserts and the JSON answer, without a network hop);
2. inserts the same number of rows into surveys_contact with COPY (psycopg 3), the fastest way
   PostgreSQL takes rows;
and prints both rates and their ratio. The target is a ratio of at least 0.1.

Every contact has its own reference and no recipient (the caller delivers the link), so with the
default sampling every contact gets an invitation: two rows and ten one-click links per contact.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHANNELS = ["balie", "telefoon", "email", "whatsapp", "chat", "website", "social"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/kto_bench_api")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--sample-one-in", type=int, default=1, help="Sampling for every channel (1 = invite all).")
    parser.add_argument(
        "--clients", type=int, default=1, help="Processes calling the endpoint at the same time (like web workers)."
    )
    return parser.parse_args()


def ensure_database(url: str) -> None:
    """A database whose name starts with kto_bench is recreated on every run (the schema lives in
    one regenerated initial migration until the first release); any other is only migrated."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as connection:
        if name.startswith("kto_bench"):
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kto.settings.test")
    import django

    django.setup()
    from django.conf import settings

    # As in production, the web process only enqueues tasks (deliveries, rollups) and a worker
    # runs them; here nobody does, the bench measures the registration itself.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "memory://"
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fresh_organisation(sample_one_in: int):
    from surveys.api.models import ApiKey
    from surveys.invitations.models import Contact, Invitation
    from surveys.organisations.models import Organisation, OrganisationChannel
    from surveys.organisations.services import create_organisation

    old = Organisation.objects.filter(slug="bench-api").first()
    if old is not None:
        Contact.objects.filter(organisation=old).delete()
        Invitation.objects.filter(organisation=old).delete()
        old.delete()
    organisation = create_organisation(name="Benchmark", slug="bench-api")
    OrganisationChannel.objects.filter(organisation=organisation).update(sample_one_in=sample_one_in)
    _, key = ApiKey.objects.create_key(organisation=organisation, name="bench")
    return organisation, key


def payloads(count: int, batch: int, prefix: str) -> list[bytes]:
    from django.utils import timezone

    start = timezone.now() - timedelta(days=30)
    bodies = []
    for first in range(0, count, batch):
        contacts = [
            {
                "channel": CHANNELS[n % len(CHANNELS)],
                "contact_moment": (start + timedelta(seconds=20 * n)).isoformat(),
                "reference": f"{prefix}-{n}",
                "language": "en" if n % 10 == 0 else "nl",
            }
            for n in range(first, min(first + batch, count))
        ]
        bodies.append(json.dumps({"contacts": contacts}).encode())
    return bodies


def _client(key: str):
    """A test client with the key, warmed up: imports and URL caches are not timed."""
    from django.test import Client

    client = Client(SERVER_NAME="localhost")
    headers = {"content_type": "application/json", "HTTP_AUTHORIZATION": f"Api-Key {key}"}
    warm_up = {"contacts": [{"channel": "balie", "contact_moment": "2026-01-05T10:00:00+01:00"}]}
    client.post("/api/v1/contacts/bulk/", json.dumps(warm_up), **headers)
    return client, headers


def _post_all(client, headers, bodies: list[bytes]) -> list[tuple[int, bytes]]:
    """The calls. Only status and body are kept (the test client's response objects hold the
    whole request, which would make the garbage collector's work grow with every call); the
    answers are read afterwards, as reading them is the caller's work."""
    answers = []
    for body in bodies:
        answer = client.post("/api/v1/contacts/bulk/", body, **headers)
        answers.append((answer.status_code, answer.content))
    return answers


def _count(answers: list[tuple[int, bytes]]) -> int:
    for status, content in answers:
        if status != 200:
            raise SystemExit(f"bulk call failed: {status} {content[:500]!r}")
    return sum(len(json.loads(content)["results"]) for _, content in answers)


def _worker(key: str, bodies: list[bytes], barrier, registered) -> None:
    from django.db import connections

    connections.close_all()  # a fresh connection of its own, not the parent's
    client, headers = _client(key)
    barrier.wait()
    count = _count(_post_all(client, headers, bodies))
    with registered.get_lock():
        registered.value += count


def run_api(key: str, bodies: list[bytes], clients: int) -> tuple[float, int]:
    """Wall-clock time from the first call until every client has had its last answer."""
    if clients == 1:
        client, headers = _client(key)
        started = time.perf_counter()
        answers = _post_all(client, headers, bodies)
        elapsed = time.perf_counter() - started
        return elapsed, _count(answers)

    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier, registered = context.Barrier(clients + 1), context.Value("i", 0)
    workers = [
        context.Process(target=_worker, args=(key, bodies[n::clients], barrier, registered)) for n in range(clients)
    ]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if any(worker.exitcode for worker in workers):
        raise SystemExit("a client failed")
    return elapsed, registered.value


def run_copy(organisation, count: int, rounds: int = 3) -> float:
    """The same number of rows, as COPY writes them: no validation, no rules, no answer. The
    best of ``rounds`` (each in its own transaction, removed afterwards), so that a moment of
    load on the machine makes the ratio stricter, never kinder."""
    from django.db import connection, transaction
    from django.utils import timezone

    from surveys.common.time import month_of
    from surveys.invitations.models import Contact

    start = timezone.now() - timedelta(days=30)
    now = timezone.now()
    columns = "organisation_id, channel, contact_moment, contact_month, reference, language, outcome, created_at"
    best = float("inf")
    for round_ in range(rounds):
        rows = []
        for n in range(count):
            moment = start + timedelta(seconds=20 * n)
            channel = CHANNELS[n % len(CHANNELS)]
            rows.append(
                (organisation.pk, channel, moment, month_of(moment), f"copy-{round_}-{n}", "nl", "invited", now)
            )
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {Contact._meta.db_table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        best = min(best, time.perf_counter() - started)
        Contact.objects.filter(organisation=organisation, reference__startswith="copy-").delete()
    return best


def main() -> None:
    args = parse_args()
    load = os.getloadavg()
    ensure_database(args.database_url)
    setup_django(args.database_url)
    from django.db import connection

    organisation, key = fresh_organisation(args.sample_one_in)
    bodies = payloads(args.contacts, args.batch, prefix=f"api-{int(time.time())}")
    api_seconds, registered = run_api(key, bodies, args.clients)
    copy_seconds = run_copy(organisation, args.contacts)

    from surveys.invitations.models import Contact, Invitation

    invited = Invitation.objects.filter(organisation=organisation).count()
    api_rate, copy_rate = registered / api_seconds, args.contacts / copy_seconds
    print(f"PostgreSQL {connection.pg_version // 10000}, database {connection.settings_dict['NAME']}, ", end="")
    print(f"{os.cpu_count()} CPUs, load average at the start {load[0]:.1f}")
    print(f"bulk endpoint: {registered} contacts in {api_seconds:.1f} s = {api_rate:,.0f} contacts/s", end="")
    print(f" ({args.clients} clients)" if args.clients > 1 else " (1 client)")
    print(f"               ({invited} invitations, {Contact.objects.filter(organisation=organisation).count()} rows)")
    print(f"COPY:          {args.contacts} rows in {copy_seconds:.2f} s = {copy_rate:,.0f} rows/s (best of 3)")
    print(f"ratio:         {api_rate / copy_rate:.3f} (target >= 0.1)")


if __name__ == "__main__":
    main()
