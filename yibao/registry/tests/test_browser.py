"""Browser tests of the registry pages (Debian chromium through Playwright, phone-sized window)."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from yibao.registry.models import Flag, Resident
from yibao.registry.tests.factories import give_identity, make_household, make_id
from yibao.registry.tests.fixtures import BAIMA

pytestmark = pytest.mark.browser


def login(page, live_server, username, password="pass-1234"):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_collector_registers_a_household_and_records_a_group(page, live_server, transactional_db, staff):
    login(page, live_server, "village_collector")
    page.goto(f"{live_server.url}/registry/residents/")
    assert fits_the_phone(page)
    page.click("text=登记新户")
    assert page.locator("select[name=village_code]").input_value() == BAIMA  # their own village, preselected
    head_id = make_id("421223", dt.date(1986, 4, 2), seq="811")
    child_id = make_id("421223", dt.date(2012, 7, 9), seq="822", sex="F")
    page.fill("input[name=m-0-name]", "吴大")
    page.fill("input[name=m-0-id_number]", head_id)
    page.fill("input[name=m-1-name]", "吴小")
    page.fill("input[name=m-1-id_number]", child_id)
    page.select_option("select[name=m-1-relation]", "女")
    assert page.locator("section.member").nth(2).is_hidden()
    page.click("#more-members")
    assert page.locator("section.member").nth(2).is_visible()
    page.click("button:has-text('登记')")
    page.wait_for_url("**/registry/households/*/")
    assert "已登记家庭户" in page.inner_text(".messages")
    assert page.locator("[data-testid=members]").inner_text().count("吴") == 2
    page.click("a:has-text('吴小')")
    page.wait_for_url("**/registry/residents/*/")
    page.click("summary:has-text('登记参保群体')")
    page.select_option("select[name=group]", "university_student")
    page.click("form[action$='/groups/'] button[type=submit]")
    assert "已登记参保群体" in page.inner_text(".messages")
    assert "在校大学生" in page.inner_text("main")
    assert Resident.objects.get(id_number=child_id).group_facts.get().group == "university_student"


def test_search_finds_by_id_number(page, live_server, transactional_db, staff):
    _, (head, son) = make_household(BAIMA, "H1", "郑父", "郑子")
    login(page, live_server, "village_collector")
    page.goto(f"{live_server.url}/registry/residents/")
    page.fill("main input[name=q]", son.id_number)
    page.click("button:has-text('查询')")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)  # waits for the results page, not the list it replaces
    assert "郑子" in rows.inner_text()


def test_admin_resolves_a_flag_and_the_block_lifts(page, live_server, transactional_db, staff):
    _, (head,) = make_household(BAIMA, "H1", "冯父")
    Flag.objects.create(county_code="421223", resident=head, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="县医院职工")
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/registry/residents/{head.pk}/")
    assert "暂不能参保" in page.inner_text("[data-testid=enrollment-block]")
    page.goto(f"{live_server.url}/registry/flags/")
    card = page.locator("section.flag", has_text="冯父")
    card.locator("select[name=outcome]").select_option("cleared")
    card.locator("input[name=resolution]").fill("已核实：2023年6月离职停保")
    card.locator("button[type=submit]").click()
    assert "核实无重复，可以参保" in page.inner_text(".messages")
    assert page.locator("section.flag", has_text="冯父").count() == 0
    page.goto(f"{live_server.url}/registry/residents/{head.pk}/")
    assert page.locator("[data-testid=enrollment-block]").count() == 0
    assert "已核实：2023年6月离职停保" in page.inner_text("main")


def test_identity_review_shows_the_identity_that_applies(page, live_server, transactional_db, staff):
    _, (head,) = make_household(BAIMA, "H1", "卫父")
    give_identity(head, "dibao")
    give_identity(head, "monitored_sudden", department="xiangcun")
    login(page, live_server, "township_officer")
    page.goto(f"{live_server.url}/registry/review/")
    row = page.locator("tbody tr", has_text="卫父")
    assert "低保对象" in row.inner_text() and "突发严重困难人口" in row.inner_text()
    assert row.locator("[data-testid=applied]").inner_text() == "低保对象"
    assert "342.00 元" in row.inner_text()
