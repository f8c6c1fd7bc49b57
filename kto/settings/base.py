"""Settings shared by every environment. Everything configurable comes from the environment
(django-environ); .env.example lists every variable."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from kto import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# Base URL used in links that leave the site (invitation e-mails, SMS, API answers).
KTO_BASE_URL = env("KTO_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "surveys.dashboard.apps.KtoAdminConfig",  # django.contrib.admin with KTO's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "surveys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "surveys.common.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "surveys.common.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
]

# Every page's scripts, styles and images come from KTO itself (nothing from a CDN); no page may
# be framed or post a form elsewhere. Styles may be inline: the charts' SVG carries style
# attributes, and an organisation's brand colour is set in the page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# No page needs these browser features.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

ROOT_URLCONF = "kto.urls"
WSGI_APPLICATION = "kto.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database(url: str) -> dict:
    """Django's settings for a DATABASE_URL, which must be PostgreSQL's: KTO runs on nothing else."""
    config = env.db_url_config(url)
    if config.get("ENGINE") != "django.db.backends.postgresql":
        scheme = url.split(":", 1)[0] or "empty"
        raise ImproperlyConfigured(
            f"DATABASE_URL must point at PostgreSQL (postgres://...), not {scheme}: KTO runs on PostgreSQL only. "
            "Leave it unset for `make run`'s embedded PostgreSQL."
        )
    config["ATOMIC_REQUESTS"] = False
    # A database that is away is noticed in seconds (a 503 for the resident), not after minutes.
    config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    return config


# Unset: the embedded server that `make run` starts (kto/embedded_db.py).
DATABASES = {"default": database(env("DATABASE_URL", default="").strip() or embedded_db.database_url())}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Staff get the permissions of their KTO role (surveys/organisations/roles.py) on top of Django's own.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out user name before the password is checked
    "django.contrib.auth.backends.ModelBackend",
    "surveys.organisations.roles.StaffRoleBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Dutch first.
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "surveys" / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")

# Public forms are small; a 10 MB comment is refused long before it reaches a view.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("KTO_MAX_REQUEST_BYTES", default=2 * 1024 * 1024)

# Residents' form: comments longer than this are refused with a message.
KTO_COMMENT_MAX_LENGTH = 2000
KTO_INVITATION_VALID_DAYS = env.int("KTO_INVITATION_VALID_DAYS", default=14)
# Rate limits (surveys/common/ratelimits.py), per client or per API key: "number/period".
KTO_RATE_OPEN_FORM = env("KTO_RATE_OPEN_FORM", default="30/h")  # answers posted to an open form
KTO_RATE_TOKEN_PAGES = env("KTO_RATE_TOKEN_PAGES", default="60/m")  # invitation and one-click pages
KTO_RATE_API_KEY = env("KTO_RATE_API_KEY", default="600/m")
KTO_RATE_API_WRONG_KEY = env("KTO_RATE_API_WRONG_KEY", default="30/m")
# The client's address for the limits: REMOTE_ADDR, or the header a trusted proxy sets (such as
# HTTP_X_REAL_IP). IPv6 clients count per /64.
RATELIMIT_IP_META_KEY = env("KTO_CLIENT_IP_HEADER", default="REMOTE_ADDR")

# The API takes contacts and responses of at most this many days back: older ones would change
# figures that have been published (a month's report goes out on its first working day).
KTO_BACKDATE_DAYS = env.int("KTO_BACKDATE_DAYS", default=31)
KTO_INVITATION_COOLDOWN_DAYS = env.int("KTO_INVITATION_COOLDOWN_DAYS", default=90)
# Retention (AVG storage limitation), the defaults of each organisation's own terms: comments are
# erased after this many months, raw responses, contacts and invitations deleted after that many.
KTO_COMMENT_RETENTION_MONTHS = env.int("KTO_COMMENT_RETENTION_MONTHS", default=24)
KTO_RESPONSE_RETENTION_MONTHS = env.int("KTO_RESPONSE_RETENTION_MONTHS", default=60)
KTO_RETENTION_BATCH = env.int("KTO_RETENTION_BATCH", default=5000)
# Follow-up of low scores: below this score a response with a comment or a contact request enters
# the queue (per organisation; this is the default), to be done within so many days; the
# resident's contact details are erased when the item is closed, or after so many days.
KTO_FOLLOW_UP_BELOW = env.int("KTO_FOLLOW_UP_BELOW", default=6)
KTO_FOLLOW_UP_DAYS = env.int("KTO_FOLLOW_UP_DAYS", default=5)
KTO_FOLLOW_UP_CONTACT_DAYS = env.int("KTO_FOLLOW_UP_CONTACT_DAYS", default=30)
# One-click links opened with different scores within this many seconds: a mail link scanner.
KTO_ONE_CLICK_SCANNER_SECONDS = env.int("KTO_ONE_CLICK_SCANNER_SECONDS", default=30)
# Key for the keyed hash (HMAC) of recipients' addresses; defaults to SECRET_KEY.
KTO_ADDRESS_HASH_KEY = env("KTO_ADDRESS_HASH_KEY", default="") or SECRET_KEY
# Rollups: below this many responses a figure is indicative; significance threshold.
KTO_MIN_RESPONSES = env.int("KTO_MIN_RESPONSES", default=30)
KTO_SIGNIFICANCE_ALPHA = env.float("KTO_SIGNIFICANCE_ALPHA", default=0.05)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="KTO <kto@localhost>")

# SMS / WhatsApp gateway: "console" (prints) or "messagebird".
KTO_MESSAGE_GATEWAY = env("KTO_MESSAGE_GATEWAY", default="console")
KTO_MESSAGEBIRD_API_KEY = env("KTO_MESSAGEBIRD_API_KEY", default="")
KTO_MESSAGEBIRD_BASE_URL = env("KTO_MESSAGEBIRD_BASE_URL", default="https://rest.messagebird.com")
KTO_MESSAGEBIRD_ORIGINATOR = env("KTO_MESSAGEBIRD_ORIGINATOR", default="Gemeente")
KTO_MESSAGEBIRD_WHATSAPP_CHANNEL_ID = env("KTO_MESSAGEBIRD_WHATSAPP_CHANNEL_ID", default="")
KTO_MESSAGEBIRD_CONVERSATIONS_URL = env(
    "KTO_MESSAGEBIRD_CONVERSATIONS_URL", default="https://conversations.messagebird.com/v1"
)

# Celery: JSON only, late acks, one task at a time per worker process.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
# The cache (login failures) lives in Redis where there is one, so that it holds across processes.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# Without a worker there is no beat: each write's organisation is rolled up once it commits.
KTO_ROLLUP_ON_COMMIT = CELERY_TASK_ALWAYS_EAGER
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# A request that queues a task never waits for a broker that is down: one quick try (no publish
# retries, a short connect timeout); what could not be queued is queued again by a beat sweep.
# ("max_retries" is kombu's for opening a channel to publish on; a worker's own reconnecting is
# broker_connection_retry's and goes on as before.)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 1, "max_retries": 0}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE = {
    "rollup-pass": {
        "task": "surveys.rollups.tasks.rollup_pass",
        "schedule": crontab(minute="*/2"),
    },
    "requeue-deliveries": {
        "task": "surveys.invitations.tasks.requeue_deliveries",
        "schedule": crontab(minute="*"),
    },
    "expire-invitations": {
        "task": "surveys.invitations.tasks.expire_invitations",
        "schedule": crontab(minute="*/15"),
    },
    "retention": {
        "task": "surveys.retention.tasks.apply_retention",
        "schedule": crontab(hour=3, minute=30),
    },
    # The reports' task decides whether today is the first working day of the month.
    "plan-reports": {
        "task": "surveys.reports.tasks.plan_reports",
        "schedule": crontab(hour=7, minute=0),
    },
    "settle-report-deliveries": {
        "task": "surveys.reports.tasks.settle_report_deliveries",
        "schedule": crontab(minute="*/5"),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["surveys.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["surveys.api.permissions.HasOrganisationApiKey"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["surveys.common.ratelimits.ApiKeyThrottle"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "surveys.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "KTO API",
    "DESCRIPTION": (
        "Register contact moments so that KTO invites residents to rate them, and submit scores "
        "collected elsewhere. Authenticate with an organisation's API key: "
        "`Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Staff login. A second factor (TOTP, django-otp) where KTO_REQUIRE_TOTP is set (production: on);
# failed logins counted per user name, not per IP address (KTO keeps none), in the cache: after
# KTO_LOGIN_FAILURE_LIMIT failures the name is locked for 15 minutes (django-axes).
KTO_REQUIRE_TOTP = env.bool("KTO_REQUIRE_TOTP", default=False)
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_FAILURE_LIMIT = env.int("KTO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "admin/kto/locked_out.html"
OTP_TOTP_ISSUER = "KTO"
SILENCED_SYSTEM_CHECKS = [
    "axes.W006",  # counting per IP address as well is what axes advises; KTO keeps no IP addresses
    "axes.W001",  # the local cache in development and tests; production uses Redis (production.py)
]

# One handler, on the root logger. Django's own loggers pass their records up to it (its default
# mail_admins and debug-only console handlers go), and every record is made with the tokens of
# residents' links redacted (surveys/common/logs.py).
LOGGING_CONFIG = "surveys.common.logs.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
