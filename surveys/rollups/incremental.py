"""The rollup pass: the changes that writes appended (surveys/rollups/changes.py) are taken out of
``RollupChange``, summed per channel and all channels, month and year, and added to the rollup
rows, one statement per rollup table.

``DELETE ... RETURNING`` takes exactly the changes committed when the statement starts: a write
that commits later is left for the next pass, and as a transaction's rows become visible
together, a pass takes in a write whole or not at all. ``MERGE`` adds the sums to the rows that
exist, deletes a row that is left without a figure, and inserts the rows that are new, so a year
stays the exact sum of its months. An organisation is rolled up by one job at a time (an
advisory lock: two jobs never add the same rows at once); a job that finds it busy leaves its
changes for the next pass. A killed job's transaction is rolled back: its changes stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction

from surveys.common.sql import columns, statement

from .models import CONTACT_FIGURES, SCORE_FIGURES, RollupChange

# pg_try_advisory_xact_lock(LOCK_NAMESPACE, organisation): one rollup job per organisation.
LOCK_NAMESPACE = 0x4B544F

TRY_LOCKS = """
    SELECT id FROM unnest(%(organisations)s::bigint[]) AS id
     WHERE pg_try_advisory_xact_lock(%(namespace)s, id::int)
  ORDER BY id
"""

# Per channel and month (channel, month), all channels per month (month), per channel and year
# (channel), all channels per year (): GROUPING() tells the month rows from the year rows.
TAKE_IN_SCORES = statement(
    """
    WITH taken AS (
        DELETE FROM surveys_rollupchange
         WHERE organisation_id = ANY(%(organisations)s::bigint[]) AND question_key <> ''
     RETURNING organisation_id, channel, month, question_key, {figures}
    ), sums AS (
        SELECT organisation_id, COALESCE(channel, 'all') AS channel, question_key,
               CASE GROUPING(month) WHEN 0 THEN 'month' ELSE 'year' END AS period,
               COALESCE(month, year) AS period_start, {sums}
          FROM (SELECT *, CAST(date_trunc('year', month) AS date) AS year FROM taken) changes
      GROUP BY organisation_id, question_key, year, GROUPING SETS ((channel, month), (month), (channel), ())
    )
    MERGE INTO surveys_scorerollup AS r
    USING sums AS d
       ON r.period_start = d.period_start AND r.organisation_id = d.organisation_id AND r.period = d.period
          AND r.channel = d.channel AND r.question_key = d.question_key
     WHEN MATCHED AND r.n + d.n = 0 THEN DELETE
     WHEN MATCHED THEN UPDATE SET {added}, computed_at = now()
     WHEN NOT MATCHED AND d.n > 0 THEN
          INSERT (organisation_id, channel, question_key, period, period_start, {figures}, computed_at)
          VALUES (d.organisation_id, d.channel, d.question_key, d.period, d.period_start, {values}, now())
    """,
    figures=columns("{0}", SCORE_FIGURES),
    sums=columns("SUM({0}) AS {0}", SCORE_FIGURES),
    added=columns("{0} = r.{0} + d.{0}", SCORE_FIGURES),
    values=columns("d.{0}", SCORE_FIGURES),
)

TAKE_IN_CONTACTS = statement(
    """
    WITH taken AS (
        DELETE FROM surveys_rollupchange
         WHERE organisation_id = ANY(%(organisations)s::bigint[]) AND question_key = ''
     RETURNING organisation_id, channel, month, {figures}
    ), sums AS (
        SELECT organisation_id, COALESCE(channel, 'all') AS channel,
               CASE GROUPING(month) WHEN 0 THEN 'month' ELSE 'year' END AS period,
               COALESCE(month, year) AS period_start, {sums}
          FROM (SELECT *, CAST(date_trunc('year', month) AS date) AS year FROM taken) changes
      GROUP BY organisation_id, year, GROUPING SETS ((channel, month), (month), (channel), ())
    )
    MERGE INTO surveys_contactrollup AS r
    USING sums AS d
       ON r.period_start = d.period_start AND r.organisation_id = d.organisation_id AND r.period = d.period
          AND r.channel = d.channel
     WHEN MATCHED AND r.contacts_registered + d.contacts_registered = 0
          AND r.contacts_imported + d.contacts_imported = 0 AND r.invitations_sent + d.invitations_sent = 0
          THEN DELETE
     WHEN MATCHED THEN UPDATE SET {added}, computed_at = now()
     WHEN NOT MATCHED AND d.contacts_registered + d.contacts_imported + d.invitations_sent > 0 THEN
          INSERT (organisation_id, channel, period, period_start, {figures}, computed_at)
          VALUES (d.organisation_id, d.channel, d.period, d.period_start, {values}, now())
    """,
    figures=columns("{0}", CONTACT_FIGURES),
    sums=columns("SUM({0}) AS {0}", CONTACT_FIGURES),
    added=columns("{0} = r.{0} + d.{0}", CONTACT_FIGURES),
    values=columns("d.{0}", CONTACT_FIGURES),
)


@dataclass
class RollupResult:
    organisations: int = 0
    score_rows: int = 0
    contact_rows: int = 0
    skipped: list[int] = field(default_factory=list)  # busy in another job: their changes wait

    def __iadd__(self, other: RollupResult) -> RollupResult:
        self.organisations += other.organisations
        self.score_rows += other.score_rows
        self.contact_rows += other.contact_rows
        self.skipped += other.skipped
        return self


def pending_organisation_ids() -> list[int]:
    """The organisations with changes that the rollups have not taken in yet."""
    return sorted(RollupChange.objects.order_by().values_list("organisation_id", flat=True).distinct())


def rollup_organisations(organisation_ids: Iterable[int]) -> RollupResult:
    """Take in the pending changes of these organisations, in one transaction. Organisations
    that another job holds are skipped; their changes stay for the next pass."""
    ids = sorted(organisation_ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(TRY_LOCKS, {"organisations": ids, "namespace": LOCK_NAMESPACE})
        locked = [row[0] for row in cursor.fetchall()]
        result = RollupResult(organisations=len(locked), skipped=sorted(set(ids) - set(locked)))
        if locked:
            result.score_rows, result.contact_rows = take_in(cursor, locked)
    return result


def take_in(cursor, organisation_ids: list[int]) -> tuple[int, int]:
    """Both statements, for organisations whose lock is held; returns the rollup rows each wrote."""
    cursor.execute(TAKE_IN_SCORES, {"organisations": organisation_ids})
    score_rows = cursor.rowcount
    cursor.execute(TAKE_IN_CONTACTS, {"organisations": organisation_ids})
    return score_rows, cursor.rowcount


def rollup_incremental(*, organisation_ids: Iterable[int] | None = None) -> RollupResult:
    """The pass in this process, in one transaction: the organisations with pending changes (or
    those of them in ``organisation_ids``). The beat's pass runs one Celery job per organisation."""
    ids = pending_organisation_ids()
    return rollup_organisations(ids if organisation_ids is None else set(ids) & set(organisation_ids))
