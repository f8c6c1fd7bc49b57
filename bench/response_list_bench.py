"""The responses list in the admin at 10,000 and at 10 million responses: time and number of
queries of a page with a filter and a search (issue 13: within 1.5x, the same number of queries).

    .venv/bin/python bench/response_list_bench.py [--large 10000000] [--small 10000] [--reuse]

Two databases, kto_bench_list_small and kto_bench_list_large (dropped, created and migrated; filled
as bench/export_bench.py fills, a third of the responses with a comment; the full-text index is
dropped for the fill and built afterwards, as a migration on a filled table would). Each page is
fetched 7 times through Django's test client as a logged-in KCC-medewerker of the organisation,
after one warm-up; the
median is reported, with the number of queries of one fetch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
BASE = "postgres://postgres@127.0.0.1:5432/"
PAGES = {
    "filter + search": "/admin/surveys/response/?channel__exact=balie&q=wachten",
    "period + score band": "/admin/surveys/response/?period=2016-06&score_band=low",
    "first page": "/admin/surveys/response/",
}
INDEX = (
    "CREATE INDEX response_comment_fts ON surveys_response USING gin "
    "(to_tsvector('dutch'::regconfig, COALESCE(comment, ''::text)))"
)


def fill(database_url: str, responses: int) -> None:
    from export_bench import setup

    started = time.perf_counter()
    # Filled without the full-text index, which is built afterwards (as migration 0010 builds it,
    # concurrently, on a filled table).
    setup(database_url, responses, reuse=False, before_fill="DROP INDEX IF EXISTS response_comment_fts")
    filled = time.perf_counter()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(INDEX)
        cursor.execute("ANALYZE surveys_response")
    print(
        f"{responses:,}: filled in {filled - started:.0f} s, index in {time.perf_counter() - filled:.0f} s",
        file=sys.stderr,
    )


def measure(database_url: str) -> dict:
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from surveys.organisations.models import Organisation, Role, StaffMembership

    # A KCC-medewerker of the organisation, as the list is used (a superuser sees every organisation).
    user, _created = get_user_model().objects.get_or_create(username="bench-kcc", defaults={"is_staff": True})
    StaffMembership.objects.get_or_create(
        user=user, defaults={"organisation": Organisation.objects.get(slug="bench"), "role": Role.KCC}
    )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    results = {}
    for name, url in PAGES.items():
        if client.get(url).status_code != 200:
            raise SystemExit(f"{url} did not answer 200")
        timings = []
        for _round in range(7):
            started = time.perf_counter()
            client.get(url)
            timings.append(time.perf_counter() - started)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        results[name] = {"ms": round(statistics.median(timings) * 1000, 1), "queries": len(queries)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("ACTION", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kto.settings.test")
    if args.child:
        action, url = args.child
        if action == "measure":
            print(json.dumps(measure(url)))
        else:
            fill(url, int(action))
        return
    databases = {
        "small": (BASE + "kto_bench_list_small", args.small),
        "large": (BASE + "kto_bench_list_large", args.large),
    }
    results = {}
    for size, (url, responses) in databases.items():
        if not args.reuse:
            subprocess.run([sys.executable, __file__, "--child", str(responses), url], check=True, cwd=ROOT)
        output = subprocess.run(
            [sys.executable, __file__, "--child", "measure", url], check=True, cwd=ROOT, capture_output=True, text=True
        ).stdout
        results[size] = json.loads(output.strip().splitlines()[-1])
    print(f"\n| page | {args.small:,}: ms (queries) | {args.large:,}: ms (queries) | ratio |\n|---|---:|---:|---:|")
    for name in PAGES:
        small, large = results["small"][name], results["large"][name]
        print(
            f"| {name} | {small['ms']} ({small['queries']}) | {large['ms']} ({large['queries']}) | "
            f"{large['ms'] / small['ms']:.2f} |"
        )


if __name__ == "__main__":
    main()
