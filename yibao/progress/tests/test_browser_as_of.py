"""The dashboard's date picker on a phone: pick a past day, the figures are that day's end, the report links keep it."""

import pytest

from yibao.progress import services
from yibao.progress.tests import builders as b
from yibao.progress.tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_picking_a_past_day_shows_its_figures_with_the_as_of_label(page, live_server, make_user, county, settings):
    settings.YIBAO_TODAY = "2024-11-03"
    b.pay(b.person(b.NANCUN, "辛"), b.dt.date(2024, 11, 2))  # after the day asked for
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    make_user("admin", role="county_admin", region_code=b.COUNTY)
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/progress/?year=2025")
    assert page.locator("[data-role=as-of-label]").inner_text().startswith("今日实时（2024-11-03）")
    assert page.locator("[data-field=enrolled]").inner_text() == "6"
    page.fill("input[data-role=as-of]", "2024-10-31")
    page.click("form.toolbar button[type=submit]")
    page.wait_for_url(lambda url: "on=2024-10-31" in url)
    assert page.locator("[data-role=as-of-label]").inner_text().startswith("截至 2024-10-31 日终")
    assert page.locator("[data-field=enrolled]").inner_text() == "5"  # 辛 paid on 11-02
    assert page.locator("[data-field=amount]").inner_text() == "1,600.00"
    assert "on=2024-10-31" in page.locator("a:has-text('每周公布表 Excel')").get_attribute("href")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.click("table.units a:has-text('榴城镇')")  # drilling down keeps the day
    page.wait_for_url(lambda url: f"region={b.LIUCHENG}" in url and "on=2024-10-31" in url)
    assert page.locator("[data-role=as-of-label]").inner_text().startswith("截至 2024-10-31 日终")
