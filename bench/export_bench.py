"""Exports of the responses list at a million responses: time and peak memory (issue 13).

    .venv/bin/python bench/export_bench.py [--responses 1000000] \
        [--database-url postgres://postgres@127.0.0.1:5432/kto_bench_export] [--reuse]

The database (its name must start with kto_bench) is dropped, created and migrated, and filled with
one organisation's responses (a third with a comment of 60-120 characters) by one INSERT ... SELECT
over generate_series. Each export then runs in a fresh Python process, through Django's test client
with a logged-in superuser, reading the streamed answer chunk by chunk as a browser would: the
whole list (a million rows) and, for comparison, a month of it (about 1/48th). Reported: rows,
bytes, seconds, and the process's peak resident memory (ru_maxrss) against the same process before
the export. Flat memory means the million-row export peaks at about the month's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kto_bench_export"

# A third of the responses have a comment, spread over every day: (i / 1461) % 3, as i % 3 would
# comment whole days (1461 days are a multiple of 3), and a search would walk days without a match.
FILL = """
INSERT INTO surveys_response (organisation_id, channel, survey_version_id, contact_moment, contact_month,
                              submitted_at, score, comment, language, source, is_complete)
SELECT %(organisation)s, 'balie', %(version)s, moment, date_trunc('month', moment)::date, moment + interval '1 hour',
       1 + (i::bigint * 7919) %% 10,
       CASE WHEN (i / 1461) %% 3 = 0
            THEN left(repeat('Vriendelijk geholpen aan de balie, maar ik wachtte ' || (i %% 50) || ' minuten. ', 3),
                      60 + i %% 60)
            ELSE '' END,
       'nl', 'open', true
  FROM generate_series(1, %(responses)s) AS i,
       LATERAL (SELECT timestamp with time zone '2015-01-01 09:00+01' + (i %% 1461) * interval '1 day'
                       + (i %% 480) * interval '1 minute' AS moment) AS m
"""


def setup(database_url: str, responses: int, reuse: bool, before_fill: str | None = None) -> None:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    if not name.startswith("kto_bench"):
        raise SystemExit("The database's name must start with kto_bench: it is dropped and created.")
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    if not reuse:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from surveys.organisations.models import Organisation
    from surveys.organisations.services import create_organisation
    from surveys.questionnaires.services import current_version

    if reuse:
        return
    call_command("migrate", verbosity=0)
    organisation = create_organisation(name="Benchgemeente", slug="bench", channels=["balie"])
    version = current_version(organisation=Organisation.objects.get(pk=organisation.pk), channel="balie")
    get_user_model().objects.create_superuser(username="bench", password="bench")  # noqa: S106
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if before_fill:
            cursor.execute(before_fill)
        cursor.execute(FILL, {"organisation": organisation.pk, "version": version.pk, "responses": responses})
        cursor.execute("ANALYZE surveys_response")
    print(f"{responses:,} responses inserted in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def child(database_url: str, file_format: str, query: str) -> dict:
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="localhost")  # an allowed host outside pytest
    client.force_login(get_user_model().objects.get(username="bench"))
    client.get("/admin/")  # the session, permissions and templates, before the measurement
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    answer = client.get(f"/admin/surveys/response/export/{file_format}/{query}")
    size = 0
    for chunk in answer.streaming_content:
        size += len(chunk)
    seconds = time.perf_counter() - started
    from surveys.responses.models import ExportLog

    return {
        "format": file_format,
        "query": query or "(all)",
        "rows": ExportLog.objects.latest("created_at").rows,
        "bytes": size,
        "seconds": round(seconds, 1),
        "peak_mb_before": round(before / 1024, 1),
        "peak_mb_after": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reuse", action="store_true", help="keep the responses of an earlier run")
    parser.add_argument("--child", nargs=2, metavar=("FORMAT", "QUERY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kto.settings.test")
    if args.child:
        print(json.dumps(child(args.database_url, args.child[0], args.child[1])))
        return
    setup(args.database_url, args.responses, args.reuse)
    results = []
    for file_format in ("csv", "xlsx"):
        for query in ("?period=2016-06", ""):
            output = subprocess.run(
                [sys.executable, __file__, "--database-url", args.database_url, "--child", file_format, query],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout
            results.append(json.loads(output.strip().splitlines()[-1]))
            print(json.dumps(results[-1]))
    print("\n| format | rows | size | seconds | peak memory before → after |\n|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['format']} | {r['rows']:,} | {r['bytes'] / 1e6:.1f} MB | {r['seconds']} | "
            f"{r['peak_mb_before']} → {r['peak_mb_after']} MB |"
        )


if __name__ == "__main__":
    main()
