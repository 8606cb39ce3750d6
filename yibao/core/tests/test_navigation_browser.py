"""The grouped menu on a phone and on the desktop."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_phone_menu_in_groups_fits_the_screen(page, live_server, make_user):
    make_user("admin", role="county_admin", region_code="340321")
    make_user("cunji", role="village_collector", region_code="340321100201")
    _login(page, live_server, "admin")
    page.goto(f"{live_server.url}/accounts/me/")
    assert not page.locator(".menu nav").is_visible()
    page.click(".menu summary")
    headings = page.locator(".menu nav .nav-heading")
    assert headings.all_inner_texts() == ["名单", "核定", "收款", "对账", "进度", "系统"]
    box = page.locator(".menu nav").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(".menu nav a", has_text="对账").first.click()
    page.wait_for_url(f"{live_server.url}/reconciliation/")
    page.click(".menu summary")
    assert page.locator(".menu nav a[aria-current=page]").inner_text() == "对账"

    page.click("button:has-text('退出')")
    _login(page, live_server, "cunji")
    page.click(".menu summary")
    items = page.locator(".menu nav a").all_inner_texts()
    assert "收款" in items and not {"名单导入", "参保核定", "目标任务", "行政区划"} & set(items)


def test_desktop_side_menu_has_group_headings(browser, live_server, make_user):
    make_user("admin", role="county_admin", region_code="340321")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    _login(page, live_server, "admin")
    assert page.locator(".sidenav .nav-heading").all_inner_texts() == ["名单", "核定", "收款", "对账", "进度", "系统"]
    assert not page.locator(".menu").is_visible()
    last = page.locator(".sidenav a").last
    assert last.inner_text() == "变更记录" and last.bounding_box()["y"] + last.bounding_box()["height"] <= 900
    context.close()
