"""The collection API: one operation each, Chinese errors, scope."""

import json

import pytest

from yibao.collection import services as s
from yibao.collection.models import Payment, Refund, SubsidyRefund
from yibao.collection.receipts import pdf_texts
from yibao.collection.tests import factories as f
from yibao.collection.tests.test_ingest import line, write_csv

pytestmark = pytest.mark.django_db


def post(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


@pytest.fixture
def today(settings):
    settings.YIBAO_TODAY = "2024-10-08"


@pytest.fixture
def collector(client, make_user):
    user = make_user("cun", role="village_collector", region_code=f.VILLAGE)
    client.force_login(user)
    return user


def test_dues_then_counter_payment_then_pdf(client, collector, today):
    f.campaign()
    home, head, spouse, child = f.family(number="A1", head_identities=["dibao"], child_identities=["only_son_family"])
    dues = client.get(f"/api/collection/households/{home.pk}/dues").json()
    assert dues["benefit_year"] == 2025 and dues["paid_on"] == "2024-10-08"
    by_name = {m["name"]: m for m in dues["members"]}
    assert by_name[head.name]["payable"] == "60.00" and by_name[child.name]["refund_later"] == "200.00"
    assert dues["payable_total"] == "860.00"
    response = post(client, "/api/collection/counter-payments",
                    {"resident_ids": [head.pk, spouse.pk, child.pk], "channel": "alipay", "amount": 860,
                     "household_id": home.pk})
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["booked"], data["flagged"], data["rejected"]) == (3, 0, 0)
    assert data["receipt_no"] == "340321-2025-0000001" and data["total"] == "860.00"
    pdf = client.get(f"/api/collection/receipts/{data['receipt_id']}/pdf")
    assert pdf.status_code == 200 and pdf["X-Reprint"] == "0" and "860.00" in " ".join(pdf_texts(pdf.content))
    again = post(client, "/api/collection/counter-payments", {"resident_ids": [head.pk], "channel": "cash"})
    assert again.status_code == 400 and "不能重复收款" in again.json()["detail"]


def test_counter_payment_validation_is_chinese(client, collector, today):
    f.campaign()
    response = post(client, "/api/collection/counter-payments", {"channel": "cash"})
    assert response.status_code == 422 and "缴费人员" in response.json()["detail"]


def test_payments_list_and_detail(client, collector, today):
    f.campaign()
    person = f.person(name="接口甲")
    payment = s.payment_collect(residents=[person], channel="cash", actor="测试").payments[0]
    page = client.get("/api/collection/payments", {"status": "booked"}).json()
    assert page["count"] == 1 and page["items"][0]["name"] == "接口甲"
    detail = client.get(f"/api/collection/payments/{payment.pk}").json()
    assert detail["receipt_no"] == "340321-2025-0000001" and detail["explanation"]


def test_upload_channel_file(client, make_user, tmp_path):
    f.campaign()
    person = f.person(name="接口乙")
    client.force_login(make_user("shui", role="tax_officer", region_code="340321"))
    path = write_csv(tmp_path, [line("API1", person, "400")])
    with open(path, "rb") as fh:
        response = client.post("/api/collection/payment-files", {"file": fh})
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "succeeded" and data["result"]["booked"] == 1
    assert Payment.objects.get(external_id="API1").status == "booked"


def test_refund_flow_over_the_api(client, make_user, settings):
    settings.YIBAO_TODAY = "2024-11-01"
    f.campaign()
    person = f.person(name="接口丙")
    payment = s.payment_collect(residents=[person], channel="cash", actor="测试").payments[0]
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    bad = post(client, "/api/collection/refunds", {"payment_id": payment.pk, "reason": "搬家"})
    assert bad.status_code == 400 and "未知的退费原因" in bad.json()["detail"]
    made = post(client, "/api/collection/refunds", {"payment_id": payment.pk, "reason": "joined_employee_insurance"})
    assert made.status_code == 201 and made.json()["enrollment_action"] == "terminate"
    refund_id = made.json()["id"]
    assert post(client, f"/api/collection/refunds/{refund_id}/approve", {}).status_code == 403
    client.force_login(make_user("xian", role="county_admin", region_code="340321"))
    assert post(client, f"/api/collection/refunds/{refund_id}/approve", {"note": "同意"}).json()["status"] == "approved"
    assert post(client, f"/api/collection/refunds/{refund_id}/book", {}).json()["status"] == "booked"
    assert client.get("/api/collection/refunds").json()[0]["status"] == "booked"
    assert Refund.objects.get().booked_by_name


def test_subsidy_refunds_over_the_api(client, make_user, today):
    f.campaign()
    person = f.person(name="接口丁", identities=["entitled_group"])
    s.payment_collect(residents=[person], channel="cash", actor="测试")
    client.force_login(make_user("town", role="township_officer", region_code="340321100"))
    listed = client.get("/api/collection/subsidy-refunds").json()
    assert listed["townships"] == [{"township_code": "340321100", "count": 1, "total": "400.00"}]
    entry = listed["items"][0]["id"]
    assert post(client, "/api/collection/subsidy-refunds/approve", {"ids": [entry]}).json() == {"updated": 1}
    assert post(client, "/api/collection/subsidy-refunds/pay", {"ids": [entry]}).status_code == 403
    assert post(client, "/api/collection/subsidy-refunds/approve", {"ids": [entry]}).status_code == 400
    assert post(client, "/api/collection/subsidy-refunds/approve", {"ids": [entry + 999]}).status_code == 404
    assert SubsidyRefund.objects.get().status == "approved"
