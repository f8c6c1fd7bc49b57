"""The responses list in the admin at 10,000 and at 10 million responses: time and number of
queries of a page with a filter and a search (issue 13: within 1.5x, the same number of queries);
and the dashboard, which reads the rollups only, at both sizes.

    .venv/bin/python bench/response_list_bench.py [--large 10000000] [--small 10000] [--reuse] [--rounds 3]

Two databases, kto_bench_list_small and kto_bench_list_large (dropped, created and migrated; filled
as bench/export_bench.py fills, a third of the responses with a comment; the full-text index is
dropped for the fill and built afterwards, as a migration on a filled table would). Each page is
fetched 7 times through Django's test client as a logged-in KCC-medewerker of the organisation,
after one warm-up, in a process per database; small and large take turns for --rounds rounds.
Reported: the median over the rounds of each round's median, the number of queries of one fetch,
and the median of the rounds' ratios (large over small).
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
    # Not a list: the staff's landing page, which reads the rollups only (recounted after the fill).
    "dashboard (2018)": "/admin/?year=2018",
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
    indexed = time.perf_counter()
    from surveys.rollups.recount import rollup_full

    rollup_full()  # the fill wrote no change rows: the dashboard's figures come from a recount
    print(
        f"{responses:,}: filled in {filled - started:.0f} s, index in {indexed - filled:.0f} s, "
        f"recount in {time.perf_counter() - indexed:.0f} s",
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
    parser.add_argument("--rounds", type=int, default=3, help="small, then large, this many times")
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
    for url, responses in databases.values():
        if not args.reuse:
            subprocess.run([sys.executable, __file__, "--child", str(responses), url], check=True, cwd=ROOT)
    # Small and large in turn, every round (this machine is shared: a slow minute hits both).
    rounds: list[dict] = []
    for _round in range(args.rounds):
        results = {}
        for size, (url, _responses) in databases.items():
            command = [sys.executable, __file__, "--child", "measure", url]
            output = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True).stdout
            results[size] = json.loads(output.strip().splitlines()[-1])
        rounds.append(results)
    print(f"\n| page | {args.small:,}: ms (queries) | {args.large:,}: ms (queries) | ratio (rounds) |")
    print("|---|---:|---:|---:|")
    for name in PAGES:
        small = statistics.median(r["small"][name]["ms"] for r in rounds)
        large = statistics.median(r["large"][name]["ms"] for r in rounds)
        ratios = [r["large"][name]["ms"] / r["small"][name]["ms"] for r in rounds]
        queries = {r[size][name]["queries"] for r in rounds for size in databases}
        print(
            f"| {name} | {small:.1f} ({rounds[0]['small'][name]['queries']}) | {large:.1f} "
            f"({rounds[0]['large'][name]['queries']}) | {statistics.median(ratios):.2f} "
            f"({', '.join(f'{r:.2f}' for r in ratios)}) |" + ("" if len(queries) == 1 else " QUERIES DIFFER")
        )


if __name__ == "__main__":
    main()
