"""Rollup benchmark (not a test): generates responses with COPY, then measures in the same run

  (a) a full rollup's time / the time of one plain SQL query over the same responses
      (GROUP BY organisation, channel, date_trunc('month', contact_moment AT TIME ZONE
      'Europe/Amsterdam') with count, sum and sum of squares)          target <= 0.8
  (b) an incremental pass after 10,000 new responses / the full rollup  target <= 0.03
      (the new responses spread over every organisation, in their current month; the median
      of five rounds of 10,000 new responses, each followed by a pass; the pass in one job and
      in two jobs, `rollup --jobs 2`, as the full rollup's query runs on both cores too)
  (c) the peak memory (VmHWM) of the process that does the rollup       target < 150 MB

Run it against a dedicated database (it is dropped and created again, unless --reuse):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kto_bench_rollup \\
        .venv/bin/python bench/rollup_bench.py --responses 10000000 --organisations 300

Each rollup runs in a fresh child process (this script with --child), which times only the
rollup call and reports its own peak RSS. The data: responses spread over the organisations
(skewed sizes, like municipalities), 7 channels and the 24 months of 2017-2018, all from open
links (no invitations) and without extra-question answers, so the figures are those of the
rapportcijfer path. The rows are generated in Python (numpy) and sent with COPY FROM STDIN; the
session time zone is Europe/Amsterdam during the COPY so that the local times written are the
contact moments, and contact_month is their local month, as services.local_month() gives.
Before measuring, VACUUM ANALYZE (as autovacuum would do after a bulk load), so that the
covering index allows index-only scans. The new responses' changes are recorded through the
application's own write path, one response per transaction (their pending rows add up per
organisation, channel and month: some 1,600 rows for 10,000 responses). After each pass the
change table and the rollup tables are vacuumed too: the pass deleted those rows and updated
some 4,000 rollup rows, and
autovacuum (switched off on the CI machine this ran on) vacuums these tables once 1,000 of their
rows are dead (their storage parameters, migration 0003), within a minute, well within the
minutes between two passes. Every measuring session uses
work_mem=256MB and jit=off.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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

    from surveys import rollups

    with connection.cursor() as cursor:
        cursor.execute(SESSION)
    started = time.perf_counter()
    if kind == "full":
        result = rollups.rollup_full()
    elif kind.startswith("incremental"):  # "incremental" or "incremental:JOBS"
        result = rollups.rollup_incremental(jobs=int(kind.partition(":")[2] or 1))
    elif kind == "per-organisation":  # what the Celery fan-out does, one job per organisation, in a row
        result = rollups.RollupResult()
        for organisation_id in rollups.pending_organisation_ids():
            result += rollups.rollup_organisation(organisation_id)
    else:
        raise SystemExit(f"unknown kind {kind}")
    elapsed = time.perf_counter() - started
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb(), "months": result.months, "rows": result.score_rows}))


def run_child(kind: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        # The same session settings for every connection of the child (a pass in jobs opens more).
        env={**os.environ, "PGOPTIONS": "-c work_mem=256MB -c jit=off"},
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
    from surveys.models import Organisation, Survey, SurveyVersion

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


def record_changes(after: int) -> tuple[int, float]:
    """Record the change of each response with an id above ``after`` as services.submit_response()
    does, one response per transaction (rollups.record_response_changes): the changes of a month
    add up in the pending row of their organisation, channel and question. No rollup is started
    on commit (as with a worker: the beat pass rolls up). Returns the pending rows and the
    milliseconds a response's change took to record (the transaction with its commit)."""
    from django.conf import settings
    from django.db import transaction

    from surveys import rollups
    from surveys.models import Response, RollupChange

    settings.CELERY_TASK_ALWAYS_EAGER = False
    responses = list(Response.objects.filter(pk__gt=after).only("pk", "organisation_id"))
    started = time.perf_counter()
    for response in responses:
        with transaction.atomic():
            rollups.record_response_changes([response])
    milliseconds = (time.perf_counter() - started) * 1000 / len(responses)
    return RollupChange.objects.count(), milliseconds


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
    parser.add_argument("--new", type=int, default=10_000, help="New responses before the incremental pass.")
    parser.add_argument("--few", type=int, default=10, help="Organisations of the second incremental scenario.")
    parser.add_argument("--reuse", action="store_true", help="Keep the responses of an earlier run.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a dedicated PostgreSQL database, e.g. .../kto_bench_rollup")
    ensure_database(url, fresh=not args.reuse)
    setup_django()
    import psycopg

    from surveys.models import ContactRollup, Organisation, Response, RollupChange, ScoreRollup, SurveyVersion

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
    # Back to the state right after a bulk load: the rows of the previous run's incremental passes go.
    with conn.cursor() as cursor:
        cursor.execute("DELETE FROM surveys_response WHERE source IN ('api', 'one_click', 'invitation')")
    conn.commit()
    ScoreRollup.objects.all().delete()
    ContactRollup.objects.all().delete()
    RollupChange.objects.all().delete()
    vacuum(conn, "surveys_response", "surveys_scorerollup", "surveys_contactrollup", "surveys_rollupchange")
    responses = Response.objects.count()
    print(f"{responses:,} responses, {len(organisation_ids)} organisations", file=sys.stderr)

    plain = [plain_query_seconds(conn) for _ in range(2)]
    full = []
    for _ in range(2):
        full.append(run_child("full"))
        vacuum(conn, "surveys_scorerollup", "surveys_contactrollup")  # as autovacuum would, soon after

    # 10,000 new responses in the last month, for every organisation, each with the change that
    # services.submit_response() records in the same transaction.
    # Five rounds, each followed by a pass: the median pass is reported (this VM's timings vary).
    # The pass in one job, then in two jobs (`rollup --jobs 2`, two connections sharing the
    # organisations out, so on both cores, as the full rollup's query uses parallel workers).
    rounds: dict[int, list[dict]] = {1: [], 2: []}
    recording: list[float] = []
    for jobs, seeds in ((1, (7, 12, 13, 17, 18)), (2, (14, 15, 16, 19, 20))):
        for seed in seeds:
            after = last_response_id(conn)
            copy_responses(conn, versions, organisation_ids, args.new, months=MONTHS[-1:], seed=seed, source="api")
            changes, record_ms = record_changes(after)
            recording.append(record_ms)
            rounds[jobs].append(run_child(f"incremental:{jobs}"))
            vacuum(conn, *PASS_TABLES)  # autovacuum's work within a minute (see above)
    incremental, incremental_jobs = (sorted(rounds[jobs], key=lambda r: r["seconds"])[2] for jobs in (1, 2))
    # Another 10,000, one job per organisation as the Celery workers run them (for information).
    after = last_response_id(conn)
    copy_responses(conn, versions, organisation_ids, args.new, months=MONTHS[-1:], seed=8, source="invitation")
    record_changes(after)
    per_organisation = run_child("per-organisation")
    vacuum(conn, *PASS_TABLES)
    # Another 10,000 new responses, now in 10 organisations only (a quieter beat interval).
    few = organisation_ids[: args.few]
    after = last_response_id(conn)
    copy_responses(conn, versions, few, args.new, months=MONTHS[-1:], seed=11, source="one_click")
    record_changes(after)
    incremental_few = run_child("incremental")
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
        "new_responses": args.new,
        "pending_change_rows": changes,
        "record_change_ms_per_response": recording,
        "incremental_months": incremental["months"],
        "incremental_seconds": incremental["seconds"],
        "incremental_rounds_seconds": [r["seconds"] for r in rounds[1]],
        "incremental_two_jobs_seconds": incremental_jobs["seconds"],
        "incremental_two_jobs_rounds_seconds": [r["seconds"] for r in rounds[2]],
        "incremental_two_jobs_months": incremental_jobs["months"],
        "ratio_incremental_two_jobs_to_full": incremental_jobs["seconds"] / best_full,
        "incremental_peak_mb": incremental["peak_mb"],
        "per_organisation_jobs_seconds": per_organisation["seconds"],
        "incremental_few_organisations": args.few,
        "incremental_few_seconds": incremental_few["seconds"],
        "ratio_incremental_few_to_full": incremental_few["seconds"] / best_full,
        "ratio_full_to_plain": best_full / best_plain,
        "ratio_incremental_to_full": incremental["seconds"] / best_full,
        "recount_after_passes_seconds": recount["seconds"],
        "passes_equal_recount": same_as_recount,
        "machine": f"{platform.node()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores",
        "postgresql": conn.execute("SHOW server_version").fetchone()[0],
    }
    print(json.dumps(report, indent=2))
    print(
        f"\n(a) full / plain query       = {report['ratio_full_to_plain']:.2f}  (target <= 0.8)"
        f"\n(b) incremental / full       = {report['ratio_incremental_to_full']:.3f} (target <= 0.03), one job"
        f"\n    ... in two jobs (--jobs 2) = {report['ratio_incremental_two_jobs_to_full']:.3f}"
        f"\n    ... new responses in {args.few} organisations = {report['ratio_incremental_few_to_full']:.3f}"
        f"\n(c) peak memory of the rollup = {report['full_rollup_peak_mb']:.0f} MB (target < 150 MB)"
        f"\nrollup rows after the passes equal a recount: {same_as_recount}"
    )


if __name__ == "__main__":
    main()
