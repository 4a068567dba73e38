"""Settings for Manage2Soar, configured only from the environment.

Every setting ``X`` may instead be read from the file named by ``X_FILE`` (Kubernetes mounts
secrets as files); a trailing newline in such a file is ignored. See docs/configuration.md.
"""

from __future__ import annotations

import datetime
import math
import re
import sys
import warnings
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

# The classes the type stubs declare generic (ModelAdmin[Model], ...) become subscriptable in
# urls.py, with the admin: django_stubs_ext imports the admin, forms, feeds and sitemaps, which a
# scheduled command never uses (QuerySet and Manager are subscriptable without it).

BASE_DIR = Path(__file__).resolve().parent.parent


class _StrippedFileAwareMapping(environ.fileaware_mapping.FileAwareMapping):
    """``X_FILE`` support that ignores the newline editors and ``kubectl create secret`` leave."""

    def __getitem__(self, key: str) -> str:
        path = self.env.get(key + "_FILE")
        if not path:
            return super().__getitem__(key)
        try:
            return super().__getitem__(key).rstrip("\r\n")
        except OSError as exc:
            raise ImproperlyConfigured(f"{key}_FILE={path}: cannot read it ({exc.strerror})") from None


class _Env(environ.Env):
    ENVIRON = _StrippedFileAwareMapping()


# Only the process's environment: no file is read behind the operator's back (a development
# checkout says DEBUG=1 on the command line, e.g. `export DEBUG=1`; see README.md).
env = _Env()


def optional_secret(key: str) -> str:
    """An optional setting that may come from ``X_FILE``; a file that isn't there means unset.

    Kubernetes mounts only the keys a Secret has, so an optional key left out of the Secret is
    a missing file: that turns the feature off instead of stopping every pod.
    """
    path = env.ENVIRON.env.get(key + "_FILE")
    if path and not Path(path).exists():
        return ""
    return env.str(key, default="").strip()


# Typed values: a value that isn't one is a configuration error (one line, exit 2), never a
# traceback; so is one outside the range that makes sense.
_TRUE, _FALSE = ("1", "true", "yes", "on", "y", "ok"), ("0", "false", "no", "off", "n", "")


def env_int(key: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = env.str(key, default=str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{key}={raw!r} is not a whole number") from None
    return _in_range(key, value, minimum, maximum)


def env_float(key: str, default: float, minimum: float | None = None, maximum: float | None = None) -> float:
    raw = env.str(key, default=str(default)).strip()
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{key}={raw!r} is not a number")
    return _in_range(key, value, minimum, maximum)


_Number = TypeVar("_Number", int, float)


def _in_range(key: str, value: _Number, minimum: float | None, maximum: float | None) -> _Number:
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{key}={_text(value)} must be at least {_text(minimum)}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{key}={_text(value)} must be at most {_text(maximum)}")
    return value


def _text(number: float) -> str:
    return str(number) if isinstance(number, int) else f"{number:g}"


def env_bool(key: str, default: bool) -> bool:
    raw = env.str(key, default="1" if default else "0").strip().lower()
    if raw not in _TRUE + _FALSE:
        raise ImproperlyConfigured(f"{key}={raw!r} is not a yes/no value (1 or 0, true or false)")
    return raw in _TRUE


def time_zone(key: str, default: str) -> str:
    name = env.str(key, default=default)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{key}={name!r} is not an IANA time zone (e.g. America/New_York)"
        ) from None
    return name


def url_setting(parse: Callable[..., dict[str, Any]], key: str, default: str) -> dict[str, Any]:
    """A URL setting as django-environ reads it; one that can't be read is one line (without
    the URL itself, which may hold a password)."""
    try:
        with warnings.catch_warnings(record=True) as unrecognised:  # its text may hold the password
            warnings.simplefilter("always")
            parsed = parse(key, default=default)
    except (ValueError, KeyError) as exc:
        why = str(exc) if isinstance(exc, ValueError) else "unknown scheme"
        raise ImproperlyConfigured(f"{key} can't be read as a URL: {why}") from None
    if unrecognised or not parsed:
        raise ImproperlyConfigured(f"{key} can't be read as a URL: no scheme (e.g. postgres:// or smtp://)")
    return parsed


# PostgreSQL's own syntax for a duration setting: a number and a unit; a bare number is ms.
_PG_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|min|h|d)?")
_PG_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def pg_duration_seconds(key: str, value: str) -> float:
    """Seconds of a PostgreSQL duration such as ``30s`` or ``500ms`` (a bare number is ms)."""
    match = _PG_DURATION.fullmatch(value)
    if not match:
        raise ImproperlyConfigured(
            f"{key}={value!r} is not a PostgreSQL duration (e.g. 30s or 500ms; a bare number is milliseconds)"
        )
    return float(match.group(1)) * _PG_UNIT_SECONDS[match.group(2) or "ms"]


def _command_name(argv: list[str]) -> str:
    """What this process is: the management command it runs, else the web server."""
    if len(argv) > 1 and Path(argv[0]).name == "manage.py":
        return argv[1]
    return "web"


RUNNING_COMMAND = _command_name(sys.argv)

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set (set SECRET_KEY or SECRET_KEY_FILE, or DEBUG=1 for development)"
        )
    SECRET_KEY = "insecure-development-only-key"  # noqa: S105 - only ever used with DEBUG on

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First: its admin/base_site.html (the web app's icon) extends the admin's own.
    "webkit",
    # SimpleAdminConfig: admin modules load from urls.py, so a cron command never imports them.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # From the bottom layer up (docs/architecture.md): the cron framework, the members, the
    # notifications, the club apps and the operations around the jobs, the demo club on top.
    "utils",
    "members",
    "notifications",
    "logsheet",
    "instructors",
    "duty_roster",
    "maintenance",
    "operations",
    "scheduler",
    "deploy",
    "demo",
]

MIDDLEWARE = [
    "operations.middleware.HealthCheckMiddleware",  # first: probes come by pod IP, not a host name
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "manage2soar.urls"
WSGI_APPLICATION = "manage2soar.wsgi.application"
AUTH_USER_MODEL = "members.Member"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

SILENCED_SYSTEM_CHECKS: list[str] = []

# --- Database ---------------------------------------------------------------------------
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var")))
if "DATABASE_URL" not in env.ENVIRON:
    DATA_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default needs nothing else
DATABASES = {
    "default": url_setting(env.db_url, "DATABASE_URL", f"sqlite:///{DATA_DIR / 'manage2soar.sqlite3'}")
}
_db = DATABASES["default"]
_db.setdefault("OPTIONS", {})
if _db["ENGINE"] == "django.db.backends.postgresql":
    # pg_stat_activity then shows which scheduled command holds a connection.
    _db["OPTIONS"].setdefault("application_name", f"manage2soar:{RUNNING_COMMAND}"[:63])
    _db["OPTIONS"].setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1, maximum=600)
    )
    # Keepalives both ways: a pod whose node vanished mid-transaction is noticed within about a
    # minute, and its transaction (with the lock row it holds) is ended, instead of hours later.
    # Until then, lock_timeout bounds how long anyone waits behind it (an acquire then says
    # "held"; any other statement fails as a temporary error).
    _db["OPTIONS"].setdefault("keepalives", 1)
    _db["OPTIONS"].setdefault("keepalives_idle", 30)
    _db["OPTIONS"].setdefault("keepalives_interval", 10)
    _db["OPTIONS"].setdefault("keepalives_count", 3)
    DATABASE_LOCK_TIMEOUT = env.str("DATABASE_LOCK_TIMEOUT", default="30s").strip()
    DATABASE_LOCK_TIMEOUT_SECONDS = pg_duration_seconds("DATABASE_LOCK_TIMEOUT", DATABASE_LOCK_TIMEOUT)
    _db["OPTIONS"].setdefault(
        "options",
        "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3 "
        f"-c lock_timeout={DATABASE_LOCK_TIMEOUT}",
    )
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes share the file: WAL lets readers and the writer work at once, and
    # IMMEDIATE transactions take the write lock up front instead of failing half-way.
    _db["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL")
    _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    _db["OPTIONS"].setdefault("timeout", 30)
elif _db["ENGINE"] == "django.db.backends.mysql":
    # Django's MySQL backend on PyMySQL, a pure-Python driver: installs from a wheel, where
    # mysqlclient needs a compiler and the MariaDB client library.
    import pymysql

    pymysql.install_as_MySQLdb()
    # MariaDB has no partial unique indexes: Notification's "one live notification per key"
    # is kept there by the job lock alone (jobs update it with update_or_create).
    SILENCED_SYSTEM_CHECKS.append("models.W036")
    _db["OPTIONS"].setdefault("charset", "utf8mb4")
    _db["OPTIONS"].setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1, maximum=600)
    )
    _db["OPTIONS"].setdefault("init_command", "SET time_zone = '+00:00'")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Time ---------------------------------------------------------------------------------
CLUB_TIMEZONE = time_zone("CLUB_TIMEZONE", "America/New_York")
USE_TZ = True
TIME_ZONE = CLUB_TIMEZONE
LANGUAGE_CODE = "en-us"
USE_I18N = False

# --- Static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies made by collectstatic at image build time, served by WhiteNoise.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
# Google Cloud Storage for uploads and reports when GS_BUCKET_NAME is set (docs/storage.md).
# Only a name here: the Google libraries load when the storage is first used, never before.
GS_BUCKET_NAME = env.str("GS_BUCKET_NAME", default="")
if GS_BUCKET_NAME:
    _credentials = env.str("GOOGLE_APPLICATION_CREDENTIALS", default="")
    if _credentials and not Path(_credentials).is_file():
        raise ImproperlyConfigured(
            f"GOOGLE_APPLICATION_CREDENTIALS={_credentials}: no such file (mount the service account key)"
        )
    STORAGES["default"] = {
        "BACKEND": "storages.backends.gcloud.GoogleCloudStorage",
        "OPTIONS": {
            "bucket_name": GS_BUCKET_NAME,
            "project_id": env.str("GS_PROJECT_ID", default="") or None,
            "location": env.str("GS_LOCATION", default=""),  # a folder inside the bucket
            # Unguessable names (members/uploads.py) are the access control by default: plain links
            # that don't expire. GS_QUERYSTRING_AUTH=1 signs them instead (GS_EXPIRATION seconds).
            "querystring_auth": env_bool("GS_QUERYSTRING_AUTH", default=False),
            # Google signs a URL for at most 7 days.
            "expiration": datetime.timedelta(
                seconds=env_int("GS_EXPIRATION", 7 * 86400, minimum=1, maximum=7 * 86400)
            ),
            "default_acl": env.str("GS_DEFAULT_ACL", default="") or None,
            "custom_endpoint": env.str("GS_CUSTOM_ENDPOINT", default="").rstrip("/") or None,
            "file_overwrite": False,
        },
    }

# --- Mail ---------------------------------------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.org:587 (the password may come from
# EMAIL_URL_FILE); the default prints mail to the console.
globals().update(url_setting(env.email_url, "EMAIL_URL", "consolemail://"))
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 15, minimum=1, maximum=3600)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Manage2Soar <noreply@example.org>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
ADMINS = [("Site admin", a) for a in env.list("ADMIN_EMAILS", default=[])]
CLUB_NAME = env.str("CLUB_NAME", default="Skyline Soaring Club")
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
# Processes that send no mail and build no links: the migration Job and the operator's tools.
# Every other process (the web app, every job: any job may alert the admins) needs EMAIL_URL
# and SITE_URL in production, or mail would only be printed yet recorded as sent, and every
# link would point at localhost.
COMMANDS_WITHOUT_MAIL = {
    *("migrate", "showmigrations", "sqlmigrate", "makemigrations", "check", "collectstatic"),
    *("createsuperuser", "changepassword", "dbshell", "help", "--help", "-h", "version", "--version"),
    *("cron_locks", "cron_schedule", "render_cronjobs", "validate_manifests"),
}
_mail_missing = [key for key in ("EMAIL_URL", "SITE_URL") if not env.str(key, default="")]
if not DEBUG and RUNNING_COMMAND not in COMMANDS_WITHOUT_MAIL and _mail_missing:
    raise ImproperlyConfigured(
        f"{' and '.join(_mail_missing)} {'is' if len(_mail_missing) == 1 else 'are'} not set "
        "(production would print mail yet record it as sent, and link to localhost): set them "
        "or their _FILE, or DEBUG=1 for development"
    )

# --- Other channels: SMS (Twilio), Slack; retries; quiet hours ------------------------------
# See docs/notifications.md. The Twilio token and the Slack webhook are secrets: in Kubernetes
# they come from files (X_FILE). A channel whose secret file is absent is simply off.
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = optional_secret("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# Where the Twilio client sends its requests (a proxy, or a stand-in in tests); blank: Twilio's.
TWILIO_API_BASE_URL = env.str("TWILIO_API_BASE_URL", default="").rstrip("/")
# Club-wide reports and job alerts (also used by operations.alerts).
SLACK_WEBHOOK_URL = optional_secret("SLACK_WEBHOOK_URL")
CHANNEL_TIMEOUT = env_float(
    "CHANNEL_TIMEOUT", 10.0, minimum=0.1, maximum=3600
)  # seconds for one Twilio or Slack request
# No SMS between these local times of the member (their time zone, else the club's); blank: none.
# Read, and a bad value refused, by notifications.quiet_hours when the notifications app starts.
SMS_QUIET_HOURS = env.str("SMS_QUIET_HOURS", default="21:00-08:00")
# A deferred SMS not sent within this many hours of the end of quiet hours is dropped as stale.
SMS_DEFERRED_MAX_AGE_HOURS = env_int("SMS_DEFERRED_MAX_AGE_HOURS", 12, minimum=0, maximum=24 * 366)
# A temporary failure is retried up to NOTIFY_RETRY_ATTEMPTS attempts in all, after back-offs of
# base * 2**n seconds (with jitter, at most NOTIFY_RETRY_MAX_SECONDS), within the job's deadline.
NOTIFY_RETRY_ATTEMPTS = env_int("NOTIFY_RETRY_ATTEMPTS", 4, minimum=1, maximum=100)
NOTIFY_RETRY_BASE_SECONDS = env_float("NOTIFY_RETRY_BASE_SECONDS", 2.0, minimum=0, maximum=3600)
NOTIFY_RETRY_MAX_SECONDS = env_float("NOTIFY_RETRY_MAX_SECONDS", 60.0, minimum=0, maximum=86400)

# --- Scheduled jobs -----------------------------------------------------------------------
CRONJOB_LEASE_SECONDS = env_int("CRONJOB_LEASE_SECONDS", 60, minimum=3, maximum=3600)
if _db["ENGINE"] == "django.db.backends.postgresql" and not (
    0 < DATABASE_LOCK_TIMEOUT_SECONDS < CRONJOB_LEASE_SECONDS
):
    # A renewal may wait that long behind a row lock: the lease must outlast the wait (0 is
    # PostgreSQL's "no limit").
    raise ImproperlyConfigured(
        f"CRONJOB_LEASE_SECONDS={CRONJOB_LEASE_SECONDS} must be longer than DATABASE_LOCK_TIMEOUT="
        f"{DATABASE_LOCK_TIMEOUT}{' (no limit)' * (DATABASE_LOCK_TIMEOUT_SECONDS == 0)}, the longest a "
        "renewal may wait for a row lock"
    )
# The zone the CronJobs' schedules are evaluated in (render_cronjobs); a job may set its own.
CRONJOB_TIMEZONE = time_zone("CRONJOB_TIMEZONE", "Etc/UTC")
CRONJOB_LOG_FORMAT = env.str("CRONJOB_LOG_FORMAT", default="text")
if CRONJOB_LOG_FORMAT not in ("text", "plain", "json"):  # utils.cronlog.LOG_FORMATS
    raise ImproperlyConfigured(f"CRONJOB_LOG_FORMAT={CRONJOB_LOG_FORMAT!r} must be text, plain or json")
# After SIGTERM/SIGINT a job has this long to reach its next checkpoint before it is stopped
# where it stands; Kubernetes sends SIGKILL 30 s after SIGTERM.
CRONJOB_STOP_GRACE_SECONDS = env_float("CRONJOB_STOP_GRACE_SECONDS", 10.0, minimum=0, maximum=3600)
# run_scheduler: after SIGTERM/SIGINT, how long it waits for its running jobs to stop.
CRONJOB_SCHEDULER_GRACE_SECONDS = env_float("CRONJOB_SCHEDULER_GRACE_SECONDS", 25.0, minimum=0, maximum=3600)

# --- Monitoring (docs/monitoring.md) ----------------------------------------------------------
# A job that failed this many times in a row is reported (alert email, cron_status --check).
CRONJOB_ALERT_AFTER_FAILURES = env_int("CRONJOB_ALERT_AFTER_FAILURES", 2, minimum=1, maximum=1000)
# A job is overdue when its last slot older than starting deadline + deadline + this has no run.
CRONJOB_OVERDUE_GRACE_MINUTES = env_int("CRONJOB_OVERDUE_GRACE_MINUTES", 10, minimum=0, maximum=7 * 1440)
# A run that took (or has been running for) this share of max_execution_time is "slow".
CRONJOB_SLOW_RATIO = env_float("CRONJOB_SLOW_RATIO", 0.8, minimum=0.01, maximum=10)
# Raw CronJobRun rows older than this are deleted once their day is rolled up.
CRONJOB_RUN_RETENTION_DAYS = env_int("CRONJOB_RUN_RETENTION_DAYS", 90, minimum=2, maximum=100 * 366)
# Bearer token of /metrics; unset: the endpoint answers 404.
METRICS_TOKEN = optional_secret("METRICS_TOKEN")
# Optional monitors, all off unless set.
CRONJOB_PING_URL_TEMPLATE = optional_secret("CRONJOB_PING_URL_TEMPLATE")  # e.g. https://hc-ping.com/KEY/{job}
CRONJOB_MONITOR_TIMEOUT = env_float("CRONJOB_MONITOR_TIMEOUT", 3.0, minimum=0.1, maximum=600)
SENTRY_DSN = optional_secret("SENTRY_DSN")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")

# --- Security (production) ----------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", default=False):
    # TLS ends at the ingress. Probes reach the pod over plain HTTP, but they are answered by
    # HealthCheckMiddleware before the redirect to HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0, maximum=10 * 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
    # HSTS for subdomains and the preload list bind the club's whole domain, which hosts other
    # sites too: opt in with the variables above, not by default.
    SILENCED_SYSTEM_CHECKS += ["security.W005", "security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# --- Club ---------------------------------------------------------------------------------
ACTIVE_MEMBERSHIP_STATUSES = env.list(
    "ACTIVE_MEMBERSHIP_STATUSES",
    default=["full", "student", "family", "service", "founding", "honorary", "introductory", "probationary"],
)
