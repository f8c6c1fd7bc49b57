"""The bench's bare site (bench/bare_site.py is its settings): one view, the yardstick of the
residents' form in bench/form_throughput.py and bench/load.py.

    GET  /bare/  a small page
    POST /bare/  one INSERT into bench_bare_post (the bench creates the table), then 302
"""

from django.contrib import admin
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

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


# The admin too, unused: the middleware (surveys.common.middleware) finds the staff pages by their URL.
urlpatterns = [path("bare/", bare), path("admin/", admin.site.urls)]
