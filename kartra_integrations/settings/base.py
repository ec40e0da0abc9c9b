"""Settings shared by every environment; values come from the environment (django-environ).

development.py and test.py add explicit local defaults; production.py refuses to start without
real values.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"  # local state of development and tests: SQLite file, broker, logs
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default=None)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # ReDoc's files, served by us (/api/v1/docs)
    "csp",
    "axes",
    "accounts",
    "approvals",
    "leads",
    "zaphooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused for too many failures into our lockout page (accounts.login_lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kartra_integrations.urls"
WSGI_APPLICATION = "kartra_integrations.wsgi.application"

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


def database(url: str) -> dict:
    """DATABASES["default"] from a URL. On PostgreSQL, parameters are bound by the server and a query
    run a few times on a connection becomes a prepared statement, so PostgreSQL parses and plans it
    once per connection instead of on every request (bench/bench_api.py: planning the API's queries
    cost more than running them). Connections live CONN_MAX_AGE seconds, so the statements are reused."""
    settings = env.db_url_config(url)
    settings["ATOMIC_REQUESTS"] = False
    settings.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    if settings["ENGINE"] == "django.db.backends.postgresql":
        settings.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=2)
    elif settings["ENGINE"] == "django.db.backends.sqlite3":
        # `make run` serves the web app, a worker and beat on one SQLite file: write-ahead logging
        # lets readers and a writer overlap, and IMMEDIATE transactions queue writers instead of
        # failing with "database is locked" when a reader tries to become a writer.
        settings.setdefault("OPTIONS", {}).update(
            transaction_mode="IMMEDIATE", timeout=20, init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        )
    return settings


DATABASES = {"default": database(env("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# AxesStandaloneBackend first: it refuses a locked-out account or address before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login lockout (django-axes; accounts.login_lockout): LOGIN_FAILURE_LIMIT failed logins for one
# account, or from one address, lock it for LOGIN_LOCKOUT_MINUTES. Covers /login/ and the admin.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own
AXES_USERNAME_CALLABLE = "accounts.login_lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "accounts.login_lockout.login_client_ip"  # TRUSTED_PROXIES, like the hosted pages
AXES_LOCKOUT_CALLABLE = "accounts.login_lockout.login_locked_out"
AXES_RESET_ON_SUCCESS = False  # accounts.login_lockout resets the account's failures, not the address's
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Redis serves Celery, the cache (API throttling) and nothing else. Without REDIS_URL the
# development defaults are Celery's filesystem broker and a local-memory cache.
REDIS_URL = env("REDIS_URL", default=None)
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "filesystem://localhost/"
    _broker_dir = VAR_DIR / "celery-broker"
    for _folder in (_broker_dir, VAR_DIR / "celery-control"):
        _folder.mkdir(exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery-control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic jobs (Celery beat). Every task lives in its app's tasks.py (autodiscovered).
CELERY_BEAT_SCHEDULE = {
    "approvals-mark-overdue": {"task": "approvals.tasks.activation_requests_mark_overdue", "schedule": 300.0},
    "leads-complete-ended-calendar-bookings": {
        "task": "leads.tasks.calendar_bookings_complete_ended_task",
        "schedule": 60.0,
    },
    "leads-expire-points": {"task": "leads.tasks.points_expire_due_task", "schedule": 300.0},
    "leads-purge-expired-opt-ins": {"task": "leads.tasks.pending_opt_ins_purge_task", "schedule": 3600.0},
    "leads-sequence-engine": {"task": "leads.sequence_engine.sequence_engine_run_task", "schedule": 60.0},
    # Hook delivery: free expired claims, relay missed events, restart a dispatcher for due work.
    "zaphooks-sweep": {"task": "zaphooks.hooks_sweep", "schedule": 5.0},
    "idempotency-keys-expire": {"task": "accounts.tasks.idempotency_keys_expire_task", "schedule": 3600.0},
}

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Kartra Integrations <no-reply@localhost>")

# The platform allows 20 API requests a second per account.
API_RATE_PER_ACCOUNT = env("API_RATE_PER_ACCOUNT", default="20/s")
# POST /api: the platform's 20 calls a second per developer app (raised only by the benchmark).
COMMAND_API_RATE_PER_APP = env.int("COMMAND_API_RATE_PER_APP", default=20)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ApiCredentialAuthentication"],
    # Every endpoint takes the Zapier credential, unless it says otherwise (POST /api/v1/events).
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.ZapierActivated", "accounts.permissions.ZapierCredential"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.AccountRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["kartra_integrations.parsers.SafeJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "kartra_integrations.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Kartra Integrations API",
    "DESCRIPTION": "The REST API that Kartra's Zapier integration calls.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The 26 trigger events appear in several serializers: one enum in the schema.
    # Two "status" choice sets (sequence subscriptions, recurring subscriptions): one name each.
    "ENUM_NAME_OVERRIDES": {
        "LeadEventEnum": "zaphooks.filters.EVENTS",
        "SequenceSubscriptionStatusEnum": ["active", "unsubscribed", "completed"],
        "RecurringSubscriptionStatusEnum": ["active", "cancelled"],
    },
    # /api/v1/docs loads ReDoc from drf-spectacular-sidecar's static files (pinned), not a CDN.
    "REDOC_DIST": "SIDECAR",
}

# Content-Security-Policy on every response (django-csp): our own origin only, no inline script or
# style (templates/ has none: tests/test_security_headers.py checks), no framing, forms post only
# to us, no <base>. The API docs page adds what ReDoc needs (kartra_integrations/api_urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
    }
}

# Moderators' working calendar for the activation-review SLA.
MODERATION_TIME_ZONE = env("MODERATION_TIME_ZONE", default="America/New_York")
MODERATION_HOLIDAY_COUNTRY = env("MODERATION_HOLIDAY_COUNTRY", default="US")

# Outbound hooks may reach http, private and loopback targets only where this is true.
HOOKS_ALLOW_PRIVATE_TARGETS = env.bool("HOOKS_ALLOW_PRIVATE_TARGETS", default=False)
# Wake the hook dispatcher when a transaction that wrote lead events commits (the fast path; the
# sweeper finds the events without it, within seconds). Off in the test settings: no worker there.
HOOKS_WAKE_ON_COMMIT = env.bool("HOOKS_WAKE_ON_COMMIT", default=True)
# Hook dispatchers: how many may run at once (each a Celery task holding a Redis slot; a busy one
# starts the next; under the prefork pool each is a process, so each can use a core), requests in
# flight per dispatcher and per target URL across all of them (a slow endpoint holds back nobody
# else), how long one idles before exiting, how long one run lasts at most, and how often it looks
# for new events without a wake-up (default: 1 s with Redis to wake it, 0.1 s without).
HOOKS_DISPATCHERS = env.int("HOOKS_DISPATCHERS", default=2)
HOOKS_MAX_IN_FLIGHT = env.int("HOOKS_MAX_IN_FLIGHT", default=512)
# 512 per target (256 per dispatcher's share): a receiver answering in 200 ms gets up to ~2,500
# deliveries a second (`make bench-hooks` aims at 3,000 a second over two such endpoints; 256 capped
# that at 2,560); an aiohttp connection costs a socket and a few kB, and a slow receiver still holds
# back nobody else.
HOOKS_MAX_IN_FLIGHT_PER_TARGET = env.int("HOOKS_MAX_IN_FLIGHT_PER_TARGET", default=512)
HOOKS_DISPATCH_IDLE_SECONDS = env.float("HOOKS_DISPATCH_IDLE_SECONDS", default=20.0)
HOOKS_DISPATCH_MAX_SECONDS = env.float("HOOKS_DISPATCH_MAX_SECONDS", default=600.0)
HOOKS_RELAY_POLL_SECONDS = env.float("HOOKS_RELAY_POLL_SECONDS", default=None)

# Proxies whose X-Forwarded-For we believe (addresses or networks).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# How the hosted checkout takes payment. Unset (production's default): it refuses to sell, with a
# "payments are not configured" page, and records nothing. "test": no payment processor; products
# whose owner turned test mode on sell without payment, each sale marked as a test sale.
PAYMENT_MODES = ("test",)
PAYMENTS_MODE = env("PAYMENTS_MODE", default="")
if PAYMENTS_MODE and PAYMENTS_MODE not in PAYMENT_MODES:
    raise ImproperlyConfigured(f"PAYMENTS_MODE must be unset or one of {', '.join(PAYMENT_MODES)}.")

# How long a double opt-in confirmation link stays valid.
OPT_IN_CONFIRMATION_MAX_AGE_HOURS = env.int("OPT_IN_CONFIRMATION_MAX_AGE_HOURS", default=72)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
