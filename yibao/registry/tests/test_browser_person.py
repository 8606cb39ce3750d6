"""The person page and the household page on a phone (390×844)."""

import pytest

from yibao.collection import services as s
from yibao.collection.models import Payment
from yibao.collection.tests import factories as f
from yibao.registry.tests import person_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_person_page_shows_every_section_on_a_phone(page, live_server, make_user, settings):
    world = person_world.build(settings)
    make_user("cun", role="village_collector", region_code=f.VILLAGE, display_name="村收款员")
    login(page, live_server, "cun")
    page.goto(f"{live_server.url}/registry/residents/{world.spouse.pk}/")
    section = lambda name: page.locator(f"[data-testid={name}]")  # noqa: E731
    assert world.head.name in section("household").inner_text() and "已缴费" in section("household").inner_text()
    assert "依据" in section("assessment").inner_text()
    assert "340321-2025-0000001" in section("payments").inner_text()
    assert section("payments").locator("a[data-action=reprint]").count() == 1
    assert "参加职工医保" in section("refunds").inner_text()
    assert "待审核" in section("subsidy-refunds").inner_text()
    assert "电话已通知" in section("remind").inner_text()
    assert "本村差异" in section("mismatches").inner_text() and "外村差异" not in section("mismatches").inner_text()
    assert "收款" in section("history").inner_text()
    actions = section("person-actions")
    assert actions.locator("[data-action=reprint]").count() == 1 and actions.locator("[data-action=collect]").count() == 0
    assert no_sideways_scroll(page)
    # a member's name leads to their page, which offers 收款 for the household
    section("household").get_by_role("link", name=world.head.name).click()
    page.wait_for_url(f"**/registry/residents/{world.head.pk}/")
    page.click("[data-testid=person-actions] [data-action=collect]")
    page.wait_for_url(f"**/collection/counter/households/{world.home.pk}/")


def test_household_page_pays_a_subset_of_members(page, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    home, head, spouse, child = f.family(number="P901")
    make_user("cun", role="village_collector", region_code=f.VILLAGE)
    login(page, live_server, "cun")
    page.goto(f"{live_server.url}/registry/households/{home.pk}/")
    assert page.locator("#pay-total").inner_text() == "1200.00"
    page.uncheck(f"input[name=residents][value='{child.pk}']")
    page.uncheck(f"input[name=residents][value='{spouse.pk}']")
    assert page.locator("#pay-total").inner_text() == "400.00"
    assert no_sideways_scroll(page)
    page.click("#pay-button")
    sheet = page.locator("dialog#confirm-dialog[open] #confirm-sheet")  # the counter's confirmation sheet
    sheet.wait_for()
    assert "400.00 元" in sheet.locator("[data-field=confirm-total]").inner_text() and Payment.objects.count() == 0
    sheet.locator("input[name=received]").fill("500")  # cash: the amount received, 100.00 back
    sheet.locator("#confirm-button").click()
    page.wait_for_url("**/collection/receipts/**")
    assert list(Payment.objects.values_list("resident_id", flat=True)) == [head.pk]


def test_a_household_paid_in_full_shows_no_zero_button(page, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    home, head, spouse, child = f.family(number="P902")
    s.payment_collect(residents=[head, spouse, child], channel="cash", actor="测试", household=home)
    make_user("cun", role="village_collector", region_code=f.VILLAGE)
    login(page, live_server, "cun")
    for url in (f"/registry/households/{home.pk}/", f"/collection/counter/households/{home.pk}/"):
        page.goto(f"{live_server.url}{url}")
        paid = page.locator("[data-testid=paid-in-full]")
        assert "全户已缴清" in paid.inner_text() and "340321-2025-0000001" in paid.inner_text()
        assert page.locator("#pay-button").count() == 0 and page.get_by_text("0.00 元并开票").count() == 0
        assert no_sideways_scroll(page)
