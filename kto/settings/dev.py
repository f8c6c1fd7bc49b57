"""Local development: the embedded default (the embedded PostgreSQL of `make run`, eager Celery,
console e-mail) unless DATABASE_URL / REDIS_URL point at real services."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-not-secret-3f9a1c2e")  # noqa: S105
KTO_ADDRESS_HASH_KEY = env("KTO_ADDRESS_HASH_KEY", default="") or SECRET_KEY
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
