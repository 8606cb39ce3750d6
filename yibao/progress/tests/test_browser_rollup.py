"""The city's ranking of counties and the province's of cities in chromium, at 1280 wide and on a phone (390×844):
the bar chart, the table or the cards, sorting, drill-down to a county, and the 周报 downloads."""

import pytest

from yibao.progress.tests import rollup_world as w
from yibao.progress.tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hubei(db, settings):
    settings.YIBAO_TODAY = w.TODAY
    w.build()


def wait_for_chart(page):
    page.wait_for_function("() => window.rollupChart !== undefined")
    page.locator("#chart-units canvas").first.wait_for()


def test_city_ranking_on_a_desk_sorts_drills_down_and_downloads(browser, live_server, make_user, hubei):
    make_user("xianning", role="city_admin", region_code=w.CITY)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.set_default_timeout(10000)
    try:
        login(page, live_server, "xianning")
        page.goto(f"{live_server.url}/progress/")
        wait_for_chart(page)
        assert page.locator("h1").inner_text() == "咸宁市 2025年度征缴进度（各县（市、区））"
        assert page.evaluate("window.rollupChart.getOption().yAxis[0].data") == ["崇阳县", "赤壁市"]
        assert [d["value"] for d in page.evaluate("window.rollupChart.getOption().series[0].data")] == [60, 0]
        assert page.locator(".rollup-table").is_visible() and not page.locator(".rollup-cards").is_visible()
        assert "随县" not in page.locator("main").inner_text()
        page.click("a[data-sort=pace]")
        page.wait_for_url(lambda url: "sort=pace" in url)
        assert page.locator(".rollup-table tbody tr").first.get_attribute("data-code") == w.CHONGYANG
        with page.expect_download() as info:
            page.click("a[data-role=rollup-xlsx]")
        assert info.value.suggested_filename == "咸宁市-4212-参保缴费进度周报-20241115.xlsx"
        with page.expect_download() as info:
            page.click("a[data-role=rollup-pdf]")
        assert info.value.suggested_filename.endswith("周报-20241115.pdf")
        page.click(".rollup-table a:has-text('崇阳县')")
        page.wait_for_url(lambda url: f"region={w.CHONGYANG}" in url)
        assert "崇阳县 2025年度征缴进度" in page.locator("h1").inner_text()
        assert page.locator("button:has-text('重新统计')").count() == 0
        page.click("a[data-role=up]")
        page.wait_for_url(lambda url: f"region={w.CITY}" in url)
        wait_for_chart(page)
    finally:
        context.close()
    assert not errors, errors


def test_province_ranking_on_a_phone_shows_cards_and_drills_into_a_city(page, live_server, make_user, hubei):
    make_user("hubei", role="province_viewer", region_code=w.PROVINCE)
    login(page, live_server, "hubei")
    page.goto(f"{live_server.url}/progress/")
    wait_for_chart(page)
    assert page.evaluate("window.rollupChart.getOption().yAxis[0].data") == ["随州市", "咸宁市"]
    cards = page.locator(".rollup-cards li")
    assert cards.count() == 2 and cards.first.is_visible() and not page.locator(".rollup-table").is_visible()
    assert "第 1 名" in cards.first.inner_text() and "随州市" in cards.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.locator("#chart-units").scroll_into_view_if_needed()
    point = page.evaluate("window.rollupChart.convertToPixel({seriesIndex: 0}, [30, 1])")
    box = page.locator("#chart-units").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    page.wait_for_url(lambda url: f"region={w.CITY}" in url)
    wait_for_chart(page)
    assert page.evaluate("window.rollupChart.getOption().yAxis[0].data") == ["崇阳县", "赤壁市"]
    with page.expect_download() as info:
        page.click("a[data-role=rollup-xlsx]")
    assert info.value.suggested_filename.startswith("咸宁市-4212-")
