"""Django settings, read from the environment (and from a `.env` file when present).

Every variable is documented in `.env.example` and the README.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
import redis
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.connection import parse_url as parse_redis_url
from redis.driver_info import DriverInfo
from redis.retry import Retry as RedisRetry

from config.configuration import SettingsEnv

BASE_DIR = Path(__file__).resolve().parent.parent

env = SettingsEnv()
environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set (see .env.example)")
    SECRET_KEY = "django-insecure-development-only"

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "django_rq",
    "django_prometheus",
    "axes",
    "config",
    "integrations",
    "catalog",
    "crm",
    "orders",
    "webhooks",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "config.request_guard.UnstorableInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
# With DEBUG on, the technical error pages go to loopback clients only, with secrets masked.
DEFAULT_EXCEPTION_REPORTER = "config.exception_reporter.LoopbackExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.exception_reporter.SecretSettingsFilter"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/dropship")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Fail fast when PostgreSQL is away: a request answers 503 instead of hanging.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 2
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Redis: queues on REDIS_URL, caches on REDIS_CACHE_URL (a separate database) ---------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default="redis://127.0.0.1:6379/1")
# What redis-py sends with CLIENT SETINFO, built once: by default it reads its version from the
# package metadata for every new connection, and a forked RQ horse opens a new cache connection
# for each job that invalidates a cache (bench/webhooks.py, processing).
REDIS_DRIVER_INFO = DriverInfo(lib_version=redis.__version__)


def _cache(prefix: str, timeout: int) -> dict:
    return {
        "BACKEND": "config.cache.MeteredRedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "KEY_PREFIX": prefix,
        "TIMEOUT": timeout,
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            "IGNORE_EXCEPTIONS": True,
            "CONNECTION_POOL_KWARGS": {"driver_info": REDIS_DRIVER_INFO},
        },
    }


CACHES = {
    "default": _cache("default", 300),
    "products": _cache("products", 60 * 60),
    "prices": _cache("prices", 30 * 60),
    "freight": _cache("freight", 60 * 60),
    "sessions": _cache("sessions", 24 * 60 * 60),
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
DJANGO_REDIS_LOGGER = "config.cache"

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"
SESSION_COOKIE_AGE = 24 * 60 * 60

# --- Queues (django-rq) -------------------------------------------------------------------------
QUEUE_TIMEOUTS = {
    "sync-products": 60 * 60,
    "create-order": 5 * 60,
    "process-webhook": 2 * 60,
    "update-stock": 15 * 60,
}


def _rq_connection(url: str) -> dict:
    """django-rq's HOST/PORT form of a redis:// URL: unlike its URL form, it hands
    REDIS_CLIENT_KWARGS to redis-py: short timeouts, so a dead Redis fails fast instead of hanging a
    request (RQ's worker raises the read timeout above its blocking dequeue), and the pre-built
    driver info, since every RQ work horse connects afresh."""
    if not url.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured("REDIS_URL must be a redis:// or rediss:// URL")
    parsed = parse_redis_url(url)
    return {
        "HOST": parsed.get("host", "127.0.0.1"),
        "PORT": parsed.get("port", 6379),
        "DB": parsed.get("db", 0),
        "USERNAME": parsed.get("username"),
        "PASSWORD": parsed.get("password"),
        "SSL": url.startswith("rediss://"),
        # No redis-py retries (its default: 3 with backoff, about 4 s against a dead server): the
        # worker waits out an outage itself (config/worker.py).
        "REDIS_CLIENT_KWARGS": {
            "socket_connect_timeout": 1,
            "socket_timeout": 5,
            "retry": RedisRetry(NoBackoff(), 0),
            "driver_info": REDIS_DRIVER_INFO,
        },
    }


RQ_QUEUES = {
    name: {**_rq_connection(REDIS_URL), "DEFAULT_TIMEOUT": timeout} for name, timeout in QUEUE_TIMEOUTS.items()
}
RQ = {
    # config.queues enqueues after commit itself, so that a Redis outage at commit time is
    # logged and swept up later instead of failing a request whose data is already committed.
    "COMMIT_MODE": "auto",
    "WORKER_CLASS": "config.worker.Worker",
}
# Retry policy for transient job failures: delays in seconds between attempts.
RQ_RETRY_INTERVALS = env.list("RQ_RETRY_INTERVALS", cast=int, default=[10, 60, 300])
# How often a worker cleans registries; a killed worker's job is noticed within
# maintenance interval + job heartbeat TTL (60 s + 90 s here).
RQ_MAINTENANCE_INTERVAL = env.int("RQ_MAINTENANCE_INTERVAL", default=60)
RQ_SHOW_ADMIN_LINK = True

# --- Client address ---------------------------------------------------------------------------
# How many proxies we run in front of gunicorn: they, and only they, may name the client in
# X-Forwarded-For (config/client_address.py). 0: every forwarded header is ignored.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")

# --- API ----------------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    # Token first, so an anonymous caller of a protected endpoint gets 401 with
    # `WWW-Authenticate: Token` (session first would answer 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON_RATE", default="120/min"),
        "user": env.str("THROTTLE_USER_RATE", default="1200/min"),
    },
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "config.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttles identify a client as config.client_address does (unset, DRF would take the
    # whole X-Forwarded-For header as the identity, which any caller can vary).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dropship back office API",
    "DESCRIPTION": "Storefront API: catalog, orders, CRM leads, and the CJ webhook receiver.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI and ReDoc come from our own static files (drf-spectacular-sidecar): the docs
    # work offline and their policy stays 'self' (config/csp.py).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Request bodies get components of their own (`OrderCreateRequest`), so a field with a
    # default (`line2`, `marketing_consent`) is optional to send yet always present in answers.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.response_fields_required",
    ],
    # Distinct schema names for choice sets whose field names collide across apps.
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "crm.models.Lead.Status",
        "LeadSourceEnum": "crm.models.Lead.Source",
        "CustomerSourceEnum": "crm.models.Customer.Source",
        "ContactChannelEnum": "crm.models.Contact.Channel",
        "ContactDirectionEnum": "crm.models.Contact.Direction",
    },
}

# --- Security -----------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
# A storefront script sends the order flow's own headers (and may send its own request id), and
# reads the request id (to quote it to support) and, on a 429, when to retry.
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key", "x-order-token", "x-request-id")
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Two limits (config/login_lockout.py): failures on one account from one address, and failures
# from one address across every username.
LOGIN_ACCOUNT_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
if LOGIN_ADDRESS_FAILURE_LIMIT < LOGIN_ACCOUNT_FAILURE_LIMIT:
    raise ImproperlyConfigured("AXES_ADDRESS_FAILURE_LIMIT must be at least AXES_FAILURE_LIMIT")
AXES_FAILURE_LIMIT = "config.login_lockout.login_failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"
AXES_RESET_ON_SUCCESS = True
# Off: its startup banner ("AXES: BEGIN ...") would be the first line of every command's output;
# lockout messages still name the lockout parameters.
AXES_VERBOSE = False

METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Content-Security-Policy (django-csp): our own origin only; the API docs page adds what Swagger UI
# needs (config/csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        # The admin dashboard sizes its share bars with a style attribute; anything such an
        # attribute could load is still held to 'self', as are <style> elements and scripts.
        "style-src-attr": ["'unsafe-inline'"],
    }
}

# --- Internationalisation and static files ------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Connect in our time zone, so Django does not spend a round trip setting it on every new
# connection (the server's default, Etc/UTC, is not a name Django takes for UTC).
DATABASES["default"]["OPTIONS"].setdefault("options", f"-c TimeZone={TIME_ZONE}")
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- Logging ------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
SLOW_REQUEST_MS = env.int("SLOW_REQUEST_MS", default=500)
SLOW_JOB_MS = env.int("SLOW_JOB_MS", default=10_000)
LOGGING_CONFIG = "config.logging.configure"
LOGGING = {"level": LOG_LEVEL}

SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False, traces_sample_rate=0.0)

# --- The shop's own settings (catalog, CJ, CRM, webhooks, orders) -----------------------------
from config.shop_settings import *  # noqa: E402, F403

REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].update(
    {
        "quotes": env.str("THROTTLE_QUOTES_RATE", default="30/min"),
        "orders": env.str("THROTTLE_ORDERS_RATE", default="20/min"),
        "orders_read": env.str("THROTTLE_ORDERS_READ_RATE", default="120/min"),
    }
)
