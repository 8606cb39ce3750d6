"""The vocabulary and diff pages in a browser, on a desktop (1280) and on a phone (390×844)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)])
def test_vocabulary_page_reads_on_desktop_and_phone(page, live_server, make_user, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    make_user("collector", role="village_collector", region_code="340321100001")
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/policy/")
    page.click("main a:has-text('词汇表')")
    page.wait_for_url("**/policy/vocabulary/")
    assert page.locator("h1").inner_text() == "政策词汇表"
    row = page.locator("#identities tr[data-code=dibao]")
    assert "最低生活保障对象" in row.inner_text()
    assert page.locator("#anchors tr[data-code=birth_date]").inner_text().startswith("birth_date")
    page.click("main a.button:has-text('起算点')")
    assert page.locator("#anchors").is_visible()
    # wide tables scroll inside their frame; the page itself does not scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)])
def test_diff_page_compares_two_years(page, live_server, make_user, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    make_user("admin", role="county_admin", region_code="421321")
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/policy/diff/")
    page.select_option("main select[name=before]", "hubei-suixian-2023")
    page.select_option("main select[name=after]", "anhui-huaiyuan-2025")
    page.click("main button:has-text('比较')")
    result = page.locator("#diff-result")
    result.wait_for()
    assert "hubei-suixian-2023 → anhui-huaiyuan-2025" in result.locator("h2").inner_text()
    assert int(result.get_attribute("data-count")) > 10
    assert page.locator("li[data-kind=removed]").first.is_visible()
    assert "居民个人缴费标准（1档）金额：350 → 400" in result.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
