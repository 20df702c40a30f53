"""Settings shared by every environment. Values come from environment variables."""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    # django.contrib.admin, with the registry's site (config.admin_site).
    "config.apps.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "accounts",
    "partners",
    "agreements",
    "history",
    "engagements",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Gzip for slow links, outside everything that writes the body (WhiteNoise, inserted above
    # it, serves its own pre-compressed files). BREACH: Django masks the CSRF token anew in
    # every response and GZipMiddleware pads its output with random bytes (Django 4.2's
    # "Heal the Breach" mitigation). Session and API tokens travel in headers, never
    # compressed, but for the token endpoint's answer, which echoes nothing a request sends.
    "django.middleware.gzip.GZipMiddleware",
    "config.middleware.refuse_nul_bytes",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("DJANGO_CONN_HEALTH_CHECKS", True))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env.bool(
    "DJANGO_DB_JIT", default=False
):
    # The registry's queries are short: PostgreSQL's JIT compilation costs more than it saves.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic puts the files that production serves (WhiteNoise).
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "var" / "static")

# Email: console by default, SMTP (or anything django-environ understands) through EMAIL_URL.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_FILE_PATH = _email.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="registry@localhost")

# Absolute links in emails and calendar feeds.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Registry behaviour.
REGISTRY_EXPIRING_SOON_DAYS = 90
# A provision is dormant when no completed engagement under it ended in the last N years
# (engagements/activity.py).
ENGAGEMENT_DORMANT_YEARS = env.int("ENGAGEMENT_DORMANT_YEARS", default=3)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}

# Browser pages: the app's own static files and a strict Content-Security-Policy (no inline
# script or style, nothing from another origin).
from csp.constants import NONE, SELF  # noqa: E402

STATICFILES_DIRS = [BASE_DIR / "static"]
INSTALLED_APPS += ["csp"]
MIDDLEWARE += ["csp.middleware.CSPMiddleware"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# How far ahead the personal calendar feed looks, and how far back it keeps the engagements
# that have ended.
REGISTRY_CALENDAR_DAYS = 730
REGISTRY_CALENDAR_PAST_DAYS = 365

# Celery ------------------------------------------------------------------------------------
# The broker: kombu's filesystem transport by default (no server; one machine), Redis or
# RabbitMQ at scale (CELERY_BROKER_URL=redis://host:6379/0 or amqp://user:pass@host//).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_FOLDER = BASE_DIR / "var" / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS = env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={})
if CELERY_BROKER_URL.startswith("filesystem:"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
        **CELERY_BROKER_TRANSPORT_OPTIONS,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
# A task is acknowledged only once it finished; one killed mid-way goes back on the queue.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")

# Reminders ---------------------------------------------------------------------------------
# Days before each date a reminder goes out; an agreement may set its own (reminder_offsets).
REMINDER_OFFSETS = {
    "expiry": [180, 90, 30, 7],
    "notice_deadline": [60, 30, 7, 1],
    "review": [30, 7, 0],
}
# When beat runs the daily lifecycle task and then the sweep (HH:MM in TIME_ZONE).
REMINDER_LIFECYCLE_TIME = env("REMINDER_LIFECYCLE_TIME", default="05:45")
REMINDER_SWEEP_TIME = env("REMINDER_SWEEP_TIME", default="06:00")
# The office mailbox is a shared inbox, not a person with a clearance: it gets reminders only
# for agreements classified at or below this level.
REMINDER_OFFICE_MAX_CLASSIFICATION = env(
    "REMINDER_OFFICE_MAX_CLASSIFICATION", default="unclassified"
)
# Postings of points of contact: the office mailbox is told this many days before a posting
# ends with no successor recorded (agreements/posting_reminders.py). Agreements name their
# own office mailbox; this one is the registry's office for attaché postings. Empty: no
# posting reminders.
POSTINGS_OFFICE_EMAIL = env("POSTINGS_OFFICE_EMAIL", default="postings-office@localhost")
POSTING_END_REMINDER_DAYS = env.int("POSTING_END_REMINDER_DAYS", default=60)
# Engagements (engagements/reminders.py): the owner and watchers are told this many days
# before an engagement starts, and of its after-action report on the day it is due and this
# many days after (until the outcome is recorded). A sweep that missed the day of the last
# after-action reminder still sends it up to ENGAGEMENT_AFTER_ACTION_CATCH_UP_DAYS later.
ENGAGEMENT_REMINDER_OFFSETS = env.list("ENGAGEMENT_REMINDER_OFFSETS", cast=int, default=[30, 7, 1])
ENGAGEMENT_AFTER_ACTION_OFFSETS = env.list(
    "ENGAGEMENT_AFTER_ACTION_OFFSETS", cast=int, default=[0, 7]
)
ENGAGEMENT_AFTER_ACTION_CATCH_UP_DAYS = env.int("ENGAGEMENT_AFTER_ACTION_CATCH_UP_DAYS", default=7)
# A delivery claimed longer ago than this is taken to belong to a dead worker and may be taken
# again. Keep it above CELERY_TASK_TIME_LIMIT, so a live delivery's claim never goes stale.
REMINDER_CLAIM_TIMEOUT = env.int("REMINDER_CLAIM_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 60)
# Failed sends are retried after 1, 2, 4, 8… times this many seconds, up to the maximum.
REMINDER_RETRY_BASE_SECONDS = env.int("REMINDER_RETRY_BASE_SECONDS", default=60)
REMINDER_MAX_RETRIES = env.int("REMINDER_MAX_RETRIES", default=6)


def _daily_at(value: str):
    hour, _, minute = value.partition(":")
    return crontab(hour=int(hour), minute=int(minute or 0))


# Fixed in settings: beat reads it at start and never deletes or rewrites stored schedules.
CELERY_BEAT_SCHEDULE = {
    "agreements-lifecycle": {
        "task": "agreements.tasks.run_lifecycle",
        "schedule": _daily_at(REMINDER_LIFECYCLE_TIME),
    },
    "reminders-daily-sweep": {
        "task": "agreements.tasks.sweep_reminders",
        "schedule": _daily_at(REMINDER_SWEEP_TIME),
    },
}

# REST API (/api/v1/) ---------------------------------------------------------------------
INSTALLED_APPS += [
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes an anonymous request a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api.ModelPermissions"],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    # django-filter with the registry's query rules: repeated comma lists merge, unknown
    # parameters are a 400 naming them (config/api.py, config/filters.py).
    "DEFAULT_FILTER_BACKENDS": ["config.api.FilterBackend"],
    # An unknown ?format= is a 400 naming the formats the endpoint offers.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "config.api.ContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "config.schema.RegistrySchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # DRF's parsers, with JSON nested deeper than JSON_MAX_DEPTH refused as a 400.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonThrottle",
        "config.throttling.UserThrottle",
    ],
    # Per address (anon) or per signed-in user, and for sign-in POSTs (the login page and
    # the token endpoint) per address and per username; config/throttling.py.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_RATE_ANON", default="60/minute"),
        "user": env("THROTTLE_RATE_USER", default="3600/hour"),
        "sign_in": env("THROTTLE_RATE_SIGN_IN", default="30/minute"),
        "sign_in_username": env("THROTTLE_RATE_SIGN_IN_USERNAME", default="60/hour"),
    },
    "DEFAULT_RENDERER_CLASSES": [
        "config.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Proxies of our own in front of the app that append to X-Forwarded-For (0: none, the client's
# address is the socket's). The lockout and every throttle use the same address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT

# The cache: what the throttles count in, shared by every web process. The database cache by
# default (its table made by `manage.py createcachetable`, which `make run` runs); Redis at
# scale, e.g. CACHE_URL=redis://redis.example.org:6379/1.
CACHES = {"default": env.cache_url("CACHE_URL", default="dbcache://registry_cache")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    # The same table and behaviour, with a set in one statement (config/cache.py).
    CACHES["default"]["BACKEND"] = "config.cache.DatabaseCache"

# Brute-force protection (django-axes): a username tried from one address is locked out after
# LOGIN_FAILURE_LIMIT failures for LOGIN_COOLOFF_MINUTES, on the login page, the admin (which
# signs in through it) and the token endpoint alike. Attempts are rows in the database.
import datetime  # noqa: E402

INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Permissions in one query instead of ModelBackend's two (it signs no one in).
    "accounts.backends.PermissionsInOneQuery",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The cool-off runs from the lockout: attempts during it neither count nor extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "config.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_VERBOSE = False  # no banner on every manage.py command; failures are still logged

# JSON from outside (API bodies, the admin's JSON fields, the import) nested deeper than this
# is bad input (config/jsonlimits.py); nothing the registry takes needs more than a few levels.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)

SPECTACULAR_SETTINGS = {
    "TITLE": "Defense Cooperation Agreement Registry API",
    "DESCRIPTION": "Agreements, parties, provisions, deadlines and statistics. "
    "Every answer is limited to what your clearance allows.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "AgreementTypeEnum": "agreements.choices.AgreementType",
    "AgreementStatusEnum": "agreements.choices.AgreementStatus",
    "ProvisionCategoryEnum": "agreements.choices.ProvisionCategory",
    "ReminderStatusEnum": "agreements.choices.ReminderStatus",
    "ReminderKindEnum": "agreements.choices.ReminderKind",
    "EventKindEnum": "agreements.choices.EventKind",
    "PartyActKindEnum": "agreements.choices.PartyActKind",
    "PartyStatusEnum": "agreements.choices.PartyStatus",
    "OrganizationKindEnum": "partners.choices.OrganizationKind",
    "ContactRoleEnum": "partners.choices.ContactRole",
    "PartyKindEnum": ["nation", "organization"],
    "EngagementKindEnum": "engagements.choices.EngagementKind",
    "EngagementStatusEnum": "engagements.choices.EngagementStatus",
    "DomainEnum": "engagements.choices.Domain",
    "OutcomeEnum": "agreements.choices.ReviewOutcome",  # as before engagements had one
    "EngagementOutcomeEnum": "engagements.choices.Outcome",
    "ParticipationRoleEnum": "engagements.choices.ParticipationRole",
}
