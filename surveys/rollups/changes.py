"""The one entrance for every write that changes a figure (as zulip's ``do_increment_logging_stat``).

Responses and their answers, registered contacts, sent invitations and contact volumes each
call :func:`record` with their changes, in the write's own transaction. The changes are
appended to ``RollupChange`` (no lock, no merge: a write never waits for another one), and the
rollup pass adds them to the month and year rows (surveys/rollups/incremental.py). A change is
signed: whatever takes a response or a volume away records the negative of what it added.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from psycopg import sql

from surveys.common.sql import columns, statement
from surveys.responses.models import Answer, Response

from .incremental import rollup_organisations
from .models import CONTACT_FIGURES, SCORE_FIGURES, SCORE_KEY, RollupChange

logger = logging.getLogger(__name__)

COLUMNS = ["organisation_id", "channel", "month", "question_key", *SCORE_FIGURES, *CONTACT_FIGURES]
# A plain INSERT: bulk_create() spends twice as long per resident's write (docs/BENCHMARKS.md).
INSERT = statement(
    "INSERT INTO surveys_rollupchange ({columns}) VALUES ({values})",
    columns=columns("{0}", COLUMNS),
    values=sql.SQL(", ").join(sql.Placeholder() for _ in COLUMNS),
)


class Scored(NamedTuple):
    """One answer to a question that is rolled up: the rapportcijfer or a numeric extra question.
    Its first four fields are the key of its change."""

    organisation_id: int
    channel: str
    month: date
    question_key: str
    invited: bool
    value: int


def record(changes: Iterable[RollupChange]) -> None:
    """Append ``changes`` in the caller's transaction. Without a worker (eager Celery, the
    embedded default) no beat pass runs: the organisations are rolled up once it commits."""
    rows = [[getattr(change, name) for name in COLUMNS] for change in changes]
    rows = [row for row in rows if any(row[4:])]  # (a change without figures changes nothing)
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.executemany(INSERT, rows)
    if settings.KTO_ROLLUP_ON_COMMIT:
        for organisation_id in {row[0] for row in rows}:
            _roll_up_on_commit(organisation_id)


def scored(changes: Iterable[Scored], *, sign: int = 1) -> list[RollupChange]:
    """The changes these answers make to their months' figures (``sign=-1``: the changes that
    take them away), one per organisation, channel, month and question."""
    sums: dict[tuple, RollupChange] = {}
    for answer in changes:
        change = sums.get(answer[:4])
        if change is None:
            change = sums[answer[:4]] = RollupChange(**dict(zip(Scored._fields[:4], answer[:4], strict=True)))
        change.n += sign
        change.n_invited += sign * answer.invited
        change.total += sign * answer.value
        change.total_sq += sign * answer.value * answer.value
        count = f"count_{answer.value}"
        setattr(change, count, getattr(change, count) + sign)
    return list(sums.values())


def of_response(response: Response, answers: dict[str, int | None]) -> list[Scored]:
    """What a response counts in, from the values in hand: its rapportcijfer and its numeric
    answers by question key (a choice answer is not a figure)."""
    head = (response.organisation_id, response.channel, response.contact_month)
    invited = response.invitation_id is not None
    values = [(SCORE_KEY, response.score), *((key, value) for key, value in answers.items() if value is not None)]
    return [Scored(*head, key, invited, value) for key, value in values]


def of_stored(response_ids: list[int]) -> list[Scored]:
    """What these stored responses count in, read from the database (two queries), the same
    way the recount reads them."""
    head = ("organisation_id", "channel", "contact_month", "invitation_id")
    scores = Response.objects.filter(pk__in=response_ids).values_list(*head, "score")
    answers = Answer.objects.filter(response_id__in=response_ids, value__isnull=False).values_list(
        *(f"response__{name}" for name in head), "question__key", "value"
    )
    return [Scored(o, c, m, SCORE_KEY, i is not None, s) for o, c, m, i, s in scores] + [
        Scored(o, c, m, k, i is not None, v) for o, c, m, i, k, v in answers
    ]


@dataclass(frozen=True)
class _RollUp:
    """Rolls an organisation up after the commit; equal per organisation, so a transaction of
    many writes schedules one pass."""

    organisation_id: int

    def __call__(self) -> None:
        try:
            rollup_organisations([self.organisation_id])
        except Exception:
            # The write is committed; a failing rollup must not turn the resident's answer into an
            # error page. The changes stay, so the next pass (or `manage.py rollup`) takes them in.
            logger.exception("Rollup of organisation %s after commit failed", self.organisation_id)


def _roll_up_on_commit(organisation_id: int) -> None:
    callback = _RollUp(organisation_id)
    if not any(entry[1] == callback for entry in transaction.get_connection().run_on_commit):
        transaction.on_commit(callback)
