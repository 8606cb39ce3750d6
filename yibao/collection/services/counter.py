"""Counter payments (窗口收款) with their receipt, and 补缴差额 top-ups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from yibao.collection.models import Payment, Receipt, ReceiptLine, SubsidyRefund
from yibao.collection.selectors import (
    COUNTER_CHANNELS,
    CampaignMissing,
    booked_payment,
    booking_refusal,
    business_now,
    campaign_for,
    due_quote,
    paid_text,
)
from yibao.collection.services.common import (
    CENT,
    PaymentError,
    _check_actor,
    _money,
    _payment_snapshot,
    _subsidy_refund_open,
    _who,
    explanation_store,
    progress_refresh_after_commit,
    receipt_no_format,
    receipt_number_take,
    receipt_series_lock,
)
from yibao.core.services import actor_fields, event_record
from yibao.enrollment.models import Enrollment
from yibao.enrollment.services import (
    EnrollmentError,
    enrollment_mark_paid,
    enrollment_register,
)
from yibao.policy.engine import PolicyInputError, cn_date
from yibao.registry.models import Household, Resident


@dataclass
class CounterResult:
    receipt: Receipt
    payments: list[Payment] = field(default_factory=list)
    subsidy_refunds: list[SubsidyRefund] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.receipt.total

    def as_dict(self) -> dict:
        return {
            "booked": len(self.payments),
            "flagged": 0,
            "rejected": 0,
            "receipt_no": self.receipt.receipt_no,
            "receipt_id": self.receipt.pk,
            "total": self.receipt.total,
            "channel": self.receipt.channel,
            "payments": [
                {
                    "payment_id": p.pk, "external_id": p.external_id, "id_number": p.id_number,
                    "name": p.resident.name if p.resident_id else "", "benefit_year": p.benefit_year,
                    "amount": p.amount, "refund_later": p.refund_later, "subsidy_identity": p.subsidy_identity or None,
                    "benefit_start": p.benefit_start, "benefit_end": p.benefit_end, "rule": p.rule,
                    "policy_version": p.policy_version,
                }
                for p in self.payments
            ],
        }


@dataclass
class CounterPlan:
    """What a counter payment would book on `paid_on`: the checks passed, each person's quote and
    the total. The confirmation sheet shows it; `payment_collect` books it (the same decision)."""

    residents: list[Resident]
    campaign: object
    paid_on: dt.date
    quotes: dict
    total: Decimal


def counter_plan(
    *,
    residents: list[Resident],
    channel: str,
    actor,
    benefit_year: int | None = None,
    paid_on: dt.date | None = None,
    amount: Decimal | None = None,
) -> CounterPlan:
    """Every check of a counter payment, nothing written: raises PaymentError with the reason."""
    residents = list(residents)
    if not residents:
        raise PaymentError("请至少选择一名缴费人员。")
    if len({r.pk for r in residents}) != len(residents):
        raise PaymentError("同一人员不能在一次收款中出现两次。")
    if channel not in COUNTER_CHANNELS:
        names = "、".join(Payment.Channel(c).label for c in COUNTER_CHANNELS)
        raise PaymentError(f"窗口收款方式只能是{names}，收到：{channel}。")
    counties = {r.county_code for r in residents}
    if len(counties) != 1:
        raise PaymentError("一次收款只能收同一县（区）人员的费用。")
    county = counties.pop()
    for resident in residents:
        _check_actor(actor, "payments.collect", resident.village_code)
    paid_on = paid_on or business_now().date()
    try:
        campaign = campaign_for(county_code=county, benefit_year=benefit_year)
    except CampaignMissing as exc:
        raise PaymentError(str(exc)) from None
    year = campaign.benefit_year
    refusal = booking_refusal(campaign=campaign, paid_on=paid_on)  # the gate first, as on every booking path
    for resident in residents:  # who has paid hears so (and why nothing books), not what they would owe today
        existing = booked_payment(resident=resident, benefit_year=year)
        if existing is not None:
            raise PaymentError(_already_paid_message(resident, existing, year) + (refusal or ""))
    if refusal:
        raise PaymentError(refusal)

    quotes = {}
    for resident in residents:
        try:
            result = due_quote(resident=resident, campaign=campaign, paid_on=paid_on)
        except PolicyInputError as exc:
            raise PaymentError(f"{_who(resident)}无法测算应缴金额：{exc}") from None
        if not result.accepted:
            raise PaymentError(f"{_who(resident)}不予受理：{result.reason}")
        quotes[resident.pk] = result
    total = sum((q.payable for q in quotes.values()), Decimal("0.00"))
    if amount is not None and Decimal(amount).quantize(CENT) != total:
        detail = "；".join(f"{r.name}应缴{_money(quotes[r.pk].payable)}" for r in residents)
        raise PaymentError(
            f"收款金额{_money(amount)}与应缴金额{_money(total)}不符（{detail}）。请按应缴金额收款，金额有误的不予入账。"
        )
    return CounterPlan(residents=residents, campaign=campaign, paid_on=paid_on, quotes=quotes, total=total)


def payment_collect(
    *,
    residents: list[Resident],
    channel: str,
    actor,
    benefit_year: int | None = None,
    paid_at: dt.datetime | None = None,
    amount: Decimal | None = None,
    payer_name: str = "",
    household: Household | None = None,
) -> CounterResult:
    """A collector takes payment for one person or several members of a household in one action.

    Each person pays what the policy gives on the payment date. In one transaction the service
    registers or renews the enrollment, books each payment, marks the enrollment paid with the
    policy's benefit dates, opens the 先缴后补 entry where part is refunded later, and issues one
    receipt (one line per person) with the next number of the county's series.
    `amount`, when given, is what the collector received: it must equal the total due.
    """
    paid_at = timezone.localtime(paid_at) if paid_at else business_now()
    plan = counter_plan(residents=residents, channel=channel, actor=actor, benefit_year=benefit_year,
                        paid_on=paid_at.date(), amount=amount)
    residents, campaign, quotes, total = plan.residents, plan.campaign, plan.quotes, plan.total
    county, year, paid_on = campaign.county_code, campaign.benefit_year, plan.paid_on
    who = actor_fields(actor)
    collector_name = who["actor_name"]

    with transaction.atomic():
        series = receipt_series_lock(county_code=county, benefit_year=year)
        for resident in residents:
            existing = (
                Payment.objects.filter(county_code=county, resident=resident, benefit_year=year, status=Payment.Status.BOOKED)
                .select_related("receipt_line__receipt")
                .first()
            )
            if existing is not None:
                raise PaymentError(_already_paid_message(resident, existing, year))
        number = receipt_number_take(series=series)
        receipt_no = receipt_no_format(county, year, number)
        first = residents[0]
        head = household or (first.household if first.household_id else None)
        receipt = Receipt.objects.create(
            county_code=county,
            township_code=first.township_code,
            village_code=first.village_code,
            benefit_year=year,
            number=number,
            receipt_no=receipt_no,
            payer_name=(payer_name or (head.head.name if head and head.head_id and head.head else first.name))[:50],
            household=head,
            total=total,
            channel=channel,
            issued_at=paid_at,
            issued_by_name=collector_name,
        )
        result = CounterResult(receipt=receipt)
        for line_no, resident in enumerate(residents, start=1):
            answer = quotes[resident.pk]
            try:
                enrollment = enrollment_register(resident=resident, campaign=campaign, actor=actor, on=paid_on)
                if enrollment.status == Enrollment.Status.PAID:
                    raise PaymentError(f"{_who(resident)}{year}年度已是“正常参保”状态，不能重复收款。")
            except EnrollmentError as exc:
                raise PaymentError(f"{_who(resident)}：{exc}") from None
            payment = Payment(
                county_code=county, township_code=resident.township_code, village_code=resident.village_code,
                campaign=campaign, benefit_year=year, resident=resident, enrollment=enrollment,
                id_number=resident.id_number, source=Payment.Source.COUNTER, channel=channel,
                external_id=f"{receipt_no}-{line_no}", amount=answer.payable, expected_amount=answer.payable,
                paid_at=paid_at, paid_on=paid_on, status=Payment.Status.BOOKED,
                benefit_start=answer.benefit_start, benefit_end=answer.benefit_end, refund_later=answer.refund_later,
                subsidy_identity=answer.subsidy_identity or "", policy_version=answer.policy_version,
                rule=answer.rule or "", collector=who["actor"], collector_name=collector_name,
                explanation_key=explanation_store(answer.explanation),
            )
            try:
                with transaction.atomic():
                    payment.save()
            except IntegrityError:
                raise PaymentError(f"{_who(resident)}的{year}年度费用刚刚已由他人收取，本次收款未入账。") from None
            enrollment_mark_paid(
                enrollment=enrollment, benefit_start=answer.benefit_start, benefit_end=answer.benefit_end,
                actor=actor, reason=f"窗口收款入账（票据号 {receipt_no}）",
            )
            ReceiptLine.objects.create(
                county_code=county, receipt=receipt, payment=payment, name=resident.name, amount=payment.amount
            )
            event_record(
                county_code=county, entity="payment", entity_id=payment.pk, action="booked", actor=actor,
                after=_payment_snapshot(payment), reason=f"窗口收款（{payment.get_channel_display()}），票据号 {receipt_no}",
            )
            result.payments.append(payment)
            if answer.refund_later > 0:
                result.subsidy_refunds.append(_subsidy_refund_open(payment=payment, identity=answer.subsidy_identity, actor=actor))
        event_record(
            county_code=county, entity="receipt", entity_id=receipt.pk, action="issued", actor=actor,
            after={"receipt_no": receipt_no, "total": str(total), "lines": len(residents), "channel": channel},
            reason="窗口收款开票",
        )
        progress_refresh_after_commit(
            county_code=county, benefit_year=year, village_codes=[p.village_code for p in result.payments]
        )
    return result


def top_up_plan(*, payment: Payment, paid_on: dt.date | None = None, amount: Decimal | None = None):
    """The checks and figures of a 补缴差额, nothing written: (today's quote, the rest to pay).
    Raises PaymentError. `amount`, when given, is the rest the payer was shown: it must still hold."""
    paid_on = paid_on or business_now().date()
    resident = payment.resident
    if payment.status != Payment.Status.FLAGGED or payment.flag != Payment.Flag.UNDER or resident is None:
        raise PaymentError("只有标记为“少缴”的缴费才能补缴差额。")
    year = payment.benefit_year
    refusal = booking_refusal(campaign=payment.campaign, paid_on=paid_on)  # the gate first
    if refusal:
        raise PaymentError(f"{_who(resident)}补缴差额不能入账：{refusal}")
    existing = Payment.objects.filter(county_code=payment.county_code, resident=resident, benefit_year=year,
                                      status=Payment.Status.BOOKED).select_related("receipt_line__receipt").first()
    if existing is not None:
        raise PaymentError(_already_paid_message(resident, existing, year) + "本笔少缴款项请办理退费。")
    try:
        answer = due_quote(resident=resident, campaign=payment.campaign, paid_on=paid_on)
    except PolicyInputError as exc:
        raise PaymentError(f"{_who(resident)}无法测算应缴金额：{exc}") from None
    if not answer.accepted:
        raise PaymentError(f"{_who(resident)}不予受理：{answer.reason}")
    rest = answer.payable - payment.amount
    if rest <= 0:
        raise PaymentError(
            f"{_who(resident)}按{cn_date(paid_on)}的政策应缴{_money(answer.payable)}，已缴{_money(payment.amount)}，没有差额可补。"
        )
    if amount is not None and Decimal(amount).quantize(CENT) != rest:
        raise PaymentError(f"补缴差额{_money(amount)}与今日应补{_money(rest)}不符，请重新确认。")
    return answer, rest


def payment_top_up(
    *, payment: Payment, channel: str, actor, paid_at: dt.datetime | None = None, amount: Decimal | None = None
) -> CounterResult:
    """补缴差额: the payer of a flagged under-payment pays the rest at the counter. The rest is what
    the policy gives on the top-up day less what was paid; the first payment is then booked with
    that day's benefit dates, the difference is a 补缴差额 row on its own receipt."""
    if channel not in COUNTER_CHANNELS:
        names = "、".join(Payment.Channel(c).label for c in COUNTER_CHANNELS)
        raise PaymentError(f"窗口收款方式只能是{names}，收到：{channel}。")
    _check_actor(actor, "payments.collect", payment.village_code or payment.county_code)
    paid_at = timezone.localtime(paid_at) if paid_at else business_now()
    paid_on = paid_at.date()
    who = actor_fields(actor)
    with transaction.atomic():
        series = receipt_series_lock(county_code=payment.county_code, benefit_year=payment.benefit_year)
        payment = Payment.objects.select_for_update(of=("self",)).select_related("resident", "campaign").get(county_code=payment.county_code, pk=payment.pk)
        answer, rest = top_up_plan(payment=payment, paid_on=paid_on, amount=amount)
        resident, year = payment.resident, payment.benefit_year
        try:
            enrollment = enrollment_register(resident=resident, campaign=payment.campaign, actor=actor, on=paid_on)
            if enrollment.status == Enrollment.Status.PAID:
                raise PaymentError(f"{_who(resident)}{year}年度已是“正常参保”状态，不能重复收款。")
        except EnrollmentError as exc:
            raise PaymentError(f"{_who(resident)}：{exc}") from None
        number = receipt_number_take(series=series)
        receipt_no = receipt_no_format(payment.county_code, year, number)
        receipt = Receipt.objects.create(
            county_code=payment.county_code, township_code=resident.township_code, village_code=resident.village_code,
            benefit_year=year, number=number, receipt_no=receipt_no, payer_name=resident.name[:50],
            household=resident.household if resident.household_id else None, total=rest, channel=channel,
            issued_at=paid_at, issued_by_name=who["actor_name"],
        )
        explanation = explanation_store(answer.explanation)
        top = Payment.objects.create(
            county_code=payment.county_code, township_code=resident.township_code, village_code=resident.village_code,
            campaign=payment.campaign, benefit_year=year, resident=resident, enrollment=enrollment,
            id_number=resident.id_number, source=Payment.Source.COUNTER, channel=channel,
            external_id=f"{receipt_no}-1", amount=rest, expected_amount=rest, paid_at=paid_at, paid_on=paid_on,
            status=Payment.Status.TOPUP, flag_advice=f"补缴缴费流水号 {payment.external_id} 的差额",
            benefit_start=answer.benefit_start, benefit_end=answer.benefit_end, policy_version=answer.policy_version,
            rule=answer.rule or "", collector=who["actor"], collector_name=who["actor_name"], explanation_key=explanation,
            top_up_of=payment,
        )
        before = _payment_snapshot(payment)
        payment.status = Payment.Status.BOOKED
        payment.enrollment = enrollment
        payment.expected_amount = answer.payable
        payment.benefit_start, payment.benefit_end = answer.benefit_start, answer.benefit_end
        payment.refund_later = answer.refund_later
        payment.subsidy_identity = answer.subsidy_identity or ""
        payment.policy_version, payment.rule, payment.explanation_key = answer.policy_version, answer.rule or "", explanation
        payment.flag_advice = f"已于{cn_date(paid_on)}补缴差额{_money(rest)}（票据号 {receipt_no}），合计{_money(answer.payable)}入账。"
        payment.save(update_fields=["status", "enrollment", "expected_amount", "benefit_start", "benefit_end",
                                    "refund_later", "subsidy_identity", "policy_version", "rule", "explanation_key",
                                    "flag_advice"])
        enrollment_mark_paid(enrollment=enrollment, benefit_start=answer.benefit_start, benefit_end=answer.benefit_end,
                             actor=actor, reason=f"补缴差额后入账（票据号 {receipt_no}）")
        ReceiptLine.objects.create(county_code=payment.county_code, receipt=receipt, payment=top, name=resident.name,
                                   amount=rest)
        event_record(county_code=payment.county_code, entity="payment", entity_id=top.pk, action="booked", actor=actor,
                     after=_payment_snapshot(top), reason=f"补缴差额（{top.get_channel_display()}），票据号 {receipt_no}")
        event_record(county_code=payment.county_code, entity="payment", entity_id=payment.pk, action="booked",
                     actor=actor, before=before, after=_payment_snapshot(payment), reason=payment.flag_advice)
        event_record(county_code=payment.county_code, entity="receipt", entity_id=receipt.pk, action="issued",
                     actor=actor, after={"receipt_no": receipt_no, "total": str(rest), "lines": 1, "channel": channel},
                     reason="补缴差额开票")
        result = CounterResult(receipt=receipt, payments=[top])
        if answer.refund_later > 0:
            result.subsidy_refunds.append(_subsidy_refund_open(payment=payment, identity=answer.subsidy_identity, actor=actor))
    progress_refresh_after_commit(
        county_code=payment.county_code, benefit_year=payment.benefit_year, village_codes=[payment.village_code]
    )
    return result


def _already_paid_message(resident: Resident, existing: Payment, year: int) -> str:
    return f"{_who(resident)}{paid_text(existing)}，不能重复收款。"
