"""Rate limits that hold across gunicorn workers: the counters live in the cache (Redis in
production) through django-ratelimit, per client (its IP address, hashed into the counter's key and
gone when the window ends; never stored in PostgreSQL) or per API key. When the store is away the
limits fail open: residents are never refused because Redis is down.

How a limit and the figures interact: one client adds at most ``KTO_RATE_OPEN_FORM`` responses to
an open form (default 30 an hour); what is over the limit is refused with 429 and never stored, so a
burst from one source cannot move a figure by more than that many responses. A slower, sustained
abuse stays visible to staff (source "open link" in the responses list) and can be deleted, which
takes it out of the figures."""

from __future__ import annotations

import logging
from functools import wraps

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from .unavailable import wants_json

logger = logging.getLogger(__name__)


def usage(request, *, group: str, rate: str, key="ip", method=get_usage.ALL) -> dict | None:
    """Count this request; None when not limited, or when the store cannot be reached."""
    try:
        return get_usage(request, group=group, key=key, rate=rate, method=method, increment=True)
    except (RedisError, OSError) as error:
        logger.warning("Rate limit store unreachable, %s not limited: %s", group, error)
        return None


def too_many(request, retry_after: int):
    retry_after = max(1, retry_after)
    if wants_json(request):
        answer = JsonResponse({"detail": too_many_message(retry_after)}, status=429)
    else:
        answer = render(request, "429.html", {"retry_after": retry_after}, status=429)
    answer["Retry-After"] = str(retry_after)
    return answer


def too_many_message(retry_after: int) -> str:
    return _("Te veel verzoeken achter elkaar. Probeer het over %(seconds)d seconden opnieuw.") % {
        "seconds": retry_after
    }


def limited(group: str, setting: str, *, method=get_usage.ALL):
    """Limit a view per client at the rate in ``settings.<setting>`` (such as "30/h")."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            counted = usage(request, group=group, rate=getattr(settings, setting), method=method)
            if counted and counted["should_limit"]:
                return too_many(request, counted["time_left"])
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def failed_api_key(request) -> int | None:
    """Count a request with a wrong API key from this client: the seconds to wait when over."""
    counted = usage(request, group="api-wrong-key", rate=settings.KTO_RATE_API_WRONG_KEY)
    return max(1, counted["time_left"]) if counted and counted["should_limit"] else None


class ApiKeyThrottle(BaseThrottle):
    """Per API key (DRF answers 429 with Retry-After); fails open as the others do."""

    def allow_request(self, request, view) -> bool:
        key = getattr(request, "auth", None)
        if key is None:
            return True
        counted = usage(
            request._request, group="api-key", rate=settings.KTO_RATE_API_KEY, key=lambda _g, _r: str(key.pk)
        )
        self.retry_after = max(1, counted["time_left"]) if counted and counted["should_limit"] else None
        return self.retry_after is None

    def wait(self):
        return self.retry_after
