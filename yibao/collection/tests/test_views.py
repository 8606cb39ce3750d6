"""The collection pages through the test client: counter, receipts, payments, refunds, 先缴后补, channel files."""


import pytest

from yibao.collection import services as s
from yibao.collection.models import Payment, Receipt, Refund, SubsidyRefund
from yibao.collection.receipts import pdf_texts
from yibao.collection.tests import factories as f
from yibao.collection.tests.sheet import confirm_post
from yibao.collection.tests.test_ingest import line, write_csv
from yibao.core.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(settings):
    settings.YIBAO_TODAY = "2024-10-08"


@pytest.fixture
def collector(client, make_user):
    user = make_user("cun", role="village_collector", region_code=f.VILLAGE, display_name="白村收款员")
    client.force_login(user)
    return user


def test_counter_search_finds_households_in_scope_only(client, collector, today):
    f.campaign()
    home, head, spouse, child = f.family(number="H100")
    far = f.resident(village=f.OTHER_VILLAGE, name="王H100")  # same name, another village
    response = client.get("/collection/", {"q": head.name})
    body = response.content.decode()
    assert response.status_code == 200 and "户号 H100" in body and far.id_number not in body
    partial = client.get("/collection/", {"q": spouse.id_number[-6:]}, HTTP_HX_REQUEST="true")
    assert "户号 H100" in partial.content.decode() and "<html" not in partial.content.decode()
    assert "没有找到" in client.get("/collection/", {"q": "无此人"}).content.decode()


def test_household_page_shows_each_members_due_and_status(client, collector, today):
    f.campaign()
    home, head, spouse, child = f.family(number="H101", head_identities=["dibao"], spouse_identities=["entitled_group"])
    from yibao.registry.models import Flag

    Flag.objects.create(county_code="340321", resident=child, kind=Flag.Kind.OTHER_COUNTY, detail="外县")
    body = client.get(f"/collection/counter/households/{home.pk}/").content.decode()
    assert "60.00 元" in body and "400.00 元" in body and "先缴后补，日后退补 400.00 元" in body
    assert "暂不能参保" in body and "2025-01-01 至 2025-12-31" in body
    assert f'value="{child.pk}"' not in body  # a blocked member cannot be ticked
    assert "收款 <span id=\"pay-total\">460.00</span> 元并开票" in body


def test_pay_at_the_counter_then_print_and_reprint(client, collector, today):
    f.campaign()
    home, head, spouse, child = f.family(number="H102")
    response = confirm_post(client, "/collection/counter/pay/", {
        "household": home.pk, "residents": [head.pk, child.pk], "channel": "cash", "amount": "800.00",
    })
    receipt = Receipt.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/collection/receipts/{receipt.pk}/"
    assert receipt.total == 800 and receipt.issued_by_name == "白村收款员" and receipt.lines.count() == 2
    page = client.get(response["Location"]).content.decode()
    assert receipt.receipt_no in page and "打印票据（PDF）" in page
    first = client.get(f"/collection/receipts/{receipt.pk}/pdf")
    assert first["Content-Type"] == "application/pdf" and "补打" not in pdf_texts(first.content)
    second = client.get(f"/collection/receipts/{receipt.pk}/pdf")
    assert "补打" in pdf_texts(second.content)
    assert "补打票据（PDF）" in client.get(f"/collection/receipts/{receipt.pk}/").content.decode()
    # the household page now shows them as paid with the receipt
    body = client.get(f"/collection/counter/households/{home.pk}/").content.decode()
    assert body.count("已缴费") >= 2 and receipt.receipt_no in body


def test_a_refused_payment_shows_the_error_and_keeps_the_page(client, collector, today):
    f.campaign()
    home, head, spouse, child = f.family(number="H103")
    response = client.post("/collection/counter/pay/", {
        "household": home.pk, "residents": [head.pk], "channel": "cash", "amount": "300.00",
    })
    assert response.status_code == 400
    body = response.content.decode()
    assert "收款金额300元与应缴金额400元不符" in body and 'id="pay-form"' in body
    assert not Payment.objects.exists()


def test_collector_cannot_pay_for_another_village(client, collector, today):
    f.campaign()
    far = f.resident(village=f.OTHER_VILLAGE, name="外村人")
    response = client.post("/collection/counter/pay/", {"residents": [far.pk], "channel": "cash"})
    assert response.status_code == 404 and not Payment.objects.exists()
    assert client.get(f"/collection/counter/residents/{far.pk}/").status_code == 404


def test_payments_list_and_detail_with_explanation(client, collector, today):
    f.campaign()
    person = f.person(name="列表甲")
    payment = s.payment_collect(residents=[person], channel="wechat", actor="测试").payments[0]
    body = client.get("/collection/payments/").content.decode()
    assert "列表甲" in body and "已入账" in body
    detail = client.get(f"/collection/payments/{payment.pk}/").content.decode()
    assert "测算说明" in detail and "【个人缴费标准】" in detail and "340321-2025-0000001" in detail
    assert f'href="/registry/residents/{person.pk}/" data-testid="person-link"' in detail  # the person first


def test_refund_pages_request_approve_book(client, make_user, settings):
    settings.YIBAO_TODAY = "2024-11-01"
    f.campaign()
    person = f.person(name="退费页甲")
    payment = s.payment_collect(residents=[person], channel="cash", actor="测试").payments[0]
    collector = make_user("cun2", role="village_collector", region_code=f.VILLAGE)
    client.force_login(collector)
    found = client.get("/collection/refunds/new/", {"q": person.id_number}).content.decode()
    assert "退费页甲" in found and f'name="payment" value="{payment.pk}"' in found
    response = confirm_post(client, "/collection/refunds/new/", {"payment": payment.pk, "reason": "death", "q": person.id_number})
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert refund.status == "requested"
    assert client.post(f"/collection/refunds/{refund.pk}/approve/").status_code == 403  # collectors only request
    admin = make_user("xian", role="county_admin", region_code="340321")
    client.force_login(admin)
    confirm_post(client, f"/collection/refunds/{refund.pk}/approve/", {})
    tax = make_user("shui", role="tax_officer", region_code="340321")
    client.force_login(tax)
    assert "退款入账并参保终止" in client.get("/collection/refunds/").content.decode()
    confirm_post(client, f"/collection/refunds/{refund.pk}/book/", {})
    refund.refresh_from_db()
    assert refund.status == "booked"


def test_refund_after_benefits_began_shows_the_rule(client, make_user, settings):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    person = f.person(name="退费页乙")
    payment = s.payment_collect(residents=[person], channel="cash", actor="测试").payments[0]
    settings.YIBAO_TODAY = "2025-01-02"
    client.force_login(make_user("cun3", role="village_collector", region_code=f.VILLAGE))
    response = client.post("/collection/refunds/new/", {"payment": payment.pk, "reason": "death", "q": person.id_number})
    body = response.content.decode()
    assert response.status_code == 400 and "个人缴费不再退回，不予退费" in body and "依据" in body
    assert not Refund.objects.exists()


def test_subsidy_refund_page_totals_bulk_approve_pay_and_export(client, make_user, today):
    f.campaign()
    a = f.person(name="优抚页甲", identities=["entitled_group"])
    b = f.person(name="独男页乙", identities=["only_son_family"])
    c = f.person(village="340321200001", name="外乡丙", identities=["entitled_group"])
    for person in (a, b, c):
        s.payment_collect(residents=[person], channel="cash", actor="测试")
    officer = make_user("town", role="township_officer", region_code="340321100")
    client.force_login(officer)
    body = client.get("/collection/subsidy-refunds/").content.decode()
    assert "优抚页甲" in body and "独男页乙" in body and "外乡丙" not in body
    assert "data-field=\"grand_total\">600.00" in body
    ids = list(SubsidyRefund.objects.filter(township_code="340321100").values_list("pk", flat=True))
    client.post("/collection/subsidy-refunds/action/", {"action": "approve", "ids": ids})
    assert set(SubsidyRefund.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"approved"}
    assert client.post("/collection/subsidy-refunds/action/", {"action": "pay", "ids": ids}).status_code == 403
    foreign = SubsidyRefund.objects.get(resident=c).pk
    assert client.post("/collection/subsidy-refunds/action/", {"action": "approve", "ids": [foreign]}).status_code == 404
    tax = make_user("shui2", role="tax_officer", region_code="340321")
    client.force_login(tax)
    confirm_post(client, "/collection/subsidy-refunds/action/", {"action": "pay", "ids": ids})
    assert set(SubsidyRefund.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"paid"}
    export = client.get("/collection/subsidy-refunds/export.xlsx", {"township": "340321100"})
    from yibao.accounts.tests.scope_support import xlsx_text

    text = xlsx_text(export)
    assert "优抚页甲" in text and "外乡丙" not in text and "合计" in text


def test_upload_a_channel_file_runs_the_job(client, make_user, tmp_path):
    f.campaign()
    person = f.person(name="上传甲")
    tax = make_user("shui3", role="tax_officer", region_code="340321")
    client.force_login(tax)
    path = write_csv(tmp_path, [line("U1", person, "400"), line("U2", "bad", "400")])
    with open(path, "rb") as fh:
        response = client.post("/collection/ingest/", {"file": fh})
    job = Job.objects.get(kind="ingest_payments")
    assert response.status_code == 302 and response["Location"] == f"/collection/ingest/{job.pk}/"
    assert job.status == "succeeded" and job.result["booked"] == 1 and job.result["rejected"] == 1
    assert job.county_code == "340321" and job.created_by == tax
    page = client.get(response["Location"]).content.decode()
    assert 'data-field="booked">1' in page and "下载错误报告" in page
    assert "上传甲" in client.get("/collection/payments/").content.decode()
    assert client.get(f"/jobs/{job.pk}/report").status_code == 200


def test_upload_refused_for_collectors_and_bad_types(client, make_user, tmp_path):
    collector = make_user("cun4", role="village_collector", region_code=f.VILLAGE)
    client.force_login(collector)
    assert client.get("/collection/ingest/").status_code == 403
    tax = make_user("shui4", role="tax_officer", region_code="340321")
    client.force_login(tax)
    bad = tmp_path / "x.pdf"
    bad.write_bytes(b"%PDF")
    with open(bad, "rb") as fh:
        response = client.post("/collection/ingest/", {"file": fh})
    assert response.status_code == 400 and "不支持的文件类型" in response.content.decode()


def test_menu_shows_the_counter_to_collectors(client, collector):
    body = client.get("/collection/").content.decode()
    assert 'href="/collection/"' in body and "收款" in body


def test_top_up_an_under_payment_from_its_page(client, collector, settings, tmp_path):
    settings.YIBAO_TODAY = "2024-11-15"
    from yibao.collection.ingest import payments_ingest

    f.campaign()
    person = f.person(name="补差甲")
    payments_ingest(path=write_csv(tmp_path, [line("TU1", person, "300")]), actor="测试", county_code="340321")
    under = Payment.objects.get(external_id="TU1")
    page = client.get(f"/collection/payments/{under.pk}/").content.decode()
    assert 'data-field="rest">100.00' in page and "收取差额 100.00 元并开票" in page
    response = confirm_post(client, f"/collection/payments/{under.pk}/top-up/", {"channel": "wechat"})
    receipt = Receipt.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/collection/receipts/{receipt.pk}/"
    under.refresh_from_db()
    assert under.status == "booked" and receipt.total == 100
    after = client.get(f"/collection/payments/{under.pk}/").content.decode()
    assert "收取差额" not in after and "100.00 元</a> · 微信 · 补缴差额" in after and "已入账" in after
