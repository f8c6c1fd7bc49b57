"""The recount: the months of some organisations (or all) from a month on counted again from the
responses, answers, contacts, volumes and invitations, and their years. It is also the repair of
rows that something wrote without recording its changes.

It reuses the pass. The sources are counted per organisation, channel, month and question into
temporary tables of changes (one GROUP BY each on the month fixed at write time, so no time zone
is converted per response; a plain SELECT, which PostgreSQL runs on parallel workers), together
with the stored months of ``since``'s year before ``since`` (as they were: their year is their
sum too). Then the rows in scope and the pending changes of those months are taken out, the
counted changes put in, and the pass adds them up into month and year rows.

A month before an organisation's ``raw_data_kept_from`` is never recounted: retention has deleted
(or is deleting) its raw data, and its rollups are the record. The recount starts there instead, so
organisations with different starts are recounted in groups, one per start, in the same transaction.

Every statement reads the same snapshot (REPEATABLE READ), taken after the per-organisation job
locks (held for the session, so no pass is half-way): a write that commits while the recount
runs is not in it, and its own changes stay pending for the next pass.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from datetime import date

from django.db import connection, transaction
from psycopg import sql

from surveys.common.sql import columns, statement
from surveys.common.time import month_of

from .incremental import LOCK_NAMESPACE, RollupResult, take_in
from .models import CONTACT_FIGURES, DISTRIBUTION_VALUES, SCORE_FIGURES

# The job locks in id order, as every job takes them (no two jobs wait for each other).
LOCK = """
    SELECT id, pg_advisory_lock(%(namespace)s, id::int)
      FROM (SELECT id FROM surveys_organisation
             WHERE %(organisations)s::bigint[] IS NULL OR id = ANY(%(organisations)s::bigint[])
          ORDER BY id) AS organisations
"""
UNLOCK = "SELECT pg_advisory_unlock(%(namespace)s, id::int) FROM unnest(%(organisations)s::bigint[]) AS id"

# The scope: the organisations (NULL: all), the months from %(since)s on and their years, from
# the first day of that month's year, %(year)s.
IN_SCOPE = sql.SQL("(%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))")


def _counts(value: str) -> sql.Composed:
    """``COUNT(*) FILTER (WHERE value = 0) AS count_0, ...``: the distribution of ``value``."""
    return sql.SQL(", ").join(
        sql.SQL("COUNT(*) FILTER (WHERE {0} = {1}) AS {2}").format(sql.SQL(value), v, sql.Identifier(f"count_{v}"))
        for v in DISTRIBUTION_VALUES
    )


# One change per organisation, channel, month and question (contact figures: question ""), in the
# change table's columns.
COUNT = statement(
    """
    CREATE TEMPORARY TABLE kto_recounted ON COMMIT DROP AS
    SELECT organisation_id, channel, period_start AS month, question_key, {scores}, {no_contacts}
      FROM surveys_scorerollup
     WHERE period = 'month' AND channel <> 'all' AND period_start >= %(year)s AND period_start < %(since)s
       AND {in_scope}
 UNION ALL
    SELECT organisation_id, channel, period_start, '', {no_scores}, {contacts}
      FROM surveys_contactrollup
     WHERE period = 'month' AND channel <> 'all' AND period_start >= %(year)s AND period_start < %(since)s
       AND {in_scope}
 UNION ALL
    SELECT organisation_id, channel, contact_month, 'rapportcijfer', COUNT(*), COUNT(invitation_id),
           SUM(score), SUM(score * score), {response_counts}, {no_contacts}
      FROM surveys_response
     WHERE contact_month >= %(since)s AND {in_scope}
  GROUP BY organisation_id, channel, contact_month
 UNION ALL
    SELECT r.organisation_id, r.channel, r.contact_month, q.key, COUNT(*), COUNT(r.invitation_id),
           SUM(a.value), SUM(a.value * a.value), {answer_counts}, {no_contacts}
      FROM surveys_answer a
      JOIN surveys_response r ON r.id = a.response_id
      JOIN surveys_question q ON q.id = a.question_id
     WHERE a.value IS NOT NULL AND r.contact_month >= %(since)s
       AND (%(organisations)s::bigint[] IS NULL OR r.organisation_id = ANY(%(organisations)s::bigint[]))
  GROUP BY r.organisation_id, r.channel, r.contact_month, q.key
 UNION ALL
    SELECT organisation_id, channel, contact_month, '', {no_scores}, COUNT(*), 0, 0
      FROM surveys_contact
     WHERE contact_month >= %(since)s AND {in_scope}
  GROUP BY organisation_id, channel, contact_month
 UNION ALL
    SELECT organisation_id, channel, month, '', {no_scores}, 0, count, 0
      FROM surveys_contactvolume
     WHERE month >= %(since)s AND {in_scope}
 UNION ALL
    -- Sent, or made without a delivery (the municipality's own system sends the link).
    SELECT i.organisation_id, i.channel,
           CAST(date_trunc('month', i.contact_moment AT TIME ZONE 'Europe/Amsterdam') AS date), '', {no_scores},
           0, 0, COUNT(*)
      FROM surveys_invitation i
 LEFT JOIN surveys_delivery d ON d.invitation_id = i.id
     WHERE (i.sent_at IS NOT NULL OR d.id IS NULL)
       AND i.contact_moment >= CAST(%(since)s AS timestamp) AT TIME ZONE 'Europe/Amsterdam'
       AND (%(organisations)s::bigint[] IS NULL OR i.organisation_id = ANY(%(organisations)s::bigint[]))
  GROUP BY 1, 2, 3
    """,
    scores=columns("{0}", SCORE_FIGURES),
    contacts=columns("{0}", CONTACT_FIGURES),
    no_scores=columns("0 AS {0}", SCORE_FIGURES),
    no_contacts=columns("0 AS {0}", CONTACT_FIGURES),
    in_scope=IN_SCOPE,
    response_counts=_counts("score"),
    answer_counts=_counts("a.value"),
)

# What the recount replaces goes, the recounted changes come in their place.
REPLACE = [
    """DELETE FROM surveys_rollupchange WHERE month >= %(since)s
       AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))""",
    """DELETE FROM surveys_scorerollup WHERE period_start >= %(year)s
       AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))""",
    """DELETE FROM surveys_contactrollup WHERE period_start >= %(year)s
       AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))""",
    statement(
        "INSERT INTO surveys_rollupchange (organisation_id, channel, month, question_key, {figures}) "
        "SELECT * FROM kto_recounted",
        figures=columns("{0}", SCORE_FIGURES + CONTACT_FIGURES),
    ),
    "DROP TABLE kto_recounted",
]


def rollup_full(*, organisation_ids: list[int] | None = None, since: date | None = None, progress=None) -> RollupResult:
    """Recount the months of these organisations (default: all) from the month ``since`` on
    (default: all of them) and the years of those months, in one transaction; ``progress`` wraps
    its steps (a progress bar)."""
    since = month_of(since) if since else date.min
    outermost = not connection.in_atomic_block
    with _locked(organisation_ids) as ids, transaction.atomic(), connection.cursor() as cursor:
        if outermost:  # (inside a test's transaction, that transaction's isolation stays)
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        groups = _groups(cursor, ids, since)
        steps = [
            (step, {"organisations": group if organisation_ids or len(groups) > 1 else None, "since": start})
            for start, group in groups
            for step in [COUNT, *REPLACE]
        ]
        for step, scope in progress(steps) if progress else steps:
            cursor.execute(step, scope | {"year": scope["since"].replace(month=1)})
        score_rows, contact_rows = take_in(cursor, ids)  # the pass, over the recounted changes
    return RollupResult(organisations=len(ids), score_rows=score_rows, contact_rows=contact_rows)


def _groups(cursor, ids: list[int], since: date) -> list[tuple[date, list[int]]]:
    """The organisations by the month their recount starts: ``since`` or, when later, the first
    month whose raw data retention has kept."""
    cursor.execute("SELECT id, raw_data_kept_from FROM surveys_organisation WHERE id = ANY(%s)", [ids])
    groups = defaultdict(list)
    for organisation_id, kept_from in cursor.fetchall():
        groups[max(since, kept_from or since)].append(organisation_id)
    return sorted(groups.items()) or [(since, [])]


@contextmanager
def _locked(organisation_ids: list[int] | None):
    """The job locks of these organisations (None: all), for this session: taken before the
    recount's transaction, so that its snapshot comes after any pass that held one."""
    with connection.cursor() as cursor:
        cursor.execute(LOCK, {"organisations": organisation_ids, "namespace": LOCK_NAMESPACE})
        ids = [row[0] for row in cursor.fetchall()]
    try:
        yield ids
    finally:
        with connection.cursor() as cursor:
            cursor.execute(UNLOCK, {"organisations": ids, "namespace": LOCK_NAMESPACE})
