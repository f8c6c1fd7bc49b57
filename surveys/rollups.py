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

import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, DateField, Q, Sum
from django.db.models.functions import ExtractYear, TruncMonth
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
BATCH_SIZE = 2000

_SCORE_SUMS = ["n", "total", "total_sq", *DISTRIBUTION_FIELDS]
_SCORE_FIELDS = [*_SCORE_SUMS, "computed_at"]
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


def _streams(scope: Scope) -> list[Iterator[tuple]]:
    """One GROUP BY query per source, each ordered by organisation so they can be merged and
    processed one organisation at a time (memory stays flat however many responses there are)."""
    responses = (
        Response.objects.filter(scope.month_filter("contact_month"))
        .values_list("organisation_id", "channel", "contact_month", "score")
        .annotate(n=Count("*"), invited=Count("invitation_id"))
        .order_by("organisation_id")
    )
    answers = (
        Answer.objects.filter(scope.month_filter("contact_month", "response__"), value__isnull=False)
        .values_list(
            "response__organisation_id", "response__channel", "response__contact_month", "question__key", "value"
        )
        .annotate(n=Count("*"))
        .order_by("response__organisation_id")
    )
    contacts = (
        Contact.objects.filter(scope.month_filter("contact_month"))
        .values_list("organisation_id", "channel", "contact_month")
        .annotate(n=Count("*"))
        .order_by("organisation_id")
    )
    volumes = (
        ContactVolume.objects.filter(scope.month_filter("month"))
        .values_list("organisation_id", "channel", "month", "count")
        .order_by("organisation_id")
    )
    invitations = (
        Invitation.objects.filter(scope.moment_filter("contact_moment"))
        .filter(Q(sent_at__isnull=False) | Q(delivery__isnull=True))
        .annotate(month=TruncMonth("contact_moment", output_field=DateField(), tzinfo=AMSTERDAM))
        .values_list("organisation_id", "channel", "month")
        .annotate(n=Count("*"))
        .order_by("organisation_id")
    )
    sources = [responses, answers, contacts, volumes, invitations]
    return [_tagged(tag, queryset) for tag, queryset in enumerate(sources)]


def _tagged(tag: int, queryset) -> Iterator[tuple]:
    for row in queryset.iterator(chunk_size=5000):
        yield row[0], tag, row


def _recompute(scope: Scope, progress=None) -> RollupResult:
    stamp = timezone.now()
    result = RollupResult()
    score_writer = _Writer(ScoreRollup, _SCORE_UNIQUE, _SCORE_FIELDS)
    contact_writer = _Writer(ContactRollup, _CONTACT_UNIQUE, _CONTACT_FIELDS)
    merged = heapq.merge(*_streams(scope), key=lambda item: item[0])
    groups = itertools.groupby(merged, key=lambda item: item[0])
    if progress is not None:
        groups = progress(groups)
    for organisation_id, items in groups:
        scores, contacts = _month_rows(organisation_id, (item[1:] for item in items), stamp)
        score_writer.extend(scores)
        contact_writer.extend(contacts)
        result.organisations += 1
        result.months += len({row.period_start for row in contacts})
    score_writer.flush()
    contact_writer.flush()
    _delete_stale(ScoreRollup, scope, PeriodKind.MONTH, stamp)
    _delete_stale(ContactRollup, scope, PeriodKind.MONTH, stamp)
    _derive_years(scope.years(), stamp)
    result.score_rows, result.contact_rows = score_writer.written, contact_writer.written
    return result


def _month_rows(
    organisation_id: int, items: Iterable[tuple[int, tuple]], stamp: datetime
) -> tuple[list[ScoreRollup], list[ContactRollup]]:
    """The month rows of one organisation from its grouped source rows."""
    distributions: dict[tuple[str, str, date], Counter] = defaultdict(Counter)
    volumes: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for tag, row in items:
        if tag == 0:  # responses: channel, month, score, n, invited
            _, channel, month, score, n, invited = row
            for ch in (channel, ALL_CHANNELS):
                distributions[ch, SCORE_KEY, month][score] += n
                volumes[ch, month][3] += n
                volumes[ch, month][4] += invited
        elif tag == 1:  # answers: channel, month, question key, value, n
            _, channel, month, key, value, n = row
            for ch in (channel, ALL_CHANNELS):
                distributions[ch, key, month][value] += n
        else:  # contacts registered (2), imported (3), invitations sent (4): channel, month, n
            _, channel, month, n = row
            for ch in (channel, ALL_CHANNELS):
                volumes[ch, month][{2: 0, 3: 1, 4: 2}[tag]] += n
    scores = [
        _score_row(organisation_id, channel, key, PeriodKind.MONTH, month, counts, stamp)
        for (channel, key, month), counts in distributions.items()
    ]
    contacts = [
        _contact_row(organisation_id, channel, PeriodKind.MONTH, month, figures, stamp)
        for (channel, month), figures in volumes.items()
    ]
    return scores, contacts


def _score_row(organisation_id, channel, key, period, start, counts: Counter, stamp) -> ScoreRollup:
    return ScoreRollup(
        organisation_id=organisation_id,
        channel=channel,
        question_key=key,
        period=period,
        period_start=start,
        n=sum(counts.values()),
        total=sum(value * n for value, n in counts.items()),
        total_sq=sum(value * value * n for value, n in counts.items()),
        **{f"count_{value}": counts.get(value, 0) for value in DISTRIBUTION_VALUES},
        computed_at=stamp,
    )


def _contact_row(organisation_id, channel, period, start, figures: list[int], stamp) -> ContactRollup:
    registered, imported, sent, responses, invited = figures
    return ContactRollup(
        organisation_id=organisation_id,
        channel=channel,
        period=period,
        period_start=start,
        contacts_registered=registered,
        contacts_imported=imported,
        invitations_sent=sent,
        responses=responses,
        invited_responses=invited,
        computed_at=stamp,
    )


def _derive_years(scope: Scope, stamp: datetime) -> None:
    """Sum the stored month rows of the years in scope into year rows, in SQL (no response is
    read, and sums of sums are exact)."""
    months = scope.months_of_years()
    year = ExtractYear("period_start")
    score_years = (
        ScoreRollup.objects.filter(months, period=PeriodKind.MONTH)
        .values_list("organisation_id", "channel", "question_key", year)
        .annotate(*(Sum(name) for name in _SCORE_SUMS))
        .order_by()
    )
    score_writer = _Writer(ScoreRollup, _SCORE_UNIQUE, _SCORE_FIELDS)
    for organisation_id, channel, key, year_number, *sums in score_years.iterator(chunk_size=5000):
        score_writer.add(
            ScoreRollup(
                organisation_id=organisation_id,
                channel=channel,
                question_key=key,
                period=PeriodKind.YEAR,
                period_start=date(year_number, 1, 1),
                computed_at=stamp,
                **dict(zip(_SCORE_SUMS, sums, strict=True)),
            )
        )
    contact_years = (
        ContactRollup.objects.filter(months, period=PeriodKind.MONTH)
        .values_list("organisation_id", "channel", year)
        .annotate(*(Sum(name) for name in _CONTACT_SUMS))
        .order_by()
    )
    contact_writer = _Writer(ContactRollup, _CONTACT_UNIQUE, _CONTACT_FIELDS)
    for organisation_id, channel, year_number, *sums in contact_years.iterator(chunk_size=5000):
        contact_writer.add(
            ContactRollup(
                organisation_id=organisation_id,
                channel=channel,
                period=PeriodKind.YEAR,
                period_start=date(year_number, 1, 1),
                computed_at=stamp,
                **dict(zip(_CONTACT_SUMS, sums, strict=True)),
            )
        )
    score_writer.flush()
    contact_writer.flush()
    _delete_stale(ScoreRollup, scope, PeriodKind.YEAR, stamp)
    _delete_stale(ContactRollup, scope, PeriodKind.YEAR, stamp)


def _delete_stale(model, scope: Scope, period: str, stamp: datetime) -> None:
    """Rows in scope that this job did not write belong to periods without data any more."""
    model.objects.filter(scope.month_filter("period_start"), period=period).exclude(computed_at=stamp).delete()


class _Writer:
    """Upserts rows in batches."""

    def __init__(self, model, unique_fields: list[str], update_fields: list[str]):
        self.model, self.unique_fields, self.update_fields = model, unique_fields, update_fields
        self.pending: list = []
        self.written = 0

    def add(self, row) -> None:
        self.pending.append(row)
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def extend(self, rows: Iterable) -> None:
        for row in rows:
            self.add(row)

    def flush(self) -> None:
        if self.pending:
            self.model.objects.bulk_create(
                self.pending,
                update_conflicts=True,
                unique_fields=self.unique_fields,
                update_fields=self.update_fields,
            )
            self.written += len(self.pending)
            self.pending = []


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
