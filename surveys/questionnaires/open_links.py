"""What residents' open links show, kept in each worker process until staff change it.

An open link (the QR code at the counter, a tablet's form) is read far more often than staff change
what it shows. So each worker keeps the link's survey version (with its organisation and questions)
and its rendered page in its own memory, under a *generation* that lives in the shared cache
(Redis in production), read once per request. Saving or deleting an organisation, its channels,
surveys, versions or questions starts a new generation, at once and again when its transaction
commits (a request in between may have read the old rows under the new generation), so that every
worker reads afresh on its next request. Kept entries expire after ``KEPT_SECONDS`` all the same:
that bounds what a change leaves stale when it could not reach the shared cache (Redis away). When
the shared cache cannot be read, nothing is kept.

Figures in docs/BENCHMARKS.md ("Form throughput"): without this, reading the version and its
questions was 3.6 of a POST's 8 ms in-process, and a GET spent 3.5 ms more on the template.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from redis.exceptions import RedisError

from surveys.organisations.models import Organisation, OrganisationChannel

from .models import Question, Survey, SurveyVersion

logger = logging.getLogger(__name__)

T = TypeVar("T")
GENERATION = "open-links:generation"
KEPT_SECONDS = 60
SHOWN = (Organisation, OrganisationChannel, Survey, SurveyVersion, Question)

# This process's own memory (a LocMemCache pickles what it keeps: every reader gets its own copy).
_kept = LocMemCache("open-links", {"TIMEOUT": KEPT_SECONDS, "OPTIONS": {"MAX_ENTRIES": 2_000}})


def kept(name: str, build: Callable[[], T]) -> T:
    """What ``build()`` gives, from this worker's memory when it built it since the last change.
    ``name`` says what it is (the same name, the same thing); None is not kept."""
    try:
        generation = cache.get_or_set(GENERATION, _new_generation, timeout=None)
    except (RedisError, OSError) as error:
        logger.warning("Shared cache unreachable, open link read afresh: %s", error)
        return build()
    key = f"{generation}:{name}"
    value = _kept.get(key)
    if value is None:
        value = build()
        _kept.set(key, value)
    return value


def start_generation() -> None:
    """Every worker reads its open links afresh from now on."""
    try:
        cache.set(GENERATION, _new_generation(), timeout=None)
    except (RedisError, OSError) as error:
        logger.warning("Shared cache unreachable, open links may be %d s behind: %s", KEPT_SECONDS, error)


def _changed(sender, using=None, **kwargs) -> None:
    start_generation()
    transaction.on_commit(start_generation, using=using)


def _new_generation() -> str:
    return uuid.uuid4().hex


def connect() -> None:
    """Start a new generation on every save or delete of what an open link shows (SurveysConfig.ready)."""
    for model in SHOWN:
        post_save.connect(_changed, sender=model, dispatch_uid=f"open-links-saved-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"open-links-deleted-{model.__name__}")
