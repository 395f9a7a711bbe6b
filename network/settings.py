"""Settings for the whole project, driven by environment variables (see docs/operations.md)."""

import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from network.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)
(VAR_DIR / "static").mkdir(exist_ok=True)

TESTING = "pytest" in sys.modules
_INSECURE_SECRET = "dev-insecure-secret-key-change-me"

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY", _INSECURE_SECRET)
# Production is anything that is neither DEBUG nor a test run; it must not start with the known secret.
if not DEBUG and not TESTING and SECRET_KEY == _INSECURE_SECRET and not env_bool("ALLOW_INSECURE_SECRET"):
    raise ImproperlyConfigured(
        "SECRET_KEY is unset: set SECRET_KEY to a long random value, or DEBUG=1 for local development"
    )
if not DEBUG and not TESTING and len(SECRET_KEY) < 32 and SECRET_KEY != _INSECURE_SECRET:
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long in production")

BASE_DOMAIN = env_str("BASE_DOMAIN", "localhost")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", f".{BASE_DOMAIN}", BASE_DOMAIN, "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_countries",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "network",
    "webhooks",
    "merchants",
    "affiliates",
    "payouts",
    "tracking",
    "reports",
]

# The click and tracking paths (/c/, /t/) skip session, auth, CSRF and message work: see network.middleware.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "network.middleware.TrackingExemptSessionMiddleware",
    "network.middleware.TrackingExemptLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "network.middleware.TrackingExemptCsrfViewMiddleware",
    "network.middleware.TrackingExemptAuthenticationMiddleware",
    "network.middleware.TrackingExemptMessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",  # cheap: a namespace and a context per request
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "network.urls"
WSGI_APPLICATION = "network.wsgi.application"
ASGI_APPLICATION = "network.asgi.application"

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
                "network.context_processors.tenant",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_url("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}", schemes=("sqlite", "postgres", "postgresql")),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        # A persistent connection that broke (server restart, failover) is replaced, not reused.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker and the web server write without "database is locked" under light load.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                                       "transaction_mode": "IMMEDIATE", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Accounts: email is the login; verification is mandatory; TOTP as the second factor.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_ADAPTER = "network.accounts.AccountAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env_str("MFA_TOTP_ISSUER", "Seed Affiliate Network")
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG or TESTING else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "no-reply@localhost")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("vi", _("Vietnamese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Cache: Redis when one is configured (shared by every process), else files under var/ so that
# several local processes still agree; tests use memory.
CACHE_URL = env_url("CACHE_URL", "", schemes=("redis", "rediss"))
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
if TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif CACHE_URL or CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": CACHE_URL or CELERY_BROKER_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

# Celery: Redis in production and CI; with no broker configured, kombu's filesystem transport under
# var/ works across processes with no server, which is what `make run` uses.
if CELERY_BROKER_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = TESTING
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic work, all of it listed here. django-celery-beat is not used
# because no release supports Django 6.1 yet (see README, "Stack").
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # payouts: funding traffic light hourly; last month's invoices daily (idempotent, issues once).
    "payouts-refresh-funding-status": {"task": "payouts.tasks.refresh_funding_status", "schedule": 3600.0},
    "payouts-issue-invoices": {"task": "payouts.tasks.issue_invoices", "schedule": 86400.0},
    # payouts: build due batches hourly (one per period); poll sent payouts and recover stale claims.
    "payouts-build-due-payouts": {"task": "payouts.tasks.build_due_payouts", "schedule": 3600.0},
    "payouts-poll-payouts": {"task": "payouts.tasks.poll_payouts", "schedule": 300.0},
    # reports: rollups for the dashboards, incremental and idempotent.
    "reports-refresh-rollups": {"task": "reports.tasks.refresh_rollups", "schedule": 60.0},
    # tracking: approve due conversions and post the ledger hourly; marketplace figures every 15 minutes.
    "tracking-reconcile": {"task": "tracking.tasks.reconcile_all_networks", "schedule": 3600.0},
    "tracking-refresh-program-metrics": {"task": "tracking.tasks.refresh_program_metrics", "schedule": 900.0},
    # webhooks: retries are due-time rows, not long Celery ETAs; beat sends whatever is due every minute.
    "webhooks-dispatch-due-deliveries": {"task": "webhooks.tasks.dispatch_due_deliveries", "schedule": 60.0},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "network.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["network.api.throttling.ApiKeyRateThrottle"],  # API_RATE_LIMIT_PER_MINUTE
    "DEFAULT_PAGINATION_CLASS": "network.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "network.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Seed affiliate network API",
    "DESCRIPTION": "The integrator API. Authenticate with `Authorization: Bearer <api key>`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Providers (payouts and Stripe webhooks); empty means "not configured", which the code reports clearly.
STRIPE_API_KEY = env_str("STRIPE_API_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
PAYPAL_API_BASE = env_url("PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com", schemes=("https", "http"))
PAYPAL_CLIENT_ID = env_str("PAYPAL_CLIENT_ID")
PAYPAL_CLIENT_SECRET = env_str("PAYPAL_CLIENT_SECRET")
PAYONEER_API_BASE = env_url("PAYONEER_API_BASE", "https://api.sandbox.payoneer.com", schemes=("https", "http"))
PAYONEER_PROGRAM_ID = env_str("PAYONEER_PROGRAM_ID")
PAYONEER_TOKEN = env_str("PAYONEER_TOKEN")
PAYPAL_WEBHOOK_ID = env_str("PAYPAL_WEBHOOK_ID")
PAYONEER_WEBHOOK_SECRET = env_str("PAYONEER_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE")  # only to point the SDK at a local fake
BANK_DEBTOR_NAME = env_str("BANK_DEBTOR_NAME")
BANK_DEBTOR_IBAN = env_str("BANK_DEBTOR_IBAN")
BANK_DEBTOR_BIC = env_str("BANK_DEBTOR_BIC")
SANDBOX_WEBHOOK_SECRET = env_str("SANDBOX_WEBHOOK_SECRET", "sandbox-webhook-secret")

# Privacy: click IPs are stored only as a salted hash; the salt is derived from SECRET_KEY unless set.
IP_HASH_SALT = env_str("IP_HASH_SALT", SECRET_KEY)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
