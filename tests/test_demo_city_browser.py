"""The demo city as `make run` leaves it: 蚌埠市's account ranks 怀远县 and 五河县, drills into one and downloads
the city's 周报; the province's account sees 蚌埠市; 五河县's administrator sees only 五河县 (chromium, desk and phone)."""

import pytest
from typer.testing import CliRunner

from yibao.cli import app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_city(db):
    result = CliRunner().invoke(app, ["demo", "--residents", "200", "--json", "--quiet"])
    assert result.exit_code == 0, result.stderr


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "yibao-demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def open_ranking(page, live_server):
    page.goto(f"{live_server.url}/progress/")
    page.wait_for_function("() => window.rollupChart !== undefined")


def test_demo_city_ranks_its_counties_and_downloads_the_weekly_report(browser, live_server, demo_city):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    errors = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.set_default_timeout(15000)
    try:
        login(page, live_server, "shi_yibao")
        open_ranking(page, live_server)
        assert page.locator("h1").inner_text().startswith("蚌埠市 2025年度征缴进度")
        assert sorted(page.evaluate("window.rollupChart.getOption().yAxis[0].data")) == ["五河县", "怀远县"]
        codes = page.locator(".rollup-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")
        assert sorted(codes) == ["340321", "340322"]
        with page.expect_download() as info:
            page.click("a[data-role=rollup-xlsx]")
        assert info.value.suggested_filename.startswith("蚌埠市-3403-") and info.value.suggested_filename.endswith(".xlsx")
        with page.expect_download() as info:
            page.click("a[data-role=rollup-pdf]")
        assert info.value.suggested_filename.endswith(".pdf")
        page.click(".rollup-table a:has-text('五河县')")
        page.wait_for_url(lambda url: "region=340322" in url)
        assert "五河县 2025年度征缴进度" in page.locator("h1").inner_text()
        # whole ID numbers never reach a city account
        page.goto(f"{live_server.url}/progress/?region=340322")
        assert page.locator("main").count() == 1
    finally:
        context.close()
    assert not errors, errors


def test_demo_province_and_second_county_on_a_phone(page, live_server, demo_city):
    login(page, live_server, "sheng")
    open_ranking(page, live_server)
    assert page.evaluate("window.rollupChart.getOption().yAxis[0].data") == ["蚌埠市"]
    assert page.locator(".rollup-cards li").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.context.clear_cookies()
    login(page, live_server, "wuhe_admin")
    page.goto(f"{live_server.url}/progress/")
    assert "五河县" in page.locator("h1").inner_text()
    response = page.goto(f"{live_server.url}/progress/?region=340321")
    assert response.status in (403, 404) and "怀远县" not in page.locator("body").inner_text()
