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
from django.db.models import Count, DateField, Q
from django.db.models.functions import TruncMonth
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

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Namespace of the per-organisation advisory locks (pg_advisory_xact_lock(namespace, organisation)).
LOCK_NAMESPACE = 0x4B544F
BATCH_SIZE = 2000

_SCORE_FIELDS = ["n", "total", "total_sq", "distribution", "computed_at"]
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


@dataclass
class Scope:
    """What one job recomputes: some organisations (None = all) and either a set of months or
    every month from ``since`` on (None = all months)."""

    organisation_ids: list[int] | None = None
    months: frozenset[date] | None = None
    since: date | None = None

    def response_filter(self, prefix: str = "") -> Q:
        q = Q()
        if self.organisation_ids is not None:
            q &= Q(**{f"{prefix}organisation_id__in": self.organisation_ids})
        if self.months is not None:
            q &= Q(**{f"{prefix}contact_month__in": sorted(self.months)})
        if self.since is not None:
            q &= Q(**{f"{prefix}contact_month__gte": self.since})
        return q

    def month_filter(self, field_name: str) -> Q:
        q = Q()
        if self.organisation_ids is not None:
            q &= Q(organisation_id__in=self.organisation_ids)
        if self.months is not None:
            q &= Q(**{f"{field_name}__in": sorted(self.months)})
        if self.since is not None:
            q &= Q(**{f"{field_name}__gte": self.since})
        return q

    def moment_filter(self, field_name: str) -> Q:
        """The same months as a range of aware datetimes (for tables without a month column)."""
        q = Q()
        if self.organisation_ids is not None:
            q &= Q(organisation_id__in=self.organisation_ids)
        if self.months is not None:
            ranges = Q()
            for month in sorted(self.months):
                ranges |= Q(
                    **{f"{field_name}__gte": month_start(month), f"{field_name}__lt": month_start(next_month(month))}
                )
            q &= ranges
        if self.since is not None:
            q &= Q(**{f"{field_name}__gte": month_start(self.since)})
        return q

    def years(self) -> Scope:
        """The scope of the years touched by this scope's months."""
        if self.months is not None:
            return Scope(self.organisation_ids, months=frozenset(date(m.year, 1, 1) for m in self.months))
        if self.since is not None:
            return Scope(self.organisation_ids, since=date(self.since.year, 1, 1))
        return Scope(self.organisation_ids)


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


def _try_lock(organisation_id: int) -> bool:
    """A transaction-level advisory lock on the organisation; False when another job holds it."""
    if connection.vendor != "postgresql":
        return True  # SQLite (the embedded default) serialises writers itself.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, organisation_id])
        return cursor.fetchone()[0]


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
    transaction. Returns without doing anything when another job holds the organisation."""
    with transaction.atomic():
        if not _try_lock(organisation_id):
            return RollupResult(skipped=[organisation_id])
        seen = list(
            RollupDirtyMonth.objects.filter(organisation_id=organisation_id).values_list(
                "organisation_id", "month", "marked_at"
            )
        )
        if not seen:
            return RollupResult()
        scope = Scope([organisation_id], months=frozenset(month for _, month, _ in seen))
        result = _recompute(scope)
        _clear_marks(seen)
        return result


def rollup_incremental(*, organisation_ids: Iterable[int] | None = None, progress=None) -> RollupResult:
    """The incremental pass in this process: every organisation with dirty months, one job each."""
    ids = sorted(organisation_ids) if organisation_ids is not None else sorted(dirty_organisation_ids())
    result = RollupResult()
    for organisation_id in progress(ids) if progress else ids:
        result += rollup_organisation(organisation_id)
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
        Response.objects.filter(scope.response_filter())
        .values_list("organisation_id", "channel", "contact_month", "score")
        .annotate(n=Count("id"), invited=Count("invitation_id"))
        .order_by("organisation_id")
    )
    answers = (
        Answer.objects.filter(scope.response_filter("response__"), value__isnull=False)
        .values_list(
            "response__organisation_id", "response__channel", "response__contact_month", "question__key", "value"
        )
        .annotate(n=Count("id"))
        .order_by("response__organisation_id")
    )
    contacts = (
        Contact.objects.filter(scope.response_filter())
        .values_list("organisation_id", "channel", "contact_month")
        .annotate(n=Count("id"))
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
        .annotate(n=Count("id"))
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
        distribution={str(value): counts[value] for value in sorted(counts)},
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
    """Sum the stored month rows of the years in scope into year rows (no response is read)."""
    score_writer = _Writer(ScoreRollup, _SCORE_UNIQUE, _SCORE_FIELDS)
    contact_writer = _Writer(ContactRollup, _CONTACT_UNIQUE, _CONTACT_FIELDS)
    months = _year_month_filter(scope)
    score_months = (
        ScoreRollup.objects.filter(months, period=PeriodKind.MONTH)
        .order_by("organisation_id", "question_key", "channel", "period_start")
        .values_list("organisation_id", "question_key", "channel", "period_start", "distribution")
    )

    def score_key(row):
        return row[0], row[1], row[2], row[3].year

    for (organisation_id, key, channel, year), rows in itertools.groupby(
        score_months.iterator(chunk_size=5000), key=score_key
    ):
        counts: Counter = Counter()
        for row in rows:
            counts.update({int(value): n for value, n in row[4].items()})
        score_writer.add(_score_row(organisation_id, channel, key, PeriodKind.YEAR, date(year, 1, 1), counts, stamp))
    contact_months = (
        ContactRollup.objects.filter(months, period=PeriodKind.MONTH)
        .order_by("organisation_id", "channel", "period_start")
        .values_list("organisation_id", "channel", "period_start", *_CONTACT_FIELDS[:-1])
    )
    for (organisation_id, channel, year), rows in itertools.groupby(
        contact_months.iterator(chunk_size=5000), key=lambda row: (row[0], row[1], row[2].year)
    ):
        figures = [sum(column) for column in zip(*(row[3:] for row in rows), strict=True)]
        contact_writer.add(_contact_row(organisation_id, channel, PeriodKind.YEAR, date(year, 1, 1), figures, stamp))
    score_writer.flush()
    contact_writer.flush()
    _delete_stale(ScoreRollup, scope, PeriodKind.YEAR, stamp)
    _delete_stale(ContactRollup, scope, PeriodKind.YEAR, stamp)


def _year_month_filter(scope: Scope) -> Q:
    """The month rows that make up the years in ``scope`` (whose months are 1 January dates)."""
    q = Q()
    if scope.organisation_ids is not None:
        q &= Q(organisation_id__in=scope.organisation_ids)
    if scope.months is not None:
        years = Q()
        for start in sorted(scope.months):
            years |= Q(period_start__gte=start, period_start__lt=date(start.year + 1, 1, 1))
        q &= years
    if scope.since is not None:
        q &= Q(period_start__gte=scope.since)
    return q


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
]
