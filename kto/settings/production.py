"""Production: every secret and every address comes from the environment; nothing has a default.
A missing or empty variable stops the process at start-up with ImproperlyConfigured naming it.

Passes ``python manage.py check --deploy --fail-level WARNING`` (tests/test_settings.py runs it).
Deploying also means ``python manage.py collectstatic --noinput`` (static files are served by
WhiteNoise from STATIC_ROOT with hashed, compressed names) and ``migrate``. Behind a proxy that
terminates TLS, the proxy must set X-Forwarded-Proto.
"""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import MIDDLEWARE, database, env

ADDRESS_HASH_KEY_MIN_LENGTH = 32


def required(name: str) -> str:
    value = env.str(name, default="").strip()
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable: production has no default for it.")
    return value


DEBUG = False
SECRET_KEY = required("DJANGO_SECRET_KEY")
# Separate from SECRET_KEY so that rotating the secret key keeps cooldowns and opt-outs working.
KTO_ADDRESS_HASH_KEY = required("KTO_ADDRESS_HASH_KEY")
if len(KTO_ADDRESS_HASH_KEY) < ADDRESS_HASH_KEY_MIN_LENGTH or KTO_ADDRESS_HASH_KEY == SECRET_KEY:
    raise ImproperlyConfigured(
        f"KTO_ADDRESS_HASH_KEY must be a random value of at least {ADDRESS_HASH_KEY_MIN_LENGTH} characters, "
        "different from DJANGO_SECRET_KEY."
    )
ALLOWED_HOSTS = [host.strip() for host in required("DJANGO_ALLOWED_HOSTS").split(",") if host.strip()]
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Links in invitations must point at the public site, never at the development default.
KTO_BASE_URL = required("KTO_BASE_URL").rstrip("/")
if not KTO_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("KTO_BASE_URL must be the public https:// address of the site.")

DATABASES = {"default": database(required("DATABASE_URL"))}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

REDIS_URL = required("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
# Staff log in with a second factor (a TOTP app); KTO_REQUIRE_TOTP=false only while setting up.
KTO_REQUIRE_TOTP = env.bool("KTO_REQUIRE_TOTP", default=True)
SILENCED_SYSTEM_CHECKS = ["axes.W006"]  # no IP addresses (base.py); the cache is Redis here, so W001 counts
CELERY_TASK_ALWAYS_EAGER = False
KTO_ROLLUP_ON_COMMIT = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# A load balancer asks over plain HTTP inside the network: its checks are not redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

MIDDLEWARE = [MIDDLEWARE[0], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[1:]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
