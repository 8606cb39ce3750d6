"""The confirmation sheet on a phone (390×844): a bottom sheet with the figures, 大写 and, for cash,
the change; 取消 books nothing; without JavaScript the sheet is a page and works the same."""

import pytest

from yibao.collection import services as s
from yibao.collection.models import Payment, Receipt, Refund
from yibao.collection.tests import factories as f
from yibao.collection.tests.test_browser import login, no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cash_payment_shows_the_change_and_books_once_confirmed(page, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    home, head, spouse, child = f.family(number="Q001", head_identities=["dibao"], spouse_identities=["entitled_group"])
    make_user("collector", role="village_collector", region_code=f.VILLAGE, display_name="村收款员")
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/collection/counter/households/{home.pk}/")
    page.check("input[name=channel][value=cash]")
    # 取消 closes the sheet and books nothing
    page.click("#pay-button")
    sheet = page.locator("dialog#confirm-dialog[open] #confirm-sheet")
    sheet.wait_for()
    page.click("dialog[open] [data-sheet-cancel]")
    assert page.locator("dialog#confirm-dialog[open]").count() == 0 and not Payment.objects.exists()
    # again: the sheet is a bottom sheet with who, figures, 大写 and what changes
    page.click("#pay-button")
    sheet.wait_for()
    box = page.locator("dialog#confirm-dialog").bounding_box()
    assert abs(box["y"] + box["height"] - 844) <= 2 and box["width"] >= 388  # at the bottom, full width
    text = sheet.inner_text()
    assert "860.00 元" in text and "大写：捌佰陆拾元整" in text and head.name in text and child.name in text
    assert "登记 2025 年度参保（3 人），开具票据 1 张" in text and "先缴后补" in text
    assert no_sideways_scroll(page)
    received = sheet.locator("input[name=received]")
    received.fill("800")
    assert "还差 60.00 元" in sheet.locator("[data-field=change]").inner_text()
    assert sheet.locator("#confirm-button").is_disabled()  # below the total: no 确认
    received.fill("1000")
    assert sheet.locator("[data-field=change]").inner_text() == "找零 140.00 元"
    assert not Payment.objects.exists()
    sheet.locator("#confirm-button").click()
    page.wait_for_url("**/receipts/**")
    assert "实收现金 1,000.00 元，找零 140.00 元" in page.locator(".messages").inner_text()
    assert Receipt.objects.count() == 1 and Payment.objects.count() == 3 and no_sideways_scroll(page)


def test_void_and_reissue_through_the_sheet_on_a_phone(page, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    person = f.person(name="换开乙")
    paid = s.payment_collect(residents=[person], channel="cash", actor="村收款员")
    make_user("zhen", role="township_officer", region_code=f.VILLAGE[:9])
    login(page, live_server, "zhen")
    page.goto(f"{live_server.url}/collection/receipts/{paid.receipt.pk}/")
    page.click("#void-receipt summary")
    page.fill("#void-receipt input[name=reason]", "姓名打错")
    page.click("#void-receipt button[type=submit]")
    sheet = page.locator("dialog[open] #confirm-sheet")
    sheet.wait_for()
    text = sheet.inner_text()
    assert f"票据 {paid.receipt.receipt_no} 作废，换开新票据（1 人，合计 400.00 元）" in text and "大写：肆佰元整" in text
    assert Receipt.objects.filter(voided_at__isnull=False).count() == 0 and no_sideways_scroll(page)
    sheet.locator("#confirm-button").click()
    page.wait_for_selector("text=已换开新票据")
    assert Receipt.objects.filter(voided_at__isnull=False).count() == 1 and Receipt.objects.count() == 2


def test_refund_request_through_the_sheet_on_a_phone(page, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    person = f.person(name="退费丙")
    payment = s.payment_collect(residents=[person], channel="cash", actor="测试").payments[0]
    settings.YIBAO_TODAY = "2024-12-01"
    make_user("collector", role="village_collector", region_code=f.VILLAGE)
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/collection/refunds/new/?q={person.id_number}")
    form = page.locator("form.refund-form").first
    form.locator("select[name=reason]").select_option("death")
    form.locator("button[type=submit]").click()
    sheet = page.locator("dialog[open] #confirm-sheet")
    sheet.wait_for()
    text = sheet.inner_text()
    assert f"退还缴费流水号 {payment.external_id}" in text and "中的 400.00 元给退费丙" in text
    assert "退款入账时同时办理参保终止" in text and no_sideways_scroll(page)
    assert not Refund.objects.exists()
    sheet.locator("#confirm-button").click()
    page.wait_for_url("**/collection/refunds/")
    assert Refund.objects.get().status == "requested"


def test_without_javascript_the_sheet_is_a_page_and_says_when_benefits_start(browser, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2025-01-15"  # late: a waiting period
    f.campaign()
    person = f.person(name="无脚本丁")
    make_user("collector", role="village_collector", region_code=f.VILLAGE)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, live_server, "collector")
        page.goto(f"{live_server.url}/collection/counter/residents/{person.pk}/")
        page.check("input[name=channel][value=cash]")
        page.click("#pay-button")
        page.wait_for_url("**/counter/pay/")
        sheet = page.locator("#confirm-sheet")
        assert "无脚本丁：待遇自 2025年4月16日 起享受（等待期 3 个月）" in sheet.inner_text()
        assert no_sideways_scroll(page) and not Payment.objects.exists()
        page.fill("input[name=received]", "500")
        page.click("#confirm-recalc")  # the server computes the change
        assert "找零 100.00 元" in page.locator("[data-field=change]").inner_text() and not Payment.objects.exists()
        page.click("#confirm-button")
        page.wait_for_url("**/receipts/**")
        payment = Payment.objects.get()
        assert str(payment.benefit_start) == "2025-04-16" and "找零 100.00 元" in page.locator(".messages").inner_text()
    finally:
        context.close()
