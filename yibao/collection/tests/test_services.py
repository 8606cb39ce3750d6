"""Counter payments, receipts, refunds and 先缴后补: the services."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from yibao.collection import services as s
from yibao.collection.models import Payment, QuoteExplanation, Receipt, ReceiptSeries, Refund, SubsidyRefund
from yibao.collection.receipts import pdf_texts, rmb_upper
from yibao.collection.tests import factories as f
from yibao.core.models import Event
from yibao.enrollment.models import Enrollment, EnrollmentClaim
from yibao.enrollment.selectors import person_for
from yibao.policy.engine import quote
from yibao.policy.loader import load_policy
from yibao.registry.models import Flag

pytestmark = pytest.mark.django_db

HUAIYUAN = "anhui-huaiyuan-2025"


def nothing_written():
    return not Payment.objects.exists() and not Receipt.objects.exists() and not Enrollment.objects.exists() \
        and not SubsidyRefund.objects.exists()


def test_one_person_pays_cash_and_gets_receipt_number_one():
    f.campaign()
    person = f.person()
    result = s.payment_collect(residents=[person], channel="cash", actor="测试收款员", paid_at=f.at("2024-10-08"),
                               amount=Decimal("400"))
    payment = result.payments[0]
    assert payment.status == "booked" and payment.amount == Decimal("400.00") and payment.source == "counter"
    assert (payment.benefit_start, payment.benefit_end) == (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert payment.rule == "main_window" and payment.policy_version == load_policy(HUAIYUAN).version
    assert result.receipt.number == 1 and result.receipt.receipt_no == "340321-2025-0000001"
    assert payment.external_id == "340321-2025-0000001-1"
    assert result.receipt.payer_name == person.name and result.receipt.total == Decimal("400.00")
    assert result.receipt.issued_by_name == "测试收款员"
    enrollment = Enrollment.objects.get(resident=person)
    assert enrollment.status == "paid" and enrollment.benefit_start == dt.date(2025, 1, 1)
    assert payment.enrollment_id == enrollment.pk
    assert ReceiptSeries.objects.get(county_code="340321", benefit_year=2025).next_number == 2
    actions = set(Event.objects.values_list("entity", "action"))
    assert {("payment", "booked"), ("receipt", "issued"), ("enrollment", "registered"), ("enrollment", "paid")} <= actions
    assert QuoteExplanation.objects.get(key=payment.explanation_key).lines[0].startswith("【个人缴费标准】")


def test_household_in_one_action_each_pays_the_quote_and_subsidy_refunds_open():
    f.campaign()
    home, head, spouse, child = f.family(head_identities=["dibao"], spouse_identities=["entitled_group"],
                                         child_identities=["only_son_family"])
    paid_at = f.at("2024-11-20")
    result = s.payment_collect(residents=[head, spouse, child], channel="wechat", actor="测试", paid_at=paid_at,
                               household=home)
    by_person = {p.resident_id: p for p in result.payments}
    policy = load_policy(HUAIYUAN)
    for person in (head, spouse, child):
        expected = quote(policy, person_for(resident=person, on=paid_at.date(), benefit_year=2025), paid_at.date())
        assert by_person[person.pk].amount == expected.payable
        assert by_person[person.pk].refund_later == expected.refund_later
    assert [by_person[p.pk].amount for p in (head, spouse, child)] == [Decimal("60.00"), Decimal("400.00"), Decimal("400.00")]
    receipt = result.receipt
    assert receipt.total == Decimal("860.00") and receipt.lines.count() == 3 and receipt.household_id == home.pk
    assert receipt.payer_name == head.name and receipt.channel == "wechat"
    owed = {r.resident_id: r for r in SubsidyRefund.objects.all()}
    assert set(owed) == {spouse.pk, child.pk}
    assert owed[spouse.pk].amount == Decimal("400.00") and owed[spouse.pk].identity == "entitled_group"
    assert owed[child.pk].amount == Decimal("200.00") and owed[child.pk].status == "pending"
    assert owed[child.pk].township_code == "340321100"


def test_a_counter_booking_counts_in_the_village_progress_once_committed(django_capture_on_commit_callbacks):
    from yibao.progress.models import VillageProgress

    f.campaign()
    person = f.person()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        s.payment_collect(residents=[person], channel="cash", actor="测试收款员", paid_at=f.at("2024-10-08"))
    assert len(callbacks) == 1
    row = VillageProgress.objects.get(village_code=person.village_code, benefit_year=2025)
    assert row.paid == 1 and row.enrolled == 1


def test_amount_must_equal_what_is_due():
    f.campaign()
    person = f.person(identities=["dibao"])
    with pytest.raises(s.PaymentError, match=r"收款金额400元与应缴金额60元不符（赵一应缴60元）"):
        s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-10-08"), amount=400)
    assert nothing_written()


def test_a_refused_quote_names_the_person_and_writes_nothing():
    f.campaign()
    person = f.person(name="钱二")
    with pytest.raises(s.PaymentError, match=r"钱二（身份证号码尾号.{4}）不予受理：征缴期尚未开始"):
        s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-08-15"))
    assert nothing_written()


def test_a_blocked_member_stops_the_whole_household_action():
    f.campaign()
    home, head, spouse, child = f.family()
    Flag.objects.create(county_code="340321", resident=spouse, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="某公司")
    with pytest.raises(s.PaymentError, match=f"{spouse.name}.*暂不能参保.*已参加职工医保"):
        s.payment_collect(residents=[head, spouse, child], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))
    assert nothing_written()
    assert not ReceiptSeries.objects.filter(next_number__gt=1).exists()


def test_paying_twice_is_refused_with_the_first_receipt_and_numbers_stay_gapless():
    f.campaign()
    home, head, spouse, child = f.family()
    first = s.payment_collect(residents=[head], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))
    with pytest.raises(s.PaymentError, match=f"{head.name}.*已于2024年10月8日缴纳2025年度居民医保费400元.*票据号 340321-2025-0000001"):
        s.payment_collect(residents=[spouse, head, child], channel="pos", actor="测试", paid_at=f.at("2024-10-09"))
    assert Payment.objects.count() == 1 and Receipt.objects.count() == 1
    second = s.payment_collect(residents=[spouse, child], channel="pos", actor="测试", paid_at=f.at("2024-10-09"))
    assert (first.receipt.number, second.receipt.number) == (1, 2)


def test_counter_channels_are_cash_pos_wechat_alipay():
    f.campaign()
    person = f.person()
    with pytest.raises(s.PaymentError, match="窗口收款方式只能是现金、POS机、微信、支付宝"):
        s.payment_collect(residents=[person], channel="tax_app", actor="测试", paid_at=f.at("2024-10-08"))
    for channel in ("cash", "pos", "wechat", "alipay"):
        other = f.person(name=f"渠道{channel}")
        assert s.payment_collect(residents=[other], channel=channel, actor="测试", paid_at=f.at("2024-10-08")).payments


def test_no_campaign_is_a_clear_error():
    from yibao.regions.models import Region

    person = f.person()
    Region.objects.filter(code="340321").update(name="怀远县")
    with pytest.raises(s.PaymentError, match="^怀远县尚未开启当前年度的征缴"):
        s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))


def test_late_payment_gets_the_policys_dates_and_explanation():
    f.campaign()
    person = f.person()
    paid_at = f.at("2025-01-15")
    payment = s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=paid_at).payments[0]
    expected = quote(load_policy(HUAIYUAN), person_for(resident=person, on=paid_at.date(), benefit_year=2025), paid_at.date())
    assert payment.rule == "late_enrollment_waiting_period"
    assert payment.benefit_start == expected.benefit_start == dt.date(2025, 4, 16)
    lines = QuoteExplanation.objects.get(key=payment.explanation_key).lines
    assert lines == list(expected.explanation) and any("待遇等待期" in line for line in lines)


def test_full_subsidy_books_a_zero_payment_with_its_receipt_line():
    f.campaign()
    person = f.person(identities=["tekun"])
    result = s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at("2024-10-08"), amount=0)
    assert result.payments[0].amount == 0 and result.payments[0].subsidy_identity == "tekun"
    assert Enrollment.objects.get(resident=person).status == "paid"


def test_collector_outside_the_village_may_not_collect(make_user):
    f.campaign()
    person = f.person()
    collector = make_user("c1", role="village_collector", region_code=f.OTHER_VILLAGE)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        s.payment_collect(residents=[person], channel="cash", actor=collector, paid_at=f.at("2024-10-08"))
    own = make_user("c2", role="village_collector", region_code=f.VILLAGE, display_name="村收款员")
    result = s.payment_collect(residents=[person], channel="cash", actor=own, paid_at=f.at("2024-10-08"))
    assert result.payments[0].collector_id == own.pk and result.receipt.issued_by_name == "村收款员"


# ---------------------------------------------------------------- receipts


def test_receipt_pdf_and_reprint_marked_bu_da():
    f.campaign()
    home, head, spouse, child = f.family(spouse_identities=["entitled_group"])
    result = s.payment_collect(residents=[head, spouse], channel="cash", actor="打印员", paid_at=f.at("2024-10-08"))
    pdf, reprint = s.receipt_print(receipt=result.receipt, actor="打印员")
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf and b"STSong-Light" not in pdf and not reprint
    texts = " ".join(pdf_texts(pdf))
    for needed in ("340321-2025-0000001", head.name, spouse.name, "800.00", "捌佰元整", "现金", "打印员",
                   "2025-01-01 至 2025-12-31", "先缴后补 400.00", "2025年度"):
        assert needed in texts, needed
    assert "补打" not in texts
    again, reprint = s.receipt_print(receipt=result.receipt, actor="打印员")
    assert reprint and "补打" in pdf_texts(again) and "第2次打印" in pdf_texts(again)
    assert Receipt.objects.get(pk=result.receipt.pk).prints == 2
    assert list(Event.objects.filter(entity="receipt").order_by("id").values_list("action", flat=True)) == [
        "issued", "printed", "reprinted"]


@pytest.mark.parametrize("amount, text", [
    ("400", "肆佰元整"), ("1070", "壹仟零柒拾元整"), ("60", "陆拾元整"), ("0", "零元整"), ("77.5", "柒拾柒元伍角整"),
    ("10000", "壹万元整"), ("100010", "壹拾万零壹拾元整"), ("1200.05", "壹仟贰佰元零伍分"), ("0.5", "伍角整"),
    ("100000000", "壹亿元整"), ("1001", "壹仟零壹元整"),
])
def test_rmb_upper(amount, text):
    assert rmb_upper(Decimal(amount)) == text


# ---------------------------------------------------------------- refunds


def paid_person(identities=(), paid_on="2024-10-08"):
    f.campaign()
    person = f.person(identities=identities)
    payment = s.payment_collect(residents=[person], channel="cash", actor="测试", paid_at=f.at(paid_on)).payments[0]
    return person, payment


def test_refund_before_benefits_begin_request_approve_book_terminates_and_releases_claim():
    person, payment = paid_person()
    refund = s.refund_request(payment=payment, reason="死亡", actor="村收款员", on=dt.date(2024, 12, 20))
    assert refund.status == "requested" and refund.amount == Decimal("400.00")
    assert refund.reason == "death" and refund.enrollment_action == "terminate"
    s.refund_approve(refund=refund, actor="县医保局")
    s.refund_book(refund=refund, actor="县税务局")
    refund.refresh_from_db()
    payment.refresh_from_db()
    enrollment = Enrollment.objects.get(resident=person)
    assert refund.status == "booked" and refund.booked_by_name == "县税务局" and refund.decided_by_name == "县医保局"
    assert payment.status == "refunded"
    assert enrollment.status == "terminated" and enrollment.benefit_start is None
    assert not EnrollmentClaim.objects.filter(id_number=person.id_number, released_at__isnull=True).exists()
    assert list(Event.objects.filter(entity="refund").order_by("id").values_list("action", flat=True)) == [
        "requested", "approved", "booked"]
    assert Event.objects.filter(entity="payment", action="refunded").exists()
    assert Event.objects.filter(entity="enrollment", action="terminated").exists()


def test_a_death_refund_marks_the_resident_deceased_through_the_registry_with_an_event(make_user):
    person, payment = paid_person()
    refund = s.refund_request(payment=payment, reason="死亡", actor="村收款员", note="2024年12月病故",
                              on=dt.date(2024, 12, 20))
    s.refund_approve(refund=refund, actor="县医保局")
    tax = make_user("shui", role="tax_officer", region_code="340321")  # books refunds, cannot edit the register
    s.refund_book(refund=refund, actor=tax)
    person.refresh_from_db()
    assert person.status == "deceased"
    event = Event.objects.get(entity="resident", entity_id=str(person.pk), action="status")
    assert event.before == {"status": "active"} and event.after == {"status": "deceased", "source": "refund"}
    assert event.reason == "退费：死亡（2024年12月病故）" and event.actor_name == "shui"


def test_a_refund_for_another_reason_leaves_the_resident_active():
    person, payment = paid_person()
    refund = s.refund_request(payment=payment, reason="参加职工医保", actor="测试", on=dt.date(2024, 12, 1))
    s.refund_approve(refund=refund, actor="测试")
    s.refund_book(refund=refund, actor="测试")
    person.refresh_from_db()
    assert person.status == "active"
    assert not Event.objects.filter(entity="resident", action="status").exists()


def test_refund_for_another_citys_insurance_suspends():
    person, payment = paid_person()
    refund = s.refund_request(payment=payment, reason="joined_other_city_insurance", actor="测试", on=dt.date(2024, 12, 1))
    s.refund_approve(refund=refund, actor="测试")
    s.refund_book(refund=refund, actor="测试")
    assert Enrollment.objects.get(resident=person).status == "suspended"


def test_refund_from_the_first_day_of_benefits_is_refused_quoting_the_rule():
    person, payment = paid_person()
    with pytest.raises(s.PaymentError) as error:
        s.refund_request(payment=payment, reason="参加职工医保", actor="测试", on=dt.date(2025, 1, 1))
    message = str(error.value)
    assert "待遇享受期已于2025年1月1日开始，个人缴费不再退回，不予退费" in message
    assert "待遇享受期开始后，暂停或终止参保关系，个人缴费不再退回" in message
    assert not Refund.objects.exists()
    assert s.refund_request(payment=payment, reason="参加职工医保", actor="测试", on=dt.date(2024, 12, 31))


def test_late_payers_benefit_start_is_their_own():
    person, payment = paid_person(paid_on="2025-01-15")  # waiting period: benefits from 2025-04-16
    assert s.refund_request(payment=payment, reason="death", actor="测试", on=dt.date(2025, 4, 15)).amount == 400
    Refund.objects.all().delete()
    with pytest.raises(s.PaymentError, match="2025年4月16日开始"):
        s.refund_request(payment=payment, reason="death", actor="测试", on=dt.date(2025, 4, 16))


def test_refund_rules_reasons_and_states():
    person, payment = paid_person()
    with pytest.raises(s.PaymentError, match="未知的退费原因：搬家"):
        s.refund_request(payment=payment, reason="搬家", actor="测试", on=dt.date(2024, 12, 1))
    with pytest.raises(s.PaymentError, match="没有多缴部分可退"):
        s.refund_request(payment=payment, reason="overpaid", actor="测试", on=dt.date(2024, 12, 1))
    refund = s.refund_request(payment=payment, reason="death", actor="测试", on=dt.date(2024, 12, 1))
    with pytest.raises(s.PaymentError, match="已有退费申请"):
        s.refund_request(payment=payment, reason="death", actor="测试", on=dt.date(2024, 12, 1))
    with pytest.raises(s.PaymentError, match="不能办理退款"):
        s.refund_book(refund=refund, actor="测试")
    with pytest.raises(s.PaymentError, match="须写明理由"):
        s.refund_reject(refund=refund, actor="测试", note=" ")
    s.refund_reject(refund=refund, actor="测试", note="死亡证明未提供")
    refund.refresh_from_db()
    assert refund.status == "rejected" and "死亡证明未提供" in refund.note
    # a rejected request leaves room for a new one
    assert s.refund_request(payment=payment, reason="death", actor="测试", on=dt.date(2024, 12, 2)).status == "requested"


def test_refunding_a_subsidy_later_payer_cancels_the_pending_subsidy_refund():
    person, payment = paid_person(identities=["entitled_group"])
    owed = SubsidyRefund.objects.get(payment=payment)
    refund = s.refund_request(payment=payment, reason="death", actor="测试", on=dt.date(2024, 12, 1))
    s.refund_approve(refund=refund, actor="测试")
    s.refund_book(refund=refund, actor="测试")
    owed.refresh_from_db()
    assert owed.status == "cancelled" and refund.amount == Decimal("400.00")


def test_refund_after_the_subsidy_was_paid_back_returns_only_the_rest():
    person, payment = paid_person(identities=["only_son_family"])  # adult parent: 400 paid, 200 back later
    owed = SubsidyRefund.objects.get(payment=payment)
    s.subsidy_refunds_approve(ids=[owed.pk], actor="乡镇")
    s.subsidy_refunds_pay(ids=[owed.pk], actor="税务")
    refund = s.refund_request(payment=payment, reason="death", actor="测试", on=dt.date(2024, 12, 1))
    assert refund.amount == Decimal("200.00")


# ---------------------------------------------------------------- 先缴后补


def test_subsidy_refunds_are_approved_and_paid_on_the_business_day(settings):
    person, payment = paid_person(identities=["only_son_family"])
    owed = SubsidyRefund.objects.get(payment=payment)
    settings.YIBAO_TODAY = "2024-11-20"
    s.subsidy_refunds_approve(ids=[owed.pk], actor="乡镇")
    settings.YIBAO_TODAY = "2024-11-25"
    s.subsidy_refunds_pay(ids=[owed.pk], actor="税务")
    owed.refresh_from_db()
    assert timezone.localtime(owed.approved_at).date() == dt.date(2024, 11, 20)
    assert timezone.localtime(owed.paid_at).date() == dt.date(2024, 11, 25)


def test_subsidy_refunds_pending_approved_paid_in_bulk_with_events():
    f.campaign()
    people = [f.person(name=f"优抚{i}", identities=["entitled_group"]) for i in range(3)]
    s.payment_collect(residents=people[:1], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))
    s.payment_collect(residents=people[1:], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))
    ids = list(SubsidyRefund.objects.values_list("id", flat=True))
    with pytest.raises(s.PaymentError, match="只有“已审核”的记录才能发放"):
        s.subsidy_refunds_pay(ids=ids, actor="税务")
    assert s.subsidy_refunds_approve(ids=ids[:2], actor="乡镇经办") == 2
    with pytest.raises(s.PaymentError, match="只有“待审核”的记录才能审核"):
        s.subsidy_refunds_approve(ids=ids, actor="乡镇经办")
    assert SubsidyRefund.objects.filter(status="pending").count() == 1  # all or none
    assert s.subsidy_refunds_pay(ids=ids[:2], actor="税务") == 2
    paid = SubsidyRefund.objects.filter(status="paid")
    assert paid.count() == 2 and set(paid.values_list("paid_by_name", flat=True)) == {"税务"}
    assert set(paid.values_list("approved_by_name", flat=True)) == {"乡镇经办"}
    assert Event.objects.filter(entity="subsidy_refund", action="approved").count() == 2
    assert Event.objects.filter(entity="subsidy_refund", action="paid").count() == 2


def test_subsidy_refund_scope_is_enforced(make_user):
    f.campaign()
    here = f.person(identities=["entitled_group"])
    there = f.person(village="340321200001", name="外乡", identities=["entitled_group"])
    s.payment_collect(residents=[here], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))
    s.payment_collect(residents=[there], channel="cash", actor="测试", paid_at=f.at("2024-10-08"))
    officer = make_user("town", role="township_officer", region_code="340321100")
    theirs = SubsidyRefund.objects.get(resident=there).pk
    with pytest.raises(s.PaymentError, match="不在您管辖范围内"):
        s.subsidy_refunds_approve(ids=[theirs], actor=officer)
    assert s.subsidy_refunds_approve(ids=[SubsidyRefund.objects.get(resident=here).pk], actor=officer) == 1
