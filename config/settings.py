"""Settings, read from environment variables only (SPEC §17).

Every knob an operator may turn is an environment variable; nothing secret has a default outside
DEBUG. ``LANGUAGES`` is schema (modeltranslation adds one column per language), so changing
``CATALOGUE_LANGUAGES`` needs ``makemigrations`` (see the README).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import xstatic.pkg.jquery_ui as xstatic_jquery_ui
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def read_env_file(path: Path) -> None:
    """Development settings outside the Makefile: ``KEY=value`` lines of ``.env`` at the repo root
    (written by ``make install`` with ``DEBUG=1``, ignored by git) fill in what the environment
    does not set, so every README command works in a fresh shell. The environment always wins;
    production sets its variables there and has no ``.env`` (``ENV_FILE=`` turns reading off)."""
    if not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        os.environ.setdefault(name.strip(), value)


if os.environ.get("ENV_FILE", ".env"):
    read_env_file(BASE_DIR / os.environ.get("ENV_FILE", ".env"))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "modeltranslation",  # must precede django.contrib.admin
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # trigram and full text search lookups (no-op on SQLite)
    "rest_framework",
    "oauth2_provider",
    "axes",
    "django_filters",
    "mptt",
    "drf_spectacular_sidecar",
    "records",
    "config.api",
    "changes",  # the outbox: kernel layer, below every domain app
    "integrations",
    "taxonomy",
    "catalogue",
    "clusters",
    "webhooks",  # deliveries of the change events (SPEC §20): above every domain app
    "jobs",  # asynchronous bulk and imports: above every domain app
]

MIDDLEWARE = [
    "config.api.middleware.CorsMiddleware",  # outermost: a 413 refused below is readable too
    "config.api.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.api.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "changes.context.ActorMiddleware",  # change events name the back office's user
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns an admin login lockout into its page
]

# The admin login is the only place a user's password is checked (SPEC §3). django-axes counts
# failures per username and caller address in the database, so every worker and server shares
# them; a success resets the count, a lockout lasts ADMIN_LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ONLY_ADMIN_SITE = True
AXES_CLIENT_IP_CALLABLE = "integrations.oauth.request_caller_address"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
# its startup banner on every process (each manage.py command, each worker) is noise in JSON logs;
# lockouts are still logged as warnings
AXES_VERBOSE = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False  # API routes answer with and without the slash themselves; no redirects

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
            ]
        },
    }
]

(BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'var' / 'catalogue.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        # a connection kept from an earlier request is checked before use: after a database
        # restart no request fails on a stale connection (SPEC §18)
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
SQLITE_BUSY_TIMEOUT_SECONDS = env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_bool("PG_JIT"):
    # PostgreSQL's JIT compiles a query whose estimated cost passes jit_above_cost: seconds of
    # LLVM work for a short admin search that executes in milliseconds. Off per connection (a
    # startup option: no extra round trip); PG_JIT=1 keeps the server's setting (e.g. behind a
    # pooler that refuses startup options).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers queue instead of failing: WAL lets readers run beside the writer, every
    # transaction takes the write lock when it begins (IMMEDIATE: no deadlock-prone upgrade from a
    # read lock, which SQLite answers with "database is locked" at once, busy timeout or not), and
    # a writer waits up to the busy timeout for its turn. A lock still held after that → 503.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHE_URL = os.environ.get("REDIS_URL", "")
# Every Redis client (cache, limits, readiness probe) gives up after this long, once, with no
# retries, instead of freezing a sync worker while Redis is paused or unreachable (SPEC §18:
# the limits then fail open, never hang).
REDIS_SOCKET_TIMEOUT_SECONDS = float(os.environ.get("REDIS_SOCKET_TIMEOUT_SECONDS") or 0.25)
REDIS_CLIENT_OPTIONS = {
    "socket_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_SECONDS,
    # no retries: redis-py's default (3, with backoff of up to seconds) would hold the worker
    "retry_on_timeout": False,
    "retry": Retry(NoBackoff(), 0),
}
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "OPTIONS": REDIS_CLIENT_OPTIONS,
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Languages: the catalogue languages are schema (one column per language and localized field).
CATALOGUE_LANGUAGES = [code.lower() for code in env_list("CATALOGUE_LANGUAGES", "en,nl,de,fr")]
CATALOGUE_DEFAULT_LANGUAGE = os.environ.get("CATALOGUE_DEFAULT_LANGUAGE", "en").lower()
if CATALOGUE_DEFAULT_LANGUAGE not in CATALOGUE_LANGUAGES:
    raise ImproperlyConfigured("CATALOGUE_DEFAULT_LANGUAGE must be one of CATALOGUE_LANGUAGES.")
LANGUAGE_CODE = CATALOGUE_DEFAULT_LANGUAGE
LANGUAGES = [(code, code.upper()) for code in CATALOGUE_LANGUAGES]
MODELTRANSLATION_DEFAULT_LANGUAGE = CATALOGUE_DEFAULT_LANGUAGE
MODELTRANSLATION_LANGUAGES = tuple(CATALOGUE_LANGUAGES)
MODELTRANSLATION_ENABLE_FALLBACKS = False  # the API reads the raw per-language columns
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "var" / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "config.staticfiles.PackageFilesFinder",
]
# Only the files we use from asset packages (config/staticfiles.py says why not whole directories).
STATICFILES_PACKAGE_FILES = {"jquery-ui": (xstatic_jquery_ui.BASE_DIR, ["jquery-ui.min.js"])}
# modeltranslation's language tabs need jQuery UI: served from our static files, never a CDN.
JQUERY_UI_URL = "jquery-ui/jquery-ui.min.js"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("TESTING")
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Limits (SPEC §18)
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 16 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
ACCESS_TOKEN_TTL_SECONDS = env_int("ACCESS_TOKEN_TTL_SECONDS", 1800)
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "")
# Browser origins allowed to call /v2/ (``https://app.example.com``, comma-separated, exact
# match); empty: no CORS, OPTIONS is a plain 405 (SPEC §18).
CORS_ALLOWED_ORIGINS = [o.rstrip("/") for o in env_list("CORS_ALLOWED_ORIGINS", "")]
CORS_MAX_AGE = env_int("CORS_MAX_AGE", 600)  # seconds a browser may cache a preflight

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "integrations.hashers.ClientSecretHasher",
]

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": ACCESS_TOKEN_TTL_SECONDS,
    "SCOPES_BACKEND_CLASS": "integrations.oauth.ClientScopes",
    "OAUTH2_VALIDATOR_CLASS": "integrations.oauth.CatalogueOAuth2Validator",
    # client credentials only (SPEC §3): no other grant has a handler at all
    "OAUTH2_SERVER_CLASS": "integrations.oauth.ClientCredentialsServer",
    "CLIENT_SECRET_HASHER": "pbkdf2_sha256_client",
    # Only client credentials are used; adopt every RFC 9700 (OAuth 2.0 Security BCP) default,
    # including storing token checksums only (lookups never need the plaintext).
    **{
        f"COMPLIANT_BCP_RFC9700_{flag}": True
        for flag in (
            "IMPLICIT_GRANT",
            "PASSWORD_GRANT",
            "PKCE_METHOD",
            "ACCESS_TOKEN_TRANSPORT",
            "AUTHZ_RESPONSE_ISS",
            "TOKEN_STORAGE",
            "REFRESH_TOKEN",
            "REDIRECT_URI_SCHEME",
            "REDIRECT_URI_MATCHING",
            "PKCE_REQUIRED",
        )
    },
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.api.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.permissions.DeclaredScopes"],
    "DEFAULT_PARSER_CLASSES": ["config.api.renderers.JSONBodyParser"],
    "DEFAULT_RENDERER_CLASSES": ["config.api.renderers.FastJSONRenderer"],
    "EXCEPTION_HANDLER": "config.api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": [],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.api.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    # HTTPS only by default (opt out for a plain-HTTP setup: SECURE_SSL_REDIRECT=0,
    # SECURE_HSTS_SECONDS=0); behind TLS termination the proxy says X-Forwarded-Proto: https
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # load-balancer probes may speak plain HTTP to the pod: never redirect them
    SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

from config.api.scopes import SCOPES as _SCOPES  # noqa: E402  (plain data, no Django imports)

OAUTH2_PROVIDER["SCOPES"] = _SCOPES
OAUTH2_PROVIDER["DEFAULT_SCOPES"] = ["__all__"]  # resolved per client by ClientScopes
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

RATE_LIMIT_PER_MINUTE = env_int("RATE_LIMIT_PER_MINUTE", 1200)
# Wrong client secrets per client id and caller address per minute, before 429 (SPEC §18).
TOKEN_FAILURES_PER_MINUTE = env_int("TOKEN_FAILURES_PER_MINUTE", 20)
# Tokens issued per client per minute (0 disables): every token call stores a row.
TOKEN_REQUESTS_PER_MINUTE = env_int("TOKEN_REQUESTS_PER_MINUTE", 60)
# Proxies in front of the service that append the caller to X-Forwarded-For (0: trust none and
# use REMOTE_ADDR); only the caller address of the bad-secret throttle depends on it.
TRUSTED_PROXY_HOPS = env_int("TRUSTED_PROXY_HOPS", 0)
IDEMPOTENCY_TTL_SECONDS = env_int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600)
# How long a duplicate waits for the first request with its key before 409 (PostgreSQL).
IDEMPOTENCY_WAIT_SECONDS = env_int("IDEMPOTENCY_WAIT_SECONDS", 5)

# Background work (SPEC §17): Celery, configured here and read by config/celery.py.
# Without a broker (the embedded demo, tests) tasks run in-process when they are sent.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", CACHE_URL) or "memory://"
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# beat keeps its schedule in a file: under var/ (writable, ignored by git), not the working dir
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_TIMEOUT = 2
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # sending a task from a request must not hang on a paused Redis either (the worker's blocking
    # reads wait up to a second, so this is longer than the cache's timeout)
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 5, "socket_connect_timeout": 2}
#: change events are kept this long (SPEC §19); an older feed cursor is 410 (10024)
CHANGES_RETENTION_DAYS = env_int("CHANGES_RETENTION_DAYS", 30)
#: periodic tasks (``celery -A config beat``): name → {"task": dotted path, "schedule": seconds}
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # change events older than CHANGES_RETENTION_DAYS (SPEC §19)
    "prune-change-events": {
        "task": "changes.tasks.prune_change_events",
        "schedule": env_int("CHANGES_PRUNE_INTERVAL_SECONDS", 3600),
    },
    # expired access tokens authenticate nothing; every token call stores a row (SPEC §3)
    "prune-expired-tokens": {
        "task": "integrations.tasks.prune_expired_tokens",
        "schedule": env_int("TOKEN_PRUNE_INTERVAL_SECONDS", 900),
    },
    # idempotency records are kept 24 h (SPEC §18)
    "prune-idempotency-records": {
        "task": "config.api.tasks.prune_idempotency_records",
        "schedule": 3600,
    },
}
# Webhooks (SPEC §20). Secrets are stored encrypted with WEBHOOK_SECRET_KEY (Fernet keys, comma
# separated: the first encrypts, all decrypt, for rotation); unset, a key is derived from SECRET_KEY
# (docs/api-notes/webhooks.md). WEBHOOK_ALLOW_PRIVATE=1 (development, tests) admits http:// and
# private, loopback and link-local targets, at subscribe and at delivery time.
WEBHOOK_SECRET_KEY = os.environ.get("WEBHOOK_SECRET_KEY", "")
#: after POST /v2/webhooks/{id}/rotate-secret the replaced secret still signs this long (24 h)
WEBHOOK_SECRET_OVERLAP_SECONDS = env_int("WEBHOOK_SECRET_OVERLAP_SECONDS", 24 * 3600)
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
#: a receiver answers within this or the attempt failed (SPEC §20: 10 s)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS") or 10)
#: retries (exponential backoff from BASE up to MAX, with jitter) stop this long after the first
#: attempt: the delivery is then failed (24 h)
WEBHOOK_RETRY_WINDOW_SECONDS = env_int("WEBHOOK_RETRY_WINDOW_SECONDS", 24 * 3600)
WEBHOOK_RETRY_BASE_SECONDS = float(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS") or 5)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600)
#: a subscription whose deliveries failed without a success for this long is deactivated (3 days)
WEBHOOK_DEACTIVATE_AFTER_SECONDS = env_int("WEBHOOK_DEACTIVATE_AFTER_SECONDS", 3 * 24 * 3600)
#: deliveries of different records of one subscription sent at once (one record's stay in order)
WEBHOOK_PARALLEL_PER_SUBSCRIPTION = env_int("WEBHOOK_PARALLEL_PER_SUBSCRIPTION", 8)
#: beat's safety net: read the outbox and send due retries every N seconds
WEBHOOK_SWEEP_SECONDS = env_int("WEBHOOK_SWEEP_SECONDS", 5)
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {
    "task": "webhooks.tasks.sweep",
    "schedule": WEBHOOK_SWEEP_SECONDS,
}
#: finished (succeeded or failed) deliveries are kept this long in the deliveries log
WEBHOOK_DELIVERY_RETENTION_DAYS = env_int("WEBHOOK_DELIVERY_RETENTION_DAYS", 30)
CELERY_BEAT_SCHEDULE["webhooks-prune-deliveries"] = {
    "task": "webhooks.tasks.prune_deliveries",
    "schedule": 3600,
}
# Jobs (SPEC §21): asynchronous bulk requests and imports, run on Celery workers in batches.
ASYNC_BULK_MAX_ITEMS = env_int("ASYNC_BULK_MAX_ITEMS", 100_000)
MAX_IMPORT_BYTES = env_int("MAX_IMPORT_BYTES", 1024 * 1024 * 1024)
#: records per committed batch (at most the resource's synchronous item limit)
JOBS_BATCH_SIZE = env_int("JOBS_BATCH_SIZE", 1000)
#: a running job whose heartbeat (each committed batch) is older than this is resumed elsewhere
JOBS_STALE_SECONDS = env_int("JOBS_STALE_SECONDS", 300)
JOBS_MAX_ATTEMPTS = env_int("JOBS_MAX_ATTEMPTS", 5)
#: PostgreSQL: ANALYZE the catalogue tables after a bulk job of at least this many items
JOBS_ANALYZE_ROWS = env_int("JOBS_ANALYZE_ROWS", 10_000)
CELERY_BEAT_SCHEDULE["resume-stale-jobs"] = {
    "task": "jobs.tasks.resume_stale_jobs",
    "schedule": env_int("JOBS_RESUME_INTERVAL_SECONDS", 60),
}
#: finished jobs (their outcomes and stored inputs) are kept this long, then pruned hourly
JOBS_RETENTION_DAYS = env_int("JOBS_RETENTION_DAYS", 30)
CELERY_BEAT_SCHEDULE["prune-jobs"] = {"task": "jobs.tasks.prune_jobs", "schedule": 3600}
# Uploaded job inputs (Django's default storage): local files under var/ unless configured.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "var" / "media")
MEDIA_URL = "/media/"

# A ping every N seconds through beat and the worker, off by default: the smoke suite turns it on
# to see that beat schedules and the worker executes (CELERY_HEARTBEAT_SECONDS=2).
CELERY_HEARTBEAT_SECONDS = env_int("CELERY_HEARTBEAT_SECONDS", 0)
if CELERY_HEARTBEAT_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["heartbeat"] = {
        "task": "config.api.tasks.ping",
        "schedule": CELERY_HEARTBEAT_SECONDS,
    }
