"""Campus Tiers-Lieux settings: one module, driven by the environment.

With no environment at all the platform runs embedded (SQLite under var/, tasks
in-process, media under var/media/). Production sets DATABASE_URL,
CELERY_BROKER_URL, storage and mail variables; see docs/operations.md.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

from config.release import release_stamp

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CAMPUS_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG is off.")
    return value


# The embedded default is a developer's machine: debug on unless told otherwise.
DEBUG = env_bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-development-key-only-for-make-run")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
else:
    SECRET_KEY = env_required("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Certificates freeze their verification URL (printed, and in their QR code) and mails
# carry links: a production site left on the default would hand out 127.0.0.1 for good.
# Whether it is https is a deploy check (config/checks.py).
SITE_URL = (
    os.environ.get("SITE_URL", "http://127.0.0.1:8000") if DEBUG else env_required("SITE_URL")
).rstrip("/")

INSTALLED_APPS = [
    "certification",
    "learners",
    "courses",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.sites",
    "learners.wagtail_users_app.TeamWagtailUsersConfig",  # wagtail.users, with the team flag
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "allauth",
    "allauth.account",
    "axes",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.FrenchFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, taking the account read with the session (one query, not two).
    "learners.account_sessions.AccountSessionAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Below the messages, which tell the reviewer why an approval was refused.
    "courses.workflows.RefusedApprovalMiddleware",
    # Below CsrfViewMiddleware, which has parsed the form by then, and below the
    # locale, the account and the messages, which the 400 page shows.
    "config.middleware.RefuseNullCharacters",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Below CSPMiddleware, so that it loosens the admin's policy before it is written.
    "config.middleware.admin_inline_scripts",
    "allauth.account.middleware.AccountMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, so that a throttled login is refused before any view runs.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "config.context_processors.campus",
                # Last: overrides the CSRF token while a learner's page may be kept.
                "learners.page_cache.placeholder_token",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'campus.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with a health check that reads the socket instead of querying.
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # A dead database must fail a request fast with a 503, not hang it (libpq
    # counts anything below 2 seconds as 2). CONN_HEALTH_CHECKS (above) replaces
    # a connection that died with the server on the next request: no restart.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
        os.environ.get("DATABASE_CONNECT_TIMEOUT", "2")
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ----------------------------------------------------------------
AUTH_USER_MODEL = "learners.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "learners:dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_UNIQUE_EMAIL = True
# Password reset and sign-in by code answer alike whether an account exists, and
# mail the address what happened; sign-up alone says plainly that an address is
# taken (people otherwise wait for a mail that never comes): its own form.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_FORMS = {
    "signup": "learners.signup_forms.SignupForm",
    "change_password": "learners.password_forms.ChangePasswordForm",
}
ACCOUNT_SIGNUP_FORM_CLASS = "learners.forms.SignupProfileForm"
ACCOUNT_ADAPTER = "learners.account_adapter.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Campus Tiers-Lieux] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
if env_bool("ACCOUNT_RATE_LIMITS_OFF"):
    ACCOUNT_RATE_LIMITS = False

AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "8"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "config.throttling.axes_username"
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"

# --- Mail ----------------------------------------------------------------------
DEFAULT_FROM_EMAIL = os.environ.get(
    "DEFAULT_FROM_EMAIL", "Campus Tiers-Lieux <noreply@example.org>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media --------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
if DEBUG:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing

if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    # Object storage for uploads and rendered certificates; credentials come from
    # the standard AWS_* variables read by django-storages.
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 11 * 1024 * 1024
# A quiz posts some 30 fields a question in Wagtail's editor: 2,000 refused a
# 65-question bank with a 400 and lost the trainer's work. Still a bound.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20_000
# Every file field of a form is a part even when left empty: a quiz sends one per open
# question accepting a file, and publishing refuses a quiz with more than this.
DATA_UPLOAD_MAX_NUMBER_FILES = 30

# --- Cache ----------------------------------------------------------------------
# Rate limits and throttles must be shared by every process in production:
# CACHE_URL=redis://…/1. Without it, each process keeps its own memory cache.
# A stopped Redis is served as cache misses (config/cache.py), and the short
# socket timeouts bound what a hung one costs a request.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": os.environ["CACHE_URL"],
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered pages and pickled rows are kept under the release that made them
# (config/release.py): after a deploy, none the previous release kept is served.
CACHE_RELEASE = release_stamp(BASE_DIR)

# Sessions live in the database only: a Redis restart must not log everyone
# out, and cached_db would keep a logged-out session alive in the cache when
# its delete is lost to a Redis failure (config/cache.py swallows it). One
# query per signed-in request buys a logout that always holds: the session's
# row brings its account's with it (learners/account_sessions.py).
SESSION_ENGINE = "learners.account_sessions"

# --- Celery ----------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL or None)
# Without a broker the platform runs embedded: tasks execute in the request's process.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Nothing reads task results, and storing them would make every enqueue subscribe
# to the result backend first, with no timeout: a hung Redis would hold requests.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_EAGER_PROPAGATES = True
# One queue per deployment (or per test run sharing a Redis) keeps workers apart.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Each pool process is replaced after this many tasks: whatever a long run of
# PDF renders leaves behind in Pango, Fontconfig or the allocator is returned to
# the system (docs/performance.md, « Certificates »). 0 keeps them (Celery wants None).
# Not read from CELERY_WORKER_MAX_TASKS_PER_CHILD: `celery worker` takes that
# variable as its own --max-tasks-per-child option, and refuses 0 there.
CELERY_WORKER_MAX_TASKS_PER_CHILD = int(os.environ.get("WORKER_MAX_TASKS_PER_CHILD", "200")) or None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A request must never wait on a dead broker for long: publish fails fast.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    "socket_timeout": 1.0,
    "socket_connect_timeout": 1.0,
    # Unacknowledged tasks of a killed worker come back after this many seconds.
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600")),
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BEAT_SCHEDULE: dict = {
    # Certificates left without a PDF (broker down at issue time, worker lost).
    "certification-rerender-stale": {
        "task": "certification.tasks.rerender_stale",
        "schedule": 300.0,
    },
    # Pages scheduled to go live or to expire (courses/scheduled_publishing.py).
    "courses-publish-scheduled-pages": {
        "task": "courses.tasks.publish_scheduled_pages",
        "schedule": 300.0,
    },
    # Evidence packs never picked up (broker down at request time) or left by a dead worker.
    "certification-resume-evidence-packs": {
        "task": "certification.tasks.resume_evidence_packs",
        "schedule": 300.0,
    },
    # Passed attempts whose evidence task never ran (broker down at submission).
    "learners-record-missed-outcomes": {
        "task": "learners.tasks.record_missed_outcomes",
        "schedule": 300.0,
    },
    # Mails that failed for good or could not be published (learners/mail_models.py).
    "learners-resend-undelivered-mails": {
        "task": "learners.tasks.resend_undelivered_mails",
        "schedule": 900.0,
    },
    # Invitation batches whose sending task was lost (broker down at upload).
    "learners-resume-stale-invitations": {
        "task": "learners.tasks.resume_stale_invitations",
        "schedule": 300.0,
    },
    # Invitations nobody accepted: their address and name go a year after the link ends.
    "learners-forget-unused-invitations": {
        "task": "learners.tasks.forget_unused_invitations",
        "schedule": crontab(hour=3, minute=15),
    },
    # Track documents of the sessions whose attendance closed (certification/services.py).
    "certification-issue-after-attendance-closes": {
        "task": "certification.tasks.issue_after_attendance_closes",
        "schedule": crontab(hour=6, minute=30),
    },
    # Certificates of erased accounts, 3 years after issue: their holder's name goes.
    "certification-remove-expired-holders": {
        "task": "certification.tasks.remove_expired_holders",
        "schedule": crontab(hour=4, minute=10),
    },
    # Waiting lists of sessions that started: closed, and their people told.
    "learners-close-waiting-lists": {
        "task": "learners.tasks.close_waiting_lists",
        "schedule": crontab(hour=7, minute=5),
    },
    # Expired sessions, and sign-in logs after six months (learners/sign_in_records.py).
    "learners-forget-old-sign-in-records": {
        "task": "learners.tasks.forget_old_sign_in_records",
        "schedule": crontab(hour=3, minute=45),
    },
    # Accounts unused for three years: a notice, then the erasure a month later
    # (learners/inactive_accounts.py), in office hours so a question finds someone.
    "learners-erase-unused-accounts": {
        "task": "learners.tasks.erase_unused_accounts",
        "schedule": crontab(hour=10, minute=20),
    },
    # « À froid » satisfaction surveys and their reminder, once a day in office hours.
    "learners-send-cold-surveys": {
        "task": "learners.tasks.send_cold_surveys",
        "schedule": crontab(hour=9, minute=30),
    },
    # The public figures of each track page (Qualiopi indicators 2 and 3).
    "learners-refresh-indicators": {
        "task": "learners.tasks.refresh_indicators",
        "schedule": crontab(hour=2, minute=30),
    },
    # Session reminders, in the morning so that they arrive before the working day.
    "learners-session-reminders": {
        "task": "learners.tasks.send_session_reminders",
        "schedule": crontab(hour=7, minute=0),
    },
}

# Wagtail's own background jobs (search and reference indexes) run in-process.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# --- Wagtail -------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Campus Tiers-Lieux"
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAIL_I18N_ENABLED = False
# The platform keeps one calendar: an admin page runs in the staff member's own time
# zone, and what staff do there freezes dates (a certificate's issue and expiry, a
# session « over » or not). From Papeete, a reissue at 21:00 would be dated the day
# before a learner's own reissue at the same moment. One zone offered, the account
# page asks for none (learners migration 0024 forgets any chosen before).
WAGTAIL_USER_TIME_ZONES = [TIME_ZONE]
# On PostgreSQL the database backend uses full-text search; French stemming makes
# « tiers-lieux » find « tiers-lieu ». SQLite ignores the option.
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail.search.backends.database", "SEARCH_CONFIG": "french"}
}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "ods", "odp", "pdf", "pptx", "txt", "xlsx"]
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
# Decompression bombs: a small file may declare billions of pixels. 40 MP is a
# 8000 x 5000 photograph, far more than a lesson needs.
WAGTAILIMAGES_MAX_IMAGE_PIXELS = int(os.environ.get("WAGTAILIMAGES_MAX_IMAGE_PIXELS", "40000000"))
WAGTAILDOCS_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAIL_ENABLE_UPDATE_CHECK = False
# A review approved publishes the page only if it still passes its checks.
WAGTAIL_FINISH_WORKFLOW_ACTION = "courses.workflows.publish_if_valid"
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False

# --- Security -------------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A load balancer probes the processes over plain HTTP: a redirect is no answer.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        # Inline scripts run only with the response's nonce (the admin is loosened
        # by config.middleware.admin_inline_scripts).
        "script-src": ["'self'", NONCE],
        "font-src": ["'self'", "data:"],
        "frame-src": ["'self'"],
        "frame-ancestors": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # Wagtail logs every page action and django-tasks every in-process task.
        "wagtail": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        # WeasyPrint narrates every rendering step at INFO; refusals stay visible.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Project ----------------------------------------------------------------------------
CAMPUS_PROVIDER_NAME = os.environ.get("CAMPUS_PROVIDER_NAME", "Campus Tiers-Lieux")
CAMPUS_CONTACT_EMAIL = os.environ.get("CAMPUS_CONTACT_EMAIL", "contact@example.org")
CAMPUS_ACCESSIBILITY_EMAIL = os.environ.get("CAMPUS_ACCESSIBILITY_EMAIL", CAMPUS_CONTACT_EMAIL)
# The privacy page: whom to write to about personal data (the DPO when there is one),
# and the processors the operator contracts with, « name (what for, where) » separated
# by semicolons; when none is given the page says the list is sent on request.
CAMPUS_PRIVACY_EMAIL = os.environ.get("CAMPUS_PRIVACY_EMAIL", CAMPUS_CONTACT_EMAIL)
CAMPUS_PROCESSORS = [
    name.strip() for name in os.environ.get("CAMPUS_PROCESSORS", "").split(";") if name.strip()
]
# The provider as the ministry's certificat de réalisation names it: activity declaration
# number (NDA), SIRET, and the city of « Fait à … ». Each is printed only when set, and
# frozen into a certificate when it is issued.
CAMPUS_PROVIDER_NDA = os.environ.get("CAMPUS_PROVIDER_NDA", "")
CAMPUS_PROVIDER_SIRET = os.environ.get("CAMPUS_PROVIDER_SIRET", "")
CAMPUS_PROVIDER_CITY = os.environ.get("CAMPUS_PROVIDER_CITY", "")
# Below this many answers a track page shows the count, not a rate: a percentage
# of three answers says more about chance than about the training.
PUBLIC_INDICATORS_MIN_ANSWERS = int(os.environ.get("PUBLIC_INDICATORS_MIN_ANSWERS", "5"))
# Every track page names a disability referent (Qualiopi 26); tracks that leave
# theirs blank show the platform's.
DISABILITY_REFERENT_NAME = os.environ.get(
    "DISABILITY_REFERENT_NAME", f"Référent handicap de {CAMPUS_PROVIDER_NAME}"
)
DISABILITY_REFERENT_EMAIL = os.environ.get(
    "DISABILITY_REFERENT_EMAIL", "handicap@" + CAMPUS_CONTACT_EMAIL.rpartition("@")[2]
)
CAMPUS_DATA_DIR = BASE_DIR / "data"
# A render claimed longer ago than this is taken over (its worker is presumed dead).
CERTIFICATE_RENDER_LEASE_SECONDS = int(os.environ.get("CERTIFICATE_RENDER_LEASE_SECONDS", "120"))
# The Open Badges signing key lives outside the repository (docs/openbadges.md);
# retired public keys sit next to it so that old credentials keep verifying.
OPENBADGES_KEY_PATH = Path(
    os.environ.get("OPENBADGES_KEY_PATH", VAR_DIR / "keys" / "openbadges-issuer.jwk")
)
# Public verification lookups per client IP and minute (shared through the cache).
VERIFY_LOOKUPS_PER_MINUTE = int(os.environ.get("VERIFY_LOOKUPS_PER_MINUTE", "30"))
# Open Badges status checks are counted apart: verifiers check credentials by the batch.
OPENBADGES_STATUS_LOOKUPS_PER_MINUTE = int(
    os.environ.get("OPENBADGES_STATUS_LOOKUPS_PER_MINUTE", "300")
)
# Reverse proxies in front of gunicorn that append to X-Forwarded-For: without
# this every visitor would share the proxy's address and its rate limit.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# Only `make bench` turns this on: a view that touches nothing, the baseline the
# pages' throughput is compared with (bench/load.py). Production never serves it.
BENCH_BASELINE_VIEW = env_bool("BENCH_BASELINE_VIEW", default=False)
