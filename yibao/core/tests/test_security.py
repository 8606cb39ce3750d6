"""Secure by default in production: settings from the environment, headers, idle sessions, error pages.

Facts about the production settings are read in a subprocess that loads `yibao.settings` from a clean
environment, as `make serve` and gunicorn do (the test settings differ on purpose).
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "pass-1234"


def production_env(**extra) -> dict:
    """The environment of a production process: no DEBUG, no .env file, a real key, the hosts."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "YIBAO_HTTPS",
                        "DJANGO_ALLOW_ASYNC_UNSAFE")}  # set by the browser tests of the same process
    env.update(YIBAO_ENV_FILE="", DJANGO_SETTINGS_MODULE="yibao.settings",
               SECRET_KEY="x" * 20 + "production-like-key-with-enough-length-and-variety-0123456789",
               ALLOWED_HOSTS="yibao.example.gov.cn,testserver")
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def run_python(code: str, env: dict, tmp_path) -> subprocess.CompletedProcess:
    env = dict(env, YIBAO_VAR_DIR=str(tmp_path / "var"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


PROBE = """
import json, django
django.setup()
from django.conf import settings as s
from django.test import Client, override_settings
staticfiles = s.STORAGES["staticfiles"]["BACKEND"]
plain = {**s.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=plain):  # no collectstatic here; the page itself is what is looked at
    page = Client().get("/no-such-page/", secure=True)
print(json.dumps({
    "DEBUG": s.DEBUG, "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT, "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE, "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_PROXY_SSL_HEADER": list(s.SECURE_PROXY_SSL_HEADER or []), "SESSION_COOKIE_AGE": s.SESSION_COOKIE_AGE,
    "staticfiles": staticfiles,
    "not_found_status": page.status_code, "not_found_lists_urls": b"URLconf" in page.content or b"URL patterns" in page.content,
}))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("production")
    done = run_python(PROBE, production_env(), tmp)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- settings from the environment -----------------------------------------------------------------


def test_production_is_the_default_debug_is_off_without_the_environment_saying_so(production):
    assert production["DEBUG"] is False
    assert production["staticfiles"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"


def test_production_refuses_to_start_without_secret_key(tmp_path):
    done = run_python("import django; django.setup()", production_env(SECRET_KEY=None), tmp_path)
    assert done.returncode != 0
    assert "生产环境必须设置 SECRET_KEY" in done.stderr


def test_the_web_server_refuses_to_start_without_allowed_hosts(tmp_path):
    done = run_python("import yibao.wsgi", production_env(ALLOWED_HOSTS=None), tmp_path)
    assert done.returncode != 0
    assert "生产环境必须设置 ALLOWED_HOSTS" in done.stderr


def test_make_serve_refuses_before_starting_anything(tmp_path):
    env = production_env(SECRET_KEY=None, YIBAO_VAR_DIR=str(tmp_path / "var"))
    done = subprocess.run([sys.executable, "-m", "yibao.serve", "--no-prepare"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "无法启动" in done.stderr and "SECRET_KEY" in done.stderr
    debug = subprocess.run([sys.executable, "-m", "yibao.serve", "--no-prepare"], cwd=ROOT,
                           env=production_env(DEBUG="1", YIBAO_VAR_DIR=str(tmp_path / "var")),
                           capture_output=True, text=True, timeout=60)
    assert debug.returncode == 2 and "DEBUG 必须关闭" in debug.stderr


def test_settings_are_read_from_a_dotenv_file(tmp_path):
    env_file = tmp_path / "production.env"
    env_file.write_text("SECRET_KEY=from-the-dotenv-file-0123456789\nYIBAO_SESSION_IDLE_MINUTES=45\n", encoding="utf-8")
    code = "import django; django.setup(); from django.conf import settings as s; print(s.SECRET_KEY, s.SESSION_COOKIE_AGE)"
    done = run_python(code, production_env(SECRET_KEY=None, YIBAO_ENV_FILE=str(env_file)), tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["from-the-dotenv-file-0123456789", "2700"]


def test_check_deploy_reports_nothing(tmp_path):
    env = production_env(YIBAO_VAR_DIR=str(tmp_path / "var"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_https_settings_behind_nginx(production):
    assert production["SECURE_SSL_REDIRECT"] is True
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    assert production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_a_404_does_not_list_the_url_patterns(production):
    assert production["not_found_status"] == 404
    assert production["not_found_lists_urls"] is False


# ---- headers on every response ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/policies", "/no-such-page/"])
def test_every_response_carries_a_strict_csp_and_permissions_policy(client, path):
    response = client.get(path)
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_over_https_cookies_are_secure_and_hsts_is_sent(client, make_user):
    make_user(username="clerk")
    page = client.get("/accounts/login/", secure=True)
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    response = client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD}, secure=True)
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"]
    assert client.cookies["csrftoken"]["secure"]


def test_no_template_holds_inline_script_style_or_event_handler():
    """The CSP forbids them; json_script blocks and <script src> are fine."""
    import re

    offending = []
    pattern = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|\shx-on", re.I)
    for template in ROOT.glob("yibao/**/templates/**/*.html"):
        for number, line in enumerate(template.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offending.append(f"{template.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert offending == []


# ---- sessions --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_ends_after_30_idle_minutes_but_lives_while_used(client, make_user):
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    make_user(username="clerk")
    start = timezone.now()

    def at(minutes):
        return mock.patch("django.utils.timezone.now", return_value=start + timedelta(minutes=minutes))

    with at(0):
        assert client.post("/accounts/login/", {"username": "clerk", "password": PASSWORD}).status_code == 302
    for minute in (20, 40, 60):  # used every 20 minutes: still logged in after an hour
        with at(minute):
            assert client.get("/").status_code == 200, f"第 {minute} 分钟被退出了"
    with at(60 + 31):  # then 31 idle minutes: logged out
        response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ---- API docs and errors ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs", "/api/openapi.json"])
def test_api_docs_and_schema_are_behind_login(client, make_user, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    client.force_login(make_user(username="reader", role="auditor"))
    assert client.get(path).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_an_api_500_is_json_without_a_traceback(client, settings, monkeypatch, debug, caplog):
    settings.DEBUG = debug

    def broken():
        raise RuntimeError("secret detail /srv/yibao/internal.py")

    monkeypatch.setattr("yibao.policy.api.policy_list", broken)
    client.raise_request_exception = False
    response = client.get("/api/policies")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "服务器内部错误" in body["detail"]
    assert "Traceback" not in response.content.decode() and "secret detail" not in response.content.decode()
    assert any("secret detail" in (r.exc_text or "") or r.exc_info for r in caplog.records)  # logged for staff


# ---- static files ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_whitenoise_serves_hashed_static_files_compressed_and_cached_for_good(settings, tmp_path):
    from django.core.management import call_command
    from django.templatetags.static import static

    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", "--noinput", verbosity=0, ignore_patterns=["vendor", "ninja", "*.map"])
    url = static("yibao/app.css")
    assert url != "/static/yibao/app.css"  # a hashed name: safe to cache for a year
    response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    cache = dict(part.strip().partition("=")[::2] for part in response["Cache-Control"].split(","))
    assert int(cache["max-age"]) >= 365 * 24 * 3600 and "immutable" in cache and "public" in cache
    assert response["Content-Encoding"] == "gzip"
    plain = Client().get("/static/yibao/app.css")  # an unhashed name may change: cached briefly only
    assert plain.status_code == 200 and "immutable" not in plain["Cache-Control"]


def test_a_page_500_is_a_plain_chinese_page_without_internals(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    text = response.content.decode()
    assert "服务器内部错误" in text and "错误已记录" in text and "<script" not in text
