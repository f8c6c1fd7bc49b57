"""Runs a Celery worker or beat of the tests on a fast clock: every process started with the same
``KTO_CLOCK_START`` (a moment), ``KTO_CLOCK_ORIGIN`` (a real Unix time) and ``KTO_CLOCK_SPEED``
reads the same simulated time, ``start + (real time - origin) × speed`` (time-machine, moved a
few hundred times a second). So two beats and two workers live through a month in half a minute.

    python tests/reports/fast_clock.py worker --pool=solo ...
    python tests/reports/fast_clock.py beat ...

For the test only: the mails go to the SMTP server at ``KTO_TEST_SMTP_PORT``, the beat schedule
holds only the reports' daily plan, tasks go to the queue ``KTO_TEST_QUEUE``."""

import os
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import time_machine

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kto.settings.test")

start = datetime.fromisoformat(os.environ["KTO_CLOCK_START"])
speed = float(os.environ["KTO_CLOCK_SPEED"])


def real_clock() -> float:
    # time-machine moves time.time and time.monotonic, not this clock: the real time goes on.
    return time.clock_gettime(time.CLOCK_MONOTONIC_RAW)


real_at_origin = real_clock() - (time.time() - float(os.environ["KTO_CLOCK_ORIGIN"]))


def simulated() -> datetime:
    return start + timedelta(seconds=(real_clock() - real_at_origin) * speed)


traveller = time_machine.travel(simulated(), tick=False)
coordinates = traveller.start()


def keep_moving():
    while True:
        coordinates.move_to(simulated())
        time.sleep(0.002)


threading.Thread(target=keep_moving, daemon=True).start()

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# psycopg measures its connect timeout on time.monotonic, which time-machine moves too: a
# timeout of 10**8 simulated seconds is about twenty real minutes at a day per second.
settings.DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 10**8
settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(os.environ["KTO_TEST_SMTP_PORT"])

from kto.celery import app  # noqa: E402

app.conf.beat_schedule = {"plan-reports": settings.CELERY_BEAT_SCHEDULE["plan-reports"]}
app.conf.task_default_queue = os.environ["KTO_TEST_QUEUE"]
# Unacknowledged messages come back after the visibility timeout, read on the fast clock: an
# hour would pass in a few milliseconds.
app.conf.broker_transport_options = {"visibility_timeout": 10**9}
app.conf.beat_max_loop_interval = 0.02  # real seconds between the beat's looks at its schedule
app.start(sys.argv[1:])
