"""Payments and receipts: cards on a phone, one line per name on the desktop, 1,234.00-style amounts."""

import datetime as dt

import pytest

from yibao.collection.models import Payment
from yibao.collection.tests.test_browser import login, no_sideways_scroll
from yibao.reconciliation.tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paid(make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    campaign = f.world()
    collector = make_user("collector", role="village_collector", region_code=f.VILLAGE, display_name="村收款员")
    people = [f.person(name="欧阳明月"), f.person(name="张三丰")]
    payments = [f.payment(campaign, p, source="counter", channel="cash", collector=collector, collector_name="村收款员",
                          amount=amount) for p, amount in zip(people, ("1234.00", "380.00"))]
    Payment.objects.filter(pk__in=[p.pk for p in payments]).update(
        benefit_start=dt.date(2025, 1, 1), benefit_end=dt.date(2025, 12, 31))
    flagged = f.payment(campaign, f.person(name="司马相如"), status="flagged")
    Payment.objects.filter(pk=flagged.pk).update(
        flag="under", flag_advice="实缴金额少于应缴金额：请联系缴费人补缴差额后由县税务局重新匹配入账，或办理退费。")
    receipt = f.receipt(payments, issued_by="村收款员")
    return {"receipt": receipt, "collector": collector}


def test_the_receipt_page_on_a_phone_shows_each_benefit_period_and_grouped_amounts(page, live_server, paid):
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/collection/receipts/{paid['receipt'].pk}/")
    assert "1,614.00 元" in page.locator("[data-field=total]").inner_text()
    cards = page.locator("#receipt-line-cards li.phone-card")
    assert cards.count() == 2
    first = cards.nth(0).inner_text()
    assert "1,234.00 元" in first and "待遇享受期：2025-01-01 至 2025-12-31" in first
    assert not page.locator("#receipt-lines").is_visible()
    assert no_sideways_scroll(page)


def test_payments_are_cards_on_a_phone(page, live_server, paid):
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/collection/payments/")
    cards = page.locator("#payment-cards li.phone-card")
    assert cards.count() == 3
    text = page.locator("#payment-cards").inner_text()
    assert "1,234.00 元" in text and "少缴" in text and "待遇享受期 2025-01-01 至 2025-12-31" in text
    assert no_sideways_scroll(page)


def test_the_desktop_payments_list_keeps_names_and_badges_on_one_line(browser, live_server, paid, make_user):
    make_user("admin", role="county_admin", region_code=f.COUNTY)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    errors = []
    desk = context.new_page()
    desk.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    try:
        login(desk, live_server, "admin")
        desk.goto(f"{live_server.url}/collection/payments/")
        assert desk.locator("#payments").is_visible() and not desk.locator("#payment-cards").is_visible()
        line = desk.evaluate("parseFloat(getComputedStyle(document.querySelector('#payments td')).lineHeight)"
                             " || 1.55 * parseFloat(getComputedStyle(document.querySelector('#payments td')).fontSize)")
        for selector in ("td[data-field=name]", "td[data-field=status]"):
            cells = desk.locator(f"#payments {selector}")
            assert cells.count() == 3
            for i in range(3):
                cell = cells.nth(i)
                text_height = cell.evaluate("el => { const r = document.createRange(); r.selectNodeContents(el);"
                                            " return r.getBoundingClientRect().height; }")
                assert text_height < 1.6 * line, (selector, cell.inner_text(), text_height, line)
        name = desk.locator("#payments td[data-field=name]").filter(has_text="欧阳明月").first
        assert name.evaluate("el => el.getBoundingClientRect().width") > 3 * 14  # four characters side by side
        assert "1,234.00" in desk.locator("#payments").inner_text()
    finally:
        context.close()
    assert not errors
