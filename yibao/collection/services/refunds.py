"""Refunds (退费): request, approve, reject and book."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from yibao.collection.models import Payment, Refund, SubsidyRefund
from yibao.collection.selectors import (
    booking_refusal,
    business_now,
    business_today,
)
from yibao.collection.services.common import (
    CENT,
    PaymentError,
    _actor_name,
    _check_actor,
    _money,
    _payment_snapshot,
    _person,
    _subsidy_refund_open,
    _who,
    progress_refresh_after_commit,
)
from yibao.core.services import event_record
from yibao.enrollment.selectors import campaign_policy
from yibao.enrollment.services import (
    EnrollmentError,
    enrollment_end,
    enrollment_mark_paid,
    enrollment_register,
)
from yibao.policy.engine import cn_date, quote

DEFAULT_ENROLLMENT_ACTION = {
    Refund.Reason.DEATH: Refund.EnrollmentAction.TERMINATE,
    Refund.Reason.EMPLOYEE: Refund.EnrollmentAction.TERMINATE,
    Refund.Reason.OTHER_CITY: Refund.EnrollmentAction.SUSPEND,
    Refund.Reason.DUPLICATE: Refund.EnrollmentAction.SUSPEND,
}

REASON_ALIASES = {
    "死亡": Refund.Reason.DEATH,
    "重复缴费": Refund.Reason.DUPLICATE,
    "重复参保": Refund.Reason.DUPLICATE,
    "参加职工医保": Refund.Reason.EMPLOYEE,
    "职工医保": Refund.Reason.EMPLOYEE,
    "参加其他地市居民医保": Refund.Reason.OTHER_CITY,
    "其他地市居民医保": Refund.Reason.OTHER_CITY,
    "外地参保": Refund.Reason.OTHER_CITY,
    "多缴": Refund.Reason.OVERPAID,
    "多缴退还差额": Refund.Reason.OVERPAID,
    "未入账": Refund.Reason.UNBOOKED,
    "查无此人": Refund.Reason.UNBOOKED,
    "未入账款项退还": Refund.Reason.UNBOOKED,
}


# flagged payments whose money bought nothing yet: refunded whole, or booked once rechecked
UNBOOKED_FLAGS = (Payment.Flag.UNKNOWN_PERSON, Payment.Flag.BLOCKED, Payment.Flag.NOT_ACCEPTED, Payment.Flag.UNDER)


def refund_reason_code(text: str) -> str:
    """'death' or '死亡' → 'death'; raises PaymentError with the accepted words."""
    value = (text or "").strip()
    if value in Refund.Reason.values:
        return value
    for code, label in Refund.Reason.choices:
        if value == label:
            return code
    if value in REASON_ALIASES:
        return REASON_ALIASES[value]
    names = "、".join(f"{label}（{code}）" for code, label in Refund.Reason.choices)
    raise PaymentError(f"未知的退费原因：{value or '（空）'}。可选：{names}。")


def _refund_snapshot(refund: Refund) -> dict:
    return {"status": refund.status, "amount": str(refund.amount), "reason": refund.reason,
            "enrollment_action": refund.enrollment_action, "payment": refund.payment_id}


def refund_plan(*, payment: Payment, reason: str, enrollment_action: str | None = None, on: dt.date | None = None):
    """The checks and figures of a refund request, nothing written: (reason code, amount, enrollment
    action). Raises PaymentError. The confirmation sheet shows it; `refund_request` records it."""
    reason = refund_reason_code(reason)
    on = on or business_today()
    resident = payment.resident
    unbooked = payment.status == Payment.Status.FLAGGED and payment.flag in UNBOOKED_FLAGS
    if resident is None and not unbooked:
        raise PaymentError(f"缴费流水号 {payment.external_id} 查无此人，须先核实缴费人后再办理退费。")
    who = _who(resident) if resident else f"缴费流水号 {payment.external_id} 的缴费人"
    live = payment.refunds.exclude(status=Refund.Status.REJECTED).first()
    if live is not None:
        raise PaymentError(f"{who}的这笔缴费已有退费申请（{live.get_status_display()}），不能重复申请。")

    if unbooked:
        # the money came in but bought nothing: it all goes back, and no enrollment changes
        if reason != Refund.Reason.UNBOOKED:
            raise PaymentError(f"这笔缴费未入账（{payment.get_flag_display()}），退费原因应为“未入账款项退还”。")
        amount = payment.amount
        action = Refund.EnrollmentAction.NONE
    elif reason == Refund.Reason.UNBOOKED:
        raise PaymentError("“未入账款项退还”只适用于查无此人、参保受限、不予受理或少缴而未入账的缴费。")
    elif payment.status == Payment.Status.FLAGGED and payment.flag in (Payment.Flag.OVER, Payment.Flag.DUPLICATE):
        if payment.flag == Payment.Flag.OVER:
            if reason != Refund.Reason.OVERPAID:
                raise PaymentError(f"这笔缴费多缴{_money(payment.amount - payment.expected_amount)}，退费原因应为“多缴退还差额”。")
            amount = payment.amount - payment.expected_amount
        else:
            if reason != Refund.Reason.DUPLICATE:
                raise PaymentError("这笔缴费是重复缴费，退费原因应为“重复缴费”。")
            amount = payment.amount
        action = Refund.EnrollmentAction.NONE
    elif payment.status == Payment.Status.BOOKED:
        if reason == Refund.Reason.OVERPAID:
            raise PaymentError("已入账的缴费金额与应缴一致，没有多缴部分可退。")
        rule = campaign_policy(payment.campaign).data.refunds
        if reason not in rule.allowed_reasons:
            allowed = "、".join(Refund.Reason(r).label for r in rule.allowed_reasons)
            raise PaymentError(f"本地政策只允许因{allowed}退费。（依据：“{rule.reference}”）")
        if rule.before_benefit_start_only and payment.benefit_start and on >= payment.benefit_start:
            raise PaymentError(
                f"{_who(resident)}的待遇享受期已于{cn_date(payment.benefit_start)}开始，个人缴费不再退回，不予退费。"
                f"（依据：“{rule.reference}”）"
            )
        action = enrollment_action or DEFAULT_ENROLLMENT_ACTION[reason]
        if action not in (Refund.EnrollmentAction.SUSPEND, Refund.EnrollmentAction.TERMINATE):
            raise PaymentError("退还已入账的个人缴费须同时暂停或终止参保关系：请选择“参保暂停”或“参保终止”。")
        amount = payment.amount + sum((t.amount for t in payment.top_ups.filter(status=Payment.Status.TOPUP)), Decimal("0"))
        paid_back = SubsidyRefund.objects.filter(payment=payment, status=SubsidyRefund.Status.PAID).first()
        if paid_back is not None:
            amount -= paid_back.amount  # the 先缴后补 part already went back to the person
    else:
        raise PaymentError(f"这笔缴费状态为“{payment.get_status_display()}”{('（' + payment.get_flag_display() + '）') if payment.flag else ''}，不能退费。")
    return reason, amount.quantize(CENT), action


@transaction.atomic
def refund_request(
    *, payment: Payment, reason: str, actor, enrollment_action: str | None = None, note: str = "",
    on: dt.date | None = None,
) -> Refund:
    """申请退费. A booked contribution follows the policy's `refunds` rule (reasons, and only before
    the benefit period begins); a flagged over-payment returns the excess, a flagged duplicate
    the whole payment (neither bought any cover)."""
    _check_actor(actor, "refunds.request", payment.village_code or payment.county_code)
    payment = Payment.objects.select_for_update().get(county_code=payment.county_code, pk=payment.pk)
    reason, amount, action = refund_plan(payment=payment, reason=reason, enrollment_action=enrollment_action, on=on)
    resident = payment.resident
    refund = Refund.objects.create(
        county_code=payment.county_code, township_code=payment.township_code, village_code=payment.village_code,
        payment=payment, resident=resident, benefit_year=payment.benefit_year, amount=amount.quantize(CENT),
        reason=reason, enrollment_action=action, note=note[:300], requested_at=business_now(),
        requested_by_name=_actor_name(actor),
    )
    event_record(
        county_code=refund.county_code, entity="refund", entity_id=refund.pk, action="requested", actor=actor,
        after=_refund_snapshot(refund), reason=f"{refund.get_reason_display()}{('：' + note) if note else ''}",
    )
    return refund


def _refund_locked(refund: Refund, expected: str, verb: str) -> Refund:
    refund = Refund.objects.select_for_update().get(county_code=refund.county_code, pk=refund.pk)
    if refund.status != expected:
        raise PaymentError(f"退费申请状态为“{refund.get_status_display()}”，不能{verb}。")
    return refund


@transaction.atomic
def refund_approve(*, refund: Refund, actor, note: str = "") -> Refund:
    _check_actor(actor, "refunds.approve", refund.village_code or refund.county_code)
    refund = _refund_locked(refund, Refund.Status.REQUESTED, "审批")
    before = _refund_snapshot(refund)
    refund.status, refund.decided_at, refund.decided_by_name = Refund.Status.APPROVED, business_now(), _actor_name(actor)
    if note:
        refund.note = f"{refund.note}；审批：{note}".strip("；")[:300]
    refund.save(update_fields=["status", "decided_at", "decided_by_name", "note"])
    event_record(county_code=refund.county_code, entity="refund", entity_id=refund.pk, action="approved", actor=actor,
                 before=before, after=_refund_snapshot(refund), reason=note or "同意退费")
    return refund


@transaction.atomic
def refund_reject(*, refund: Refund, actor, note: str) -> Refund:
    _check_actor(actor, "refunds.approve", refund.village_code or refund.county_code)
    if not (note or "").strip():
        raise PaymentError("驳回退费申请须写明理由。")
    refund = _refund_locked(refund, Refund.Status.REQUESTED, "驳回")
    before = _refund_snapshot(refund)
    refund.status, refund.decided_at, refund.decided_by_name = Refund.Status.REJECTED, business_now(), _actor_name(actor)
    refund.note = f"{refund.note}；驳回：{note}".strip("；")[:300]
    refund.save(update_fields=["status", "decided_at", "decided_by_name", "note"])
    event_record(county_code=refund.county_code, entity="refund", entity_id=refund.pk, action="rejected", actor=actor,
                 before=before, after=_refund_snapshot(refund), reason=note)
    return refund


@transaction.atomic
def refund_book(*, refund: Refund, actor) -> Refund:
    """退款入账 together with what goes with it: a refunded contribution suspends or terminates the
    enrollment (its claim on the year is released: the money went back before cover began); a
    refunded excess books the rest of the payment; a refunded duplicate closes that payment."""
    _check_actor(actor, "refunds.book", refund.village_code or refund.county_code)
    refund = _refund_locked(refund, Refund.Status.APPROVED, "办理退款")
    payment = Payment.objects.select_for_update().get(county_code=refund.county_code, pk=refund.payment_id)
    before_payment = _payment_snapshot(payment)
    label = refund.get_reason_display()
    if refund.reason == Refund.Reason.OVERPAID:
        _book_after_excess_refund(payment=payment, refund=refund, actor=actor)
    else:
        payment.status = Payment.Status.REFUNDED
        payment.save(update_fields=["status"])
        payment.top_ups.filter(status=Payment.Status.TOPUP).update(status=Payment.Status.REFUNDED)
        if refund.enrollment_action != Refund.EnrollmentAction.NONE and payment.enrollment_id:
            try:
                enrollment_end(
                    enrollment=payment.enrollment, action=refund.enrollment_action,
                    reason=f"退费：{label}", actor=actor, release_claim=True,
                )
            except EnrollmentError as exc:
                raise PaymentError(f"{_who(refund.resident)}：{exc}") from None
        if refund.reason == Refund.Reason.DEATH and refund.resident_id:
            _register_death(refund=refund, actor=actor)
        for entry in SubsidyRefund.objects.select_for_update().filter(
            county_code=payment.county_code, payment=payment, status__in=[SubsidyRefund.Status.PENDING, SubsidyRefund.Status.APPROVED]
        ):
            old = entry.status
            entry.status = SubsidyRefund.Status.CANCELLED
            entry.save(update_fields=["status"])
            event_record(county_code=entry.county_code, entity="subsidy_refund", entity_id=entry.pk, action="cancelled",
                         actor=actor, before={"status": old}, after={"status": entry.status},
                         reason=f"个人缴费已全额退还（{label}），不再退补")
    event_record(county_code=payment.county_code, entity="payment", entity_id=payment.pk, action="refunded",
                 actor=actor, before=before_payment, after=_payment_snapshot(payment),
                 reason=f"退费 {_money(refund.amount)}：{label}")
    before = _refund_snapshot(refund)
    refund.status, refund.booked_at, refund.booked_by_name = Refund.Status.BOOKED, business_now(), _actor_name(actor)
    refund.save(update_fields=["status", "booked_at", "booked_by_name"])
    event_record(county_code=refund.county_code, entity="refund", entity_id=refund.pk, action="booked", actor=actor,
                 before=before, after=_refund_snapshot(refund), reason=f"退款 {_money(refund.amount)}")
    progress_refresh_after_commit(
        county_code=refund.county_code, benefit_year=refund.benefit_year, village_codes=[refund.village_code]
    )
    return refund


def _register_death(*, refund: Refund, actor) -> None:
    """A refund for death is booked: the register follows (已死亡), through the one status service."""
    from django.core.exceptions import ValidationError

    from yibao.registry.models import Resident
    from yibao.registry.services import resident_status_change

    note = f"（{refund.note}）" if refund.note else ""
    try:
        resident_status_change(actor=actor, resident=refund.resident, status=Resident.Status.DECEASED,
                               reason=f"退费：死亡{note}", source="refund")
    except ValidationError as exc:
        raise PaymentError(f"{_who(refund.resident)}：{'；'.join(exc.messages)}") from None


def _book_after_excess_refund(*, payment: Payment, refund: Refund, actor) -> None:
    """Once the excess went back, the payment covers what was due: book it like any other."""
    resident = refund.resident
    if Payment.objects.filter(county_code=payment.county_code, resident=resident, benefit_year=payment.benefit_year,
                              status=Payment.Status.BOOKED).exists():
        payment.status = Payment.Status.REFUNDED  # nothing left to book: someone paid meanwhile
        payment.flag_advice = f"已退还多缴{_money(refund.amount)}；该人员本年度已另有缴费入账，本笔其余款项须另行退费。"
        payment.save(update_fields=["status", "flag_advice"])
        return
    campaign = payment.campaign
    refusal = booking_refusal(campaign=campaign, paid_on=payment.paid_on)
    if refusal:  # the rest would be booked: the same gate as every booking path
        raise PaymentError(f"{_who(resident)}多缴差额退还后其余款项须入账，现不能入账：{refusal}")
    policy = campaign_policy(campaign)
    answer = quote(policy, _person(resident, payment, policy), payment.paid_on)
    try:
        enrollment = enrollment_register(resident=resident, campaign=campaign, actor=actor, on=payment.paid_on)
        enrollment_mark_paid(enrollment=enrollment, benefit_start=answer.benefit_start, benefit_end=answer.benefit_end,
                             actor=actor, reason=f"多缴差额已退，缴费流水号 {payment.external_id} 入账")
    except EnrollmentError as exc:
        raise PaymentError(f"{_who(resident)}：{exc}") from None
    payment.status = Payment.Status.BOOKED
    payment.enrollment = enrollment
    payment.benefit_start, payment.benefit_end = answer.benefit_start, answer.benefit_end
    payment.refund_later = answer.refund_later
    payment.subsidy_identity = answer.subsidy_identity or ""
    payment.flag_advice = f"已退还多缴{_money(refund.amount)}，其余{_money(payment.expected_amount)}入账。"
    payment.save(update_fields=["status", "enrollment", "benefit_start", "benefit_end", "refund_later",
                                "subsidy_identity", "flag_advice"])
    if answer.refund_later > 0 and not SubsidyRefund.objects.filter(payment=payment).exists():
        _subsidy_refund_open(payment=payment, identity=answer.subsidy_identity, actor=actor)
