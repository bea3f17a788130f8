"""One env-driven settings module.

With no environment at all the system runs on SQLite in the project folder and
Celery tasks execute eagerly (errors propagate).  Production differs only by
environment variables: ``DATABASE_URL`` (PostgreSQL through psycopg 3),
``CELERY_BROKER_URL`` (Redis), ``DJANGO_DEBUG``, ``DJANGO_SECRET_KEY``,
``DJANGO_ALLOWED_HOSTS`` … (all listed in the README).
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from config.logging import build_logging

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="insecure-embedded-default-key-change-me-in-production-0123456789",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "registry",
    "registry.security.apps.SecurityConfig",
    "fund",
    "subsidies",
    "banks",
    "reporting",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "registry.security.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "registry.security.middleware.ActiveUserMiddleware",
    "registry.security.middleware.PasswordExpiryMiddleware",
    "registry.security.middleware.ApprovalSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the dev server and eager tasks share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# One cache shared by every process and machine (request throttles, counters): Redis in production,
# e.g. redis://host:6379/1; the default, local memory, is per process.
CACHES = {"default": env.cache("DJANGO_CACHE_URL", default="locmemcache://")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "registry.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # 等保 level 3 (docs/security.md): three of four character classes, no reuse of the last five
    {"NAME": "registry.security.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "registry.security.passwords.PasswordHistoryValidator", "OPTIONS": {"history": 5}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文"))]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "DJANGO_STATICFILES_STORAGE",
            default="django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
# Uploaded workbooks and claim documents are private: never under STATIC/MEDIA URL.
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_AGE", default=30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Celery --------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged task to another worker after the visibility timeout, so every
# task is stopped before that (hard limit); see docs/operations.md "Celery".
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=min(3600, CELERY_VISIBILITY_TIMEOUT * 9 // 10))
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=CELERY_TASK_TIME_LIMIT * 9 // 10)
if not 0 < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT:
    raise ValueError("need 0 < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT")
# worker logs go through LOGGING (JSON lines with request ids), not Celery's own format
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# tasks outside <app>/tasks.py that the worker must know
CELERY_IMPORTS = ["banks.tasks_maintenance"]
CELERY_BEAT_SCHEDULE = {
    # re-queues intake batches whose processing was lost (banks/tasks_maintenance.py)
    "intake-stuck-batch-sweeper": {
        "task": "banks.tasks.requeue_stuck_batches",
        "schedule": timedelta(minutes=5),
    },
    "nightly-suspension-evaluation": {
        "task": "fund.tasks.evaluate_suspensions",
        "schedule": timedelta(hours=24),
    },
    "daily-reconciliation": {
        "task": "fund.tasks.reconcile_ledger",
        "schedule": timedelta(hours=24),
    },
    # R29, R30: flag claim reviews past their service level and recovery refunds past due.
    "daily-claim-flags": {
        "task": "fund.tasks_claims.flag_overdue_claims",
        "schedule": crontab(hour="6", minute="0"),
    },
    # R41: monthly statistics snapshot as of the previous month's end, after reports are due (10th).
    "monthly-statistics-snapshot": {
        "task": "reporting.tasks.build_monthly_snapshots",
        "schedule": crontab(day_of_month="11", hour="2", minute="30"),
    },
}

# --- REST framework ------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "registry.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    # Several models have a "kind" or "status" choice set; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "BatchKindEnum": "banks.models.BatchKind",
        "BatchStatusEnum": "banks.models.BatchStatus",
        "IssueLevelEnum": "banks.models.IssueLevel",
        "LoanStatusEnum": "fund.models.loans.LoanStatus",
        "LoanModeEnum": "fund.models.loans.LoanMode",
        "ClassificationEnum": "fund.models.loans.Classification",
        "ClaimStatusEnum": "fund.models.claims.ClaimStatus",
        "ClaimDocumentKindEnum": "fund.models.claims.DocumentKind",
        "RefundStatusEnum": "fund.models.claims.RefundStatus",
        "SnapshotStatusEnum": "reporting.models.SnapshotStatus",
    },
    "TITLE": "风险补偿资金池管理系统 API",
    "DESCRIPTION": "合作银行、担保机构与公众使用的接口。金额均为两位小数的字符串。",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "registry.openapi.document_error_responses",  # 400/401/403/404/415 on every operation
    ],
}

# JSON lines with request ids (config/logging.py); "plain" for a terminal
LOGGING = build_logging(
    level=env.str("DJANGO_LOG_LEVEL", default="INFO"),
    fmt=env.str("DJANGO_LOG_FORMAT", default="plain" if DEBUG else "json"),
)

# Demo password (see interfaces.md); empty means a random one is generated.
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="")

# --- Security (docs/security.md) -------------------------------------------
# Login-failure lockout (django-axes): 5 failures lock the username and, separately, the
# client address for 15 minutes (counted again from the last failure while locked).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "registry.security.lockout.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_HTTP_RESPONSE_CODE = 429
# Behind N trusted reverse proxies (nginx: DJANGO_PROXY_COUNT=1) the client address is the
# N-th entry from the right of X-Forwarded-For; otherwise REMOTE_ADDR.
DJANGO_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "registry.security.lockout.client_ip"

# Passwords: bureau staff change theirs every 90 days (PasswordExpiryMiddleware).
PASSWORD_EXPIRY_DAYS = env.int("DJANGO_PASSWORD_EXPIRY_DAYS", default=90)

# Second factor (TOTP) before approvals and payments (registry.security.otp).
OTP_REQUIRED_FOR_APPROVALS = env.bool("DJANGO_OTP_REQUIRED_FOR_APPROVALS", default=True)
OTP_TOTP_ISSUER = "风险补偿资金池"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# HTTPS: HSTS covers subdomains and may be preloaded once DJANGO_HSTS_SECONDS is set.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy (registry.security.middleware): no inline script anywhere.
CSP_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
CSP_REPORT_ONLY = env.bool("DJANGO_CSP_REPORT_ONLY", default=False)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# Personal information (registry.security.pii): keys outside the database. Without the
# variables, key files are generated under PII_KEY_DIR on first use (back them up!).
PII_ENCRYPTION_KEY = env.str("PII_ENCRYPTION_KEY", default="")
PII_HASH_KEY = env.str("PII_HASH_KEY", default="")
PII_KEY_DIR = Path(env.str("PII_KEY_DIR", default=str(BASE_DIR / "var" / "keys")))

# Logs: ID numbers and mobile numbers are redacted from every record (every handler's
# filter, plus a record factory for handlers configured elsewhere).
LOGGING.setdefault("filters", {})["redact_pii"] = {"()": "registry.security.log_redaction.RedactPIIFilter"}
for _handler in LOGGING.get("handlers", {}).values():
    _handler["filters"] = ["redact_pii", *_handler.get("filters", [])]
LOGGING_CONFIG = "registry.security.log_redaction.configure_logging"
