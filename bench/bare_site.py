"""Settings and URLconf of the bench's bare site (bench/form_throughput.py): the production
settings, with one bare view instead of the project's URLs.

    GET  /bare/  a small page
    POST /bare/  one INSERT into bench_bare_post (the bench creates the table), then 302

Both servers of the bench run with this module as DJANGO_SETTINGS_MODULE, so that they differ
in the URLconf only: the form server sets BENCH_URLCONF=kto.urls. STATIC_ROOT points at the
bench's scratch folder (BENCH_STATIC_ROOT), so that collecting the static files that the
production storage (a manifest) needs leaves the working tree alone.
"""

import os

from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from kto.settings.production import *  # noqa: F403

ROOT_URLCONF = os.environ.get("BENCH_URLCONF", __name__)
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", "/tmp/formbench/static")  # noqa: S108
# wrk is one client: the per-client rate limits would answer it 429 after the first 30 answers.
RATELIMIT_ENABLE = False

PAGE = "<!DOCTYPE html><html lang='nl'><title>Bare</title><p>Bare page.</p></html>"


@csrf_exempt  # like the residents' forms
def bare(request):
    if request.method == "POST":
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_bare_post (score, comment) VALUES (%s, %s)",
                [int(request.POST.get("score", 0)), request.POST.get("comment", "")],
            )
        return HttpResponseRedirect("/bare/")
    return HttpResponse(PAGE)


urlpatterns = [path("bare/", bare)]
