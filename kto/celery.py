import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kto.settings.dev")

app = Celery("kto")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The tasks live in the domain packages of the one app.
app.autodiscover_tasks(["surveys.invitations", "surveys.reports", "surveys.retention", "surveys.rollups"])
