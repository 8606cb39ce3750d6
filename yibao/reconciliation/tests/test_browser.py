"""A tax officer starts a reconciliation on a phone and reads its mismatches."""

import pytest
from playwright.sync_api import expect

from yibao.reconciliation.tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")


def test_start_a_run_and_see_the_mismatches(page, live_server, make_user, tmp_path):
    campaign = f.world()
    a, b = f.person(name="甲"), f.person(name="乙", village=f.VILLAGE_3)
    paid = f.payment(campaign, a, amount="380.00")
    f.payment(campaign, b, source="counter", channel="cash", collector_name="河溜收款员")
    tax = f.tax_file(tmp_path / "税务缴费明细.csv", [f.tax_row(paid, **{"实缴金额（元）": "400"}), f.tax_row(None)])
    make_user("tax", role="tax_officer", region_code=f.COUNTY, display_name="税务张")

    login(page, live_server, "tax")
    page.goto(f"{live_server.url}/reconciliation/")
    assert page.locator("#short-months").is_visible()  # no reconciliation yet: the months fall short
    page.click("text=开始对账")
    page.fill("input[name=as_of]", "2024-11-30")
    page.set_input_files("input[name=tax_file]", str(tax))
    page.click("button:has-text('上传并对账')")

    page.locator(".job progress").wait_for()
    assert page.locator(".job .badge").inner_text() == "已完成"
    page.locator("#open-run").click()

    counts = page.locator("#kind-counts")
    counts.wait_for()
    assert counts.locator("[data-kind=amount_differs] .value").inner_text() == "1"
    assert counts.locator("[data-kind=paid_not_booked] .value").inner_text() == "1"
    assert counts.locator("[data-kind=booked_not_paid] .value").inner_text() == "1"
    assert counts.locator("[data-kind=cash_short] .value").inner_text() == "1"
    table = page.locator("#mismatches")
    assert "村征收员 河溜收款员" in table.inner_text()
    assert "相差 20.00元" in table.inner_text()

    page.select_option("select[name=kind]", "amount_differs")
    page.click("#filters button[type=submit]")
    rows = page.locator("#mismatches tbody tr")
    expect(rows).to_have_count(1)
    assert rows.first.get_attribute("data-kind") == "amount_differs"
    # the phone-width page does not scroll sideways (wide tables scroll inside their box)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.goto(f"{live_server.url}/reconciliation/")
    assert page.locator(".month[data-status=outside]").count() == 1  # today's run lies after the 2025 window
