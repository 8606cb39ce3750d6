"""Writes of the collection area: counter payments with their receipt, receipt prints, refunds
(退费) and 先缴后补 approvals. Each service is atomic and writes an event row for every change of
money or status. Services are callable without a request (the demo and the CLI use them).
"""

from __future__ import annotations

import contextlib
import contextvars

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from yibao.accounts.scope import actor_scope
from yibao.collection.models import Payment, QuoteExplanation, Receipt, ReceiptLine, ReceiptSeries, Refund, SubsidyRefund
from yibao.collection.selectors import (
    COUNTER_CHANNELS,
    CampaignMissing,
    business_now,
    business_today,
    campaign_for,
    due_quote,
)
from yibao.core.services import actor_fields, event_record
from yibao.enrollment.models import Enrollment
from yibao.enrollment.selectors import campaign_policy
from yibao.enrollment.services import EnrollmentError, enrollment_end, enrollment_mark_paid, enrollment_register
from yibao.policy.engine import PolicyInputError, cn_date, cn_money, quote
from yibao.registry.models import Household, Resident

CENT = Decimal("0.01")


class PaymentError(ValueError):
    """A payment, receipt or refund cannot be made; the message is Chinese and names the person."""


def _actor_name(actor) -> str:
    return actor_fields(actor)["actor_name"]


def _check_actor(actor, capability: str, region_code: str | None = None) -> None:
    scope = actor_scope(actor)
    if scope is None:
        return
    scope.require(capability)
    if region_code:
        scope.require_region(region_code)


def _who(resident: Resident) -> str:
    return f"{resident.name}（身份证号码尾号{resident.id_number[-4:]}）"


def _money(value) -> str:
    return cn_money(Decimal(value).quantize(CENT))


def explanation_store(lines) -> str:
    """Store a quote's explanation once and return its key."""
    lines = list(lines or ())
    if not lines:
        return ""
    key = hashlib.md5(json.dumps(lines, ensure_ascii=False).encode("utf-8")).hexdigest()
    QuoteExplanation.objects.get_or_create(key=key, defaults={"lines": lines})
    return key


# ---------------------------------------------------------------- receipt numbers


_progress_refresh_deferred = contextvars.ContextVar("progress_refresh_deferred", default=False)


@contextlib.contextmanager
def progress_refresh_deferred():
    """Inside, bookings leave the progress count to the caller (bulk work recounts once at the end)."""
    token = _progress_refresh_deferred.set(True)
    try:
        yield
    finally:
        _progress_refresh_deferred.reset(token)


def progress_refresh_after_commit(*, county_code: str, benefit_year: int, village_codes) -> None:
    """Once a booking commits, the progress rollup counts its villages again (tens of ms).

    A failure there is logged, never raised: the payment stands whatever the count does.
    """
    if _progress_refresh_deferred.get():
        return
    villages = sorted({code for code in village_codes if code})

    def refresh():
        from yibao.progress.services import progress_refresh

        progress_refresh(county_code=county_code, benefit_year=benefit_year, village_codes=villages)

    if villages:
        transaction.on_commit(refresh, robust=True)


def receipt_series_lock(*, county_code: str, benefit_year: int) -> ReceiptSeries:
    """The county's series for the year, locked until the transaction ends (created on first use).

    Every counter payment and every channel-file ingest of the county and year takes this lock
    first, so they never book the same person twice nor use a receipt number twice. SQLite runs
    IMMEDIATE transactions: the write lock is held from the start, which serialises them as well.
    """
    series = ReceiptSeries.objects.select_for_update().filter(county_code=county_code, benefit_year=benefit_year).first()
    if series is None:
        try:
            with transaction.atomic():
                ReceiptSeries.objects.create(county_code=county_code, benefit_year=benefit_year, next_number=1)
        except IntegrityError:
            pass  # someone else created it at the same moment
        series = ReceiptSeries.objects.select_for_update().get(county_code=county_code, benefit_year=benefit_year)
    return series


def receipt_number_take(*, series: ReceiptSeries) -> int:
    """The next number of a locked series (no gaps: the increment rolls back with the payment)."""
    number = series.next_number
    series.next_number = number + 1
    series.save(update_fields=["next_number"])
    return number


def receipt_no_format(county_code: str, benefit_year: int, number: int) -> str:
    return f"{county_code}-{benefit_year}-{number:07d}"


# ---------------------------------------------------------------- counter payments


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
    paid_at = timezone.localtime(paid_at) if paid_at else business_now()
    paid_on = paid_at.date()
    try:
        campaign = campaign_for(county_code=county, benefit_year=benefit_year)
    except CampaignMissing as exc:
        raise PaymentError(str(exc)) from None
    year = campaign.benefit_year

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
                enrollment = enrollment_register(resident=resident, campaign=campaign, actor=actor)
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


def payment_top_up(*, payment: Payment, channel: str, actor, paid_at: dt.datetime | None = None) -> CounterResult:
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
        payment = Payment.objects.select_for_update(of=("self",)).select_related("resident", "campaign").get(pk=payment.pk)
        resident = payment.resident
        if payment.status != Payment.Status.FLAGGED or payment.flag != Payment.Flag.UNDER or resident is None:
            raise PaymentError("只有标记为“少缴”的缴费才能补缴差额。")
        year = payment.benefit_year
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
        try:
            enrollment = enrollment_register(resident=resident, campaign=payment.campaign, actor=actor)
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
    where = f"票据号 {existing.receipt_line.receipt.receipt_no}" if hasattr(existing, "receipt_line") else f"缴费流水号 {existing.external_id}"
    return (
        f"{_who(resident)}已于{cn_date(existing.paid_on)}缴纳{year}年度居民医保费{_money(existing.amount)}"
        f"（{existing.get_channel_display()}，{where}），不能重复收款。"
    )


def _payment_snapshot(payment: Payment) -> dict:
    return {
        "status": payment.status, "flag": payment.flag, "amount": str(payment.amount),
        "expected_amount": str(payment.expected_amount) if payment.expected_amount is not None else None,
        "benefit_year": payment.benefit_year, "external_id": payment.external_id,
        "benefit_start": payment.benefit_start.isoformat() if payment.benefit_start else None,
        "benefit_end": payment.benefit_end.isoformat() if payment.benefit_end else None,
        "refund_later": str(payment.refund_later), "rule": payment.rule, "policy_version": payment.policy_version,
    }


def _subsidy_refund_open(*, payment: Payment, identity: str | None, actor) -> SubsidyRefund:
    entry = SubsidyRefund.objects.create(
        county_code=payment.county_code, township_code=payment.township_code, village_code=payment.village_code,
        payment=payment, resident_id=payment.resident_id, benefit_year=payment.benefit_year,
        identity=identity or "", amount=payment.refund_later,
    )
    event_record(
        county_code=entry.county_code, entity="subsidy_refund", entity_id=entry.pk, action="created", actor=actor,
        after={"status": entry.status, "amount": str(entry.amount), "identity": entry.identity, "payment": payment.pk},
        reason="先缴后补：全额缴费，日后退补",
    )
    return entry


# ---------------------------------------------------------------- receipts


def receipt_print(*, receipt: Receipt, actor) -> tuple[bytes, bool]:
    """The receipt's PDF; every print after the first is a 补打 (reprint) and says so."""
    from yibao.collection.receipts import receipt_layout, receipt_pdf
    from yibao.collection.selectors import receipt_lines
    from yibao.regions.selectors import region_name

    _check_actor(actor, "receipts.print", receipt.village_code)
    with transaction.atomic():
        locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
        reprint = locked.prints > 0
        locked.prints += 1
        locked.save(update_fields=["prints"])
        event_record(
            county_code=locked.county_code, entity="receipt", entity_id=locked.pk,
            action="reprinted" if reprint else "printed", actor=actor,
            before={"prints": locked.prints - 1}, after={"prints": locked.prints},
            reason="补打票据" if reprint else "打印票据",
        )
    layout = receipt_layout(
        receipt=locked, lines=receipt_lines(locked), county_name=region_name(locked.county_code),
        reprint=reprint, print_no=locked.prints,
    )
    receipt.prints = locked.prints
    return receipt_pdf(layout), reprint


def receipt_void(*, receipt: Receipt, actor, reason: str, reissue: bool = False) -> Receipt | None:
    """Void (作废) a receipt, e.g. one taken back after its payments were refunded, or one printed wrong.

    A receipt whose payments are still in force can only be voided together with a new receipt
    (换开) for them: the new number takes those lines, the voided one keeps the refunded ones, and
    the event row lists what the voided receipt covered. Returns the new receipt, or None.
    """
    reason = (reason or "").strip()
    _check_actor(actor, "receipts.void", receipt.village_code)
    if not reason:
        raise PaymentError("请填写作废原因。")
    with transaction.atomic():
        series = receipt_series_lock(county_code=receipt.county_code, benefit_year=receipt.benefit_year)
        locked = Receipt.objects.select_for_update().get(pk=receipt.pk)
        if locked.voided_at is not None:
            raise PaymentError(
                f"票据 {locked.receipt_no} 已于 {timezone.localtime(locked.voided_at):%Y-%m-%d %H:%M} 作废"
                f"（{locked.void_reason}），不能重复作废。"
            )
        lines = list(ReceiptLine.objects.filter(receipt=locked).select_related("payment").order_by("pk"))
        in_force = [line for line in lines if line.payment.status != Payment.Status.REFUNDED]
        if in_force and not reissue:
            names = "、".join(line.name for line in in_force)
            raise PaymentError(
                f"票据 {locked.receipt_no} 所含 {len(in_force)} 人（{names}）的缴费仍然有效，单独作废会使缴费人没有有效票据"
                "（白条）。请选择“作废并换开新票据”，或先办理退费。"
            )
        before = {
            "receipt_no": locked.receipt_no, "total": str(locked.total), "voided_at": None,
            "lines": [{"payment": line.payment_id, "name": line.name, "amount": str(line.amount),
                       "status": line.payment.status} for line in lines],
        }
        now = business_now()
        locked.voided_at, locked.void_reason = now, reason[:200]
        locked.save(update_fields=["voided_at", "void_reason"])
        replacement = None
        if in_force:
            number = receipt_number_take(series=series)
            replacement = Receipt.objects.create(
                county_code=locked.county_code, township_code=locked.township_code, village_code=locked.village_code,
                benefit_year=locked.benefit_year, number=number,
                receipt_no=receipt_no_format(locked.county_code, locked.benefit_year, number),
                payer_name=locked.payer_name, household_id=locked.household_id,
                total=sum((line.amount for line in in_force), Decimal(0)), channel=locked.channel,
                issued_at=now, issued_by_name=_actor_name(actor),
            )
            ReceiptLine.objects.filter(pk__in=[line.pk for line in in_force]).update(receipt=replacement)
            event_record(
                county_code=replacement.county_code, entity="receipt", entity_id=replacement.pk, action="issued",
                actor=actor, after={"receipt_no": replacement.receipt_no, "total": str(replacement.total),
                                    "replaces": locked.receipt_no, "payments": [line.payment_id for line in in_force]},
                reason=f"换开票据（原票据 {locked.receipt_no} 作废：{reason}）",
            )
        event_record(
            county_code=locked.county_code, entity="receipt", entity_id=locked.pk, action="voided", actor=actor,
            before=before, after={"voided_at": locked.voided_at.isoformat(), "void_reason": locked.void_reason,
                                  "replaced_by": replacement.receipt_no if replacement else None},
            reason=reason,
        )
    receipt.voided_at, receipt.void_reason = locked.voided_at, locked.void_reason
    return replacement


# ---------------------------------------------------------------- refunds (退费)


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


@transaction.atomic
def refund_request(
    *, payment: Payment, reason: str, actor, enrollment_action: str | None = None, note: str = "",
    on: dt.date | None = None,
) -> Refund:
    """申请退费. A booked contribution follows the policy's `refunds` rule (reasons, and only before
    the benefit period begins); a flagged over-payment returns the excess, a flagged duplicate
    the whole payment (neither bought any cover)."""
    _check_actor(actor, "refunds.request", payment.village_code or payment.county_code)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
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
    refund = Refund.objects.create(
        county_code=payment.county_code, township_code=payment.township_code, village_code=payment.village_code,
        payment=payment, resident=resident, benefit_year=payment.benefit_year, amount=amount.quantize(CENT),
        reason=reason, enrollment_action=action, note=note[:300], requested_at=timezone.now(),
        requested_by_name=_actor_name(actor),
    )
    event_record(
        county_code=refund.county_code, entity="refund", entity_id=refund.pk, action="requested", actor=actor,
        after=_refund_snapshot(refund), reason=f"{refund.get_reason_display()}{('：' + note) if note else ''}",
    )
    return refund


def _refund_locked(refund: Refund, expected: str, verb: str) -> Refund:
    refund = Refund.objects.select_for_update().get(pk=refund.pk)
    if refund.status != expected:
        raise PaymentError(f"退费申请状态为“{refund.get_status_display()}”，不能{verb}。")
    return refund


@transaction.atomic
def refund_approve(*, refund: Refund, actor, note: str = "") -> Refund:
    _check_actor(actor, "refunds.approve", refund.village_code or refund.county_code)
    refund = _refund_locked(refund, Refund.Status.REQUESTED, "审批")
    before = _refund_snapshot(refund)
    refund.status, refund.decided_at, refund.decided_by_name = Refund.Status.APPROVED, timezone.now(), _actor_name(actor)
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
    refund.status, refund.decided_at, refund.decided_by_name = Refund.Status.REJECTED, timezone.now(), _actor_name(actor)
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
    payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
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
        for entry in SubsidyRefund.objects.select_for_update().filter(
            payment=payment, status__in=[SubsidyRefund.Status.PENDING, SubsidyRefund.Status.APPROVED]
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
    refund.status, refund.booked_at, refund.booked_by_name = Refund.Status.BOOKED, timezone.now(), _actor_name(actor)
    refund.save(update_fields=["status", "booked_at", "booked_by_name"])
    event_record(county_code=refund.county_code, entity="refund", entity_id=refund.pk, action="booked", actor=actor,
                 before=before, after=_refund_snapshot(refund), reason=f"退款 {_money(refund.amount)}")
    progress_refresh_after_commit(
        county_code=refund.county_code, benefit_year=refund.benefit_year, village_codes=[refund.village_code]
    )
    return refund


def payment_recheck(*, payment: Payment, actor) -> Payment:
    """重新匹配: look at an unbooked channel payment again once its cause was dealt with (the payer was
    registered, a flag resolved, a suspension lifted) and book it, or flag it with today's reason.

    The amount and the benefit dates follow the policy on the day it was paid, as at ingest.
    """
    _check_actor(actor, "payments.ingest", payment.village_code or payment.county_code)
    with transaction.atomic():
        receipt_series_lock(county_code=payment.county_code, benefit_year=payment.benefit_year)
        payment = Payment.objects.select_for_update(of=("self",)).select_related("campaign").get(pk=payment.pk)
        if payment.status != Payment.Status.FLAGGED or payment.flag not in UNBOOKED_FLAGS:
            raise PaymentError(f"缴费流水号 {payment.external_id} 的状态为“{payment.get_status_display()}”"
                               f"{('（' + payment.get_flag_display() + '）') if payment.flag else ''}，不需要重新匹配。")
        if payment.refunds.exclude(status=Refund.Status.REJECTED).exists():
            raise PaymentError(f"缴费流水号 {payment.external_id} 已申请退费，不能再重新匹配入账。")
        before = _payment_snapshot(payment)
        year, campaign = payment.benefit_year, payment.campaign
        resident = Resident.objects.filter(county_code=payment.county_code, id_number=payment.id_number).first()
        flag, advice, answer, enrollment = "", "", None, None
        if resident is None:
            flag = Payment.Flag.UNKNOWN_PERSON
            advice = "本县户籍名单中仍查无此身份证号码：请核实缴费人身份，先登记户籍后再重新匹配，或办理退费。"
        else:
            booked = Payment.objects.filter(county_code=payment.county_code, resident=resident, benefit_year=year,
                                            status=Payment.Status.BOOKED).exclude(pk=payment.pk).first()
            if booked is not None:
                flag = Payment.Flag.DUPLICATE
                advice = (f"该人员{year}年度已于{cn_date(booked.paid_on)}缴费入账（缴费流水号 {booked.external_id}），"
                          f"本笔{_money(payment.amount)}为重复缴费，请办理退费。")
            else:
                try:
                    answer = quote(campaign_policy(campaign), _person(resident, payment), payment.paid_on)
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
                            enrollment = enrollment_register(resident=resident, campaign=campaign, actor=actor)
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
    answer = quote(campaign_policy(campaign), _person(resident, payment), payment.paid_on)
    try:
        enrollment = enrollment_register(resident=resident, campaign=campaign, actor=actor)
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


def _person(resident: Resident, payment: Payment):
    from yibao.enrollment.selectors import person_for

    return person_for(resident=resident, on=payment.paid_on, benefit_year=payment.benefit_year)


# ---------------------------------------------------------------- 先缴后补


def _subsidy_bulk(*, ids: list[int], scope, actor, capability: str, expected: str, new_status: str, verb: str) -> int:
    _check_actor(actor, capability)
    rows = SubsidyRefund.objects.select_for_update().filter(pk__in=list(ids))
    if scope is not None:
        rows = scope.filter(rows)
        if scope.region_code:
            rows = rows.filter(county_code=scope.county_code)
    rows = list(rows.order_by("id"))
    if len(rows) != len(set(ids)):
        raise PaymentError("所选名单中有不存在或不在您管辖范围内的记录，请刷新后重选。")
    wrong = [r for r in rows if r.status != expected]
    if wrong:
        names = "、".join(f"{r.resident.name}（{r.get_status_display()}）" for r in wrong[:5])
        raise PaymentError(f"只有“{SubsidyRefund.Status(expected).label}”的记录才能{verb}：{names}。")
    now = timezone.now()
    name = _actor_name(actor)
    from yibao.core.services import event_bulk_record

    events = []
    for row in rows:
        row.status = new_status
        if new_status == SubsidyRefund.Status.APPROVED:
            row.approved_at, row.approved_by_name = now, name
        else:
            row.paid_at, row.paid_by_name = now, name
        events.append({"county_code": row.county_code, "entity": "subsidy_refund", "entity_id": str(row.pk),
                       "action": new_status, "before": {"status": expected},
                       "after": {"status": new_status, "amount": str(row.amount)}, "reason": f"先缴后补{verb}"})
    SubsidyRefund.objects.bulk_update(rows, ["status", "approved_at", "approved_by_name", "paid_at", "paid_by_name"])
    event_bulk_record(rows=events, actor=actor)
    return len(rows)


@transaction.atomic
def subsidy_refunds_approve(*, ids: list[int], actor, scope=None) -> int:
    """乡镇审核: pending → approved, for the selected rows (all or none)."""
    scope = scope or actor_scope(actor)
    return _subsidy_bulk(ids=ids, scope=scope, actor=actor, capability="subsidy_refunds.approve",
                         expected=SubsidyRefund.Status.PENDING, new_status=SubsidyRefund.Status.APPROVED, verb="审核")


@transaction.atomic
def subsidy_refunds_pay(*, ids: list[int], actor, scope=None) -> int:
    """县（税务）发放: approved → paid, for the selected rows (all or none)."""
    scope = scope or actor_scope(actor)
    return _subsidy_bulk(ids=ids, scope=scope, actor=actor, capability="subsidy_refunds.pay",
                         expected=SubsidyRefund.Status.APPROVED, new_status=SubsidyRefund.Status.PAID, verb="发放")


def subsidy_refunds_export(*, rows, path) -> int:
    """The 先缴后补 list as xlsx (xlsxwriter): one sheet of people, one of township totals."""
    import xlsxwriter

    from yibao.collection.selectors import subsidy_refund_totals
    from yibao.policy.vocabulary import identity_name
    from yibao.regions.selectors import region_labels

    items = list(rows)
    labels = region_labels({r.village_code for r in items} | {r.township_code for r in items})
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#F0F4F8", "border": 1})
    money = book.add_format({"num_format": "0.00"})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet("先缴后补名单")
    headers = ("乡镇（街道）", "村（社区）", "姓名", "身份证号码", "待遇年度", "补贴身份", "缴费金额", "退补金额", "状态",
               "缴费日期", "审核人", "发放人")
    sheet.write_row(0, 0, headers, bold)
    sheet.set_column(0, 1, 16)
    sheet.set_column(3, 3, 21, text)
    sheet.set_column(5, 5, 16)
    sheet.freeze_panes(1, 0)
    total = Decimal("0")
    for i, r in enumerate(items, start=1):
        sheet.write_string(i, 0, labels.get(r.township_code, r.township_code))
        sheet.write_string(i, 1, labels.get(r.village_code, r.village_code).split(" / ")[-1])
        sheet.write_string(i, 2, r.resident.name)
        sheet.write_string(i, 3, r.resident.id_number)
        sheet.write_number(i, 4, r.benefit_year)
        sheet.write_string(i, 5, identity_name(r.identity) if r.identity else "")
        sheet.write_number(i, 6, float(r.payment.amount), money)
        sheet.write_number(i, 7, float(r.amount), money)
        sheet.write_string(i, 8, r.get_status_display())
        sheet.write_string(i, 9, r.payment.paid_on.isoformat())
        sheet.write_string(i, 10, r.approved_by_name)
        sheet.write_string(i, 11, r.paid_by_name)
        if r.status != SubsidyRefund.Status.CANCELLED:
            total += r.amount
    last = len(items) + 1
    sheet.write_string(last, 6, "合计", bold)
    sheet.write_number(last, 7, float(total), money)
    sums = book.add_worksheet("乡镇汇总")
    sums.write_row(0, 0, ("乡镇（街道）", "人数", "退补金额合计", "待审核", "已审核", "已发放"), bold)
    sums.set_column(0, 0, 18)
    ids = [r.pk for r in items]
    totals = subsidy_refund_totals(SubsidyRefund.objects.filter(pk__in=ids)) if ids else []
    for i, entry in enumerate(totals, start=1):
        sums.write_string(i, 0, labels.get(entry["township_code"], entry["township_code"]))
        sums.write_number(i, 1, entry["count"])
        sums.write_number(i, 2, float(entry["total"]), money)
        for col, status in enumerate(("pending", "approved", "paid"), start=3):
            sums.write_number(i, col, float((entry["by_status"].get(status) or {}).get("total") or 0), money)
    book.close()
    return len(items)


# ---------------------------------------------------------------- channel files


UPLOAD_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}


def payment_file_store(*, uploaded):
    """Keep an uploaded channel file under MEDIA_ROOT/collection/ (the job points at it; nothing is lost)."""
    import re
    import uuid
    from pathlib import Path

    from django.conf import settings

    name = Path(uploaded.name or "payments.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise PaymentError(f"不支持的文件类型“{suffix or name}”：请上传 CSV 或 xlsx 表格。")
    folder = Path(settings.MEDIA_ROOT) / "collection" / timezone.localtime().strftime("%Y%m")
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.()（）-]+", "_", name)[-120:]
    path = folder / f"{uuid.uuid4().hex[:12]}-{safe}"
    with open(path, "wb") as fh:
        for chunk in uploaded.chunks():
            fh.write(chunk)
    return path


def payment_file_job_create(*, path, actor, county_code: str | None = None, file_name: str = ""):
    """The Job that ingests one channel file (the import history row: who, when, file, sha256, counts)."""
    from pathlib import Path

    from yibao.collection.tasks import INGEST_KIND
    from yibao.core.services import job_create

    county_code = (county_code or "").strip()
    if county_code and not (county_code.isdigit() and len(county_code) == 6):
        raise PaymentError(f"县级区划代码应为6位数字，收到：{county_code}")
    scope = actor_scope(actor)
    if scope is not None:
        scope.require("payments.ingest")
        if scope.region_code:
            county_code = county_code or scope.county_code
            scope.require_region(county_code)
    if not Path(path).exists():
        raise PaymentError(f"找不到文件：{path}")
    return job_create(
        kind=INGEST_KIND, county_code=county_code, params={"county_code": county_code} if county_code else {},
        input_name=file_name or Path(path).name, input_path=str(path), actor=actor,
    )
