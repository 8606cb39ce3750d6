"""Channel payments that were not booked (查无此人, 参保受限, 不予受理, 少缴): 重新匹配 once the cause is
dealt with, or the whole amount refunded."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from typer.testing import CliRunner

from yibao.cli import app
from yibao.collection import services as s
from yibao.collection.ingest import payments_ingest
from yibao.collection.models import Payment, Refund
from yibao.collection.tests import factories as f
from yibao.collection.tests.sheet import confirm_post
from yibao.collection.tests.test_ingest import line, write_csv
from yibao.core.models import Event
from yibao.enrollment.models import Enrollment
from yibao.enrollment.selectors import person_for
from yibao.policy.engine import quote
from yibao.policy.loader import load_policy
from yibao.registry.models import Flag

pytestmark = pytest.mark.django_db

BIRTH = dt.date(1990, 1, 1)


@pytest.fixture
def flagged(tmp_path):
    """An unknown payer (U001), a payer with an open 职工医保 flag (B001), each 400 on 2024-10-08."""
    f.campaign()
    blocked = f.person(name="受限戊")
    flag = Flag.objects.create(county_code="340321", resident=blocked, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="某厂")
    unknown_id = f.id_number("340321", BIRTH)
    payments_ingest(path=write_csv(tmp_path, [line("U001", unknown_id, "400"), line("B001", blocked, "400")]),
                    actor="测试", county_code="340321")
    return {"unknown": Payment.objects.get(external_id="U001"), "blocked": Payment.objects.get(external_id="B001"),
            "unknown_id": unknown_id, "flag": flag, "blocked_person": blocked}


def test_an_unknown_payer_is_booked_once_registered_with_the_policy_of_the_day_paid(flagged):
    payment = flagged["unknown"]
    still = s.payment_recheck(payment=payment, actor="县税务局")
    assert still.status == "flagged" and still.flag == "unknown_person" and "仍查无此身份证号码" in still.flag_advice
    assert Event.objects.filter(entity="payment", entity_id=str(payment.pk), action="rechecked").exists()
    person = f.resident(name="新登记", birth=BIRTH, id_no=flagged["unknown_id"])
    booked = s.payment_recheck(payment=payment, actor="县税务局")
    paid_on = dt.date(2024, 10, 8)
    answer = quote(load_policy("anhui-huaiyuan-2025"), person_for(resident=person, on=paid_on, benefit_year=2025), paid_on)
    assert booked.status == "booked" and booked.flag == "" and booked.resident_id == person.pk
    assert (booked.benefit_start, booked.benefit_end) == (answer.benefit_start, answer.benefit_end)
    assert booked.village_code == person.village_code and booked.expected_amount == Decimal("400.00")
    enrollment = Enrollment.objects.get(resident=person, benefit_year=2025)
    assert enrollment.status == "paid" and booked.enrollment_id == enrollment.pk
    event = Event.objects.filter(entity="payment", entity_id=str(payment.pk), action="booked").get()
    assert event.before["status"] == "flagged" and event.after["status"] == "booked" and event.actor_name == "县税务局"
    with pytest.raises(s.PaymentError, match="不需要重新匹配"):
        s.payment_recheck(payment=booked, actor="县税务局")


def test_a_blocked_payer_stays_blocked_until_the_flag_is_resolved(flagged):
    payment = flagged["blocked"]
    again = s.payment_recheck(payment=payment, actor="县税务局")
    assert again.flag == "blocked" and "职工医保" in again.flag_advice
    assert not Enrollment.objects.filter(resident=flagged["blocked_person"], status="paid").exists()
    Flag.objects.filter(pk=flagged["flag"].pk).update(resolved_at=timezone.now())
    assert s.payment_recheck(payment=payment, actor="县税务局").status == "booked"


def test_a_payer_who_paid_meanwhile_makes_it_a_duplicate(flagged):
    Flag.objects.filter(pk=flagged["flag"].pk).update(resolved_at=timezone.now())
    s.payment_collect(residents=[flagged["blocked_person"]], channel="cash", actor="测试", paid_at=f.at("2024-10-20"))
    again = s.payment_recheck(payment=flagged["blocked"], actor="县税务局")
    assert again.flag == "duplicate" and "重复缴费" in again.flag_advice and again.status == "flagged"


def test_an_unknown_payers_money_is_refunded_whole_without_a_resident(flagged, make_user):
    payment = flagged["unknown"]
    with pytest.raises(s.PaymentError, match="退费原因应为“未入账款项退还”"):
        s.refund_request(payment=payment, reason="death", actor="县医保局")
    refund = s.refund_request(payment=payment, reason="查无此人", actor="县医保局", note="不属本县")
    assert refund.resident_id is None and refund.amount == Decimal("400.00") and refund.enrollment_action == "none"
    assert refund.person_label.startswith("查无此人（身份证号码尾号") and refund.reason == "unbooked"
    with pytest.raises(s.PaymentError, match="已申请退费"):
        s.payment_recheck(payment=payment, actor="县税务局")
    other_county = make_user("wuhe", role="county_admin", region_code="340322")
    with pytest.raises(PermissionDenied):
        s.refund_approve(refund=refund, actor=other_county)
    s.refund_approve(refund=refund, actor="县医保局")
    s.refund_book(refund=refund, actor="县税务局")
    payment.refresh_from_db()
    assert payment.status == "refunded" and Refund.objects.get().status == "booked"


def test_the_refunds_page_lists_and_finds_a_refund_for_an_unknown_payer(client, flagged, make_user):
    payment = flagged["unknown"]
    s.refund_request(payment=payment, reason="unbooked", actor="县医保局", note="不属本县")
    client.force_login(make_user("yb", role="county_admin", region_code="340321"))
    page = client.get("/collection/refunds/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "查无此人（身份证号码尾号" in text and payment.id_number in text
    found = client.get("/collection/refunds/", {"q": payment.id_number}).content.decode()
    assert "查无此人（身份证号码尾号" in found
    client.force_login(make_user("aud", role="auditor", region_code="340321"))
    assert payment.id_number not in client.get("/collection/refunds/").content.decode()  # masked for the auditor


def test_unbooked_is_not_a_reason_for_a_booked_payment():
    f.campaign()
    person = f.person()
    paid = s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-10-08")).payments[0]
    with pytest.raises(s.PaymentError, match="只适用于查无此人、参保受限、不予受理或少缴"):
        s.refund_request(payment=paid, reason="unbooked", actor="测试", on=dt.date(2024, 12, 1))


def test_a_village_collector_may_not_recheck(flagged, make_user):
    collector = make_user("cun", role="village_collector", region_code=f.VILLAGE)
    with pytest.raises(PermissionDenied):
        s.payment_recheck(payment=flagged["blocked"], actor=collector)


# ---------------------------------------------------------------- page, API and CLI


def test_the_payment_page_rechecks_and_offers_the_refund(client, flagged, make_user):
    payment = flagged["unknown"]
    client.force_login(make_user("tax", role="tax_officer", region_code="340321"))
    page = client.get(f"/collection/payments/{payment.pk}/").content.decode()
    assert 'id="recheck"' in page and 'id="refund-unbooked"' not in page  # the tax bureau books refunds, 医保 asks
    client.force_login(make_user("admin", role="county_admin", region_code="340321"))
    page = client.get(f"/collection/payments/{payment.pk}/").content.decode()
    assert 'id="recheck"' in page and 'id="refund-unbooked"' in page and "申请退还 400.00 元" in page
    still = client.post(f"/collection/payments/{payment.pk}/recheck/", follow=True).content.decode()
    assert "重新匹配后仍未入账（查无此人）" in still
    f.resident(name="新登记", birth=BIRTH, id_no=flagged["unknown_id"])
    done = client.post(f"/collection/payments/{payment.pk}/recheck/", follow=True).content.decode()
    assert "已重新匹配并入账：新登记" in done and 'id="recheck"' not in done
    asked = confirm_post(client, "/collection/refunds/new/", {"payment": flagged["blocked"].pk, "reason": "unbooked",
                                                     "note": "本人不再参保"})
    assert asked.status_code == 302 and Refund.objects.get().payment_id == flagged["blocked"].pk
    listing = client.get("/collection/refunds/").content.decode()
    assert "受限戊" in listing and "未入账款项退还" in listing


def test_the_api_and_cli_recheck_and_refund_by_payment_id(client, flagged, make_user):
    client.force_login(make_user("admin", role="county_admin", region_code="340321"))
    body = client.post(f"/api/collection/payments/{flagged['blocked'].pk}/recheck").json()
    assert body["status"] == "flagged" and body["flag"] == "blocked"
    runner = CliRunner()
    out = runner.invoke(app, ["ingest", "recheck", "U001", "--json"])
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["flag"] == "unknown_person" and not json.loads(out.stdout)["booked"]
    asked = runner.invoke(app, ["refund", "request", "--external-id", "U001", "--reason", "unbooked", "--json"])
    assert asked.exit_code == 0, asked.stderr
    refund = json.loads(asked.stdout)
    assert refund["amount"] == 400 and refund["name"].startswith("查无此人") and refund["id_number"] == flagged["unknown_id"]
    listing = client.get("/api/collection/refunds").json()
    assert listing[0]["resident_id"] is None and listing[0]["name"].startswith("查无此人")
    missing = runner.invoke(app, ["ingest", "recheck", "NOPE"])
    assert missing.exit_code == 2 and "没有缴费流水号为 NOPE" in missing.stderr
