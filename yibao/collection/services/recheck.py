"""重新匹配: an unbooked channel payment looked at again and booked once its cause is gone."""

from __future__ import annotations

from django.db import transaction

from yibao.collection.models import Payment, Refund
from yibao.collection.selectors import (
    booking_refusal,
    business_today,
    paid_text,
)
from yibao.collection.services.common import (
    PaymentError,
    _check_actor,
    _money,
    _payment_snapshot,
    _person,
    _subsidy_refund_open,
    _who,
    explanation_store,
    progress_refresh_after_commit,
    receipt_series_lock,
)
from yibao.collection.services.refunds import UNBOOKED_FLAGS
from yibao.core.services import event_record
from yibao.enrollment.models import Enrollment
from yibao.enrollment.selectors import campaign_policy
from yibao.enrollment.services import (
    EnrollmentError,
    enrollment_mark_paid,
    enrollment_register,
)
from yibao.policy.engine import PolicyInputError, cn_date, quote
from yibao.registry.models import Resident


def payment_recheck(*, payment: Payment, actor) -> Payment:
    """重新匹配: look at an unbooked channel payment again once its cause was dealt with (the payer was
    registered, a flag resolved, a suspension lifted) and book it, or flag it with today's reason.

    The amount and the benefit dates follow the policy on the day it was paid, as at ingest.
    """
    _check_actor(actor, "payments.ingest", payment.village_code or payment.county_code)
    with transaction.atomic():
        receipt_series_lock(county_code=payment.county_code, benefit_year=payment.benefit_year)
        payment = Payment.objects.select_for_update(of=("self",)).select_related("campaign").get(county_code=payment.county_code, pk=payment.pk)
        if payment.status != Payment.Status.FLAGGED or payment.flag not in UNBOOKED_FLAGS:
            raise PaymentError(f"缴费流水号 {payment.external_id} 的状态为“{payment.get_status_display()}”"
                               f"{('（' + payment.get_flag_display() + '）') if payment.flag else ''}，不需要重新匹配。")
        if payment.refunds.exclude(status=Refund.Status.REJECTED).exists():
            raise PaymentError(f"缴费流水号 {payment.external_id} 已申请退费，不能再重新匹配入账。")
        before = _payment_snapshot(payment)
        year, campaign = payment.benefit_year, payment.campaign
        resident = Resident.objects.filter(county_code=payment.county_code, id_number=payment.id_number).first()
        flag, advice, answer, enrollment = "", "", None, None
        if refusal := booking_refusal(campaign=campaign, paid_on=payment.paid_on):  # the gate first, as at ingest
            flag, advice = Payment.Flag.NOT_ACCEPTED, f"不予受理：{refusal}"
        elif resident is None:
            flag = Payment.Flag.UNKNOWN_PERSON
            advice = "本县户籍名单中仍查无此身份证号码：请核实缴费人身份，先登记户籍后再重新匹配，或办理退费。"
        else:
            booked = Payment.objects.filter(county_code=payment.county_code, resident=resident, benefit_year=year,
                                            status=Payment.Status.BOOKED).exclude(pk=payment.pk).first()
            if booked is not None:
                flag = Payment.Flag.DUPLICATE
                advice = f"该人员{paid_text(booked)}，本笔{_money(payment.amount)}为重复缴费，请办理退费。"
            else:
                try:
                    policy = campaign_policy(campaign)
                    answer = quote(policy, _person(resident, payment, policy), payment.paid_on)
                except PolicyInputError as exc:
                    raise PaymentError(f"{_who(resident)}无法测算应缴金额：{exc}") from None
                if not answer.accepted:
                    flag, advice = Payment.Flag.NOT_ACCEPTED, f"不予受理：{answer.reason}"
                elif payment.amount < answer.payable:
                    flag, advice = Payment.Flag.UNDER, f"少缴{_money(answer.payable - payment.amount)}，请补缴差额"
                elif payment.amount > answer.payable:
                    flag, advice = Payment.Flag.OVER, f"多缴{_money(payment.amount - answer.payable)}，请办理退费"
                else:
                    try:
                        with transaction.atomic():
                            enrollment = enrollment_register(resident=resident, campaign=campaign, actor=actor,
                                                                on=payment.paid_on)
                            if enrollment.status == Enrollment.Status.PAID:
                                raise EnrollmentError(f"{year}年度已是“正常参保”状态")
                    except EnrollmentError as exc:
                        flag, advice, enrollment = Payment.Flag.BLOCKED, f"{exc}。本笔款项暂不入账，请核实处理或办理退费。", None
        payment.resident = resident
        if resident is not None:
            payment.township_code, payment.village_code = resident.township_code, resident.village_code
        if answer is not None:
            payment.expected_amount = answer.payable
        if flag:
            payment.flag, payment.flag_advice = flag, advice[:300]
        else:
            explanation = explanation_store(answer.explanation)
            payment.status, payment.flag, payment.enrollment = Payment.Status.BOOKED, Payment.Flag.NONE, enrollment
            payment.benefit_start, payment.benefit_end = answer.benefit_start, answer.benefit_end
            payment.refund_later, payment.subsidy_identity = answer.refund_later, answer.subsidy_identity or ""
            payment.policy_version, payment.rule, payment.explanation_key = answer.policy_version, answer.rule or "", explanation
            payment.flag_advice = f"重新匹配后入账（{cn_date(business_today())}）。"
            enrollment_mark_paid(enrollment=enrollment, benefit_start=answer.benefit_start, benefit_end=answer.benefit_end,
                                 actor=actor, reason=f"渠道缴费重新匹配入账（缴费流水号 {payment.external_id}）")
        payment.save(update_fields=["resident", "township_code", "village_code", "expected_amount", "status", "flag",
                                    "flag_advice", "enrollment", "benefit_start", "benefit_end", "refund_later",
                                    "subsidy_identity", "policy_version", "rule", "explanation_key"])
        event_record(county_code=payment.county_code, entity="payment", entity_id=payment.pk,
                     action="booked" if not flag else "rechecked", actor=actor, before=before,
                     after=_payment_snapshot(payment), reason=f"重新匹配：{payment.flag_advice}")
        if not flag and answer.refund_later > 0:
            _subsidy_refund_open(payment=payment, identity=answer.subsidy_identity, actor=actor)
    if not flag:
        progress_refresh_after_commit(county_code=payment.county_code, benefit_year=payment.benefit_year,
                                      village_codes=[payment.village_code])
    return payment
