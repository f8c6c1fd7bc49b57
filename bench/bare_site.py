"""Settings of the bench's bare site (bench/form_throughput.py, bench/load.py): the production
settings, with bench/bare_urls.py (one bare view) instead of the project's URLs.

Both servers of the benches run with this module as DJANGO_SETTINGS_MODULE, so that they differ
in the URLconf only: the form server sets BENCH_URLCONF=kto.urls. STATIC_ROOT points at the
bench's scratch folder (BENCH_STATIC_ROOT), so that collecting the static files that the
production storage (a manifest) needs leaves the working tree alone.
"""

import os

from kto.settings.production import *  # noqa: F403

ROOT_URLCONF = os.environ.get("BENCH_URLCONF", "bench.bare_urls")
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", "/tmp/formbench/static")  # noqa: S108
# wrk is one client: the per-client rate limits would answer it 429 after the first 30 answers.
RATELIMIT_ENABLE = False
# The load bench (bench/load.py) runs the beat's rollup pass every few seconds instead of every two minutes.
if os.environ.get("BENCH_ROLLUP_SECONDS"):
    PASS = {"task": "surveys.rollups.tasks.rollup_pass", "schedule": float(os.environ["BENCH_ROLLUP_SECONDS"])}
    CELERY_BEAT_SCHEDULE = {**CELERY_BEAT_SCHEDULE, "rollup-pass": PASS}  # noqa: F405
