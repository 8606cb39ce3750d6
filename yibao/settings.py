"""Yibao settings: everything that differs between machines comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# --- serve: environment and .env (docs/deploy.md) -------------------------------------------------
# Settings come from the environment, or from a `.env` file (YIBAO_ENV_FILE, default BASE_DIR/.env);
# a variable already in the environment wins over the file. An empty YIBAO_ENV_FILE reads no file.
_ENV_FILE = os.environ.get("YIBAO_ENV_FILE", str(BASE_DIR / ".env"))
if _ENV_FILE and Path(_ENV_FILE).is_file():
    from dotenv import load_dotenv

    load_dotenv(_ENV_FILE, override=False)


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None or value == "" else value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# DEBUG is off unless the environment turns it on: `make run` (the demo) and the test settings do.
DEBUG = _env_flag("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "生产环境必须设置 SECRET_KEY（环境变量或 .env 文件，见 docs/deploy.md）。"
            "演示请用 make run（DEBUG=1）。"
        )
    SECRET_KEY = "dev-only-insecure-key-yibao"  # development key, only when DEBUG

# In production ALLOWED_HOSTS has no default: the server refuses to start without it (yibao/wsgi.py).
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS")
# --- end serve: environment --------------------------------------------------------------------------

VAR_DIR = Path(os.environ.get("YIBAO_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "yibao.core",
    "yibao.regions",
    "yibao.accounts",
    "yibao.registry",
    "yibao.policy",
    "yibao.enrollment",
    "yibao.collection",
    "yibao.reconciliation",
    "yibao.progress",
    "yibao.imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # serve: static files, compressed, hashed ones cached for good
    "yibao.core.security.SecurityHeadersMiddleware",  # serve: CSP and Permissions-Policy on every response
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "yibao.core.middleware.BadInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yibao.core.security.IdleSessionMiddleware",  # serve: a session ends after YIBAO_SESSION_IDLE_MINUTES idle
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "yibao.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "yibao" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yibao.core.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "yibao.wsgi.application"

# SQLite (WAL) by default; PostgreSQL when DATABASE_URL says so.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
if os.environ.get("YIBAO_TEST_DB_NAME"):
    # lets several test runs share one PostgreSQL server without colliding
    DATABASES["default"]["TEST"] = {"NAME": os.environ["YIBAO_TEST_DB_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("YIBAO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "yibao" / "static"]

MEDIA_ROOT = VAR_DIR / "files"
MEDIA_ROOT.mkdir(parents=True, exist_ok=True)

DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024  # form fields and JSON bodies (files are counted below)
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024  # larger uploads stream to a temporary file
FILE_UPLOAD_HANDLERS = [
    "yibao.core.uploads.SizeLimitUploadHandler",  # stops storing a file past YIBAO_UPLOAD_MAX_BYTES
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Limits on uploaded tables, checked before parsing (yibao/core/uploads.py, docs/imports.md)
YIBAO_UPLOAD_MAX_BYTES = int(os.environ.get("YIBAO_UPLOAD_MAX_BYTES", 200 * 1024 * 1024))
YIBAO_XLSX_MAX_UNZIPPED_BYTES = int(os.environ.get("YIBAO_XLSX_MAX_UNZIPPED_BYTES", 1536 * 1024 * 1024))
YIBAO_XLSX_MAX_RATIO = int(os.environ.get("YIBAO_XLSX_MAX_RATIO", 100))
YIBAO_IMPORT_MAX_ROWS = int(os.environ.get("YIBAO_IMPORT_MAX_ROWS", 1_500_000))
YIBAO_IMPORT_MAX_CELLS = int(os.environ.get("YIBAO_IMPORT_MAX_CELLS", 40_000_000))
# channel payment files are checked, decided and written this many lines at a time (one transaction per file)
YIBAO_INGEST_SLICE_ROWS = int(os.environ.get("YIBAO_INGEST_SLICE_ROWS", 50_000))

# --- serve: static files, sessions and security headers (docs/deploy.md) ---------------------------
# whitenoise serves collected static files with hashed names and gzip copies (brotli too if installed).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG else "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}
# Hashed files (all that templates name through {% static %}) are cached for ten years as immutable;
# any other file for 60 seconds (whitenoise's defaults).

# A session ends after this many idle minutes (yibao.core.security.IdleSessionMiddleware renews it).
YIBAO_SESSION_IDLE_MINUTES = int(os.environ.get("YIBAO_SESSION_IDLE_MINUTES", "30"))
SESSION_COOKIE_AGE = YIBAO_SESSION_IDLE_MINUTES * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Every response: a strict Content-Security-Policy (htmx, ECharts and our scripts are static files of
# our own; templates hold no inline script, style or event handler) and a Permissions-Policy.
YIBAO_CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
YIBAO_PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "geolocation", "gyroscope", "magnetometer", "microphone", "payment", "usb",
))
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if not DEBUG:
    # Behind nginx with TLS (deploy/nginx/yibao.conf): nginx sets X-Forwarded-Proto.
    # YIBAO_HTTPS=0 only for a closed network without TLS; then cookies are not Secure and no HSTS.
    YIBAO_HTTPS = _env_flag("YIBAO_HTTPS", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = YIBAO_HTTPS
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # monitors may ask over plain HTTP on the machine itself
    SESSION_COOKIE_SECURE = YIBAO_HTTPS
    CSRF_COOKIE_SECURE = YIBAO_HTTPS
    SECURE_HSTS_SECONDS = int(os.environ.get("YIBAO_HSTS_SECONDS", 365 * 24 * 3600)) if YIBAO_HTTPS else 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag("YIBAO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = _env_flag("YIBAO_HSTS_PRELOAD", True)
# --- end serve ---------------------------------------------------------------------------------------

TASKS = {
    "default": {
        "BACKEND": os.environ.get("YIBAO_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": [],
    }
}

# ---- Operations: request log, health, worker heartbeat (docs/operations.md) ----------------------
# One JSON line per request (request id, user, role, method, path, status, duration) on the logger
# yibao.request: to stderr (journald under systemd), or to YIBAO_REQUEST_LOG when set.
MIDDLEWARE = ["yibao.core.requestlog.RequestLogMiddleware", *MIDDLEWARE]  # outermost: times everything
_REQUEST_LOG = os.environ.get("YIBAO_REQUEST_LOG", "")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "request": (
            {"class": "logging.handlers.WatchedFileHandler", "filename": _REQUEST_LOG, "formatter": "line",
             "encoding": "utf-8"}
            if _REQUEST_LOG else {"class": "logging.StreamHandler", "formatter": "line"}
        ),
    },
    "loggers": {"yibao.request": {"handlers": ["request"], "level": "INFO", "propagate": False}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
# /healthz: the worker's heartbeat (manage.py yibao_worker) must be younger than this, and the
# disk holding VAR_DIR and MEDIA_ROOT must keep this much free.
YIBAO_WORKER_HEARTBEAT_SECONDS = int(os.environ.get("YIBAO_WORKER_HEARTBEAT_SECONDS", 15))
YIBAO_WORKER_HEARTBEAT_MAX_AGE = int(os.environ.get("YIBAO_WORKER_HEARTBEAT_MAX_AGE", 120))
YIBAO_HEALTH_MIN_FREE_BYTES = int(os.environ.get("YIBAO_HEALTH_MIN_FREE_BYTES", 1024 * 1024 * 1024))
# without the database task backend there is no worker to watch
YIBAO_HEALTH_REQUIRE_WORKER = TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
# ---- end of operations --------------------------------------------------------------------------

# ---- Login security (issue #11): lockout of repeated failed logins, second factor (docs/security.md) ----
# Kept in one block so the production settings can be restructured around it.
from datetime import timedelta

INSTALLED_APPS += ["axes", "django_otp", "django_otp.plugins.otp_totp"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
)
MIDDLEWARE += [
    "yibao.accounts.middleware.SecondFactorMiddleware",  # pages and API wait for the code when 2FA is required
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the Chinese lockout answer
]
AUTHENTICATION_BACKENDS = [
    "yibao.accounts.security.LockoutBackend",  # refuses a locked account before its password is checked
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = os.environ.get("YIBAO_LOCKOUT_ENABLED", "1").lower() in {"1", "true", "yes"}
AXES_FAILURE_LIMIT = int(os.environ.get("YIBAO_LOCKOUT_FAILURES", "5"))  # failures in a row, then locked
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("YIBAO_LOCKOUT_MINUTES", "30")))
# "username": the account is locked wherever the guesses come from (default);
# "username_ip": only that account from that address is locked. Never the address alone: a whole
# township office often shares one address, and one mistyped password must not lock all of it.
AXES_LOCKOUT_PARAMETERS = (
    [["username", "ip_address"]] if os.environ.get("YIBAO_LOCKOUT_BY", "username") == "username_ip" else ["username"]
)
# axes.W006 asks for ip_address in the key; counting by username sums the failures over every address and
# browser, so rotating them gains an attacker nothing, and an address alone must not lock an office.
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "axes.W006"]
AXES_RESET_ON_SUCCESS = True  # a successful login clears the count of failures
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # tries while locked are refused, not counted: 30 minutes stay 30
AXES_LOCKOUT_CALLABLE = "yibao.accounts.security.lockout_response"
AXES_USERNAME_CALLABLE = "yibao.accounts.security.login_username"
AXES_IPWARE_PROXY_COUNT = int(os.environ["YIBAO_PROXY_COUNT"]) if os.environ.get("YIBAO_PROXY_COUNT") else None
AXES_VERBOSE = False  # our own log line per lockout (logger yibao.security) instead of axes' chatter
# Whom a locked-out user should call, shown on the lockout page (e.g. "县医保局信息股 0715-1234567").
YIBAO_SECURITY_CONTACT = os.environ.get("YIBAO_SECURITY_CONTACT", "")

# Roles that must pass a TOTP second factor. Unset: county_admin and tax_officer when DEBUG is off
# (production), none when DEBUG is on (`make run`, the demo). Set to "" to turn it off, or list roles.
if "YIBAO_REQUIRE_2FA_ROLES" in os.environ:
    YIBAO_REQUIRE_2FA_ROLES = [r.strip() for r in os.environ["YIBAO_REQUIRE_2FA_ROLES"].split(",") if r.strip()]
else:
    YIBAO_REQUIRE_2FA_ROLES = [] if DEBUG else ["county_admin", "tax_officer"]
OTP_TOTP_ISSUER = os.environ.get("YIBAO_OTP_ISSUER", "医保征缴")
