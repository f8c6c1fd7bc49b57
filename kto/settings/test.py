"""The test suite: real PostgreSQL and Redis (local defaults, overridable)."""

from .base import *  # noqa: F403
from .base import database, env

DEBUG = False
SECRET_KEY = "test-not-secret"  # noqa: S105
KTO_ADDRESS_HASH_KEY = "test-address-key"
DATABASES = {"default": database(env("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/kto"))}
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
# Login failures per test process (the tests that fail logins clear it).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Unit tests run tasks eagerly; the end-to-end worker test switches this off.
CELERY_TASK_ALWAYS_EAGER = env.bool("KTO_CELERY_EAGER", default=True)
KTO_ROLLUP_ON_COMMIT = CELERY_TASK_ALWAYS_EAGER
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Thousands of requests from one test client: the limits' own tests switch them on.
RATELIMIT_ENABLE = False
