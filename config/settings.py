"""Forcebridge settings: every variable read from the environment and validated here, once.

Every variable is documented in README.md ("Configuration"); a bad value stops start-up with
its name, the value and what is accepted (config/environment.py). The apps' conf.py files name
the defaults of their tunables. With nothing set, Forcebridge runs in demo mode only when DEBUG
is on (``make run`` turns it on): SQLite in ``var/``, the django-q2 ORM broker, a generated
SECRET_KEY and encryption key kept in ``var/``. In production (DEBUG off) a missing SECRET_KEY
or FORCEBRIDGE_ENCRYPTION_KEYS refuses to start, and HTTPS is enforced (HSTS, SSL redirect).
"""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config import environment as read
from config.secrets_bootstrap import demo_secret, validate_fernet_keys
from connections.conf import DEFAULTS as CONNECTION_DEFAULTS
from logs.conf import DEFAULTS as LOG_DEFAULTS
from syncs.conf import DEFAULTS as SYNC_DEFAULTS
from workspace.conf import DEFAULTS as API_DEFAULTS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(read.raw("FORCEBRIDGE_VAR_DIR") or BASE_DIR / "var")

env = environ.Env()

DEBUG = read.boolean("DEBUG", False)

# The secret key signs sessions and CSRF tokens; every web server and cluster of one
# installation must share it.
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    demo_secret(VAR_DIR / "secret_key", "django") if DEBUG else ""
)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY: required when DEBUG is off (production)")

ALLOWED_HOSTS = read.comma_list("ALLOWED_HOSTS") or (
    ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS: required when DEBUG is off (production)")
CSRF_TRUSTED_ORIGINS = read.comma_list("CSRF_TRUSTED_ORIGINS")

# Secrets at rest (OAuth tokens, client secrets) are encrypted with MultiFernet: the first key
# encrypts, every key decrypts, so a new key can be put first and old rows re-encrypted later.
_keys_raw = os.environ.get("FORCEBRIDGE_ENCRYPTION_KEYS", "")
if not _keys_raw and DEBUG:
    _keys_raw = demo_secret(VAR_DIR / "encryption_key", "fernet")
if not _keys_raw:
    raise ImproperlyConfigured(
        "FORCEBRIDGE_ENCRYPTION_KEYS: required when DEBUG is off; generate one with "
        "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
    )
FORCEBRIDGE_ENCRYPTION_KEYS = validate_fernet_keys(_keys_raw)

SALESFORCE_CLIENT_ID = os.environ.get("SALESFORCE_CLIENT_ID", "")
SALESFORCE_CLIENT_SECRET = os.environ.get("SALESFORCE_CLIENT_SECRET", "")

# Where the "production" and "sandbox" environments log in (a connection may set its own URL,
# e.g. a My Domain). The demo and the tests point them at the emulator. OAuth tokens only
# travel over HTTPS, so anything else is refused.
SALESFORCE_LOGIN_URL = read.url("SALESFORCE_LOGIN_URL", "https://login.salesforce.com",
                                ("https://",))
SALESFORCE_SANDBOX_LOGIN_URL = read.url(
    "SALESFORCE_SANDBOX_LOGIN_URL", "https://test.salesforce.com", ("https://",)
)
# Where browsers open the production consent page when it is not at SALESFORCE_LOGIN_URL: only
# the demo needs it (the emulator's plain-HTTP authorize page, so no certificate warning); the
# code exchange still goes to SALESFORCE_LOGIN_URL over HTTPS.
SALESFORCE_AUTHORIZE_URL = read.url("SALESFORCE_AUTHORIZE_URL", "", ("http://", "https://"))
# A PEM bundle trusted instead of the system CAs for every Salesforce call (the emulator's CA in
# the demo). When set, proxy/CA environment variables are ignored: REQUESTS_CA_BUNDLE would
# otherwise silently override it.
# Checked when used, not here: the demo's emulator creates its CA after start-up.
SALESFORCE_CA_BUNDLE = os.environ.get("SALESFORCE_CA_BUNDLE", "")

# The address browsers use to reach Forcebridge, e.g. https://forcebridge.example.com: the OAuth
# redirect URI is built from it (behind a proxy the request's own host and scheme may differ
# from what is registered on the Salesforce app). Empty: built from each request.
FORCEBRIDGE_BASE_URL = read.url("FORCEBRIDGE_BASE_URL", "", ("http://", "https://"))
# A spent daily budget is re-read within a day at the latest (the budget is per rolling 24 h).
FORCEBRIDGE_BUDGET_RECHECK_MINUTES = read.whole_number(
    "FORCEBRIDGE_BUDGET_RECHECK_MINUTES", CONNECTION_DEFAULTS["FORCEBRIDGE_BUDGET_RECHECK_MINUTES"],
    1, 24 * 60)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "connections",
    "workspace",
    "mappings",
    "syncs",
    "logs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (hashed, compressed by collectstatic) served by the application itself.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless its view is marked @login_not_required (only /healthz).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
LOGIN_URL = "admin:login"

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


def _database() -> dict:
    """Parse DATABASE_URL; only SQLite and PostgreSQL are supported."""
    default = f"sqlite:///{VAR_DIR / 'forcebridge.sqlite3'}"
    raw = os.environ.get("DATABASE_URL") or default
    try:
        db = env.db_url_config(raw)
    except Exception as exc:  # noqa: BLE001 - any parse failure becomes a named config error
        raise ImproperlyConfigured(f"DATABASE_URL: cannot parse {raw.split('@')[-1]!r}: {exc}") from exc
    engine = db.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        if not db.get("NAME") or db["NAME"] == ":memory:":
            raise ImproperlyConfigured(
                "DATABASE_URL: a SQLite URL needs a file path (an in-memory database cannot be "
                "shared by the web server and the cluster)"
            )
        # WAL lets the web server read while the cluster writes; the busy timeout makes a
        # writer wait for the lock instead of failing, and IMMEDIATE transactions take the
        # write lock up front so two writers never deadlock upgrading a read lock.
        db["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        # Tests use a file (not :memory:) so a real cluster process can share the test DB.
        db["TEST"] = {"NAME": str(Path(db["NAME"]).with_name("test_" + Path(db["NAME"]).name))}
    elif engine in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
        db["ENGINE"] = "django.db.backends.postgresql"
        db.setdefault("CONN_MAX_AGE", 60)
        db["CONN_HEALTH_CHECKS"] = True
    else:
        raise ImproperlyConfigured(
            f"DATABASE_URL: unsupported scheme in {raw.split('@')[-1]!r}; use sqlite:/// or postgres://"
        )
    return db


DATABASES = {"default": _database()}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = read.url("REDIS_URL", "", ("redis://", "rediss://", "unix://"))

# The longest task may run this long before the cluster kills it (a first sync of a big object).
TASK_TIMEOUT = read.whole_number("FORCEBRIDGE_TASK_TIMEOUT", 3600, 1)

# The pull engine's tunables (defaults and meaning in syncs/conf.py).
FORCEBRIDGE_SYNC_OVERLAP_SECONDS = read.whole_number(
    "FORCEBRIDGE_SYNC_OVERLAP_SECONDS", SYNC_DEFAULTS["FORCEBRIDGE_SYNC_OVERLAP_SECONDS"],
    0, 24 * 3600)
FORCEBRIDGE_BULK_THRESHOLD = read.whole_number(
    "FORCEBRIDGE_BULK_THRESHOLD", SYNC_DEFAULTS["FORCEBRIDGE_BULK_THRESHOLD"], 0)
# Counted from the claim's last renewal (a live run renews it at least every 10 s).
FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = read.whole_number(
    "FORCEBRIDGE_SYNC_CLAIM_TIMEOUT", SYNC_DEFAULTS["FORCEBRIDGE_SYNC_CLAIM_TIMEOUT"], 5, 3600)
FORCEBRIDGE_QUOTA_RETRY_MINUTES = read.whole_number(
    "FORCEBRIDGE_QUOTA_RETRY_MINUTES", SYNC_DEFAULTS["FORCEBRIDGE_QUOTA_RETRY_MINUTES"],
    1, 24 * 60)
FORCEBRIDGE_DISPATCH_SECONDS = read.whole_number(
    "FORCEBRIDGE_DISPATCH_SECONDS", SYNC_DEFAULTS["FORCEBRIDGE_DISPATCH_SECONDS"], 1, 3600)
FORCEBRIDGE_LOG_RETENTION_DAYS = read.whole_number(
    "FORCEBRIDGE_LOG_RETENTION_DAYS", LOG_DEFAULTS["FORCEBRIDGE_LOG_RETENTION_DAYS"], 1, 3650)
# Runs outlive their record logs (a run is one small row; its logs are its records): never
# fewer days, and by default the longer of syncs/conf.py's default and the log retention.
FORCEBRIDGE_RUN_RETENTION_DAYS = read.whole_number(
    "FORCEBRIDGE_RUN_RETENTION_DAYS",
    max(SYNC_DEFAULTS["FORCEBRIDGE_RUN_RETENTION_DAYS"], FORCEBRIDGE_LOG_RETENTION_DAYS),
    FORCEBRIDGE_LOG_RETENTION_DAYS, 3650, minimum_is="FORCEBRIDGE_LOG_RETENTION_DAYS")
# Inbound API messages per second and key (workspace/conf.py).
FORCEBRIDGE_API_RATE_LIMIT = read.whole_number(
    "FORCEBRIDGE_API_RATE_LIMIT", API_DEFAULTS["FORCEBRIDGE_API_RATE_LIMIT"], 1, 1_000_000)

Q_CLUSTER = {
    # Queue (list key) and cluster name; clusters sharing a name share the work.
    "name": read.word("FORCEBRIDGE_QUEUE_NAME", "forcebridge"),
    # Worker processes per cluster; each runs one task at a time.
    "workers": read.whole_number("FORCEBRIDGE_WORKERS", 2, 1),
    # Seconds a task may run before it is killed.
    "timeout": TASK_TIMEOUT,
    # Seconds before an unacknowledged task is handed out again; must exceed timeout or a
    # long task would be run twice at once.
    "retry": TASK_TIMEOUT + 600,
    # A task that died is not retried by the broker: the database is the queue of record and
    # the dispatcher re-finds the work, so a broker retry would only duplicate it.
    "max_attempts": 1,
    # Failed tasks are acknowledged (kept in the Failure table) instead of being redelivered.
    "ack_failures": True,
    # Successful results kept for the admin's "Successful tasks" page.
    "save_limit": 500,
    # Tasks held in memory by one cluster before it stops pulling from the broker.
    "queue_limit": 20,
    # Missed schedules run once on start-up, not once per missed slot.
    "catch_up": False,
    # Pickled task arguments are signed with SECRET_KEY; workers recycle after this many tasks
    # to bound memory growth.
    "recycle": 200,
    # Python's own label in the admin.
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    # ORM broker: the task queue lives in the default database; poll it every second.
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic (part of `serve`'s production start) writes here; WhiteNoise serves it.
STATIC_ROOT = VAR_DIR / "static"
# The project's own static files (the admin panels' stylesheet).
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Content-hashed names (cached for ever by browsers) and gzip copies.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Gunicorn workers serving the web in production (`serve`); the cluster has its own workers.
FORCEBRIDGE_WEB_WORKERS = read.whole_number("FORCEBRIDGE_WEB_WORKERS", 2, 1)

# HTTPS, on by default in production: plain HTTP is redirected (except /healthz, for load
# balancer probes) and browsers are told to use HTTPS only (HSTS, a year by default).
SECURE_SSL_REDIRECT = read.boolean("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = read.whole_number(
    "SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600, 0, 2 * 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = read.boolean("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = read.boolean("SECURE_HSTS_PRELOAD", True)
# Behind a TLS-terminating proxy: the header it sets to "https" (e.g. X-Forwarded-Proto), so a
# request it received over HTTPS is not redirected again. Only set it when the proxy always
# sets (or strips) that header.
_proxy_header = read.header_name("SECURE_PROXY_SSL_HEADER")
SECURE_PROXY_SSL_HEADER = (_proxy_header, "https") if _proxy_header else None

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = read.boolean("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": read.log_level("LOG_LEVEL", "INFO")},
    # urllib3 logs full URLs at DEBUG, which for OAuth may include codes; requests-oauthlib
    # and oauthlib log token request bodies and responses (tokens, secrets) at DEBUG.
    "loggers": {
        "urllib3": {"level": "WARNING"},
        "requests_oauthlib": {"level": "WARNING"},
        "oauthlib": {"level": "WARNING"},
    },
}
