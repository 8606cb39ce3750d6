"""The change log in Chinese sentences: who did what to whom, with names, amounts and reasons."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from yibao.accounts.scope import Scope
from yibao.collection import services as s
from yibao.collection.tests import factories as f
from yibao.core.eventtext import ACTION_LABELS, event_rows, event_sentence
from yibao.core.idnumber import mask_id_number
from yibao.core.models import Event
from yibao.core.selectors import event_list
from yibao.core.services import event_record

pytestmark = pytest.mark.django_db

ADMIN = Scope(role="county_admin", region_code="340321")
SOURCE = Path(__file__).resolve().parents[2]

# actions written with a computed name (a variable), listed by hand
DYNAMIC = {
    "payment.rechecked", "receipt.reprinted", "enrollment.terminated", "subsidy_refund.approved",
    "subsidy_refund.paid", "resident.identity_renew", "resident.identity_add", "remind.contacted",
    "remind.moved_away", "remind.employee_insurance", "remind.deceased", "remind.refused", "job.interrupted",
    "job.interrupted_after_commit",
} | {f"user.{a}" for a in ("create", "update", "deactivate", "activate", "reset_password", "change_password",
                            "update_profile", "unlock", "reset_second_factor", "enrol_second_factor")}


def _written_actions() -> set[str]:
    """Every (entity, action) pair an event_record / event_bulk_record call in the code names literally."""
    found = set()
    pattern = re.compile(r"""entity["']?\s*[=:]\s*["'](\w+)["'][^()]{0,160}?action["']?\s*[=:]\s*["'](\w+)["']""", re.S)
    for path in SOURCE.rglob("*.py"):
        if "/tests/" in str(path) or "/migrations/" in str(path):
            continue
        for entity, action in pattern.findall(path.read_text(encoding="utf-8")):
            found.add(f"{entity}.{action}")
    return found


def test_every_action_written_today_has_a_chinese_name():
    written = _written_actions()
    assert {"payment.booked", "receipt.issued", "refund.requested", "resident.update"} <= written
    assert written - set(ACTION_LABELS) == set()
    assert DYNAMIC - set(ACTION_LABELS) == set()


ENGLISH = re.compile(r"[A-Za-z_]{3,}")


@pytest.mark.parametrize("key", sorted(ACTION_LABELS))
def test_each_action_reads_as_a_chinese_sentence_even_without_its_objects(key):
    entity, _, action = key.partition(".")
    event = event_record(county_code="340321", entity=entity, entity_id="999999", action=action,
                         actor="王芳", before={"status": "booked", "amount": "380"},
                         after={"status": "booked", "amount": "400", "benefit_year": 2025, "rows": 3},
                         reason="测试原因")
    text = event_sentence(event)
    assert text.startswith("王芳 ")
    assert not ENGLISH.search(text), text  # no entity#id, no field names, no Python dicts
    assert "{" not in text and "None" not in text and "#" not in text.replace("后台任务 #", "")


def test_an_unknown_action_still_reads_as_chinese():
    event = event_record(county_code="340321", entity="payment", entity_id="1", action="something_new", actor="王芳",
                         before={"status": "flagged"}, after={"status": "booked", "amount": "12"})
    text = event_sentence(event)
    assert not ENGLISH.search(text) and "状态 待处理 → 已入账" in text and "金额 12.00 元" in text


def _collect(name="张三", amount="400"):
    f.campaign()
    person = f.person(name=name)
    result = s.payment_collect(residents=[person], channel="cash", actor="王芳", paid_at=f.at("2024-10-08"),
                               amount=Decimal(amount))
    return person, result


def test_a_counter_payment_names_the_person_the_amount_and_the_receipt():
    person, result = _collect()
    masked = mask_id_number(person.id_number)
    rows = {r["event"].entity + "." + r["event"].action: r for r in event_rows(Event.objects.order_by("pk"))}
    booked = rows["payment.booked"]["sentence"]
    assert booked == f"王芳 为 张三（{masked}）收款 400.00 元（现金），2025年度，开具票据 340321-2025-0000001"
    assert rows["receipt.issued"]["sentence"].startswith("王芳 开具票据 340321-2025-0000001，合计 400.00 元，1 人（张三）")
    assert "2025年度参保记为已缴费，待遇享受期 2025-01-01 至 2025-12-31" in rows["enrollment.paid"]["sentence"]
    assert rows["payment.booked"]["action"] == "收款入账" and rows["payment.booked"]["reason"].startswith("窗口收款")
    assert person.id_number not in str([r["sentence"] for r in rows.values()])


def test_refunds_and_voids_read_with_reasons_and_amounts():
    person, result = _collect()
    refund = s.refund_request(payment=result.payments[0], reason="death", actor="王芳", on=dt.date(2024, 12, 20))
    s.refund_approve(refund=refund, actor="县医保局")
    s.refund_book(refund=refund, actor="县税务局")
    texts = [r["sentence"] for r in event_rows(Event.objects.filter(entity="refund").order_by("pk"))]
    assert texts[0].startswith("王芳 为 张三（") and "申请退费 400.00 元（死亡）" in texts[0]
    assert "同意 张三（" in texts[1] and texts[2].startswith("县税务局 为 张三（") and "退款 400.00 元" in texts[2]


def test_a_registered_user_reads_with_role():
    from yibao.accounts.models import User

    clerk = User.objects.create_user(username="wf", password="pass-1234", role="village_collector",
                                     region_code="340321100001", display_name="王芳")
    event = event_record(county_code="340321", entity="payment", entity_id="5", action="refunded", actor=clerk,
                         after={"amount": "10"})
    assert event_sentence(event).startswith("村（社区）征收员 王芳 将 ")
    assert event_sentence(event, with_time=True)[:4].isdigit()


def test_whole_id_numbers_in_stored_values_come_out_masked():
    number = "340321198005170037"
    event = event_record(county_code="340321", entity="resident", entity_id="77", action="update",
                         before={"id_number": "340321198005170011"}, after={"id_number": number}, reason=f"更正 {number}")
    row = event_rows([event])[0]
    assert number not in row["sentence"] and number not in row["reason"] and mask_id_number(number) in row["sentence"]


def test_filters_person_user_action_dates_and_scope():
    person, result = _collect()
    event_record(county_code="340321", entity="export", entity_id="x", action="export", actor="李四", reason="导出")
    event_record(county_code="421223", entity="payment", entity_id=str(result.payments[0].pk), action="booked")
    by_person = event_list(scope=ADMIN, person="张三")
    assert by_person.count() >= 4 and not by_person.filter(entity="export").exists()
    assert event_list(scope=ADMIN, person=person.id_number).count() == by_person.count()
    assert event_list(scope=ADMIN, person=str(person.pk)).count() == by_person.count()
    old = person.id_number[:6] + person.id_number[8:17]  # the same number written the old 15-digit way
    assert event_list(scope=ADMIN, person=old).count() == by_person.count()
    assert not event_list(scope=ADMIN, person="查无此人").exists()
    assert list(event_list(scope=ADMIN, user="李四").values_list("entity", flat=True)) == ["export"]
    assert set(event_list(scope=ADMIN, action="receipt.issued").values_list("action", flat=True)) == {"issued"}
    today = dt.date.today()
    assert event_list(scope=ADMIN, date_from=today - dt.timedelta(days=1), date_to=today + dt.timedelta(days=1)).count() \
        == event_list(scope=ADMIN).count()
    assert not event_list(scope=ADMIN, date_to=today - dt.timedelta(days=400)).exists()
    assert not event_list(scope=ADMIN).filter(county_code="421223").exists()  # another county's events stay out


def test_filters_reject_bad_input_in_chinese():
    from yibao.core.eventlog import event_filters
    from yibao.core.inputs import BadInput

    with pytest.raises(BadInput, match="未知的动作"):
        event_filters({"action": "drop.table"})
    with pytest.raises(BadInput, match="起始日期格式"):
        event_filters({"from": "2025-13-01"})
    with pytest.raises(BadInput, match="早于起始日期"):
        event_filters({"from": "2025-03-02", "to": "2025-03-01"})


def test_register_changes_read_with_names_labels_and_places():
    from yibao.enrollment.tests import factories as ef
    from yibao.registry import services as r

    ef.region_tree()
    home = r.household_register(actor="王芳", village_code=f.VILLAGE, members=[
        {"id_number": f.id_number(), "name": "张三", "relation": "户主"}]).household
    person = home.members.get()
    r.resident_update(actor="王芳", resident=person, name="张叁", phone="13800000000", reason="户口本更正")
    r.identity_add(actor="王芳", resident=person, code="dibao", department="minzheng", valid_from="2025-01-01")
    texts = [row["sentence"] for row in event_rows(Event.objects.order_by("pk"))]
    masked = mask_id_number(person.id_number)
    assert any(t.startswith("王芳 在 村（340321100001）登记家庭户 ") and "（户主 张叁（" in t and "，1 人）" in t
               for t in texts)
    assert f"王芳 在 村（340321100001）登记参保人 张叁（{masked}）" in texts
    assert f"王芳 修改 张叁（{masked}）的信息：姓名 张三 → 张叁，联系电话 无 → 13800000000" in texts
    assert any(f"为 张叁（{masked}）登记资助身份“" in t and "（民政，有效期 2025-01-01 至 长期）" in t for t in texts)
    assert not any(ENGLISH.search(t) for t in texts)


def test_a_persons_history_for_the_person_page():
    """The person page reads a person's history through event_list(resident_ids=…) and _event_rows.html."""
    from django.template.loader import render_to_string

    person, result = _collect()
    f.person(name="李四")
    events = event_list(scope=ADMIN, resident_ids=[person.pk])
    html = render_to_string("core/_event_rows.html", {"rows": event_rows(events)})
    assert "收款 400.00 元" in html and "开具票据" in html and "李四" not in html and person.id_number not in html


@pytest.mark.django_db
def test_a_reconciliation_run_names_its_difference_kinds_in_chinese():
    event = Event(entity="reconciliation_run", entity_id="1", action="run", actor_name="税务",
                  after={"as_of": "2025-03-20", "counts": {"cash_short": 2, "receipt_without_payment": 1}})
    text = event_sentence(event)
    assert "现金短款" in text and "cash_short" not in text and not re.search(r"[a-z]{3,}_[a-z]+", text), text


def test_a_rule_reads_as_its_label_not_its_id():
    from yibao.core.eventtext import value_text

    assert value_text("payment", "rule", "main_window") == "集中参保缴费期内缴费"
    assert value_text("payment", "rule", "input_error") == "无法测算"


def test_a_page_of_events_with_rules_reads_the_policies_once():
    """Rule labels come from the policies: a page of N events with rules scans them once, not once a value."""
    from unittest import mock

    from yibao.policy import loader

    events = [Event(pk=i, entity="payment", entity_id=str(i), action="corrected", actor_name="王芳",
                    before={"rule": "late"}, after={"rule": "main_window"}) for i in range(1, 21)]
    with mock.patch.object(loader, "list_policies", wraps=loader.list_policies) as scans:
        rows = event_rows(events)
    assert all("集中参保缴费期内缴费" in row["what"] for row in rows), rows[0]["what"]
    assert scans.call_count == 1
