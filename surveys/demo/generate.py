"""Deterministic synthetic responses whose yearly mean per channel reproduces the published
rapportcijfers to one decimal.

Per (organisation, channel, year) the scores are drawn from a skewed distribution around a
month-specific mean (small seasonal wobble), then a few scores are moved up or down by one point
until the sum equals round(target * n), so the yearly mean lies within 0.5/n of the target and
rounds to it unambiguously."""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from surveys.common.time import AMSTERDAM, month_of
from surveys.organisations.models import Organisation
from surveys.questionnaires.services import current_version
from surveys.responses.models import Answer, Response, Source
from surveys.rollups import changes

from .comments import comment_chance, make_comment
from .figures import (
    ACTIVE_MONTHS,
    HOLIDAYS,
    HOURLY,
    MIN_BLOCK_RESPONSES,
    ORGANISATIONS,
    PROFILES,
    RESPONSES_2017_WITHOUT_VOLUME,
    RESPONSES_2018,
    TARGET_SCORES,
    VOLUMES,
)

D = Decimal


# --- scores -------------------------------------------------------------------------------------

SCALE = range(1, 11)
_LOW_TAIL = (3, 2, 2, 2, 2, 0, 0, 0, 0, 0)  # how disappointed residents spread over 1..10


def _bell(mode: float, spread: float) -> list[float]:
    weights = [math.exp(-((k - mode) ** 2) / (2 * spread**2)) for k in SCALE]
    total = sum(weights)
    return [w / total for w in weights]


def score_distribution(mean: float, spread: float, low_tail: float) -> list[float]:
    """Probabilities of the scores 1..10: a bell clipped to the scale (so left-skewed near 10)
    plus a tail of disappointed residents, with its mode chosen so the expected score is ``mean``."""
    tail_total = sum(_LOW_TAIL)
    tail = [w / tail_total for w in _LOW_TAIL]

    def mixture(mode: float) -> list[float]:
        return [(1 - low_tail) * b + low_tail * t for b, t in zip(_bell(mode, spread), tail, strict=True)]

    low, high = -10.0, 25.0
    for _ in range(60):
        mode = (low + high) / 2
        expected = sum(k * p for k, p in zip(SCALE, mixture(mode), strict=True))
        if expected < mean:
            low = mode
        else:
            high = mode
    return mixture((low + high) / 2)


def target_sum(target: Decimal, n: int) -> int:
    """The integer sum of ``n`` scores whose mean is closest to ``target``."""
    return int((target * n).quantize(D(1), rounding=ROUND_HALF_UP))


def adjust_to_mean(scores: list[int], target: Decimal, rng: random.Random) -> list[int]:
    """Move randomly chosen scores up or down by one (staying within 1..10) until the sum is
    ``target_sum(target, len(scores))``; returns the list, changed in place."""
    goal = target_sum(target, len(scores))
    if not 1 * len(scores) <= goal <= 10 * len(scores):
        raise ValueError(f"A mean of {target} is impossible on the scale 1..10.")
    difference = goal - sum(scores)
    step = 1 if difference > 0 else -1
    while difference:
        index = rng.randrange(len(scores))
        moved = scores[index] + step
        if 1 <= moved <= 10:
            scores[index] = moved
            difference -= step
    return scores


# --- volumes per month --------------------------------------------------------------------------


@functools.cache
def _all_days(year: int, month: int) -> tuple[date, ...]:
    first = date(year, month, 1)
    return tuple(first + timedelta(days=i) for i in range(31) if (first + timedelta(days=i)).month == month)


@functools.cache
def _working_days(year: int, month: int) -> tuple[date, ...]:
    return tuple(day for day in _all_days(year, month) if day.weekday() < 5 and day not in HOLIDAYS)


def active_months(slug: str, channel: str, year: int) -> range:
    return ACTIVE_MONTHS.get((slug, channel, year), range(1, 13))


def monthly_split(total: int, *, slug: str, channel: str, year: int) -> dict[int, int]:
    """``total`` spread over the active months of the year by season and number of open days;
    the parts add up to ``total`` exactly (largest remainders). Also usable for contact volumes."""
    profile = PROFILES[channel]
    months = list(active_months(slug, channel, year))
    if not months or total <= 0:
        return {}
    days = _working_days if profile.office_hours else _all_days
    weights = {m: profile.seasonal[m - 1] * len(days(year, m)) for m in months}
    weight_total = sum(weights.values())
    exact = {m: total * w / weight_total for m, w in weights.items()}
    parts = {m: math.floor(x) for m, x in exact.items()}
    rest = total - sum(parts.values())
    for m in sorted(months, key=lambda m: (parts[m] - exact[m], m))[:rest]:
        parts[m] += 1
    return parts


def response_count(slug: str, channel: str, year: int, scale: float = 1.0) -> int:
    """How many demo responses (organisation, channel, year) gets; 0 for no responses at all."""
    if (slug, channel, year) not in TARGET_SCORES:
        return 0
    base = RESPONSES_2018.get((slug, channel), 0)
    if year != 2018:
        volume, volume_2018 = VOLUMES.get((slug, channel, year)), VOLUMES.get((slug, channel, 2018))
        if volume and volume_2018:
            base = round(base * volume / volume_2018)
        else:
            base = RESPONSES_2017_WITHOUT_VOLUME.get((slug, channel), 0)
    if base == 0:
        return 0
    return max(MIN_BLOCK_RESPONSES, round(base * scale))


# --- one block: (organisation, channel, year) ---------------------------------------------------


def _moment(rng: random.Random, *, year: int, month: int, office_hours: bool) -> datetime:
    if office_hours:
        day = rng.choice(_working_days(year, month) or _all_days(year, month))
        minute = rng.randrange(8 * 60 + 30, 17 * 60)
        hour, minute = divmod(minute, 60)
    else:
        day = rng.choice(_all_days(year, month))
        hour = rng.choices(range(24), weights=HOURLY)[0]
        minute = rng.randrange(60)
    local = datetime(day.year, day.month, day.day, hour, minute, rng.randrange(60), tzinfo=AMSTERDAM)
    return local


def _submitted_after(rng: random.Random, contact_moment: datetime, source: str) -> datetime:
    if source == Source.OPEN:
        return contact_moment + timedelta(minutes=rng.randrange(1, 30))
    return contact_moment + timedelta(minutes=rng.randrange(30, 4 * 24 * 60))


def _yes_chance(score: int) -> float:
    return (0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 0.92, 0.96, 0.98)[score - 1]


@dataclass
class Block:
    organisation: Organisation
    channel: str
    year: int
    target: Decimal
    count: int

    @property
    def seed(self) -> str:
        # A string seed is hashed with SHA-512 by random.Random: stable across runs and processes.
        return f"kto-demo:{self.organisation.slug}:{self.channel}:{self.year}"


def block_scores(block: Block, rng: random.Random) -> dict[int, list[int]]:
    """Scores per month: a seasonal wobble around the target, then adjusted so the yearly mean
    is exact."""
    profile = PROFILES[block.channel]
    per_month = monthly_split(block.count, slug=block.organisation.slug, channel=block.channel, year=block.year)
    scores: list[int] = []
    months: list[int] = []
    for month, n in per_month.items():
        # Summer holidays bring stand-ins and longer waits; otherwise a little noise.
        wobble = rng.gauss(0, 0.12) - (0.15 if month in (7, 8) else 0)
        mean = min(9.6, max(1.5, float(block.target) + wobble))
        weights = score_distribution(mean, profile.spread, profile.low_tail)
        scores.extend(rng.choices(SCALE, weights=weights, k=n))
        months.extend([month] * n)
    adjust_to_mean(scores, block.target, rng)
    result: dict[int, list[int]] = {}
    for month, score in zip(months, scores, strict=True):
        result.setdefault(month, []).append(score)
    return result


def build_block(block: Block, *, masked: Callable[[str], str]) -> list[tuple[Response, dict[str, int]]]:
    """Unsaved responses of one block with their extra answers (question key -> value)."""
    rng = random.Random(block.seed)  # noqa: S311 - reproducible demo data, not secrets
    profile = PROFILES[block.channel]
    version = current_version(organisation=block.organisation, channel=block.channel)
    english_share = next(o.english_share for o in ORGANISATIONS if o.slug == block.organisation.slug)
    sources, source_weights = zip(*profile.sources, strict=True)
    rows = []
    for month, scores in block_scores(block, rng).items():
        for score in scores:
            contact_moment = _moment(rng, year=block.year, month=month, office_hours=profile.office_hours)
            source = rng.choices(sources, weights=source_weights)[0]
            language = "en" if rng.random() < english_share else "nl"
            comment = ""
            if rng.random() < comment_chance(score):
                comment = masked(make_comment(rng, channel=block.channel, score=score, language=language))
            answers = {}
            if rng.random() < 0.9:
                answers["vraag_beantwoord"] = int(rng.random() < _yes_chance(score))
            if rng.random() < 0.85:
                friendliness = 1 + (score - 1) * 4 / 9 + rng.gauss(0.3, 0.6)
                answers["vriendelijkheid"] = min(5, max(1, round(friendliness)))
            response = Response(
                organisation=block.organisation,
                channel=block.channel,
                survey_version=version,
                contact_moment=contact_moment,
                contact_month=month_of(contact_moment),
                submitted_at=_submitted_after(rng, contact_moment, source),
                score=score,
                comment=comment,
                language=language,
                source=source,
                is_complete=True,
            )
            rows.append((response, answers))
    return rows


BATCH_SIZE = 2000


def insert_block(block: Block, *, masked: Callable[[str], str], progress: Callable[[int], object]) -> set[date]:
    """Insert one block with its answers; returns the months it filled. Does nothing when the
    block already has responses (so seeding twice adds nothing)."""
    exists = Response.objects.filter(
        organisation=block.organisation,
        channel=block.channel,
        contact_month__gte=date(block.year, 1, 1),
        contact_month__lte=date(block.year, 12, 1),
    ).exists()
    if exists:
        progress(block.count)
        return set()
    rows = build_block(block, masked=masked)
    version = rows[0][0].survey_version if rows else None
    questions = {q.key: q for q in version.questions.all()} if version else {}
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        responses = Response.objects.bulk_create([response for response, _ in batch])
        answers = [
            Answer(response=response, question=questions[key], value=value)
            for response, (_, values) in zip(responses, batch, strict=True)
            for key, value in values.items()
            if key in questions
        ]
        Answer.objects.bulk_create(answers, batch_size=BATCH_SIZE)
        changes.record(
            changes.scored(
                scored
                for response, (_, values) in zip(responses, batch, strict=True)
                for scored in changes.of_response(response, {k: v for k, v in values.items() if k in questions})
            )
        )
        progress(len(batch))
    return {response.contact_month for response, _ in rows}


@transaction.atomic
def insert_blocks(
    organisation: Organisation, blocks: list[Block], *, masked: Callable[[str], str], progress: Callable[[int], object]
) -> int:
    """All demo responses of one organisation in one transaction, recorded as changes for the
    rollups (one rollup per organisation when Celery runs eagerly). Returns how many were new."""
    created = 0
    for block in blocks:
        filled = insert_block(block, masked=masked, progress=progress)
        created += block.count if filled else 0
    return created
