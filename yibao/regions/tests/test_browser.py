"""Browser test of the region tree."""

import pytest
from playwright.sync_api import expect

from yibao.registry.tests.factories import make_household
from yibao.registry.tests.fixtures import BAIMA

pytestmark = pytest.mark.browser


def test_drill_down_from_county_to_village(page, live_server, transactional_db, staff):
    make_household(BAIMA, "H1", "甲", "乙")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "county_admin")
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/regions/")
    assert page.locator("h1").inner_text().startswith("崇阳县")
    page.click("table a:has-text('肖岭乡')")
    expect(page.locator("tbody tr")).to_have_count(10)
    assert page.locator("tbody tr", has_text="白马").locator("td.num").first.inner_text() == "2"
    page.click("table a:has-text('白马')")
    assert page.locator("[data-testid=residents]").inner_text() == "2"
    page.click("text=查看本村（社区）参保人")
    expect(page.locator("tbody tr")).to_have_count(2)
