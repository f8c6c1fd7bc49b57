"""Rollup benchmark (not a test): generates responses with COPY, then measures in the same run

  (a) a full rollup (the recount) / one plain SQL query over the same responses
      (GROUP BY organisation, channel, date_trunc('month', contact_moment AT TIME ZONE
      'Europe/Amsterdam') with count, sum and sum of squares)          target <= 0.4
  (b) the incremental pass after 10,000 new responses / the full rollup  target <= 0.05
      (the new responses spread over every organisation, in their current month; the median of
      five rounds of 10,000 new responses, each followed by a pass)
  (c) the peak memory (VmHWM) of the process that does the rollup       target < 150 MB
  (d) the rollup bookkeeping of one resident's write                   target <= 1 ms
      (rollups.changes.record() of one response, inside the write's transaction, as
      submit_response() calls it; and, for comparison, the whole transaction with its commit)

Run it against a dedicated database (it is dropped and created again, unless --reuse):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kto_bench_rollup \\
        .venv/bin/python bench/rollup_bench.py --responses 10000000 --organisations 300

Each rollup runs in a fresh child process (this script with --child), which times only the
rollup call and reports its own peak RSS. The data: responses spread over the organisations
(skewed sizes, like municipalities), 7 channels and the 24 months of 2017-2018, all from open
links (no invitations) and without extra-question answers, so the figures are those of the
rapportcijfer path. The rows are generated in Python (numpy) and sent with COPY FROM STDIN; the
session time zone is Europe/Amsterdam during the COPY so that the local times written are the
contact moments, and contact_month is their local month, as common.time.month_of() gives.
Before measuring, VACUUM ANALYZE (as autovacuum would do after a bulk load), so that the
covering index allows index-only scans. The new responses' changes are recorded through the
application's own entrance, one response per transaction. After each pass the change table and
the rollup tables are vacuumed, as autovacuum does with their storage parameters (migration
0003: once 1,000 rows are dead) within a minute, well before the next pass; CI switches
autovacuum off. Every measuring session uses work_mem=256MB and jit=off.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SESSION = "SET work_mem = '256MB'; SET jit = off"
CHANNELS = ["balie", "telefoon", "email", "whatsapp", "chat", "website", "social"]
CHANNEL_SHARE = [0.30, 0.30, 0.12, 0.06, 0.05, 0.12, 0.05]
SCORE_SHARE = [0.02, 0.01, 0.02, 0.03, 0.05, 0.08, 0.17, 0.28, 0.22, 0.12]
MONTHS = [date(2017 + i // 12, i % 12 + 1, 1) for i in range(24)]
# The tables a pass rewrites (autovacuum vacuums them once 1,000 rows are dead: migration 0003).
PASS_TABLES = ["surveys_rollupchange", "surveys_scorerollup", "surveys_contactrollup"]
PLAIN_SQL = """
    SELECT organisation_id, channel,
           date_trunc('month', contact_moment AT TIME ZONE 'Europe/Amsterdam') AS month,
           count(*), sum(score), sum(score * score)
      FROM surveys_response
     GROUP BY organisation_id, channel, date_trunc('month', contact_moment AT TIME ZONE 'Europe/Amsterdam')
"""


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kto.settings.dev")
    os.environ["DJANGO_DEBUG"] = "false"  # DEBUG would keep every query in memory
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.conf import settings

    settings.KTO_ROLLUP_ON_COMMIT = False  # as with a worker: the beat's pass rolls up


def peak_mb() -> float:
    """This process's peak resident memory since it started (VmHWM). ru_maxrss is not used: on
    Linux it keeps the high-water mark of the forked parent across exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the child: one rollup, timed -------------------------------------------------------------


def child(kind: str) -> None:
    setup_django()
    from django.db import connection

    from surveys.rollups.incremental import (
        RollupResult,
        pending_organisation_ids,
        rollup_incremental,
        rollup_organisations,
    )
    from surveys.rollups.recount import rollup_full

    with connection.cursor() as cursor:
        cursor.execute(SESSION)
    started = time.perf_counter()
    if kind == "full":
        result = rollup_full()
    elif kind == "incremental":
        result = rollup_incremental()
    elif kind == "per-organisation":  # what the Celery fan-out does, one job per organisation, in a row
        result = RollupResult()
        for organisation_id in pending_organisation_ids():
            result += rollup_organisations([organisation_id])
    else:
        raise SystemExit(f"unknown kind {kind}")
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb(), "rows": result.score_rows}))


def run_child(kind: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- the parent: data and measurements --------------------------------------------------------


def ensure_database(url: str, *, fresh: bool) -> None:
    """Create the database (dropped first when ``fresh``: the schema may have changed) and migrate."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], check=True, cwd=ROOT)


def create_organisations(count: int) -> dict[tuple[int, str], int]:
    """Organisations with one survey version per channel; returns (organisation, channel) -> version."""
    from surveys.organisations.models import Organisation
    from surveys.questionnaires.models import Survey, SurveyVersion

    organisations = Organisation.objects.bulk_create(
        Organisation(name=f"Bench {i}", slug=f"bench-{i}") for i in range(count)
    )
    surveys = Survey.objects.bulk_create(Survey(organisation=o, channel=c) for o in organisations for c in CHANNELS)
    versions = SurveyVersion.objects.bulk_create(
        SurveyVersion(survey=s, number=1, score_label_nl="Cijfer?") for s in surveys
    )
    return {(s.organisation_id, s.channel): v.pk for s, v in zip(surveys, versions, strict=True)}


def copy_responses(
    conn, versions, organisation_ids, total: int, *, months=MONTHS, seed=42, source="open", chunk=500_000
) -> float:
    """COPY ``total`` generated responses into surveys_response; returns the seconds it took."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sizes = rng.lognormal(0, 1, len(organisation_ids))  # a few big cities, many small towns
    org_share = sizes / sizes.sum()
    org_array = np.array(organisation_ids)
    month_days = np.array([(date(m.year + m.month // 12, m.month % 12 + 1, 1) - m).days for m in months])
    columns = (
        "organisation_id, channel, survey_version_id, invitation_id, contact_moment, contact_month, "
        "submitted_at, score, comment, language, source, is_complete"
    )
    started = time.perf_counter()
    with conn.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/Amsterdam'")
        with cursor.copy(f"COPY surveys_response ({columns}) FROM STDIN") as copy:
            done = 0
            while done < total:
                n = min(chunk, total - done)
                orgs = org_array[rng.choice(len(org_array), n, p=org_share)].tolist()
                channels = rng.choice(len(CHANNELS), n, p=CHANNEL_SHARE).tolist()
                month_index = rng.integers(0, len(months), n)
                days = (rng.random(n) * month_days[month_index]).astype(int) + 1
                seconds = rng.integers(0, 86400, n).tolist()
                scores = (rng.choice(10, n, p=SCORE_SHARE) + 1).tolist()
                lines = []
                for o, c, m, d, s, score in zip(
                    orgs, channels, month_index.tolist(), days.tolist(), seconds, scores, strict=True
                ):
                    month = months[m]
                    moment = f"{month.year}-{month.month:02d}-{d:02d} {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
                    channel = CHANNELS[c]
                    lines.append(
                        f"{o}\t{channel}\t{versions[o, channel]}\t\\N\t{moment}\t{month}\t"
                        f"{moment}\t{score}\t\tnl\t{source}\tt\n"
                    )
                copy.write("".join(lines))
                done += n
                print(f"  copied {done:,} / {total:,}", file=sys.stderr, flush=True)
        cursor.execute("RESET TIME ZONE")
    conn.commit()
    return time.perf_counter() - started


def last_response_id(conn) -> int:
    return conn.execute("SELECT COALESCE(MAX(id), 0) FROM surveys_response").fetchone()[0]


def record_changes(after: int) -> tuple[float, float]:
    """Record the change of each response with an id above ``after`` through the entrance every
    write calls (rollups.changes.record), one response per transaction, as residents answer.
    Returns the milliseconds per response of the bookkeeping inside the write's transaction, and
    of the whole transaction with its commit."""
    from django.db import transaction

    from surveys.responses.models import Response
    from surveys.rollups import changes

    responses = list(Response.objects.filter(pk__gt=after))
    bookkeeping = 0.0
    started = time.perf_counter()
    for response in responses:
        with transaction.atomic():
            begun = time.perf_counter()
            changes.record(changes.scored(changes.of_response(response, {})))
            bookkeeping += time.perf_counter() - begun
    whole = time.perf_counter() - started
    return bookkeeping * 1000 / len(responses), whole * 1000 / len(responses)


def fingerprint(conn) -> str:
    """A digest of every rollup row's figures (not the time they were computed)."""
    return conn.execute(
        "SELECT md5(string_agg(r::text, ',' ORDER BY r::text)) FROM ("
        "SELECT organisation_id, channel, question_key, period, period_start, n, n_invited, total, total_sq, "
        "count_0, count_1, count_2, count_3, count_4, count_5, count_6, count_7, count_8, count_9, count_10 "
        "FROM surveys_scorerollup UNION ALL "
        "SELECT organisation_id, channel, '', period, period_start, contacts_registered, contacts_imported, "
        "invitations_sent, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 FROM surveys_contactrollup) r"
    ).fetchone()[0]


def vacuum(conn, *tables: str) -> None:
    conn.commit()
    conn.autocommit = True
    for table in tables:
        conn.execute(f"VACUUM ANALYZE {table}")
    conn.autocommit = False


def plain_query_seconds(conn) -> float:
    with conn.cursor() as cursor:
        cursor.execute(SESSION)
        started = time.perf_counter()
        cursor.execute(PLAIN_SQL)
        cursor.fetchall()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--organisations", type=int, default=300)
    parser.add_argument("--new", type=int, default=10_000, help="New responses before each incremental pass.")
    parser.add_argument("--rounds", type=int, default=5, help="Rounds of new responses, each followed by a pass.")
    parser.add_argument("--reuse", action="store_true", help="Keep the responses of an earlier run.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a dedicated PostgreSQL database, e.g. .../kto_bench_rollup")
    os.environ["PGOPTIONS"] = "-c work_mem=256MB -c jit=off"  # every connection: the children's too
    ensure_database(url, fresh=not args.reuse)
    setup_django()
    import psycopg

    from surveys.organisations.models import Organisation
    from surveys.questionnaires.models import SurveyVersion
    from surveys.responses.models import Response
    from surveys.rollups.models import ContactRollup, RollupChange, ScoreRollup

    conn = psycopg.connect(url.split("?")[0])
    if not args.reuse or not Response.objects.exists():
        versions = create_organisations(args.organisations)
        organisation_ids = sorted({o for o, _ in versions})
        print(f"Generating {args.responses:,} responses with COPY ...", file=sys.stderr)
        copy_seconds = copy_responses(conn, versions, organisation_ids, args.responses)
    else:
        copy_seconds = None
        versions = {
            (v.survey.organisation_id, v.survey.channel): v.pk for v in SurveyVersion.objects.select_related("survey")
        }
        organisation_ids = sorted(Organisation.objects.values_list("id", flat=True))
    # Back to the state right after a bulk load: the rows of an earlier run's passes go.
    with conn.cursor() as cursor:
        cursor.execute("DELETE FROM surveys_response WHERE source <> 'open'")
    conn.commit()
    ScoreRollup.objects.all().delete()
    ContactRollup.objects.all().delete()
    RollupChange.objects.all().delete()
    vacuum(conn, "surveys_response", *PASS_TABLES)
    responses = Response.objects.count()
    print(f"{responses:,} responses, {len(organisation_ids)} organisations", file=sys.stderr)

    plain = [plain_query_seconds(conn) for _ in range(2)]
    full = []
    for _ in range(2):
        full.append(run_child("full"))
        vacuum(conn, *PASS_TABLES)  # as autovacuum would, soon after

    # Rounds of new responses in the last month, for every organisation, each response with the
    # change that submit_response() records in its transaction, each round followed by a pass.
    rounds, bookkeeping, transactions = [], [], []
    for seed in range(7, 7 + args.rounds):
        after = last_response_id(conn)
        copy_responses(conn, versions, organisation_ids, args.new, months=MONTHS[-1:], seed=seed, source="api")
        inside, whole = record_changes(after)
        bookkeeping.append(inside)
        transactions.append(whole)
        rounds.append(run_child("incremental"))
        vacuum(conn, *PASS_TABLES)  # autovacuum's work within a minute (see above)
    incremental = sorted(rounds, key=lambda r: r["seconds"])[len(rounds) // 2]
    # Another round taken in as one Celery job per organisation, one after the other (information).
    after = last_response_id(conn)
    copy_responses(conn, versions, organisation_ids, args.new, months=MONTHS[-1:], seed=99, source="invitation")
    record_changes(after)
    per_organisation = run_child("per-organisation")
    # The passes took in every change exactly once: a recount gives the same rows.
    after_passes = fingerprint(conn)
    recount = run_child("full")
    same_as_recount = fingerprint(conn) == after_passes

    best_plain, best_full = min(plain), min(r["seconds"] for r in full)
    report = {
        "responses": responses,
        "organisations": len(organisation_ids),
        "copy_seconds": copy_seconds,
        "plain_query_seconds": plain,
        "full_rollup_seconds": [r["seconds"] for r in full],
        "full_rollup_peak_mb": max(r["peak_mb"] for r in full),
        "full_rollup_score_rows": full[0]["rows"],
        "new_responses_per_round": args.new,
        "incremental_rounds_seconds": [r["seconds"] for r in rounds],
        "incremental_seconds": incremental["seconds"],
        "incremental_peak_mb": incremental["peak_mb"],
        "bookkeeping_ms_per_write": bookkeeping,
        "transaction_with_commit_ms_per_write": transactions,
        "per_organisation_jobs_seconds": per_organisation["seconds"],
        "ratio_full_to_plain": best_full / best_plain,
        "ratio_incremental_to_full": incremental["seconds"] / best_full,
        "recount_after_passes_seconds": recount["seconds"],
        "passes_equal_recount": same_as_recount,
        "machine": f"{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores",
        "postgresql": conn.execute("SHOW server_version").fetchone()[0],
    }
    print(json.dumps(report, indent=2))
    print(
        f"\n(a) full / plain query        = {report['ratio_full_to_plain']:.2f}  (target <= 0.4)"
        f"\n(b) incremental / full        = {report['ratio_incremental_to_full']:.3f} (target <= 0.05)"
        f"\n(c) peak memory of the rollup = {max(report['full_rollup_peak_mb'], incremental['peak_mb']):.0f} MB"
        " (target < 150 MB)"
        f"\n(d) bookkeeping of one write  = {statistics.median(bookkeeping):.3f} ms (target <= 1 ms); the whole"
        f" transaction with its commit {statistics.median(transactions):.2f} ms"
        f"\nrollup rows after the passes equal a recount: {same_as_recount}"
    )


if __name__ == "__main__":
    main()
