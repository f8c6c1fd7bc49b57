"""The recount: the months of some organisations (or all) from a month on counted again from the
responses, answers, contacts, volumes and invitations, and their years. It is also the repair of
rows that something wrote without recording its changes.

It reuses the pass. One statement per rollup table, so that what it reads and deletes is one
snapshot, takes the rows in scope out (the months from ``since`` and the years from ``since``'s
year on) together with the pending changes of those months, and appends in their place, as
changes, the months counted from the sources (one GROUP BY each, on the month fixed at write
time) and the stored months of ``since``'s year before ``since`` (as they were: their year is
their sum too). The pass then adds those up into month and year rows, per channel and all
channels. A write that commits meanwhile is not in the snapshot: its own changes stay pending
and the pass adds them on top. The recount holds the pass's per-organisation lock throughout.
"""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction
from psycopg import sql

from surveys.common.sql import columns, statement
from surveys.common.time import month_of

from .incremental import LOCK_NAMESPACE, RollupResult, take_in
from .models import CONTACT_FIGURES, DISTRIBUTION_VALUES, SCORE_FIGURES

# (In id order, as every job takes them: no two jobs wait for each other.)
LOCKS = """
    SELECT id, pg_advisory_xact_lock(%(namespace)s, id::int)
      FROM (SELECT id FROM surveys_organisation
             WHERE %(organisations)s::bigint[] IS NULL OR id = ANY(%(organisations)s::bigint[])
          ORDER BY id) AS organisations
"""


def _counts(value: str) -> sql.Composed:
    """``COUNT(*) FILTER (WHERE value = 0) AS count_0, ...``: the distribution of ``value``."""
    return sql.SQL(", ").join(
        sql.SQL("COUNT(*) FILTER (WHERE {0} = {1}) AS {2}").format(sql.SQL(value), v, sql.Identifier(f"count_{v}"))
        for v in DISTRIBUTION_VALUES
    )


# %(organisations)s: the scope (NULL: all); %(since)s: its first month; %(year)s: that month's year.
RECOUNT_SCORES = statement(
    """
    WITH stored AS (
        DELETE FROM surveys_scorerollup
         WHERE period_start >= %(year)s AND organisation_id = ANY(%(organisations)s::bigint[])
     RETURNING organisation_id, channel, period_start, question_key, period, {figures}
    ), cleared AS (
        DELETE FROM surveys_rollupchange
         WHERE question_key <> '' AND month >= %(since)s AND organisation_id = ANY(%(organisations)s::bigint[])
    )
    INSERT INTO surveys_rollupchange (organisation_id, channel, month, question_key, {figures})
    SELECT organisation_id, channel, period_start, question_key, {figures}
      FROM stored
     WHERE period = 'month' AND channel <> 'all' AND period_start < %(since)s
 UNION ALL
    SELECT organisation_id, channel, contact_month, 'rapportcijfer', COUNT(*), COUNT(invitation_id),
           SUM(score), SUM(score * score), {response_counts}
      FROM surveys_response
     WHERE contact_month >= %(since)s AND organisation_id = ANY(%(organisations)s::bigint[])
  GROUP BY organisation_id, channel, contact_month
 UNION ALL
    SELECT r.organisation_id, r.channel, r.contact_month, q.key, COUNT(*), COUNT(r.invitation_id),
           SUM(a.value), SUM(a.value * a.value), {answer_counts}
      FROM surveys_answer a
      JOIN surveys_response r ON r.id = a.response_id
      JOIN surveys_question q ON q.id = a.question_id
     WHERE a.value IS NOT NULL AND r.contact_month >= %(since)s AND r.organisation_id = ANY(%(organisations)s::bigint[])
  GROUP BY r.organisation_id, r.channel, r.contact_month, q.key
    """,
    figures=columns("{0}", SCORE_FIGURES),
    response_counts=_counts("score"),
    answer_counts=_counts("a.value"),
)

RECOUNT_CONTACTS = statement(
    """
    WITH stored AS (
        DELETE FROM surveys_contactrollup
         WHERE period_start >= %(year)s AND organisation_id = ANY(%(organisations)s::bigint[])
     RETURNING organisation_id, channel, period_start, period, {figures}
    ), cleared AS (
        DELETE FROM surveys_rollupchange
         WHERE question_key = '' AND month >= %(since)s AND organisation_id = ANY(%(organisations)s::bigint[])
    )
    INSERT INTO surveys_rollupchange (organisation_id, channel, month, {figures})
    SELECT organisation_id, channel, period_start, {figures}
      FROM stored
     WHERE period = 'month' AND channel <> 'all' AND period_start < %(since)s
 UNION ALL
    SELECT organisation_id, channel, contact_month, COUNT(*), 0, 0
      FROM surveys_contact
     WHERE contact_month >= %(since)s AND organisation_id = ANY(%(organisations)s::bigint[])
  GROUP BY organisation_id, channel, contact_month
 UNION ALL
    SELECT organisation_id, channel, month, 0, count, 0
      FROM surveys_contactvolume
     WHERE month >= %(since)s AND organisation_id = ANY(%(organisations)s::bigint[])
 UNION ALL
    -- Sent, or made without a delivery (the municipality's own system sends the link).
    SELECT i.organisation_id, i.channel,
           CAST(date_trunc('month', i.contact_moment AT TIME ZONE 'Europe/Amsterdam') AS date), 0, 0, COUNT(*)
      FROM surveys_invitation i
 LEFT JOIN surveys_delivery d ON d.invitation_id = i.id
     WHERE (i.sent_at IS NOT NULL OR d.id IS NULL) AND i.organisation_id = ANY(%(organisations)s::bigint[])
       AND i.contact_moment >= CAST(%(since)s AS timestamp) AT TIME ZONE 'Europe/Amsterdam'
  GROUP BY 1, 2, 3
    """,
    figures=columns("{0}", CONTACT_FIGURES),
)


def rollup_full(*, organisation_ids: list[int] | None = None, since: date | None = None, progress=None) -> RollupResult:
    """Recount the months of these organisations (default: all) from the month ``since`` on
    (default: all of them) and the years of those months, in one transaction; ``progress`` wraps
    its steps (a progress bar)."""
    since = month_of(since) if since else date.min
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCKS, {"organisations": organisation_ids, "namespace": LOCK_NAMESPACE})
        ids = [row[0] for row in cursor.fetchall()]
        steps = [RECOUNT_SCORES, RECOUNT_CONTACTS]
        for recount in progress(steps) if progress else steps:
            cursor.execute(recount, {"organisations": ids, "since": since, "year": since.replace(month=1)})
        score_rows, contact_rows = take_in(cursor, ids)  # the pass, over what they appended
    return RollupResult(organisations=len(ids), score_rows=score_rows, contact_rows=contact_rows)
