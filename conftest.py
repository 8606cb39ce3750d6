"""Shared fixtures: users of every role, and a browser for page tests."""

import os

import pytest


@pytest.fixture(autouse=True)
def _isolated_var_dir(settings, tmp_path):
    """Each test writes job files and reports under its own temporary folder."""
    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    settings.MEDIA_ROOT = settings.VAR_DIR / "files"
    settings.MEDIA_ROOT.mkdir()


def is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@pytest.fixture
def make_user(db):
    from yibao.accounts.models import User

    def make(username="user", role="county_admin", region_code="421223", department="", **extra):
        user = User.objects.create_user(
            username=username, password="pass-1234", role=role, region_code=region_code, department=department, **extra
        )
        return user

    return make


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (no browser download)."""
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("未安装 /usr/bin/chromium（make test 会自动安装）")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    # Every page a browser test opens must keep the Content-Security-Policy (yibao/core/security.py):
    # a violation (inline script, style or handler) fails the test.
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline') +"
        "' at ' + e.sourceFile + ':' + e.lineNumber));"
    )
    violations = []
    page = context.new_page()
    page.on("console", lambda msg: violations.append(f"{page.url}: {msg.text}") if "Content Security Policy" in msg.text else None)
    page.set_default_timeout(10000)
    yield page
    context.close()
    assert not violations, "页面违反了内容安全策略（CSP）：\n" + "\n".join(violations)
