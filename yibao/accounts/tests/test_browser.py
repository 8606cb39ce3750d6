"""Browser tests of the account pages."""

import re

import pytest

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
