"""Browser tests of the account pages."""

import re
import time

import pytest
from django.test import override_settings

from yibao.accounts.models import User
from yibao.registry.tests.fixtures import SUOSHI

pytestmark = pytest.mark.browser


def login(page, live_server, username, password="pass-1234"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_admin_creates_an_account_that_can_log_in(page, live_server, transactional_db, staff):
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/accounts/users/")
    page.click("text=新建账号")
    page.fill("input[name=username]", "suoshi01")
    page.fill("input[name=display_name]", "锁石征收员")
    page.select_option("select[name=role]", "village_collector")
    page.select_option("select[name=region_code]", SUOSHI)
    page.click("button:has-text('创建账号')")
    message = page.inner_text(".messages")
    password = re.search(r"初始密码：(\w+)", message).group(1)
    assert User.objects.get(username="suoshi01").region_code == SUOSHI
    page.click("button:has-text('退出')")
    login(page, live_server, "suoshi01", password)
    page.goto(f"{live_server.url}/accounts/me/")
    assert "村（社区）征收员" in page.inner_text("main") and "锁石" in page.inner_text("main")


def test_wrong_level_is_explained_on_the_form(page, live_server, transactional_db, staff):
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/accounts/users/new/")
    page.fill("input[name=username]", "xiang01")
    page.select_option("select[name=role]", "township_officer")
    page.select_option("select[name=region_code]", SUOSHI)
    page.click("button:has-text('创建账号')")
    assert "乡镇（街道）经办员须绑定到乡镇（街道）（9位区划代码），“锁石”是村（社区）。" in page.inner_text("main")
    assert not User.objects.filter(username="xiang01").exists()


@override_settings(YIBAO_REQUIRE_2FA_ROLES=["county_admin", "tax_officer"])
def test_county_admin_scans_and_gives_the_code_on_a_phone(page, live_server, transactional_db, staff):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "county_admin")
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/login/enrol/.*"))
    assert page.locator(".qr svg").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
    secret = page.inner_text("[data-secret]").replace(" ", "")
    page.fill("input[name=token]", "000000" if _code(secret) != "000000" else "111111")
    page.click("button:has-text('确认绑定')")
    assert "验证码不正确或已过期" in page.inner_text("main")
    time.sleep(1.1)  # a wrong code makes the next try wait a second
    page.fill("input[name=token]", _code(secret))
    page.click("button:has-text('确认绑定')")
    page.wait_for_url(f"{live_server.url}/")
    assert "已绑定手机验证器" in page.inner_text(".messages")
    page.click("button:has-text('退出')")
    page.goto(f"{live_server.url}/accounts/users/")  # the next login asks for the code
    page.fill("input[name=username]", "county_admin")
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/accounts/login/code/.*"))
    page.fill("input[name=token]", _code(secret, offset=30))  # the next step: a code is never taken twice
    page.click("button:has-text('验证')")
    page.wait_for_url(f"{live_server.url}/accounts/users/")


def test_the_login_page_warns_then_says_whom_to_call(page, live_server, transactional_db, staff):
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(4):
        page.fill("input[name=username]", "village_collector")
        page.fill("input[name=password]", "wrong-one")
        page.click("button[type=submit]")
    assert "再输错 1 次，该账号将被锁定 30 分钟。" in page.inner_text("main")
    page.fill("input[name=password]", "wrong-one")
    page.click("button[type=submit]")
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    text = page.inner_text("[data-locked]")
    assert "已被锁定" in text and "请联系本县医保局系统管理员解锁" in text


def _code(secret: str, offset: int = 0) -> str:
    from base64 import b32decode

    from django_otp.oath import TOTP

    key = b32decode(secret + "=" * (-len(secret) % 8))
    totp = TOTP(key, step=30, t0=0, digits=6, drift=0)
    totp.time = time.time() + offset
    return f"{totp.token():06d}"
