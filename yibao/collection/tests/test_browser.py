"""The collector on a phone (390×844): find the household, pay, print; refunds; 先缴后补."""

import pytest

from yibao.collection import services as s
from yibao.collection.models import Payment, Receipt, Refund, SubsidyRefund
from yibao.collection.receipts import pdf_texts
from yibao.collection.tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_collector_finds_household_pays_and_prints_on_a_phone(page, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    home, head, spouse, child = f.family(number="P001", head_identities=["dibao"], spouse_identities=["entitled_group"])
    make_user("collector", role="village_collector", region_code=f.VILLAGE, display_name="村收款员")
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/")
    page.click("summary[aria-label=菜单]")
    page.click("nav a:has-text('收款')")
    page.wait_for_url("**/collection/")
    page.fill("main input[name=q]", head.id_number)
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true"):
        page.click("button:has-text('查找')")
    page.locator("#results a.result-card").first.wait_for()
    assert "户号 P001" in page.locator("#results").inner_text()
    page.click("#results a.result-card")
    page.wait_for_url("**/counter/households/**")
    assert no_sideways_scroll(page)
    # every member who may pay is ticked; the total follows the ticks
    assert page.locator("#pay-total").inner_text() == "860.00"
    page.uncheck(f"input[name=residents][value='{child.pk}']")
    assert page.locator("#pay-total").inner_text() == "460.00"
    page.check("input[name=channel][value=wechat]")
    page.click("#pay-button")
    sheet = page.locator("dialog#confirm-dialog[open] #confirm-sheet")
    sheet.wait_for()
    assert "460.00 元" in sheet.locator("[data-field=confirm-total]").inner_text()
    assert Payment.objects.count() == 0  # nothing books before 确认
    sheet.locator("#confirm-button").click()
    page.wait_for_url("**/receipts/**")
    assert page.locator("[data-field=receipt_no]").inner_text() == "340321-2025-0000001"
    assert "460.00 元" in page.locator("[data-field=total]").inner_text()
    assert no_sideways_scroll(page)
    href = page.locator("#print-receipt").get_attribute("href")
    pdf = page.request.get(f"{live_server.url}{href}")
    assert pdf.headers["content-type"] == "application/pdf"
    texts = " ".join(pdf_texts(pdf.body()))
    assert head.name in texts and spouse.name in texts and "460.00" in texts and "补打" not in texts
    assert "补打" in " ".join(pdf_texts(page.request.get(f"{live_server.url}{href}").body()))
    receipt = Receipt.objects.get()
    assert receipt.channel == "wechat" and receipt.issued_by_name == "村收款员" and receipt.prints == 2
    assert set(Payment.objects.values_list("resident_id", flat=True)) == {head.pk, spouse.pk}
    # back at the household, the two are paid and the child can still pay
    page.goto(f"{live_server.url}/collection/counter/households/{home.pk}/")
    assert page.locator(f"li[data-resident='{head.pk}'] [data-field=status]").inner_text() == "已缴费"
    assert page.locator("#pay-total").inner_text() == "400.00"


def test_a_refused_payment_is_explained_on_the_page(page, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2024-08-20"  # before the window opens
    f.campaign()
    home, head, spouse, child = f.family(number="P002")
    make_user("collector", role="village_collector", region_code=f.VILLAGE)
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/collection/counter/households/{home.pk}/")
    assert "征缴期尚未开始" in page.locator(f"li[data-resident='{head.pk}']").inner_text()
    assert page.locator("input[name=residents]").count() == 0


def test_refund_requested_approved_and_booked_in_the_browser(page, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    person = f.person(name="浏览器退费")
    s.payment_collect(residents=[person], channel="cash", actor="测试")
    settings.YIBAO_TODAY = "2024-12-01"
    make_user("collector", role="village_collector", region_code=f.VILLAGE)
    make_user("admin", role="county_admin", region_code="340321")
    make_user("tax", role="tax_officer", region_code="340321")

    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/collection/refunds/new/")
    page.fill("main input[name=q]", person.id_number)
    page.click("button:has-text('查找')")
    form = page.locator("form.refund-form").first
    form.locator("select[name=reason]").select_option("joined_employee_insurance")
    form.locator("input[name=note]").fill("某公司职工医保")
    form.locator("button[type=submit]").click()
    page.locator("dialog[open] #confirm-button").click()
    page.wait_for_url("**/collection/refunds/")
    assert page.locator(".refund [data-field=status]").first.inner_text() == "已申请"
    page.context.clear_cookies()

    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/collection/refunds/")
    page.click(".refund button:has-text('同意')")
    page.locator("dialog[open] #confirm-button").click()
    page.wait_for_url("**/collection/refunds/")
    assert page.locator(".refund [data-field=status]").first.inner_text() == "已审批"
    page.context.clear_cookies()

    login(page, live_server, "tax")
    page.goto(f"{live_server.url}/collection/refunds/")
    page.click(".refund button:has-text('退款入账并参保终止')")
    page.locator("dialog[open] #confirm-button").click()
    page.wait_for_url("**/collection/refunds/")
    assert page.locator(".refund [data-field=status]").first.inner_text() == "已退款"
    refund = Refund.objects.get()
    assert refund.status == "booked" and refund.payment.status == "refunded"
    assert no_sideways_scroll(page)

    # the refunded payment's receipt is taken back and voided on its page
    receipt = Receipt.objects.get()
    page.goto(f"{live_server.url}/collection/receipts/{receipt.pk}/")
    page.click("#void-receipt summary")
    page.fill("#void-receipt input[name=reason]", "已退费，收回原票据")
    assert page.locator("#void-receipt input[name=reissue]").count() == 0  # nothing in force to reissue
    page.click("#void-receipt button[type=submit]")
    page.locator("dialog[open] #confirm-button").click()
    page.wait_for_selector("[data-field=voided]")
    assert "已退费，收回原票据" in page.locator("#void-record").inner_text()
    assert Receipt.objects.get().voided_at is not None and no_sideways_scroll(page)


def test_township_approves_subsidy_refunds_and_tax_pays(page, live_server, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    people = [f.person(name=f"先补{i}", identities=["entitled_group"]) for i in range(3)]
    for person in people:
        s.payment_collect(residents=[person], channel="cash", actor="测试")
    make_user("town", role="township_officer", region_code="340321100")
    make_user("tax", role="tax_officer", region_code="340321")
    login(page, live_server, "town")
    page.goto(f"{live_server.url}/collection/subsidy-refunds/")
    assert page.locator("[data-field=grand_total]").inner_text() == "1,200.00"
    entries = list(SubsidyRefund.objects.order_by("id"))
    for entry in entries[:2]:
        page.check(f"tr[data-entry='{entry.pk}'] input[name=ids]")
    page.click("button:has-text('审核选中人员')")
    page.wait_for_url("**/subsidy-refunds/**")
    assert page.locator(f"tr[data-entry='{entries[0].pk}'] [data-field=status]").inner_text() == "已审核"
    assert page.locator(f"tr[data-entry='{entries[2].pk}'] [data-field=status]").inner_text() == "待审核"
    page.context.clear_cookies()
    login(page, live_server, "tax")
    page.goto(f"{live_server.url}/collection/subsidy-refunds/?status=approved")
    page.click("input[aria-label=全选]")
    page.click("button:has-text('发放选中人员')")
    assert "800.00 元" in page.locator("dialog[open] [data-field=confirm-total]").inner_text()
    page.locator("dialog[open] #confirm-button").click()
    page.wait_for_url("**/subsidy-refunds/**")
    statuses = sorted(SubsidyRefund.objects.values_list("status", flat=True))
    assert statuses == ["paid", "paid", "pending"]


def test_an_unknown_payers_payment_is_rechecked_on_a_phone_once_registered(page, live_server, make_user, tmp_path):
    from yibao.collection.ingest import payments_ingest
    from yibao.collection.tests.test_ingest import line, write_csv

    f.campaign()
    f.person(name="已在册")  # the village exists
    unknown_id = f.id_number("340321")
    payments_ingest(path=write_csv(tmp_path, [line("U100", unknown_id, "400")]), actor="测试", county_code="340321")
    payment = Payment.objects.get(external_id="U100")
    make_user("tax", role="tax_officer", region_code="340321")
    login(page, live_server, "tax")
    page.goto(f"{live_server.url}/collection/payments/{payment.pk}/")
    assert "查无此人" in page.locator("[data-field=status]").inner_text()
    f.resident(name="补登记", id_no=unknown_id)
    page.click("#recheck")
    page.wait_for_selector("text=已重新匹配并入账")
    assert page.locator("[data-field=status]").inner_text() == "已入账"
    assert page.locator("#recheck").count() == 0 and no_sideways_scroll(page)


def test_a_paid_persons_under_payment_offers_no_top_up_on_a_phone(page, live_server, make_user, tmp_path, settings):
    """The payment page says when and on which receipt the person paid, instead of an amount still owed."""
    from yibao.collection.ingest import payments_ingest
    from yibao.collection.tests.test_ingest import line, write_csv

    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    person = f.person(name="已缴少缴")
    payments_ingest(path=write_csv(tmp_path, [line("S100", person, "300")]), actor="测试", county_code="340321")
    payment = Payment.objects.get(external_id="S100")
    s.payment_collect(residents=[person], channel="cash", actor="测试")
    make_user("zhen", role="township_officer", region_code=f.VILLAGE[:9])
    login(page, live_server, "zhen")
    page.goto(f"{live_server.url}/collection/payments/{payment.pk}/")
    text = page.locator("main").inner_text()
    assert "已于2024年10月8日缴纳2025年度居民医保费400元（现金，票据号 340321-2025-0000001），本笔少缴款项请办理退费。" in text
    assert "须补缴" not in text and page.get_by_role("button", name="收取差额").count() == 0
    assert no_sideways_scroll(page)


def test_a_reissued_receipt_names_its_collector_and_an_unknown_payers_refund_is_listed_on_a_phone(
    page, live_server, make_user, tmp_path, settings
):
    from yibao.collection.ingest import payments_ingest
    from yibao.collection.tests.test_ingest import line, write_csv

    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    person = f.person(name="换开甲")
    paid = s.payment_collect(residents=[person], channel="cash", actor="村收款员", paid_at=f.at("2024-10-08"))
    replacement = s.receipt_void(receipt=paid.receipt, actor="乡镇经办", reason="姓名打错", reissue=True)
    unknown_id = f.id_number("340321")
    payments_ingest(path=write_csv(tmp_path, [line("U200", unknown_id, "400")]), actor="测试", county_code="340321")
    s.refund_request(payment=Payment.objects.get(external_id="U200"), reason="unbooked", actor="县医保局")
    make_user("zhen", role="township_officer", region_code=f.VILLAGE[:9])
    login(page, live_server, "zhen")
    page.goto(f"{live_server.url}/collection/receipts/{replacement.pk}/")
    assert page.locator("[data-field=collector]").inner_text() == "村收款员"
    assert "乡镇经办" in page.locator("main").inner_text() and no_sideways_scroll(page)
    make_user("tax", role="tax_officer", region_code="340321")  # a payer with no village: the county's to refund
    page.context.clear_cookies()
    login(page, live_server, "tax")
    page.goto(f"{live_server.url}/collection/refunds/")
    assert "查无此人（身份证号码尾号" in page.locator("main").inner_text() and no_sideways_scroll(page)
