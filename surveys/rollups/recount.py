"""The recount: every month and year of some organisations (or all) counted again from the
responses, answers, contacts, volumes and invitations. It is also the repair of rows that
something wrote without recording its changes.

One statement per rollup table, so that all it reads and writes is one snapshot: it deletes the
pending changes in scope (the recount holds them), counts the sources with one GROUP BY each on
the month fixed at write time (no time zone is converted per response), sums those months per
channel and all channels, month and year, and merges the result into the stored rows in scope:
a row that changed is updated, a row without figures any more deleted, a new one inserted; rows
that are right are left alone, so running it again writes nothing. A write that commits while
the recount runs is not in its snapshot: its changes stay for the next pass. The recount takes
the same per-organisation lock as the pass, so no pass adds to rows it is replacing.
"""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction
from psycopg import sql

from surveys.common.sql import columns, statement
from surveys.common.time import month_of

from .incremental import LOCK_NAMESPACE, RollupResult
from .models import CONTACT_FIGURES, DISTRIBUTION_VALUES, SCORE_FIGURES

# (In id order, as every job takes them: no two jobs wait for each other.)
LOCKS = """
    SELECT pg_advisory_xact_lock(%(namespace)s, id::int)
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


# The scope: the organisations (NULL: all), the months from %(since)s on, and the years from the
# year of %(since)s on (%(year)s, its first day).
RECOUNT_SCORES = statement(
    """
    WITH cleared AS (
        DELETE FROM surveys_rollupchange
         WHERE question_key <> '' AND month >= %(since)s
           AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))
    ), months AS (
        SELECT organisation_id, channel, 'rapportcijfer' AS question_key, contact_month AS month,
               COUNT(*) AS n, COUNT(invitation_id) AS n_invited, SUM(score) AS total,
               SUM(score * score) AS total_sq, {response_counts}
          FROM surveys_response
         WHERE contact_month >= %(since)s
           AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))
      GROUP BY organisation_id, channel, contact_month
     UNION ALL
        SELECT r.organisation_id, r.channel, q.key, r.contact_month,
               COUNT(*), COUNT(r.invitation_id), SUM(a.value), SUM(a.value * a.value), {answer_counts}
          FROM surveys_answer a
          JOIN surveys_response r ON r.id = a.response_id
          JOIN surveys_question q ON q.id = a.question_id
         WHERE a.value IS NOT NULL AND r.contact_month >= %(since)s
           AND (%(organisations)s::bigint[] IS NULL OR r.organisation_id = ANY(%(organisations)s::bigint[]))
      GROUP BY r.organisation_id, r.channel, r.contact_month, q.key
     UNION ALL
        -- The months of the first year before %(since)s, as stored: its year is their sum too.
        SELECT organisation_id, channel, question_key, period_start, {figures}
          FROM surveys_scorerollup
         WHERE period = 'month' AND channel <> 'all' AND period_start >= %(year)s AND period_start < %(since)s
           AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))
    ), counted AS (
        SELECT organisation_id, COALESCE(channel, 'all') AS channel, question_key,
               CASE GROUPING(month) WHEN 0 THEN 'month' ELSE 'year' END AS period,
               COALESCE(month, year) AS period_start, {sums}
          FROM (SELECT *, CAST(date_trunc('year', month) AS date) AS year FROM months) m
      GROUP BY organisation_id, question_key, year, GROUPING SETS ((channel, month), (month), (channel), ())
    ), stored AS (
        SELECT id, organisation_id, channel, question_key, period, period_start
          FROM surveys_scorerollup
         WHERE period_start >= %(year)s
           AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))
    )
    MERGE INTO surveys_scorerollup AS r
    USING (SELECT * FROM counted FULL JOIN stored USING (organisation_id, channel, question_key, period, period_start))
          AS d ON r.id = d.id
     WHEN MATCHED AND d.n IS NULL THEN DELETE
     WHEN MATCHED AND ({current}) IS DISTINCT FROM ({counted}) THEN UPDATE SET {replaced}, computed_at = now()
     WHEN NOT MATCHED THEN
          INSERT (organisation_id, channel, question_key, period, period_start, {figures}, computed_at)
          VALUES (d.organisation_id, d.channel, d.question_key, d.period, d.period_start, {counted}, now())
    """,
    figures=columns("{0}", SCORE_FIGURES),
    response_counts=_counts("score"),
    answer_counts=_counts("a.value"),
    sums=columns("SUM({0}) AS {0}", SCORE_FIGURES),
    current=columns("r.{0}", SCORE_FIGURES),
    counted=columns("d.{0}", SCORE_FIGURES),
    replaced=columns("{0} = d.{0}", SCORE_FIGURES),
)

RECOUNT_CONTACTS = statement(
    """
    WITH cleared AS (
        DELETE FROM surveys_rollupchange
         WHERE question_key = '' AND month >= %(since)s
           AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))
    ), months AS (
        SELECT organisation_id, channel, contact_month AS month,
               COUNT(*) AS contacts_registered, 0 AS contacts_imported, 0 AS invitations_sent
          FROM surveys_contact
         WHERE contact_month >= %(since)s
           AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))
      GROUP BY organisation_id, channel, contact_month
     UNION ALL
        SELECT organisation_id, channel, month, 0, count, 0
          FROM surveys_contactvolume
         WHERE month >= %(since)s
           AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))
     UNION ALL
        -- Sent, or made without a delivery (the municipality's own system sends the link).
        SELECT i.organisation_id, i.channel,
               CAST(date_trunc('month', i.contact_moment AT TIME ZONE 'Europe/Amsterdam') AS date), 0, 0, COUNT(*)
          FROM surveys_invitation i
     LEFT JOIN surveys_delivery d ON d.invitation_id = i.id
         WHERE (i.sent_at IS NOT NULL OR d.id IS NULL)
           AND i.contact_moment >= CAST(%(since)s AS timestamp) AT TIME ZONE 'Europe/Amsterdam'
           AND (%(organisations)s::bigint[] IS NULL OR i.organisation_id = ANY(%(organisations)s::bigint[]))
      GROUP BY 1, 2, 3
     UNION ALL
        SELECT organisation_id, channel, period_start, {figures}
          FROM surveys_contactrollup
         WHERE period = 'month' AND channel <> 'all' AND period_start >= %(year)s AND period_start < %(since)s
           AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))
    ), counted AS (
        SELECT organisation_id, COALESCE(channel, 'all') AS channel,
               CASE GROUPING(month) WHEN 0 THEN 'month' ELSE 'year' END AS period,
               COALESCE(month, year) AS period_start, {sums}
          FROM (SELECT *, CAST(date_trunc('year', month) AS date) AS year FROM months) m
      GROUP BY organisation_id, year, GROUPING SETS ((channel, month), (month), (channel), ())
        HAVING SUM(contacts_registered) + SUM(contacts_imported) + SUM(invitations_sent) > 0
    ), stored AS (
        SELECT id, organisation_id, channel, period, period_start
          FROM surveys_contactrollup
         WHERE period_start >= %(year)s
           AND (%(organisations)s::bigint[] IS NULL OR organisation_id = ANY(%(organisations)s::bigint[]))
    )
    MERGE INTO surveys_contactrollup AS r
    USING (SELECT * FROM counted FULL JOIN stored USING (organisation_id, channel, period, period_start))
          AS d ON r.id = d.id
     WHEN MATCHED AND d.contacts_registered IS NULL THEN DELETE
     WHEN MATCHED AND ({current}) IS DISTINCT FROM ({counted}) THEN UPDATE SET {replaced}, computed_at = now()
     WHEN NOT MATCHED THEN
          INSERT (organisation_id, channel, period, period_start, {figures}, computed_at)
          VALUES (d.organisation_id, d.channel, d.period, d.period_start, {counted}, now())
    """,
    figures=columns("{0}", CONTACT_FIGURES),
    sums=columns("SUM({0}) AS {0}", CONTACT_FIGURES),
    current=columns("r.{0}", CONTACT_FIGURES),
    counted=columns("d.{0}", CONTACT_FIGURES),
    replaced=columns("{0} = d.{0}", CONTACT_FIGURES),
)


def rollup_full(*, organisation_ids: list[int] | None = None, since: date | None = None, progress=None) -> RollupResult:
    """Recount the months of these organisations (default: all) from the month ``since`` on
    (default: all of them) and the years of those months, in one transaction; ``progress``
    wraps its two steps."""
    since = month_of(since) if since else date.min
    params = {
        "organisations": sorted(organisation_ids) if organisation_ids is not None else None,
        "since": since,
        "year": since.replace(month=1),
        "namespace": LOCK_NAMESPACE,
    }
    result = RollupResult()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCKS, params)
        result.organisations = len(cursor.fetchall())
        steps = [(RECOUNT_SCORES, "score_rows"), (RECOUNT_CONTACTS, "contact_rows")]
        for recount, rows in progress(steps) if progress else steps:
            cursor.execute(recount, params)
            setattr(result, rows, cursor.rowcount)
    return result
