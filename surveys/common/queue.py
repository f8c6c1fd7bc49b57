"""Queueing a task from a request without letting the broker's absence reach the resident or the
integrator: when Redis cannot be reached the task is not queued, a warning is logged, and the
request answers as it would have. Nothing is lost, because the work itself is a row in PostgreSQL
(a pending delivery) that a beat sweep queues again when it has waited too long."""

from __future__ import annotations

import logging

from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def enqueue(task, *args) -> bool:
    """``task.delay(*args)``; False (and a warning) when the broker is unreachable."""
    try:
        task.delay(*args)
    except (OperationalError, RedisError, OSError) as error:
        logger.warning("Broker unreachable, %s(%s) not queued now; the sweep will queue it: %s", task.name, args, error)
        return False
    return True
