"""The top bar's search box in a phone-sized browser (390×844): suggestions as one types, Enter opens the person."""

import datetime as dt

import pytest

from yibao.registry.tests.factories import make_household, make_id, make_resident
from yibao.registry.tests.fixtures import BAIMA, SUOSHI, regions, staff  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username, password="pass-1234"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


BOX = "header.topbar form.search-box input[name=q]"


def test_typing_suggests_and_enter_opens_the_person(page, live_server, staff):
    _, (head, son) = make_household(BAIMA, "H-77", "孙父", "孙子")
    make_resident(SUOSHI, "孙远", id_number=make_id("421223", dt.date(1990, 1, 1), seq="731"))  # another village
    login(page, live_server, "village_collector")
    box = page.locator(BOX)
    assert box.is_visible() and fits_the_phone(page)
    with page.expect_request(lambda r: "/search/suggest/" in r.url and r.headers.get("hx-request") == "true"):
        box.press_sequentially("孙", delay=30)
    suggest = page.locator("header .search-suggest")
    suggest.locator("a[data-kind=person]").first.wait_for()
    text = suggest.inner_text()
    assert "孙父" in text and "孙子" in text and "孙远" not in text  # only the collector's village
    assert "肖岭乡 / 白马" in text and "匹配：姓名" in text
    assert fits_the_phone(page)
    box.fill(son.id_number[-6:])
    page.locator("header .search-suggest", has_text="身份证号尾号").wait_for()
    box.press("Enter")
    page.wait_for_url(f"**/registry/residents/{son.pk}/")
    assert "孙子" in page.inner_text("main")
    assert fits_the_phone(page)


def test_enter_on_several_matches_lists_them_and_a_link_opens_one(page, live_server, staff):
    _, (head, son) = make_household(BAIMA, "H-78", "钟父", "钟子")
    login(page, live_server, "township_officer")
    page.locator(BOX).fill("钟")
    page.locator(BOX).press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert "找到 2 条" in page.inner_text("main") and fits_the_phone(page)
    page.click("main a:has-text('钟父')")
    page.wait_for_url(f"**/registry/residents/{head.pk}/")


def test_bad_input_shows_the_hint_and_the_clerk_has_no_box(page, live_server, staff):
    login(page, live_server, "county_admin")
    page.locator(BOX).fill("<>")
    page.locator("header .search-suggest .search-hint").wait_for()
    assert "请输入身份证号、姓名、户号、票据号或缴费流水号" in page.inner_text("header .search-suggest")
    page.click("button:has-text('退出')")
    login(page, live_server, "department_clerk")
    assert page.locator(BOX).count() == 0


def test_the_box_sits_inline_on_a_desktop(browser, live_server, staff):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        login(page, live_server, "county_admin")
        brand = page.locator("header a.brand").bounding_box()
        box = page.locator("header form.search-box").bounding_box()
        assert abs(box["y"] - brand["y"]) < 20 and box["x"] > brand["x"]  # one row with the brand
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        context.close()
