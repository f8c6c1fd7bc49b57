"""Django's error pages for the whole site: a 400 or 404 of an address under /api/ is JSON (as the
API's own errors are), any other a page in the visitor's language; a body too large for a form
says so. (A 500, or a 503 when the database is away: surveys/common/unavailable.py.)"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from .unavailable import wants_json


def bad_request(request, exception):
    too_large = isinstance(exception, RequestDataTooBig)
    if wants_json(request):
        detail = _("Het verzoek is te groot.") if too_large else _("Dit verzoek kunnen we niet verwerken.")
        return JsonResponse({"detail": detail}, status=413 if too_large else 400)
    return render(request, "400.html", {"too_large": too_large}, status=400)


def page_not_found(request, exception):
    if wants_json(request):
        return JsonResponse({"detail": _("Niet gevonden.")}, status=404)
    return defaults.page_not_found(request, exception)


def answers_head(view):
    """HEAD (link checkers, mail scanners) gets an empty 200 without running ``view``: opening a
    resident's link must change nothing (an invitation marked opened, a one-click score stored)
    until a person does."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "HEAD":
            return HttpResponse(content_type="text/html; charset=utf-8")
        return view(request, *args, **kwargs)

    return wrapper
