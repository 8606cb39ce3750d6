"""The person page's reads (registry.person) and the page's actions per role; the household page's 收款."""

import pytest
from django.http import Http404

from yibao.accounts.scope import scope_for
from yibao.collection import services as s
from yibao.collection.models import Payment, Receipt
from yibao.collection.tests import factories as f
from yibao.core.services import event_record
from yibao.registry import person
from yibao.registry.selectors import resident_get
from yibao.registry.tests import person_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    return person_world.build(settings)


def overview(user, resident):
    scope = scope_for(user)
    return person.person_overview(scope=scope, resident=resident_get(scope=scope, pk=resident.pk))


def test_everything_about_the_person_appears(world, make_user):
    ov = overview(make_user("admin", role="county_admin", region_code="340321"), world.spouse)
    assert [(m.resident.name, m.status) for m in ov["members"]] == [
        (world.head.name, "未登记"), (world.spouse.name, "已缴费"), (world.child.name, "未登记")]
    assert [m.is_self for m in ov["members"]] == [False, True, False]
    a = ov["assessment"]["a"]
    assert a.benefit_year == 2025 and ov["assessment"]["explained"]["quote"].explanation  # the engine's lines
    [row] = ov["payments"]
    assert row.payment == world.payment and row.receipt.receipt_no == "340321-2025-0000001"
    assert [r.reason for r in ov["refunds"]] == ["joined_employee_insurance"]
    assert [(x.amount, x.status) for x in ov["subsidy_refunds"]] == [(world.payment.refund_later, "pending")]
    assert [m.note for m in ov["remind_marks"]] == [f"{world.spouse.name}电话已通知"]
    assert {m.pk for m in ov["mismatches"]} == {world.own_mismatch.pk, world.far_mismatch.pk}
    sentences = [h["sentence"] for h in ov["events"]]
    for said in ("申请退费 400.00 元", "开具票据 340321-2025-0000001", "登记先缴后补", "登记2025年度参保"):
        assert any(said in s for s in sentences), (said, sentences)
    booked = next(h for h in ov["events"] if "收款 400.00 元" in h["sentence"])
    assert booked["actor"] == "测试" and not any("{" in s for s in sentences)


def test_nothing_from_another_region(world, make_user):
    collector = make_user("cun", role="village_collector", region_code=f.VILLAGE)
    ov = overview(collector, world.spouse)
    assert [m.pk for m in ov["mismatches"]] == [world.own_mismatch.pk]  # the other village's row is not hers to see
    assert all(r.payment.resident_id == world.spouse.pk for r in ov["payments"])
    assert all(m.resident_id == world.spouse.pk for m in ov["remind_marks"])
    assert world.other.name not in str([h["sentence"] + h["reason"] for h in ov["events"]])
    with pytest.raises(Http404):
        overview(collector, world.other)
    far = make_user("far", role="village_collector", region_code=f.OTHER_VILLAGE)
    with pytest.raises(Http404):
        overview(far, world.spouse)


def test_masked_roles_see_masked_numbers_on_the_page(world, make_user, client):
    event_record(county_code="340321", entity="resident", entity_id=world.spouse.pk, action="update", actor="测试",
                 after={"phone": "13800000000"}, reason=f"核对身份证号码 {world.spouse.id_number}")
    client.force_login(make_user("audit", role="auditor", region_code="340321"))
    body = client.get(f"/registry/residents/{world.spouse.pk}/").content.decode()
    assert world.spouse.id_number not in body and world.spouse.id_number[-4:] in body
    assert "核对身份证号码" in body and 'data-testid="payments"' in body


def actions(client, resident) -> dict:
    import re

    body = client.get(f"/registry/residents/{resident.pk}/").content.decode()
    nav = re.search(r'data-testid="person-actions">(.*?)</nav>', body, re.S)
    return dict(re.findall(r'data-action="(\w+)" href="([^"]+)"', nav.group(1))) if nav else {}


def test_actions_follow_the_role(world, make_user, client):
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    head = actions(client, world.head)
    assert head["collect"] == f"/collection/counter/households/{world.home.pk}/"
    assert "enrollment" not in head and "reprint" not in head  # not enrolled, nothing printed yet
    spouse = actions(client, world.spouse)
    assert "collect" not in spouse  # paid this year
    receipt = Receipt.objects.get(lines__payment=world.payment)
    assert spouse["reprint"] == f"/collection/receipts/{receipt.pk}/pdf"
    assert "refund" not in spouse  # a refund is already asked for
    assert spouse["enrollment"].startswith("/enrollment/enrollments/")
    client.force_login(make_user("tax", role="tax_officer", region_code="340321"))
    tax = actions(client, world.spouse)
    assert set(tax) == {"reprint"}  # prints, neither collects nor changes enrollments
    client.force_login(make_user("audit", role="auditor", region_code="340321"))
    assert actions(client, world.spouse) == {} and actions(client, world.head) == {}


def test_refund_and_top_up_actions(settings, make_user, client):
    settings.YIBAO_TODAY = "2024-10-08"
    f.campaign()
    payer = f.person(name="可退费")
    s.payment_collect(residents=[payer], channel="cash", actor="测试")
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    link = actions(client, payer)["refund"]
    assert link == f"/collection/refunds/new/?resident={payer.pk}"
    page = client.get(link).content.decode()  # the person is preselected, with the payment to refund
    assert payer.name in page and "提交退费申请" in page
    assert client.get("/collection/refunds/new/?resident=abc").status_code == 400
    assert client.get("/collection/refunds/new/?resident=999999").status_code == 404
    payment = Payment.objects.get(resident=payer)
    Payment.objects.filter(pk=payment.pk).update(status="flagged", flag="under")
    assert actions(client, payer)["top_up"] == f"/collection/payments/{payment.pk}/#top-up"


def test_remind_mark_action_leads_to_the_persons_row(settings, make_user, client):
    from yibao.enrollment.models import Enrollment

    settings.YIBAO_TODAY = "2024-10-08"
    campaign = f.campaign()
    last = f.person(name="去年参保")
    Enrollment.objects.create(
        county_code="340321", township_code=last.township_code, village_code=last.village_code, resident=last,
        id_number=last.id_number, campaign=campaign, benefit_year=2024, status="paid", kind="first",
    )
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    link = actions(client, last)["remind"]
    assert link.endswith(f"#remind-{last.pk}") and f"village={f.VILLAGE}" in link
    remind = client.get(link.split("#")[0]).content.decode()
    assert f'id="remind-{last.pk}"' in remind
    assert f'href="/registry/residents/{last.pk}/">{last.name}</a>' in remind  # the 催缴 list's name leads to the person page


# ---------------------------------------------------------------- the household page


def test_household_page_offers_the_counters_pay_form(world, make_user, client):
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    body = client.get(f"/registry/households/{world.home.pk}/").content.decode()
    assert 'data-testid="household-pay"' in body and 'action="/collection/counter/pay/"' in body
    assert f'name="residents" value="{world.head.pk}"' in body and f'name="residents" value="{world.child.pk}"' in body
    assert f'name="residents" value="{world.spouse.pk}"' not in body  # paid already
    assert "counter_household" in body  # the counter's script follows the ticks
    client.force_login(make_user("audit", role="auditor", region_code="340321"))
    assert 'data-testid="household-pay"' not in client.get(f"/registry/households/{world.home.pk}/").content.decode()


def test_a_household_paid_in_full_says_so_on_both_pages(world, make_user, client):
    s.payment_collect(residents=[world.head, world.child], channel="cash", actor="测试", household=world.home)
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    for url in (f"/registry/households/{world.home.pk}/", f"/collection/counter/households/{world.home.pk}/"):
        body = client.get(url).content.decode()
        assert "全户已缴清" in body and 'id="pay-button"' not in body and "收款 <span" not in body
        assert "340321-2025-0000001" in body and "340321-2025-0000003" in body  # both receipts


def test_api_overview_matches_the_page(world, make_user, client):
    client.force_login(make_user("cun", role="village_collector", region_code=f.VILLAGE))
    body = client.get(f"/api/residents/{world.spouse.pk}/overview").json()
    assert body["resident"]["id_number"] == world.spouse.id_number and body["benefit_year"] == 2025
    assert [m["status"] for m in body["members"]] == ["未登记", "已缴费", "未登记"]
    assert body["assessment"]["payable"] == "400.00" and body["assessment"]["explanation"]
    assert body["payments"][0]["receipt_no"] == "340321-2025-0000001" and body["payments"][0]["amount"] == "400.00"
    assert [r["status"] for r in body["refunds"]] == ["requested"] and len(body["subsidy_refunds"]) == 1
    assert [d["id"] for d in body["mismatches"]] == [world.own_mismatch.pk] and len(body["remind_marks"]) == 1
    assert {"reprint", "enrollment"} == {a["key"] for a in body["actions"]}
    assert any("收款 400.00 元" in h["sentence"] for h in body["history"]), body["history"]
    assert client.get(f"/api/residents/{world.other.pk}/overview").status_code == 404
    client.force_login(make_user("audit", role="auditor", region_code="340321"))
    body = client.get(f"/api/residents/{world.spouse.pk}/overview").json()
    assert body["resident"]["id_number"] != world.spouse.id_number and body["actions"] == []
