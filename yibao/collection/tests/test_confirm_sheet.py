"""The confirmation sheet: a money form's first POST shows what would happen and books nothing;
only the sheet's own POST (confirmed=1 and its one-time token) books, and only once."""

from decimal import Decimal

import pytest

from yibao.collection import services as s
from yibao.collection.models import Payment, Receipt, Refund, SubsidyRefund
from yibao.collection.tests import factories as f
from yibao.collection.tests.sheet import confirm_post, sheet_of
from yibao.core.money import rmb_upper, yuan

pytestmark = pytest.mark.django_db
PAY = "/collection/counter/pay/"


@pytest.fixture
def collector(client, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE, display_name="白村收款员"))


def family_of_three():
    home, head, spouse, child = f.family(number="C100")
    return home, [head, spouse, child]


def test_money_helpers_show_thousands_and_capitals():
    assert yuan(Decimal("1200")) == "1,200.00" and yuan("1234567.5") == "1,234,567.50" and yuan(None) == ""
    assert rmb_upper(Decimal("1200")) == "壹仟贰佰元整"
    from yibao.collection.receipts import rmb_upper as old  # the old import still works

    assert old is rmb_upper


def test_pay_without_confirmation_books_nothing_and_shows_the_sheet(client, collector):
    home, people = family_of_three()
    data = {"household": home.pk, "residents": [p.pk for p in people], "channel": "cash"}
    response = client.post(PAY, data)
    body = response.content.decode()
    assert response.status_code == 200 and not Payment.objects.exists() and not Receipt.objects.exists()
    assert 'data-field="confirm-total">1,200.00 元' in body and "大写：壹仟贰佰元整" in body
    assert all(p.name in body for p in people) and "镇 / 村" in body  # who, and their village
    assert all(p.id_number in body for p in people)  # the collector may see the whole numbers of their village
    assert "登记 2025 年度参保（3 人），开具票据 1 张" in body and "收款方式：现金" in body
    assert 'name="received"' in body and 'data-total="1200.00"' in body  # cash: the amount received
    assert "待遇享受期 2025年1月1日 至 2025年12月31日" in body
    fields = sheet_of(response)
    assert fields["confirmed"] == ["1"] and fields["amount"] == ["1200.00"] and len(fields["residents"]) == 3
    # 只计算找零 recomputes on the server and still books nothing
    fields.pop("_total")
    again = client.post(PAY, {**fields, "received": "1500", "recalc": "1"}).content.decode()
    assert "找零 300.00 元" in again and not Payment.objects.exists()


def test_cash_below_the_total_is_refused_on_the_sheet(client, collector):
    home, people = family_of_three()
    response = confirm_post(client, PAY, {"household": home.pk, "residents": [people[0].pk], "channel": "cash"},
                            received="300")
    assert response.status_code == 400 and "实收现金 300.00 元少于应收 400.00 元，不能收款。" in response.content.decode()
    assert not Payment.objects.exists()
    missing = confirm_post(client, PAY, {"household": home.pk, "residents": [people[0].pk], "channel": "cash"},
                           received=None)
    assert missing.status_code == 400 and "请填写实收现金金额" in missing.content.decode()
    assert not Payment.objects.exists()


def test_confirming_books_once_and_a_second_tap_books_nothing(client, collector):
    home, people = family_of_three()
    fields = sheet_of(client.post(PAY, {"household": home.pk, "residents": [people[0].pk], "channel": "cash"}))
    fields.pop("_total")
    fields["received"] = ["500"]
    done = client.post(PAY, fields)
    receipt = Receipt.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/collection/receipts/{receipt.pk}/"
    page = client.get(done["Location"]).content.decode()
    assert "已收款 400.00 元，实收现金 500.00 元，找零 100.00 元；票据号" in page
    twice = client.post(PAY, fields)
    assert twice.status_code == 302 and twice["Location"] == f"/collection/receipts/{receipt.pk}/"
    assert "这张确认单已经办理过，没有重复办理" in client.get(twice["Location"]).content.decode()
    assert Payment.objects.count() == 1 and Receipt.objects.count() == 1


def test_a_confirmation_without_a_valid_token_shows_the_sheet_again(client, collector):
    home, people = family_of_three()
    response = client.post(PAY, {"household": home.pk, "residents": [people[0].pk], "channel": "wechat",
                                 "amount": "400.00", "confirmed": "1", "confirm_token": "made-up"})
    body = response.content.decode()
    assert response.status_code == 200 and "确认单已失效或已使用" in body and 'id="confirm-sheet"' in body
    assert not Payment.objects.exists()
    done = client.post(PAY, sheet_of(response))  # the fresh sheet books (not cash: no amount received)
    assert done.status_code == 302 and Payment.objects.count() == 1


def test_a_refused_payment_has_no_confirm_button(client, collector):
    home, people = family_of_three()
    s.payment_collect(residents=[people[0]], channel="cash", actor="测试")
    partial = client.post(PAY, {"household": home.pk, "residents": [people[0].pk], "channel": "cash"},
                          HTTP_X_CONFIRM_SHEET="1")
    body = partial.content.decode()
    assert partial["X-Confirm-Sheet"] == "1" and "<html" not in body and "不能重复收款" in body
    assert "<form" not in body and 'id="confirm-button"' not in body
    page = client.post(PAY, {"household": home.pk, "residents": [people[0].pk], "channel": "cash"})
    assert page.status_code == 400 and 'id="pay-form"' in page.content.decode()  # without JS: the page, as before


def test_the_sheet_as_a_dialog_is_the_partial(client, collector):
    home, people = family_of_three()
    partial = client.post(PAY, {"household": home.pk, "residents": [people[0].pk], "channel": "pos"},
                          HTTP_X_CONFIRM_SHEET="1")
    body = partial.content.decode()
    assert partial["X-Confirm-Sheet"] == "1" and "<html" not in body and "确认收款 400.00 元" in body
    assert 'name="received"' not in body  # POS: no cash, no change
    assert f'href="/collection/counter/households/{home.pk}/"' in body  # 取消 goes back, books nothing


def test_a_waiting_period_says_from_which_day_benefits_start(client, collector, settings):
    settings.YIBAO_TODAY = "2025-01-15"
    person = f.person(name="逾期甲")
    body = client.post(PAY, {"residents": [person.pk], "channel": "wechat"}).content.decode()
    quote = s.counter_plan(residents=[person], channel="wechat", actor="测试").quotes[person.pk]
    assert quote.waiting_months == 3
    assert f"逾期甲：待遇自 2025年4月16日 起享受（等待期 {quote.waiting_months} 个月）" in body
    confirm_post(client, PAY, {"residents": [person.pk], "channel": "wechat"})
    payment = Payment.objects.get()
    assert str(payment.benefit_start) == "2025-04-16"  # the sheet said what the booking stored


def test_the_api_books_what_the_sheet_showed(client, collector):
    home, people = family_of_three()
    body = client.post(PAY, {"household": home.pk, "residents": [people[1].pk], "channel": "wechat"}).content.decode()
    api = client.post("/api/collection/counter-payments", {"resident_ids": [people[1].pk], "channel": "wechat"},
                      content_type="application/json").json()
    assert f'data-field="confirm-total">{yuan(api["total"])} 元' in body


def test_void_and_reissue_goes_through_the_sheet(client, collector, make_user):
    home, people = family_of_three()
    paid = s.payment_collect(residents=people[:2], channel="cash", actor="测试")
    client.force_login(make_user("town", role="township_officer", region_code=f.VILLAGE[:9]))
    url = f"/collection/receipts/{paid.receipt.pk}/void/"
    sheet = client.post(url, {"reason": "姓名打错", "reissue": "1"}).content.decode()
    assert f"票据 {paid.receipt.receipt_no} 作废，换开新票据（2 人，合计 800.00 元）" in sheet
    assert "大写：捌佰元整" in sheet and "作废原因：姓名打错" in sheet and people[1].name in sheet
    assert Receipt.objects.get().voided_at is None
    done = confirm_post(client, url, {"reason": "姓名打错", "reissue": "1"})
    assert done.status_code == 302 and Receipt.objects.filter(voided_at__isnull=False).count() == 1
    assert Receipt.objects.count() == 2


def test_refund_request_approval_and_booking_each_confirm(client, make_user, settings):
    settings.YIBAO_TODAY = "2024-11-01"
    f.campaign()
    person = f.person(name="退费确认")
    payment = s.payment_collect(residents=[person], channel="cash", actor="测试").payments[0]
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    data = {"payment": payment.pk, "reason": "death", "q": person.id_number, "note": "死亡证明 001"}
    sheet = client.post("/collection/refunds/new/", data).content.decode()
    assert f"退还缴费流水号 {payment.external_id}（2024年11月1日 缴纳 400.00 元）中的 400.00 元给退费确认" in sheet
    assert "退款入账时同时办理参保终止" in sheet and "大写：肆佰元整" in sheet and not Refund.objects.exists()
    confirm_post(client, "/collection/refunds/new/", data)
    refund = Refund.objects.get()
    client.force_login(make_user("xian", role="county_admin", region_code="340321"))
    approve = f"/collection/refunds/{refund.pk}/approve/"
    assert "同意退费确认的退费申请（死亡）" in client.post(approve, {"next": "/collection/refunds/"}).content.decode()
    refund.refresh_from_db()
    assert refund.status == "requested"
    confirm_post(client, approve, {"next": "/collection/refunds/"})
    refund.refresh_from_db()
    assert refund.status == "approved"
    client.force_login(make_user("shui", role="tax_officer", region_code="340321"))
    book = f"/collection/refunds/{refund.pk}/book/"
    sheet = client.post(book, {"next": "https://evil.example/"}).content.decode()
    assert "退还 400.00 元给退费确认（死亡）" in sheet and "2025 年度参保终止" in sheet and "户籍状态登记为已死亡" in sheet
    assert "evil.example" not in sheet  # only a path on this site may be `next`
    done = confirm_post(client, book, {})
    refund.refresh_from_db()
    assert done.status_code == 302 and refund.status == "booked"


def test_subsidy_payout_confirms_the_total(client, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    people = [f.person(name=f"先补{i}", identities=["entitled_group"]) for i in range(3)]
    for person in people:
        s.payment_collect(residents=[person], channel="cash", actor="测试")
    ids = list(SubsidyRefund.objects.values_list("pk", flat=True))
    s.subsidy_refunds_approve(ids=ids, actor="测试")
    client.force_login(make_user("shui", role="tax_officer", region_code="340321"))
    url = "/collection/subsidy-refunds/action/"
    sheet = client.post(url, {"action": "pay", "ids": ids}).content.decode()
    assert "先缴后补 3 人标记为已发放，合计 1,200.00 元" in sheet and "大写：壹仟贰佰元整" in sheet
    assert set(SubsidyRefund.objects.values_list("status", flat=True)) == {"approved"}
    confirm_post(client, url, {"action": "pay", "ids": ids})
    assert set(SubsidyRefund.objects.values_list("status", flat=True)) == {"paid"}


def test_top_up_in_cash_shows_the_rest_and_the_change(client, collector, settings, tmp_path):
    from yibao.collection.ingest import payments_ingest
    from yibao.collection.tests.test_ingest import line, write_csv

    settings.YIBAO_TODAY = "2024-11-15"
    person = f.person(name="补差乙")
    payments_ingest(path=write_csv(tmp_path, [line("TU2", person, "300")]), actor="测试", county_code="340321")
    under = Payment.objects.get(external_id="TU2")
    url = f"/collection/payments/{under.pk}/top-up/"
    body = client.post(url, {"channel": "cash"}).content.decode()
    assert 'data-field="confirm-total">100.00 元' in body and "大写：壹佰元整" in body
    assert "原缴费（缴费流水号 TU2，300.00 元）入账，合计 400.00 元" in body and 'name="received"' in body
    assert not Receipt.objects.exists()
    done = confirm_post(client, url, {"channel": "cash"}, received="200")
    assert done.status_code == 302 and Receipt.objects.get().total == 100
    assert "实收现金 200.00 元，找零 100.00 元" in client.get(done["Location"]).content.decode()
