"""The aggregation: responses, answers, contacts, imported volumes and invitations rolled up per
organisation, channel (and all channels together), question and calendar month in Europe/Amsterdam,
and calendar year: a year is always the exact sum of its stored months.

Two ways keep the month rows right, both set-based SQL (never a Python loop over responses):

- The incremental pass. Every write that changes a month's figures records the change
  (``RollupChange``: signed sums, counts and distribution) in its own transaction; the response's
  change comes from the same GROUP BY as the recount. On PostgreSQL a change adds to the pending
  row of its organisation, channel, month and question when no other write holds that row, so
  between two passes a month has about one row per channel and question, however many responses
  came in. The pass takes the pending changes of a batch of organisations, sums them per channel
  and all channels, month and year, and adds those sums to the month rows and to the year rows (so
  a year stays the sum of its months), in one statement (on PostgreSQL), in one transaction under
  per-organisation advisory locks: a killed job leaves the changes pending, two jobs never take in
  the same change, an organisation with a write under way waits for the next pass (a pass takes a
  write whole or not at all), and a pass without changes writes nothing. Its cost follows the
  months touched, not the number of responses; jobs on other connections (Celery workers,
  ``rollup --jobs``) share organisations out.
- The recount (``rollup_full``): each source is read with one GROUP BY on the ``contact_month``
  column fixed at write time (no time zone is converted per row), the years are summed from the
  recounted months, and the rows in scope are replaced; the pending changes of those months are
  part of the recount and are deleted by its first statement, in the snapshot of all of them.
  Re-running gives the same rows (zulip's resumable counts); it also repairs rows that something
  wrote without recording a change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
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
    RollupChange,
    ScoreRollup,
)
from .models.rollups import DISTRIBUTION_FIELDS, DISTRIBUTION_VALUES

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
logger = logging.getLogger(__name__)
# Namespaces of the per-organisation advisory locks (pg_advisory_xact_lock(namespace, organisation)):
# the rollup jobs' (a pass or a recount of an organisation runs in one job at a time), and the
# writes' (a write of changes holds it shared; a pass takes it exclusively, when no write is under way).
LOCK_NAMESPACE = 0x4B544F
WRITES_NAMESPACE = 0x4B5457

_SCORE_SUMS = ["n", "n_invited", "total", "total_sq", *DISTRIBUTION_FIELDS]
_CONTACT_SUMS = ["contacts_registered", "contacts_imported", "invitations_sent"]


@dataclass
class Scope:
    """What a recount covers: every month from ``since`` on (None = all) of some organisations
    (None = all)."""

    organisation_ids: list[int] | None = None
    since: date | None = None

    def _organisations(self, prefix: str = "") -> Q:
        if self.organisation_ids is None:
            return Q()
        return Q(**{f"{prefix}organisation_id__in": self.organisation_ids})

    def month_filter(self, field_name: str, prefix: str = "") -> Q:
        """Rows of a table with a month column (first day of the month) in scope."""
        q = self._organisations(prefix)
        if self.since is not None:
            q &= Q(**{f"{prefix}{field_name}__gte": self.since})
        return q

    def moment_filter(self, field_name: str) -> Q:
        """The same for a table without a month column: moments from the first one in scope."""
        q = self._organisations()
        if self.since is not None:
            q &= Q(**{f"{field_name}__gte": month_start(self.since)})
        return q

    def years(self) -> Scope:
        """The scope of the years touched by this scope's months."""
        return Scope(self.organisation_ids, since=date(self.since.year, 1, 1) if self.since else None)


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


# --- recording changes (the writers' side) -----------------------------------------------------


def record_changes(changes: list[RollupChange]) -> None:
    """Store changes to months' figures; part of the caller's transaction."""
    changes = [change for change in changes if _has_figures(change)]
    if not changes:
        return
    organisation_ids = sorted({change.organisation_id for change in changes})
    if connection.vendor == "postgresql":
        # One array per column: any number of changes in a fixed number of parameters.
        arrays = [[getattr(change, name) for change in changes] for name in _CHANGE_COLUMNS]
        types = ["bigint", "text", "date", "text", *("integer" for _ in _CHANGE_FIGURES)]
        arguments = ", ".join(f"%s::{kind}[]" for kind in types)
        select = f"SELECT * FROM unnest({arguments}) AS c ({', '.join(_CHANGE_COLUMNS)})"  # noqa: S608 (constant names)
        _store_changes(select, arrays, organisation_ids)
    else:
        RollupChange.objects.bulk_create(changes)
    _roll_up_after_commit(organisation_ids)


def record_response_changes(responses: Iterable[Response], *, sign: int = 1) -> None:
    """Record what these responses (with their answers) add to their months, or take away with
    ``sign=-1`` (call that before changing or deleting them). The figures come from the same
    GROUP BY as the full recount, so both count a response the same way."""
    responses = list(responses)
    if not responses:
        return
    response_ids = [response.pk for response in responses]
    select, params = _score_select(Q(pk__in=response_ids), Q(response_id__in=response_ids))
    figures = ", ".join(f"{sign} * {name} AS {name}" for name in _SCORE_SUMS)
    # Only constant names and the ORM's own SQL are interpolated; values are parameters.
    select = (
        f"SELECT organisation_id, channel, period_start AS month, question_key, {figures}, "  # noqa: S608
        f"{', '.join(f'0 AS {name}' for name in _CONTACT_SUMS)} FROM ({select}) s"
    )
    organisation_ids = sorted({response.organisation_id for response in responses})
    _store_changes(select, params, organisation_ids)
    _roll_up_after_commit(organisation_ids)


def _store_changes(select: str, params: list, organisation_ids: list[int]) -> None:
    """Add the changes that ``select`` gives (the change table's columns, any number of rows per
    key) to the pending rows of their keys. On PostgreSQL first the organisations' write locks,
    shared: writes go on side by side, but no pass takes in an organisation while one of its
    writes is under way (so a pass takes whole transactions, see _try_locks). Then, per key,
    the sum goes into a pending row that no other write holds (FOR UPDATE SKIP LOCKED: a write
    never waits for another, so no two writes can deadlock), or into a new row. Between two
    passes a key has about one row, however many responses come in: the pass's work follows
    the keys touched, not the responses. SQLite, which serialises writers, inserts them as they
    are."""
    table, keys = RollupChange._meta.db_table, ", ".join(_CHANGE_KEYS)
    # Only constant names and the caller's SQL are interpolated; values are parameters.
    if connection.vendor != "postgresql":
        _execute(f"INSERT INTO {table} ({', '.join(_CHANGE_COLUMNS)}) {select}", params)  # noqa: S608
        return
    _locks("pg_advisory_xact_lock_shared", organisation_ids, WRITES_NAMESPACE)
    _execute(
        f"WITH incoming AS (SELECT {keys}, {_summed(_CHANGE_FIGURES)} FROM ({select}) c "  # noqa: S608
        f"GROUP BY {keys} HAVING {' OR '.join(f'SUM({name}) <> 0' for name in _CHANGE_FIGURES)}), "
        f"target AS (SELECT incoming.*, free.id FROM incoming LEFT JOIN LATERAL (SELECT id FROM {table} p "
        f"WHERE {' AND '.join(f'p.{key} = incoming.{key}' for key in _CHANGE_KEYS)} "
        f"LIMIT 1 FOR UPDATE SKIP LOCKED) free ON TRUE), "
        f"added AS (UPDATE {table} p SET {', '.join(f'{name} = p.{name} + t.{name}' for name in _CHANGE_FIGURES)} "
        f"FROM target t WHERE p.id = t.id) "
        f"INSERT INTO {table} ({', '.join(_CHANGE_COLUMNS)}) SELECT {', '.join(_CHANGE_COLUMNS)} "
        f"FROM target WHERE id IS NULL",
        params,
    )


def _roll_up_after_commit(organisation_ids: list[int]) -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        for organisation_id in organisation_ids:
            rollup_after_commit(organisation_id)


def _has_figures(change: RollupChange) -> bool:
    return any(getattr(change, name) for name in [*_SCORE_SUMS, *_CONTACT_SUMS])


def pending_organisation_ids() -> list[int]:
    """The organisations with changes that the rollups have not taken in yet."""
    return list(RollupChange.objects.order_by().values_list("organisation_id", flat=True).distinct())


class _RollupAfterCommit:
    """On-commit callback that rolls an organisation up; equal per organisation, so a transaction
    that records many changes schedules one rollup."""

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
            # error page. The changes stay, so the next pass (or `manage.py rollup`) takes them in.
            logger.exception("Rollup of organisation %s after commit failed", self.organisation_id)


def rollup_after_commit(organisation_id: int) -> None:
    """Without a worker (eager Celery, the embedded default) no beat pass runs: roll the
    organisation up once the recording transaction commits."""
    callback = _RollupAfterCommit(organisation_id)
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(entry[1] == callback for entry in conn.run_on_commit):
        return
    transaction.on_commit(callback)


# --- locking ---------------------------------------------------------------------------------


def _try_locks(organisation_ids: list[int]) -> list[int]:
    """Take the transaction-level advisory locks of each organisation that no other job holds
    and that has no write of changes under way; returns the organisations locked (the others
    are left for a later pass). Writes of a locked organisation wait until this transaction
    ends (their shared lock), so the pass sees every change of it that will ever be committed
    before it, and no half of a write: what a transaction wrote is taken in whole or not at all."""
    if connection.vendor != "postgresql":
        return list(organisation_ids)  # SQLite (the embedded default) serialises writers itself.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id "
            "WHERE pg_try_advisory_xact_lock(%s, id::int) AND pg_try_advisory_xact_lock(%s, id::int) ORDER BY id",
            [sorted(organisation_ids), LOCK_NAMESPACE, WRITES_NAMESPACE],
        )
        return [row[0] for row in cursor.fetchall()]


_LOCK_SQL = "SELECT {}(%s, id::int) FROM (SELECT id FROM unnest(%s::bigint[]) AS id ORDER BY id) o"


@contextmanager
def _recount_transaction(organisation_ids: list[int] | None, first_statement):
    """A transaction for a recount of these organisations (None = all) that no rollup job runs
    alongside, and in which every statement sees the same snapshot, the one of its first
    statement (``first_statement``: the pending changes in scope are deleted). That statement
    runs while no write of changes of these organisations is under way (their write locks, held
    for it only), so its snapshot has every write whole or not at all: a response committed
    during the recount is then either in the recount and its change deleted with it, or in
    neither (its change stays for the next pass: a write after the delete cannot add to the rows
    it deleted, they are held until the recount commits, so it makes a row of its own). So the
    locks are taken first, for the session, and the transaction that follows is REPEATABLE READ.
    Inside an outer transaction (tests) its isolation level cannot change: transaction locks."""
    if connection.vendor != "postgresql":
        with transaction.atomic():
            first_statement()
            yield
        return
    if connection.in_atomic_block:
        with transaction.atomic():
            ids = _locks("pg_advisory_xact_lock", organisation_ids)
            _locks("pg_advisory_xact_lock", ids, WRITES_NAMESPACE)
            first_statement()
            yield
        return
    ids = _locks("pg_advisory_lock", organisation_ids)
    writes_held = True
    try:
        _locks("pg_advisory_lock", ids, WRITES_NAMESPACE)
        with transaction.atomic():
            _execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            first_statement()
            _locks("pg_advisory_unlock", ids, WRITES_NAMESPACE)  # the writes go on
            writes_held = False
            yield
    finally:
        if writes_held:
            _locks("pg_advisory_unlock", ids, WRITES_NAMESPACE)
        _locks("pg_advisory_unlock", ids)


def _locks(function: str, organisation_ids: list[int] | None, namespace: int = LOCK_NAMESPACE) -> list[int]:
    """Call an advisory lock function for each organisation (None = all), in id order (no
    deadlocks); returns the ids."""
    if organisation_ids is None:
        organisation_ids = list(Organisation.objects.values_list("id", flat=True))
    ids = sorted(organisation_ids)
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL.format(function), [namespace, ids])
    return ids


# --- the jobs ----------------------------------------------------------------------------------


def rollup_organisation(organisation_id: int) -> RollupResult:
    """Take in the pending changes of one organisation, in one transaction. Does nothing when
    another job holds the organisation (its changes stay)."""
    return rollup_organisations([organisation_id])


def rollup_organisations(organisation_ids: list[int]) -> RollupResult:
    """Add the pending changes of these organisations to their month rows and re-derive the
    years of those months, in one transaction, with one aggregate query over the changes of all
    of them together. Organisations that another job holds, or with a write of changes under
    way, are skipped (``skipped``); their changes stay for the next pass."""
    with transaction.atomic():
        locked = _try_locks(organisation_ids)
        skipped = sorted(set(organisation_ids) - set(locked))
        result = _take_in_changes(locked) if locked else RollupResult()
        result.skipped = skipped
        return result


def rollup_incremental(
    *, organisation_ids: Iterable[int] | None = None, batch_size: int = 500, jobs: int = 1, progress=None
) -> RollupResult:
    """The incremental pass in this process: every organisation (default) or these, up to
    ``batch_size`` organisations per transaction (the Celery pass runs one job per organisation
    with pending changes). A job without changes writes nothing, so no query for which have any.
    With ``jobs`` > 1 (PostgreSQL) the organisations are shared out over that many connections
    working at the same time, as the Celery workers would: a pass then uses more than one core,
    as a recount's aggregate query does with PostgreSQL's parallel workers."""
    if organisation_ids is None:
        organisation_ids = Organisation.objects.order_by().values_list("id", flat=True)
    ids = sorted(organisation_ids)
    if connection.vendor != "postgresql":
        jobs = 1  # SQLite has one writer at a time
    if jobs > 1 and connection.in_atomic_block:
        raise RuntimeError("A pass in parallel jobs cannot run inside a transaction: its jobs would not see it.")
    result = RollupResult()
    with ThreadPoolExecutor(max_workers=max(jobs - 1, 1)) as pool:  # (no thread starts for one job)
        if jobs == 1:
            parts = [partial(rollup_organisations, batch) for batch in _batches(ids, batch_size)]
        else:
            # Interleaved shares (big and small organisations in each): this connection takes the
            # first, each other share a thread with a connection of its own.
            shares = [ids[i::jobs] for i in range(jobs)]
            futures = [pool.submit(_in_own_connection, share, batch_size) for share in shares[1:]]
            parts = [partial(_share, shares[0], batch_size), *(future.result for future in futures)]
        for part in progress(parts) if progress else parts:
            result += part()
    return result


def _batches(ids: list[int], batch_size: int) -> list[list[int]]:
    return [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]


def _share(organisation_ids: list[int], batch_size: int) -> RollupResult:
    result = RollupResult()
    for batch in _batches(organisation_ids, batch_size):
        result += rollup_organisations(batch)
    return result


def _in_own_connection(organisation_ids: list[int], batch_size: int) -> RollupResult:
    """A share of a parallel pass, in a thread of its own (so with a connection of its own)."""
    try:
        return _share(organisation_ids, batch_size)
    finally:
        connection.close()


def rollup_full(*, organisation_ids: list[int] | None = None, since: date | None = None, progress=None) -> RollupResult:
    """Recount every month (from ``since``) of the given organisations (default: all) from the
    responses, contacts, invitations and volumes, and their years, in one transaction with one
    aggregate query per source; the pending changes of those months are part of the recount and
    are removed. This is also the repair: whatever wrote rows without recording changes."""
    scope = Scope(organisation_ids, since=since)
    # The pending changes in scope are part of the recount: deleted in its first statement.
    # (One DELETE: nothing refers to a change, so Django deletes without reading them first.)
    with _recount_transaction(organisation_ids, RollupChange.objects.filter(scope.month_filter("month")).delete):
        return _recompute(scope, progress=progress)


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


_CHANGES = "kto_rollup_changes"
_CHANGE_KEYS = ["organisation_id", "channel", "month", "question_key"]
_CHANGE_FIGURES = [*_SCORE_SUMS, *_CONTACT_SUMS]
_CHANGE_COLUMNS = [*_CHANGE_KEYS, *_CHANGE_FIGURES]


def _take_in_changes(organisation_ids: list[int]) -> RollupResult:
    """Add the pending changes of these (locked) organisations to their month rows and to the
    year rows of those months (a year stays the exact sum of its months), and delete the changes
    taken in. Costs follow the number of changes and of rows they touch, not the responses."""
    stamp = timezone.now()
    result = RollupResult()
    if connection.vendor == "postgresql":
        touched = _take_in_postgresql(organisation_ids, stamp, result)
    else:
        touched = _take_in_steps(organisation_ids, stamp, result)
    for deltas in _DELTAS:
        emptied = sorted({row.organisation_id for row in touched if row.contacts == deltas.contacts and row.shrunk})
        if emptied:
            _delete_empty_rows(deltas, emptied)
    months = {(row.organisation_id, row.month) for row in touched if row.month is not None}
    result.organisations, result.months = len({organisation_id for organisation_id, _ in months}), len(months)
    return result


@dataclass(frozen=True)
class _Deltas:
    """The summed changes for one rollup table, and how they are added to it."""

    name: str
    model: type
    keys: list[str]  # besides organisation, channel and period
    figures: list[str]
    contacts: bool  # contact changes have question ""; score changes have a question

    @property
    def table(self) -> str:
        return connection.ops.quote_name(self.model._meta.db_table)

    @property
    def temp(self) -> str:
        return f"kto_rollup_{self.name}_deltas"  # (SQLite only)

    @property
    def unique(self) -> list[str]:
        return ["organisation_id", "channel", *self.keys, "period", "period_start"]

    @property
    def columns(self) -> str:
        return ", ".join([*self.unique, *self.figures])

    @property
    def condition(self) -> str:
        return "question_key = ''" if self.contacts else "question_key <> ''"

    def match(self, row: str) -> str:
        """The join of ``row`` with the rollup row ``r`` of the same key."""
        return " AND ".join(f"r.{key} = {row}.{key}" for key in self.unique)

    def added(self, row: str) -> str:
        """``n = r.n + row.n, ...``"""
        return ", ".join(f"{figure} = r.{figure} + {row}.{figure}" for figure in self.figures)


_DELTAS = [
    _Deltas("score", ScoreRollup, ["question_key"], _SCORE_SUMS, contacts=False),
    _Deltas("contact", ContactRollup, [], _CONTACT_SUMS, contacts=True),
]


class _Touched(NamedTuple):
    """What a pass took in, per organisation and month (None: the year rows) and kind."""

    organisation_id: int
    month: date | None
    contacts: bool
    shrunk: bool  # some row may have lost its last figure (a changed or deleted response)


def _take_in_postgresql(organisation_ids: list[int], stamp: datetime, result: RollupResult) -> list[_Touched]:
    """Take the pending changes of these organisations, sum them per channel and all channels,
    month and year, and add the sums to the rollup rows, in one statement: the rows it deletes
    are exactly the rows it adds, whatever other transactions commit meanwhile. Sums that only
    add go in with an upsert; sums that take something away (a changed or deleted response)
    update the rows they belong to (an upsert cannot take away: the check constraints refuse the
    negative row it would propose). Both write different rows, as the sums are one per row."""
    stamp = connection.ops.adapt_datetimefield_value(stamp)
    grouped = ", ".join(_CHANGE_KEYS)
    # First per channel, month and question, both kinds in one scan of the changes (many changes
    # for few months). The sums of integers stay integers: a SUM of bigints is a numeric, several
    # times slower to add up.
    parts = [
        f"summed AS (SELECT {grouped}, CAST(DATE_TRUNC('year', month) AS DATE) AS year, "  # noqa: S608
        f"{', '.join(f'CAST(SUM({figure}) AS INTEGER) AS {figure}' for figure in _CHANGE_FIGURES)} "
        f"FROM taken GROUP BY {grouped})"
    ]
    params, touched, counts = [], [], []
    for deltas in _DELTAS:
        name, keys, figures = deltas.name, deltas.keys, deltas.figures
        per_month = ", ".join(["organisation_id", "channel", *keys, "%s AS period", "month AS period_start", *figures])
        all_channels = ", ".join(["organisation_id", "COALESCE(channel, %s)", *keys])
        # Only constant names are interpolated; values are parameters.
        parts += [
            # Then all channels per month, and the years per channel and for all channels.
            f"{name}_deltas AS (SELECT *, {_negative(figures, '')} OR {_shrunk(figures, '')} AS takes_away, "  # noqa: S608
            f"{_shrunk(figures, '')} AS shrunk FROM (SELECT {per_month} FROM summed WHERE {deltas.condition} "
            f"UNION ALL SELECT {all_channels}, CASE WHEN month IS NULL THEN %s ELSE %s END, COALESCE(month, year), "
            f"{_summed(figures)} FROM summed WHERE {deltas.condition} "
            f"GROUP BY {', '.join(['organisation_id', *keys])}, "
            f"GROUPING SETS ((month), (channel, year), (year))) deltas)",
            # (A sum that takes away without a row to take from cannot be: nothing is inserted.)
            f"{name}_taken_away AS (UPDATE {deltas.table} AS r SET {deltas.added('d')}, computed_at = %s "  # noqa: S608
            f"FROM {name}_deltas d WHERE d.takes_away AND {deltas.match('d')} RETURNING 1)",
            f"{name}_added AS (INSERT INTO {deltas.table} AS r ({deltas.columns}, computed_at) "  # noqa: S608
            f"SELECT {deltas.columns}, %s FROM {name}_deltas WHERE NOT takes_away "
            f"ON CONFLICT ({', '.join(deltas.unique)}) DO UPDATE SET {deltas.added('excluded')}, "
            f"computed_at = excluded.computed_at RETURNING 1)",
        ]
        params += [PeriodKind.MONTH, ALL_CHANNELS, PeriodKind.YEAR, PeriodKind.MONTH, stamp, stamp]
        touched.append(
            f"SELECT organisation_id, CASE WHEN period = %s THEN period_start END, {deltas.contacts}, "  # noqa: S608
            f"shrunk FROM {name}_deltas"
        )
        counts.append(f"(SELECT COUNT(*) FROM {name}_added) + (SELECT COUNT(*) FROM {name}_taken_away)")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            # (The ids are a constant array: one hash lookup per change.)
            f"WITH taken AS (DELETE FROM {RollupChange._meta.db_table} WHERE organisation_id = ANY(%s::bigint[]) "  # noqa: S608
            f"RETURNING {', '.join(_CHANGE_COLUMNS)}), "
            f"{', '.join(parts)} SELECT organisation_id, month, contacts, BOOL_OR(shrunk), "
            f"{', '.join(counts)} FROM ({' UNION ALL '.join(touched)}) touched "
            f"(organisation_id, month, contacts, shrunk) GROUP BY 1, 2, 3",
            [organisation_ids, *params, *(PeriodKind.MONTH for _ in _DELTAS)],
        )
        rows = cursor.fetchall()
    if rows:
        result.score_rows, result.contact_rows = rows[0][4:]
    return [_Touched(*row[:4]) for row in rows]


def _take_in_steps(organisation_ids: list[int], stamp: datetime, result: RollupResult) -> list[_Touched]:
    """The same in steps, for SQLite (the embedded default), which serialises writers: nothing
    commits between these statements. Every sum goes through a temporary table."""
    pending = RollupChange.objects.filter(organisation_id__in=organisation_ids)
    keys, figures = _CHANGE_KEYS, _CHANGE_FIGURES
    summed = pending.values(*keys).annotate(**{f"a_{name}": Sum(name) for name in figures}).order_by()
    select, params = _sql(summed)
    # Only constant names and the ORM's own SQL are interpolated; values are parameters.
    _create_temp(_CHANGES, f"SELECT {', '.join(keys)}, {_named(figures)} FROM ({select}) summed", params)  # noqa: S608
    pending.delete()
    touched = []
    for deltas in _DELTAS:
        columns = ", ".join(["organisation_id", "channel", *deltas.keys])
        _create_temp(
            deltas.temp,
            f"SELECT {columns}, CAST(%s AS VARCHAR(5)) AS period, month AS period_start, "  # noqa: S608
            f"{_summed(deltas.figures)} FROM {_CHANGES} WHERE {deltas.condition} GROUP BY {columns}, month",
            [PeriodKind.MONTH],
        )
        _add_all_channels(deltas.temp, ["organisation_id", *deltas.keys, "period", "period_start"], deltas.figures)
        _add_years(deltas.temp, ["organisation_id", "channel", *deltas.keys], deltas.figures)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT organisation_id, CASE WHEN period = %s THEN period_start END, "  # noqa: S608
                f"MAX({_shrunk(deltas.figures)}) FROM {deltas.temp} t GROUP BY 1, 2",
                [PeriodKind.MONTH],
            )
            touched += [
                _Touched(organisation_id, month and date.fromisoformat(str(month)), deltas.contacts, bool(shrunk))
                for organisation_id, month, shrunk in cursor
            ]
        written = _add_from_temporary_table(deltas, stamp)
        if deltas.contacts:
            result.contact_rows += written
        else:
            result.score_rows += written
    for name in (_CHANGES, *(deltas.temp for deltas in _DELTAS)):
        _execute(f"DROP TABLE IF EXISTS {name}")
    return touched


def _add_from_temporary_table(deltas: _Deltas, stamp: datetime) -> int:
    """Add the sums in the temporary table to the rows that exist (also the sums that take
    away), then insert the rows that do not exist yet and get a figure. Returns the number of
    rows written."""
    stamp = connection.ops.adapt_datetimefield_value(stamp)
    match = deltas.match("t")
    # Only constant names are interpolated; values are parameters.
    written = _execute(
        f"UPDATE {deltas.table} AS r SET {deltas.added('t')}, computed_at = %s FROM {deltas.temp} t WHERE {match}",  # noqa: S608
        [stamp],
    )
    # (After the update: the rows it found still exist, so they are not inserted again.)
    return written + _execute(
        f"INSERT INTO {deltas.table} ({deltas.columns}, computed_at) SELECT {deltas.columns}, %s "  # noqa: S608
        f"FROM {deltas.temp} t WHERE NOT ({_negative(deltas.figures)} OR {_shrunk(deltas.figures)}) "
        f"AND NOT EXISTS (SELECT 1 FROM {deltas.table} r WHERE {match})",
        [stamp],
    )


def _add_years(temp: str, keys: list[str], figures: list[str]) -> None:
    """Add the year rows to a temporary table of changes per month: the sums of their months.
    (SQLite only: PostgreSQL sums the years in the same statement as the months.)"""
    year = "DATE(period_start, 'start of year')"
    # Only constant names are interpolated; values are parameters.
    _execute(
        f"INSERT INTO {temp} ({', '.join(keys)}, period, period_start, {', '.join(figures)}) "  # noqa: S608
        f"SELECT {', '.join(keys)}, %s, {year}, {_summed(figures)} FROM {temp} WHERE period = %s "
        f"GROUP BY {', '.join(keys)}, {year}",
        [PeriodKind.YEAR, PeriodKind.MONTH],
    )


def _negative(figures: list[str], prefix: str = "t.") -> str:
    return "(" + " OR ".join(f"{prefix}{name} < 0" for name in figures) + ")"


def _shrunk(figures: list[str], prefix: str = "t.") -> str:
    """A row can only end up without figures when none of its figures grew."""
    return "(" + " AND ".join(f"{prefix}{name} <= 0" for name in figures) + ")"


def _delete_empty_rows(deltas: _Deltas, organisation_ids: list[int]) -> None:
    """Delete the rows of these organisations that a change took every figure from (no rollup
    row exists without a figure, as after a recount)."""
    empty = Q(**{name: 0 for name in deltas.figures}, organisation_id__in=organisation_ids)
    deltas.model.objects.filter(empty).delete()


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


def _score_select(responses_in: Q, answers_in: Q) -> tuple[str, list]:
    """SELECT of the rapportcijfer (responses) and the extra questions (answers) per
    organisation, channel, question and month, for the responses and answers matching these
    conditions: ``organisation_id, channel, question_key, period_start`` and the score sums."""
    aggregates = _answer_aggregates("score", "invitation_id")
    del aggregates["a_count_0"]  # the rapportcijfer is 1..10
    responses = (
        Response.objects.filter(responses_in)
        .order_by()
        .values("organisation_id", "channel", "contact_month")
        .annotate(**aggregates)
    )
    answers = (
        Answer.objects.filter(answers_in, value__isnull=False)
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
    return select, [SCORE_KEY, *responses_params, *answers_params]


def _score_months(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    """The rapportcijfer (responses) and the extra questions (answers) per channel and month."""
    select, params = _score_select(
        scope.month_filter("contact_month"), scope.month_filter("contact_month", "response__")
    )
    _create_temp(_MONTHS, select, params)
    _add_all_channels(_MONTHS, ["organisation_id", "question_key", "period_start"], _SCORE_SUMS)
    result.score_rows += _sync(ScoreRollup, _SCORE_KEYS, _SCORE_SUMS, _MONTHS, PeriodKind.MONTH, scope, stamp)


def _add_all_channels(temp: str, keys: list[str], figures: list[str]) -> None:
    """Add the "all channels" rows to a temporary table of rows per channel: their sums."""
    columns = ", ".join(keys)
    _execute(
        f"INSERT INTO {temp} (channel, {columns}, {', '.join(figures)}) "  # noqa: S608
        f"SELECT %s, {columns}, {_summed(figures)} FROM {temp} GROUP BY {columns}",
        [ALL_CHANNELS],
    )


def _contact_months(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    """Contacts registered, imported and invitations sent per channel and month: one UNION ALL of
    three grouped sources, summed."""
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
    parts = []
    for queryset, month, figures in (
        (contacts, "contact_month", ("a_count", "0", "0")),
        (volumes, "month", ("0", '"count"', "0")),
        (invitations, "a_month", ("0", "0", "a_count")),
    ):
        sql, params = _sql(queryset)
        columns = ", ".join(f"{figure} AS {name}" for figure, name in zip(figures, names, strict=True))
        parts.append((f"SELECT organisation_id, channel, {month} AS period_start, {columns} FROM ({sql}) part", params))  # noqa: S608
    union = " UNION ALL ".join(sql for sql, _ in parts)
    _create_temp(
        _CONTACT_MONTHS,
        f"SELECT organisation_id, channel, period_start, {_summed(names)} FROM ({union}) parts "  # noqa: S608
        # A row exists only when it has a figure (as after a pass that took the last one away).
        f"GROUP BY organisation_id, channel, period_start HAVING {' OR '.join(f'SUM({n}) <> 0' for n in names)}",
        [param for _, params in parts for param in params],
    )
    _add_all_channels(_CONTACT_MONTHS, ["organisation_id", "period_start"], names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT organisation_id) FROM (SELECT organisation_id, period_start "  # noqa: S608
            f"FROM {_MONTHS} WHERE channel = %s UNION SELECT organisation_id, period_start FROM {_CONTACT_MONTHS} "
            f"WHERE channel = %s) months",
            [ALL_CHANNELS, ALL_CHANNELS],
        )
        result.months, result.organisations = cursor.fetchone()
    result.contact_rows += _sync(
        ContactRollup, _CONTACT_KEYS, _CONTACT_SUMS, _CONTACT_MONTHS, PeriodKind.MONTH, scope, stamp
    )


def _years(scope: Scope, stamp: datetime, result: RollupResult) -> None:
    """Sum the stored month rows of the years in scope into year rows (no response is read, and
    sums of sums are exact)."""
    years = scope.years()
    months = years.month_filter("period_start")
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
    """Replace the rows of ``model`` in scope for ``period`` with those of the temporary table.
    Returns the number of rows written. The rows go in ordered by period, so that the rows a
    pass changes (the recent months and their year) lie together on few pages."""
    table = connection.ops.quote_name(model._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(stamp)
    queryset = model.objects.filter(scope.month_filter("period_start"), period=period)
    in_scope, scope_params = queryset.query.get_compiler(connection=connection).compile(queryset.query.where)
    selected = [("%s" if key == "period" else f"t.{key}") for key in keys]
    order = ", ".join(f"t.{key}" for key in ["period_start", *(key for key in keys if "period" not in key)])
    # Only constant names and the ORM's own SQL are interpolated; values are parameters.
    # A recount replaces everything in scope: no joins whose plans depend on statistics that
    # rows written in this same transaction have made stale.
    _execute(f"DELETE FROM {table} WHERE {in_scope}", scope_params)  # noqa: S608
    return _execute(
        f"INSERT INTO {table} ({', '.join(keys + figures)}, computed_at) "  # noqa: S608
        f"SELECT {', '.join(selected + [f't.{name}' for name in figures])}, %s FROM {temp} t ORDER BY {order}",
        [period, stamp],
    )


__all__ = [
    "AMSTERDAM",
    "RollupResult",
    "Scope",
    "pending_organisation_ids",
    "record_changes",
    "record_response_changes",
    "rollup_after_commit",
    "rollup_full",
    "rollup_incremental",
    "rollup_organisation",
    "rollup_organisations",
]
