"""When PostgreSQL (or Redis) is away: residents and integrators get 503 Service Unavailable with
Retry-After (a page in the resident's language, JSON for the API) instead of a 500, and nothing
shows a traceback; once the database is back the next request simply works (Django opens a new
connection per request, or after a failed one). ``/healthz`` says the process lives (for a
restart), ``/readyz`` whether it can serve (database and broker, for a load balancer)."""

from __future__ import annotations

import logging
import sys

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)

RETRY_AFTER = 30  # seconds
DATABASE_ERRORS = (OperationalError, InterfaceError)


def wants_json(request) -> bool:
    return request.path.startswith("/api/")


def unavailable_message() -> str:
    return _("KTO is even niet bereikbaar. Probeer het over een halve minuut opnieuw.")


def unavailable(request) -> HttpResponse:
    if wants_json(request):
        answer = JsonResponse({"detail": unavailable_message(), "code": "service_unavailable"}, status=503)
    else:
        answer = render(request, "503.html", {"posted": request.method == "POST"}, status=503)
    answer["Retry-After"] = str(RETRY_AFTER)
    return answer


class DatabaseUnavailableMiddleware:
    """A view that cannot reach the database answers 503 (logged as a warning, not as an error
    with a traceback per request)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning("Database unavailable, 503 for %s %s: %s", request.method, request.path, exception)
        return unavailable(request)


def server_error(request):
    """handler500: a database that went away outside a view (in a middleware) is a 503 too; the
    API's errors are JSON."""
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return unavailable(request)
    if wants_json(request):
        return JsonResponse({"detail": _("Er ging iets mis bij ons."), "code": "server_error"}, status=500)
    return defaults.server_error(request)


@never_cache
def healthz(request):
    """Liveness: the process answers. Touches neither the database nor the broker."""
    return JsonResponse({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_ERRORS:
        return "unavailable"
    return "ok"


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "not used"  # tasks run in the web process (the embedded default)
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except (redis.RedisError, OSError):
        return "unavailable"
    return "ok"


@never_cache
def readyz(request):
    """Readiness: the database and the broker answer. 503 (with what is missing) otherwise."""
    checks = {"database": _database(), "broker": _broker()}
    ready = "unavailable" not in checks.values()
    answer = JsonResponse({"status": "ok" if ready else "unavailable", **checks}, status=200 if ready else 503)
    if not ready:
        answer["Retry-After"] = str(RETRY_AFTER)
    return answer
