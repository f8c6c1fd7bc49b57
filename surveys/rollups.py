"""The aggregation: responses, answers, contacts, imported volumes and invitations rolled up per
organisation, channel (and all channels together), question and calendar month in Europe/Amsterdam;
years are summed from the stored months, never from the responses.

Each source is read with one GROUP BY query per job (never a Python loop over responses): the
response query groups on the ``contact_month`` column fixed at write time, so no time zone is
converted per row. Rows are recomputed from scratch and upserted, so a re-run gives the same rows
(zulip's resumable counts) and two passes cannot double-count. Everything an organisation's job
writes happens in one transaction under a per-organisation advisory lock; the dirty marks it
handled are removed in that same transaction, and only if they did not change meanwhile.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, DateField, F, Q, Sum
from django.db.models.functions import Cast, TruncMonth, TruncYear
from django.utils import timezone

from .models import (
    ALL_CHANNELS,
    SCORE_KEY,
    Answer,
    Contact,
    ContactRollup,
    ContactVolume,
    Invitation,
    Organisation,
    PeriodKind,
    Response,
    RollupDirtyMonth,
    ScoreRollup,
)
from .models.rollups import DISTRIBUTION_FIELDS, DISTRIBUTION_VALUES

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
logger = logging.getLogger(__name__)
# Namespace of the per-organisation advisory locks (pg_advisory_xact_lock(namespace, organisation)).
LOCK_NAMESPACE = 0x4B544F

_SCORE_SUMS = ["n", "n_invited", "total", "total_sq", *DISTRIBUTION_FIELDS]
_SCORE_UNIQUE = ["organisation", "channel", "question_key", "period", "period_start"]
_CONTACT_FIELDS = [
    "contacts_registered",
    "contacts_imported",
    "invitations_sent",
    "responses",
    "invited_responses",
    "computed_at",
]
_CONTACT_UNIQUE = ["organisation", "channel", "period", "period_start"]
_CONTACT_SUMS = _CONTACT_FIELDS[:-1]


@dataclass
class Scope:
    """What one job recomputes: either some months per organisation (``months``: organisation id
    -> months), or every month from ``since`` on (None = all) of some organisations (None = all)."""

    organisation_ids: list[int] | None = None
    months: dict[int, frozenset[date]] | None = None
    since: date | None = None

    def _per_organisation(self, make, prefix: str = "") -> Q:
        """The organisations in scope, each with ``make(months)`` for its months. Organisations
        with the same months share one term (usually all of them: the current month), so the
        condition stays a few ``= ANY(...)`` terms instead of one per organisation."""
        q = Q()
        if self.months is not None:
            by_months: dict[frozenset[date], list[int]] = defaultdict(list)
            for organisation_id, months in self.months.items():
                by_months[frozenset(months)].append(organisation_id)
            any_of = Q(pk__in=[])  # matches nothing when there are no months
            for months, organisation_ids in sorted(by_months.items(), key=lambda item: sorted(item[0])):
                any_of |= Q(**{f"{prefix}organisation_id__in": sorted(organisation_ids)}) & make(sorted(months))
            return any_of
        if self.organisation_ids is not None:
            q &= Q(**{f"{prefix}organisation_id__in": self.organisation_ids})
        return q

    def month_filter(self, field_name: str, prefix: str = "") -> Q:
        """Rows of a table with a month column (first day of the month) in scope."""
        q = self._per_organisation(lambda months: Q(**{f"{prefix}{field_name}__in": months}), prefix)
        if self.since is not None:
            q &= Q(**{f"{prefix}{field_name}__gte": self.since})
        return q

    def moment_filter(self, field_name: str) -> Q:
        """The same months as ranges of aware datetimes (for tables without a month column)."""

        def ranges(months):
            any_of = Q()
            for month in months:
                any_of |= Q(
                    **{f"{field_name}__gte": month_start(month), f"{field_name}__lt": month_start(next_month(month))}
                )
            return any_of

        q = self._per_organisation(ranges)
        if self.since is not None:
            q &= Q(**{f"{field_name}__gte": month_start(self.since)})
        return q

    def years(self) -> Scope:
        """The scope of the years touched by this scope's months (1 January dates)."""
        if self.months is not None:
            return Scope(months={o: frozenset(date(m.year, 1, 1) for m in months) for o, months in self.months.items()})
        return Scope(self.organisation_ids, since=date(self.since.year, 1, 1) if self.since else None)

    def months_of_years(self) -> Q:
        """The month rows that make up the years of this (year) scope."""

        def in_years(starts):
            any_of = Q()
            for start in starts:
                any_of |= Q(period_start__gte=start, period_start__lt=date(start.year + 1, 1, 1))
            return any_of

        q = self._per_organisation(in_years)
        if self.since is not None:
            q &= Q(period_start__gte=self.since)
        return q


@dataclass
class RollupResult:
    organisations: int = 0
    months: int = 0
    score_rows: int = 0
    contact_rows: int = 0
    skipped: list[int] = field(default_factory=list)

    def __iadd__(self, other: RollupResult) -> RollupResult:
        self.organisations += other.organisations
        self.months += other.months
        self.score_rows += other.score_rows
        self.contact_rows += other.contact_rows
        self.skipped += other.skipped
        return self


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=AMSTERDAM)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


# --- locking and dirty marks -----------------------------------------------------------------


def _try_locks(organisation_ids: list[int]) -> list[int]:
    """Take the transaction-level advisory lock of each organisation that no other job holds;
    returns the organisations locked (the others are left to the job that holds them)."""
    if connection.vendor != "postgresql":
        return list(organisation_ids)  # SQLite (the embedded default) serialises writers itself.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id WHERE pg_try_advisory_xact_lock(%s, id::int) ORDER BY id",
            [sorted(organisation_ids), LOCK_NAMESPACE],
        )
        return [row[0] for row in cursor.fetchall()]


def _lock_all(organisation_ids: list[int] | None) -> None:
    """Wait for the advisory locks of every organisation in scope, in id order (no deadlocks)."""
    if connection.vendor != "postgresql":
        return
    sql = "SELECT pg_advisory_xact_lock(%s, id::int) FROM (SELECT id FROM surveys_organisation {} ORDER BY id) o"
    with connection.cursor() as cursor:
        if organisation_ids is None:
            cursor.execute(sql.format(""), [LOCK_NAMESPACE])
        else:
            cursor.execute(sql.format("WHERE id = ANY(%s)"), [LOCK_NAMESPACE, list(organisation_ids)])


def _clear_marks(seen: list[tuple[int, date, datetime]]) -> None:
    """Delete the dirty marks this job handled, unless they were marked again meanwhile (a newer
    ``marked_at``): those months wait for the next pass."""
    for start in range(0, len(seen), 500):
        condition = Q()
        for organisation_id, month, marked_at in seen[start : start + 500]:
            condition |= Q(organisation_id=organisation_id, month=month, marked_at=marked_at)
        RollupDirtyMonth.objects.filter(condition).delete()


def dirty_organisation_ids() -> list[int]:
    return list(RollupDirtyMonth.objects.order_by().values_list("organisation_id", flat=True).distinct())


class _RollupAfterCommit:
    """On-commit callback that rolls an organisation up; equal per organisation, so a transaction
    that marks many months schedules one rollup."""

    def __init__(self, organisation_id: int):
        self.organisation_id = organisation_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _RollupAfterCommit) and other.organisation_id == self.organisation_id

    def __hash__(self) -> int:
        return hash(self.organisation_id)

    def __call__(self) -> None:
        from .tasks import rollup_organisation

        try:
            rollup_organisation.delay(self.organisation_id)
        except Exception:
            # The write is committed; a failing rollup must not turn the resident's answer into an
            # error page. The month stays marked, so the next pass (or `manage.py rollup`) repairs it.
            logger.exception("Rollup of organisation %s after commit failed", self.organisation_id)


def rollup_after_commit(organisation_id: int) -> None:
    """Without a worker (eager Celery, the embedded default) no beat pass runs: roll up once the
    marking transaction commits."""
    callback = _RollupAfterCommit(organisation_id)
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(entry[1] == callback for entry in conn.run_on_commit):
        return
    transaction.on_commit(callback)


# --- the jobs ----------------------------------------------------------------------------------


def rollup_organisation(organisation_id: int) -> RollupResult:
    """Recompute the dirty months of one organisation and the years they belong to, in one
    transaction. Does nothing when another job holds the organisation (its marks stay)."""
    return rollup_organisations([organisation_id])


def rollup_organisations(organisation_ids: list[int]) -> RollupResult:
    """Recompute the dirty months of these organisations and their years in one transaction,
    with one aggregate query per source for all of them together. Organisations that another
    job holds are skipped (``skipped``); their marks stay for the next pass."""
    with transaction.atomic():
        locked = _try_locks(organisation_ids)
        skipped = sorted(set(organisation_ids) - set(locked))
        seen = list(
            RollupDirtyMonth.objects.filter(organisation_id__in=locked).values_list(
                "organisation_id", "month", "marked_at"
            )
        )
        if not seen:
            return RollupResult(skipped=skipped)
        months: dict[int, set[date]] = defaultdict(set)
        for organisation_id, month, _ in seen:
            months[organisation_id].add(month)
        result = _recompute(Scope(months={o: frozenset(m) for o, m in months.items()}))
        _clear_marks(seen)
        result.skipped = skipped
        return result


def rollup_incremental(
    *, organisation_ids: Iterable[int] | None = None, batch_size: int = 500, progress=None
) -> RollupResult:
    """The incremental pass in this process: the organisations with dirty months, up to
    ``batch_size`` organisations per job (the Celery pass runs one job per organisation)."""
    ids = sorted(organisation_ids) if organisation_ids is not None else sorted(dirty_organisation_ids())
    batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
    result = RollupResult()
    for batch in progress(batches) if progress else batches:
        result += rollup_organisations(batch)
    return result


def rollup_full(*, organisation_ids: list[int] | None = None, since: date | None = None, progress=None) -> RollupResult:
    """Recompute every month (from ``since``) of the given organisations (default: all) and their
    years, in one transaction with one aggregate query per source."""
    with transaction.atomic():
        _lock_all(organisation_ids)
        marks = RollupDirtyMonth.objects.all()
        if organisation_ids is not None:
            marks = marks.filter(organisation_id__in=organisation_ids)
        if since is not None:
            marks = marks.filter(month__gte=since)
        seen = list(marks.values_list("organisation_id", "month", "marked_at"))
        result = _recompute(Scope(organisation_ids, since=since), progress=progress)
        _clear_marks(seen)
        return result


# --- recomputing ---------------------------------------------------------------------------------
#
# As zulip's counts do, in SQL: each source is one GROUP BY whose result goes into a temporary
# table (the SELECT is an ORM queryset; the rows never travel through Python, so memory stays
# flat however many responses there are). The "all channels" rows and the years are sums of
# those rows. Each temporary table is then synced into its rollup table: an upsert that only
# rewrites rows whose figures changed, and a delete of rows in scope that have no data any more.

_SCORE_KEYS = ["organisation_id", "channel", "question_key", "period", "period_start"]
_CONTACT_KEYS = ["organisation_id", "channel", "period", "period_start"]
_MONTHS = "kto_rollup_months"
_CONTACT_MONTHS = "kto_rollup_contact_months"
_YEARS = "kto_rollup_years"
_CONTACT_YEARS = "kto_rollup_contact_years"


def _recompute(scope: Scope, progress=None) -> RollupResult:
    stamp = timezone.now()
    result = RollupResult()
    steps = [_score_months, _contact_months, _years]
    for step in progress(steps) if progress else steps:
        step(scope, stamp, result)
    # On an error the transaction is rolled back, and the temporary tables with it.
    for name in (_MONTHS, _CONTACT_MONTHS, _YEARS, _CONTACT_YEARS):
        _execute(f"DROP TABLE IF EXISTS {name}")
    return result


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return max(cursor.rowcount, 0)


def _create_temp(name: str, select: str, params: list) -> None:
    _execute(f"DROP TABLE IF EXISTS {name}")
    _execute(f"CREATE TEMPORARY TABLE {name} AS {select}", params)


def _sql(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def _answer_aggregates(field: str, invitation: str) -> dict:
    """n, answers through an invitation, sum, sum of squares and the count per value of ``field``."""
    return {
        "a_n": Count("*"),
        "a_n_invited": Count(invitation),
        "a_total": Sum(field),
        "a_total_sq": Sum(F(field) * F(field)),
        **{f"a_count_{value}": Count(field, filter=Q(**{field: value})) for value in DISTRIBUTION_VALUES},
    }


def _sums(names: list[str], prefix: str = "a_") -> dict:
    return {f"{prefix}{name}": Sum(name) for name in names}


def _named(names: list[str], prefix: str = "a_", values: dict | None = None) -> str:
    """``a_n AS n, a_total AS total, ...`` (or a constant from ``values``)."""
    values = values or {}
    return ", ".join(f"{values.get(name, prefix + name)} AS {name}" for name in names)


def _summed(names: list[str]) -> str:
    return ", ".join(f"SUM({name}) AS {name}" for name in names)


def _score_months(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    """The rapportcijfer (responses) and the extra questions (answers) per channel and month."""
    aggregates = _answer_aggregates("score", "invitation_id")
    del aggregates["a_count_0"]  # the rapportcijfer is 1..10
    responses = (
        Response.objects.filter(scope.month_filter("contact_month"))
        .order_by()
        .values("organisation_id", "channel", "contact_month")
        .annotate(**aggregates)
    )
    answers = (
        Answer.objects.filter(scope.month_filter("contact_month", "response__"), value__isnull=False)
        .order_by()
        .values("response__organisation_id", "response__channel", "response__contact_month", "question__key")
        .annotate(**_answer_aggregates("value", "response__invitation_id"))
    )
    responses_sql, responses_params = _sql(responses)
    answers_sql, answers_params = _sql(answers)
    # Only constant names and the ORM's own SQL are interpolated; values are parameters.
    select = (
        f"SELECT organisation_id, channel, CAST(%s AS VARCHAR(50)) AS question_key, contact_month AS period_start, "  # noqa: S608
        f"{_named(_SCORE_SUMS, values={'count_0': '0'})} FROM ({responses_sql}) responses "
        f"UNION ALL SELECT response__organisation_id, response__channel, question__key, response__contact_month, "
        f"{_named(_SCORE_SUMS)} FROM ({answers_sql}) answers"
    )
    _create_temp(_MONTHS, select, [SCORE_KEY, *responses_params, *answers_params])
    _execute(
        f"INSERT INTO {_MONTHS} SELECT organisation_id, %s, question_key, period_start, {_summed(_SCORE_SUMS)} "  # noqa: S608
        f"FROM {_MONTHS} GROUP BY organisation_id, question_key, period_start",
        [ALL_CHANNELS],
    )
    result.score_rows += _sync(ScoreRollup, _SCORE_KEYS, _SCORE_SUMS, _MONTHS, PeriodKind.MONTH, scope, stamp)


def _contact_months(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    """Contacts registered, imported, invitations sent and responses per channel and month: one
    UNION ALL of four grouped sources, summed."""
    contacts = (
        Contact.objects.filter(scope.month_filter("contact_month"))
        .order_by()
        .values("organisation_id", "channel", "contact_month")
        .annotate(a_count=Count("*"))
    )
    volumes = (
        ContactVolume.objects.filter(scope.month_filter("month"))
        .order_by()
        .values("organisation_id", "channel", "month", "count")
    )
    invitations = (
        Invitation.objects.filter(scope.moment_filter("contact_moment"))
        .filter(Q(sent_at__isnull=False) | Q(delivery__isnull=True))
        .order_by()
        .values(
            "organisation_id",
            "channel",
            a_month=TruncMonth("contact_moment", output_field=DateField(), tzinfo=AMSTERDAM),
        )
        .annotate(a_count=Count("*"))
    )
    names = _CONTACT_SUMS
    parts = [
        (
            f"SELECT organisation_id, channel, period_start, 0 AS {names[0]}, 0 AS {names[1]}, 0 AS {names[2]}, "  # noqa: S608
            f"n AS {names[3]}, n_invited AS {names[4]} FROM {_MONTHS} WHERE question_key = %s AND channel <> %s",
            [SCORE_KEY, ALL_CHANNELS],
        )
    ]
    for queryset, month, figures in (
        (contacts, "contact_month", ("a_count", "0", "0", "0", "0")),
        (volumes, "month", ("0", '"count"', "0", "0", "0")),
        (invitations, "a_month", ("0", "0", "a_count", "0", "0")),
    ):
        sql, params = _sql(queryset)
        parts.append((f"SELECT organisation_id, channel, {month}, {', '.join(figures)} FROM ({sql}) part", params))  # noqa: S608
    union = " UNION ALL ".join(sql for sql, _ in parts)
    _create_temp(
        _CONTACT_MONTHS,
        f"SELECT organisation_id, channel, period_start, {_summed(names)} FROM ({union}) parts "  # noqa: S608
        f"GROUP BY organisation_id, channel, period_start",
        [param for _, params in parts for param in params],
    )
    _execute(
        f"INSERT INTO {_CONTACT_MONTHS} SELECT organisation_id, %s, period_start, {_summed(names)} "  # noqa: S608
        f"FROM {_CONTACT_MONTHS} GROUP BY organisation_id, period_start",
        [ALL_CHANNELS],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT organisation_id) FROM {_CONTACT_MONTHS} WHERE channel = %s",  # noqa: S608
            [ALL_CHANNELS],
        )
        result.months, result.organisations = cursor.fetchone()
    result.contact_rows += _sync(
        ContactRollup, _CONTACT_KEYS, _CONTACT_SUMS, _CONTACT_MONTHS, PeriodKind.MONTH, scope, stamp
    )


def _years(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    """Sum the stored month rows of the years in scope into year rows (no response is read, and
    sums of sums are exact)."""
    years = scope.years()
    months = years.months_of_years()
    year = TruncYear("period_start")
    if connection.vendor == "postgresql":
        year = Cast(year, DateField())
    scores = (
        ScoreRollup.objects.filter(months, period=PeriodKind.MONTH)
        .order_by()
        .values("organisation_id", "channel", "question_key", a_year=year)
        .annotate(**_sums(_SCORE_SUMS))
    )
    sql, params = _sql(scores)
    _create_temp(
        _YEARS,
        f"SELECT organisation_id, channel, question_key, a_year AS period_start, {_named(_SCORE_SUMS)} FROM ({sql}) y",  # noqa: S608
        params,
    )
    result.score_rows += _sync(ScoreRollup, _SCORE_KEYS, _SCORE_SUMS, _YEARS, PeriodKind.YEAR, years, stamp)
    contacts = (
        ContactRollup.objects.filter(months, period=PeriodKind.MONTH)
        .order_by()
        .values("organisation_id", "channel", a_year=year)
        .annotate(**_sums(_CONTACT_SUMS))
    )
    sql, params = _sql(contacts)
    _create_temp(
        _CONTACT_YEARS,
        f"SELECT organisation_id, channel, a_year AS period_start, {_named(_CONTACT_SUMS)} FROM ({sql}) y",  # noqa: S608
        params,
    )
    result.contact_rows += _sync(
        ContactRollup, _CONTACT_KEYS, _CONTACT_SUMS, _CONTACT_YEARS, PeriodKind.YEAR, years, stamp
    )


def _sync(model, keys: list[str], figures: list[str], temp: str, period: str, scope: Scope, stamp: datetime) -> int:
    """Make the rows of ``model`` in scope for ``period`` equal to those of the temporary table,
    set-based: update the rows whose figures changed (unchanged rows are not rewritten), insert
    the new ones, delete those without data any more; a full recompute replaces all rows in
    scope. Returns the number of rows written.
    (No concurrent job writes these rows: the organisations are locked.)"""
    table = connection.ops.quote_name(model._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(stamp)
    match = " AND ".join([*(f"{table}.{key} = t.{key}" for key in keys if key != "period"), f"{table}.period = %s"])
    changed = " OR ".join(f"{table}.{name} <> t.{name}" for name in figures)
    # Only constant names and the ORM's own SQL are interpolated; values are parameters.
    # The rows in scope (the scope's conditions let the planner use the unique index).
    queryset = model.objects.filter(scope.month_filter("period_start"), period=period)
    in_scope, scope_params = queryset.query.get_compiler(connection=connection).compile(queryset.query.where)
    selected = [("%s" if key == "period" else f"t.{key}") for key in keys]
    insert = (
        f"INSERT INTO {table} ({', '.join(keys + figures)}, computed_at) "  # noqa: S608
        f"SELECT {', '.join(selected + [f't.{name}' for name in figures])}, %s FROM {temp} t"
    )
    if scope.months is None:
        # A full recompute replaces everything in scope: no joins whose plans depend on
        # statistics that rows written in this same transaction have made stale.
        _execute(f"DELETE FROM {table} WHERE {in_scope}", scope_params)  # noqa: S608
        return _execute(insert, [period, stamp])
    written = _execute(
        f"UPDATE {table} SET {', '.join(f'{name} = t.{name}' for name in figures)}, computed_at = %s "  # noqa: S608
        f"FROM {temp} t WHERE {in_scope} AND {match} AND ({changed})",
        [stamp, *scope_params, period],
    )
    new_rows = f"{insert} WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {match})"  # noqa: S608
    written += _execute(new_rows, [period, stamp, period])
    matches = " AND ".join(f"t.{key} = {table}.{key}" for key in keys if key != "period")
    _execute(
        f"DELETE FROM {table} WHERE {in_scope} AND NOT EXISTS (SELECT 1 FROM {temp} t WHERE {matches})",  # noqa: S608
        scope_params,
    )
    return written


def organisation_ids_for(slugs: Iterable[str]) -> list[int]:
    return list(Organisation.objects.filter(slug__in=list(slugs)).values_list("id", flat=True))


__all__ = [
    "AMSTERDAM",
    "RollupResult",
    "Scope",
    "dirty_organisation_ids",
    "rollup_after_commit",
    "rollup_full",
    "rollup_incremental",
    "rollup_organisation",
    "rollup_organisations",
]
