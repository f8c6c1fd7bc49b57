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
        q = Q()
        if self.months is not None:
            any_of = Q(pk__in=[])  # matches nothing when there are no months
            for organisation_id, months in sorted(self.months.items()):
                any_of |= Q(**{f"{prefix}organisation_id": organisation_id}) & make(sorted(months))
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

        rollup_organisation.delay(self.organisation_id)


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
    *, organisation_ids: Iterable[int] | None = None, batch_size: int = 100, progress=None
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
# Each step is one INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE (as zulip's counts do):
# the SELECT is an ORM queryset, the rows never travel through Python, so the cost is that of the
# GROUP BY itself and memory stays flat however many responses there are. Every row written gets
# this job's ``computed_at``; rows in scope without it belong to periods without data any more.


def _recompute(scope: Scope, progress=None) -> RollupResult:
    stamp = timezone.now()
    result = RollupResult()
    steps = [
        _score_months,
        _answer_months,
        _all_channel_scores,
        _contact_months,
        _all_channel_contacts,
        _delete_stale_months,
        _years,
    ]
    for step in progress(steps) if progress else steps:
        step(scope, stamp, result)
    result.organisations = (
        ContactRollup.objects.filter(
            scope.month_filter("period_start"), period=PeriodKind.MONTH, channel=ALL_CHANNELS, computed_at=stamp
        )
        .values("organisation_id")
        .distinct()
        .count()
    )
    return result


def _upsert(model, columns: list[str], unique: list[str], select: str, outer: list, inner: list) -> int:
    """INSERT the rows of ``select`` (its columns in the order of ``columns``) or update them.
    ``outer``: the values of the placeholders in the SELECT list; ``inner``: the subquery's."""
    params = [connection.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in outer]
    params += inner
    table = model._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    updates = ", ".join(
        f"{connection.ops.quote_name(c)} = excluded.{connection.ops.quote_name(c)}" for c in columns if c not in unique
    )
    sql = (
        f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) {select} "
        f"ON CONFLICT ({', '.join(connection.ops.quote_name(c) for c in unique)}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _from(queryset, columns: list[str], group_by: str = "") -> tuple[str, list]:
    """SELECT ``columns`` FROM the queryset's SQL (WHERE 1 = 1 keeps SQLite's upsert parser happy)."""
    sql, params = queryset.query.sql_with_params()
    # Only constant column names and the ORM's own SQL are interpolated; values are parameters.
    return f"SELECT {', '.join(columns)} FROM ({sql}) part WHERE 1 = 1 {group_by}", list(params)  # noqa: S608


_SCORE_COLUMNS = ["organisation_id", "channel", "question_key", "period", "period_start", *_SCORE_SUMS, "computed_at"]
_SCORE_KEYS = ["organisation_id", "channel", "question_key", "period", "period_start"]
_CONTACT_COLUMNS = ["organisation_id", "channel", "period", "period_start", *_CONTACT_SUMS, "computed_at"]
_CONTACT_KEYS = ["organisation_id", "channel", "period", "period_start"]


def _answer_aggregates(field: str, invitation: str) -> dict:
    """n, answers through an invitation, sum, sum of squares and the count per value of ``field``."""
    return {
        "a_n": Count("*"),
        "a_n_invited": Count(invitation),
        "a_total": Sum(field),
        "a_total_sq": Sum(F(field) * F(field)),
        **{f"a_count_{value}": Count(field, filter=Q(**{field: value})) for value in DISTRIBUTION_VALUES},
    }


def _sums(prefix: str, names: list[str]) -> dict:
    return {f"{prefix}{name}": Sum(name) for name in names}


_SUM_COLUMNS = [f"a_{name}" for name in _SCORE_SUMS]


def _score_months(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    aggregates = _answer_aggregates("score", "invitation_id")
    del aggregates["a_count_0"]  # the rapportcijfer is 1..10
    responses = (
        Response.objects.filter(scope.month_filter("contact_month"))
        .order_by()
        .values("organisation_id", "channel", "contact_month")
        .annotate(**aggregates)
    )
    columns = ["organisation_id", "channel", "%s", "%s", "contact_month", *_SUM_COLUMNS, "%s"]
    select, params = _from(responses, [("0" if c == "a_count_0" else c) for c in columns])
    # The placeholders of the outer SELECT list come before those of the subquery in FROM.
    result.score_rows += _upsert(
        ScoreRollup, _SCORE_COLUMNS, _SCORE_KEYS, select, [SCORE_KEY, PeriodKind.MONTH.value, stamp], params
    )


def _answer_months(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    answers = (
        Answer.objects.filter(scope.month_filter("contact_month", "response__"), value__isnull=False)
        .order_by()
        .values("response__organisation_id", "response__channel", "response__contact_month", "question__key")
        .annotate(**_answer_aggregates("value", "response__invitation_id"))
    )
    select, params = _from(
        answers,
        [
            "response__organisation_id",
            "response__channel",
            "question__key",
            "%s",
            "response__contact_month",
            *_SUM_COLUMNS,
            "%s",
        ],
    )
    result.score_rows += _upsert(
        ScoreRollup, _SCORE_COLUMNS, _SCORE_KEYS, select, [PeriodKind.MONTH.value, stamp], params
    )


def _all_channel_scores(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    channels = (
        ScoreRollup.objects.filter(scope.month_filter("period_start"), period=PeriodKind.MONTH, computed_at=stamp)
        .exclude(channel=ALL_CHANNELS)
        .order_by()
        .values("organisation_id", "question_key", "period_start")
        .annotate(**_sums("a_", _SCORE_SUMS))
    )
    select, params = _from(
        channels, ["organisation_id", "%s", "question_key", "%s", "period_start", *_SUM_COLUMNS, "%s"]
    )
    result.score_rows += _upsert(
        ScoreRollup, _SCORE_COLUMNS, _SCORE_KEYS, select, [ALL_CHANNELS, PeriodKind.MONTH.value, stamp], params
    )


def _contact_months(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    """Contacts registered, imported, invitations sent and responses per channel and month: one
    UNION ALL of four grouped sources, summed."""
    responses = (
        ScoreRollup.objects.filter(
            scope.month_filter("period_start"), period=PeriodKind.MONTH, question_key=SCORE_KEY, computed_at=stamp
        )
        .exclude(channel=ALL_CHANNELS)
        .order_by()
        .values("organisation_id", "channel", "period_start", "n", "n_invited")
    )
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
    parts, params = [], []
    for queryset, month, figures in (
        (responses, "period_start", ("0", "0", "0", "n", "n_invited")),
        (contacts, "contact_month", ("a_count", "0", "0", "0", "0")),
        (volumes, "month", ("0", '"count"', "0", "0", "0")),
        (invitations, "a_month", ("0", "0", "a_count", "0", "0")),
    ):
        sql, part_params = queryset.query.sql_with_params()
        named = ", ".join(f"{value} AS {name}" for value, name in zip(figures, FIGURES, strict=True))
        parts.append(f"SELECT organisation_id, channel, {month} AS month, {named} FROM ({sql}) part")  # noqa: S608
        params += part_params
    select = (
        f"SELECT organisation_id, channel, %s, month, SUM(registered), SUM(imported), SUM(sent), SUM(responses), "  # noqa: S608
        f"SUM(invited), %s FROM ({' UNION ALL '.join(parts)}) parts WHERE 1 = 1 "
        f"GROUP BY organisation_id, channel, month"
    )
    result.contact_rows += _upsert(
        ContactRollup, _CONTACT_COLUMNS, _CONTACT_KEYS, select, [PeriodKind.MONTH.value, stamp], params
    )


FIGURES = ("registered", "imported", "sent", "responses", "invited")


def _all_channel_contacts(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    channels = (
        ContactRollup.objects.filter(scope.month_filter("period_start"), period=PeriodKind.MONTH, computed_at=stamp)
        .exclude(channel=ALL_CHANNELS)
        .order_by()
        .values("organisation_id", "period_start")
        .annotate(**_sums("a_", _CONTACT_SUMS))
    )
    columns = [f"a_{name}" for name in _CONTACT_SUMS]
    select, params = _from(channels, ["organisation_id", "%s", "%s", "period_start", *columns, "%s"])
    result.months = _upsert(
        ContactRollup, _CONTACT_COLUMNS, _CONTACT_KEYS, select, [ALL_CHANNELS, PeriodKind.MONTH.value, stamp], params
    )
    result.contact_rows += result.months


def _delete_stale_months(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    _delete_stale(ScoreRollup, scope, PeriodKind.MONTH, stamp)
    _delete_stale(ContactRollup, scope, PeriodKind.MONTH, stamp)


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
        .annotate(**_sums("a_", _SCORE_SUMS))
    )
    select, params = _from(scores, ["organisation_id", "channel", "question_key", "%s", "a_year", *_SUM_COLUMNS, "%s"])
    result.score_rows += _upsert(
        ScoreRollup, _SCORE_COLUMNS, _SCORE_KEYS, select, [PeriodKind.YEAR.value, stamp], params
    )
    contacts = (
        ContactRollup.objects.filter(months, period=PeriodKind.MONTH)
        .order_by()
        .values("organisation_id", "channel", a_year=year)
        .annotate(**_sums("a_", _CONTACT_SUMS))
    )
    columns = [f"a_{name}" for name in _CONTACT_SUMS]
    select, params = _from(contacts, ["organisation_id", "channel", "%s", "a_year", *columns, "%s"])
    result.contact_rows += _upsert(
        ContactRollup, _CONTACT_COLUMNS, _CONTACT_KEYS, select, [PeriodKind.YEAR.value, stamp], params
    )
    _delete_stale(ScoreRollup, years, PeriodKind.YEAR, stamp)
    _delete_stale(ContactRollup, years, PeriodKind.YEAR, stamp)


def _delete_stale(model, scope: Scope, period: str, stamp: datetime) -> None:
    """Rows in scope that this job did not write belong to periods without data any more."""
    model.objects.filter(scope.month_filter("period_start"), period=period).exclude(computed_at=stamp).delete()


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
