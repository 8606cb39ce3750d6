"""Settings for the test suite: tasks run inline, passwords hash fast."""

import os

# No developer's .env leaks into the tests; a key so that DEBUG-off settings load. Subprocesses that
# tests start (the CLI, the benchmarks) inherit both.
os.environ["YIBAO_ENV_FILE"] = ""
os.environ.setdefault("SECRET_KEY", "test-only-insecure-key-yibao")

from yibao.settings import *  # noqa: E402, F403

ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# The test client speaks plain HTTP; yibao/core/tests/test_security.py checks the redirect and HSTS.
SECURE_SSL_REDIRECT = False
WHITENOISE_AUTOREFRESH = True  # no collected static files in tests; test_security.py collects its own

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": []}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
YIBAO_REQUIRE_2FA_ROLES: list[str] = []  # tests that need the second factor turn it on with override_settings
YIBAO_INGEST_SLICE_ROWS = 3  # channel files go through the ingest a few lines at a time: the multi-slice path is the tested one
