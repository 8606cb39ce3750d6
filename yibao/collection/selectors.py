"""Reads of the collection area: what a person owes today, payments, receipts, refunds, 先缴后补.

Lists take `scope` first and filter with it; ID numbers shown on lists go through scope.show_id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.http import Http404

from yibao.collection.models import Payment, QuoteExplanation, Receipt, Refund, SubsidyRefund
from yibao.core.clock import business_now, business_today  # noqa: F401  (re-exported)
from yibao.enrollment.models import Assessment, Campaign, Enrollment
from yibao.enrollment.selectors import campaign_current, campaign_get, campaign_policy, person_for
from yibao.policy.engine import PolicyInputError, Quote, cn_date, cn_money, quote
from yibao.regions.selectors import county_label
from yibao.registry.models import Household, Resident

COUNTER_CHANNELS = (Payment.Channel.CASH, Payment.Channel.POS, Payment.Channel.WECHAT, Payment.Channel.ALIPAY)


# ---------------------------------------------------------------- campaigns and dues


class CampaignMissing(LookupError):
    """No campaign for the county and year; the message is Chinese."""


def campaign_for(*, county_code: str, benefit_year: int | None = None) -> Campaign:
    campaign = (
        campaign_get(county_code=county_code, benefit_year=benefit_year)
        if benefit_year
        else campaign_current(county_code=county_code)
    )
    if campaign is None and not benefit_year:
        closed = (Campaign.objects.filter(county_code=county_code, status=Campaign.Status.CLOSED, imported=False)
                  .order_by("-benefit_year").first())
        today = business_today()
        if closed is not None and today.year <= closed.benefit_year and booking_refusal(campaign=closed, paid_on=today) is None:
            return closed  # after its window, within its year: the late rules still take some (新生儿…); the quote says whom
        if closed is not None:  # say that the year closed, not that it never opened
            raise CampaignMissing(
                f"{county_label(county_code)}{closed.benefit_year}年度征缴已结束，当前没有征缴中的年度；"
                f"如需补录，请县医保局重新开启征缴年度。"
            )
    if campaign is None:
        year = f"{benefit_year}年度" if benefit_year else "当前年度"
        raise CampaignMissing(f"{county_label(county_code)}尚未开启{year}的征缴，请县医保局先开启征缴年度。")
    if campaign.imported:  # an imported past year: nothing is quoted or paid for it
        raise CampaignMissing(f"{campaign.history_note}，不能收款。")
    return campaign


def booking_refusal(*, campaign: Campaign, paid_on: dt.date, today: dt.date | None = None) -> str | None:
    """Why a payment dated `paid_on` may not be booked into the campaign's year, or None.

    The one gate of every booking path (counter, 补缴差额, channel file, 重新匹配), before the quote:
    - a payment dated after the business day is refused, as the reconciliation's tax-file check does;
    - an imported history year books nothing;
    - a closed year books only what its policy accepts after the collection window (its late
      rules, which the quote then applies); a payment dated inside the window is not booked.
    """
    today = today or business_today()
    if paid_on > today:
        return f"缴费日期{cn_date(paid_on)}晚于今天（{cn_date(today)}），不能入账。"
    if campaign.imported:
        return f"{campaign.history_note}，不能收款。"
    if campaign.status == Campaign.Status.CLOSED:
        window = campaign_policy(campaign).data.collection.main_window
        if paid_on <= window.end:
            return (
                f"{campaign.benefit_year}年度征缴已结束，{cn_date(paid_on)}的缴费不再入账"
                f"（结束后只按政策的逾期缴费规定受理{cn_date(window.end)}以后的缴费）；如需补录，请县医保局重新开启征缴年度。"
            )
    return None


def closed_year_registration_refusal(
    *, resident: Resident, campaign: Campaign, on: dt.date, tier: int | None = None
) -> str | None:
    """Why the resident may not be registered (参保登记) on `on` in the campaign's closed year, or None.

    No rule of its own: the booking gate, then the quote. A closed year books only after its
    collection window, so whom the policy accepts then is accepted under a late rule (新生儿、刑满释放、
    退役军人、职工转居民、毕业生、逾期缴费设等待期…), and only such a person may still register.
    """
    refusal = booking_refusal(campaign=campaign, paid_on=on)
    if refusal:
        return refusal
    try:
        answer = due_quote(resident=resident, campaign=campaign, paid_on=on, tier=tier)
    except PolicyInputError as exc:
        return f"{campaign.benefit_year}年度征缴已结束，无法测算应缴金额：{exc}"
    if not answer.accepted:
        return f"{campaign.benefit_year}年度征缴已结束，不能再办理参保登记（{answer.reason}）"
    return None


def enrollment_tier(*, resident: Resident, benefit_year: int) -> int:
    tier = (
        Enrollment.objects.filter(county_code=resident.county_code, resident=resident, benefit_year=benefit_year)
        .values_list("tier", flat=True)
        .first()
    )
    return tier or 1


def due_quote(*, resident: Resident, campaign: Campaign, paid_on: dt.date, tier: int | None = None) -> Quote:
    """What the resident owes if paying on `paid_on`: the policy engine's answer (raises PolicyInputError)."""
    tier = tier or enrollment_tier(resident=resident, benefit_year=campaign.benefit_year)
    policy = campaign_policy(campaign)
    person = person_for(resident=resident, on=paid_on, benefit_year=campaign.benefit_year, tier=tier, policy=policy)
    return quote(policy, person, paid_on)


def booked_payment(*, resident: Resident, benefit_year: int) -> Payment | None:
    return (
        Payment.objects.filter(
            county_code=resident.county_code, resident=resident, benefit_year=benefit_year, status=Payment.Status.BOOKED
        )
        .select_related("receipt_line__receipt")
        .first()
    )


def paid_text(payment: Payment) -> str:
    """That a person has paid, when, how much and on which receipt (or payment id): what every path
    says to a second payment, instead of what the person would owe today."""
    line = getattr(payment, "receipt_line", None) if payment.source == Payment.Source.COUNTER else None
    where = f"票据号 {line.receipt.receipt_no}" if line is not None else f"缴费流水号 {payment.external_id}"
    return (
        f"已于{cn_date(payment.paid_on)}缴纳{payment.benefit_year}年度居民医保费{cn_money(payment.amount)}"
        f"（{payment.get_channel_display()}，{where}）"
    )


@dataclass
class MemberDue:
    """One household member on the collector's page."""

    resident: Resident
    shown_id: str
    quote: Quote | None
    error: str = ""
    assessment: Assessment | None = None
    enrollment: Enrollment | None = None
    payment: Payment | None = None
    block: str = ""

    @property
    def payable(self) -> Decimal | None:
        """What the person would owe today; None once paid (the payment is shown, not a new amount)."""
        if self.payment is not None:
            return None
        return self.quote.payable if self.quote is not None and self.quote.accepted else None

    @property
    def paid_note(self) -> str:
        return f"{self.resident.name}{paid_text(self.payment)}，不能重复收款。" if self.payment is not None else ""

    @property
    def assessed_differs(self) -> bool:
        return (
            self.assessment is not None and self.payable is not None and self.assessment.payable != self.payable
        )

    @property
    def can_pay(self) -> bool:
        return self.payment is None and self.payable is not None and not self.block

    @property
    def status_label(self) -> str:
        if self.payment is not None:
            return "已缴费"
        if self.block:
            return "暂不能参保"
        if self.enrollment is not None:
            return self.enrollment.get_status_display()
        if self.quote is not None and not self.quote.accepted:
            return "不予受理"
        return "未缴费"


@dataclass
class HouseholdDues:
    campaign: Campaign | None
    paid_on: dt.date
    members: list[MemberDue] = field(default_factory=list)
    error: str = ""

    @property
    def payable_total(self) -> Decimal:
        return sum((m.payable for m in self.members if m.can_pay), Decimal("0.00"))

    @property
    def can_pay_any(self) -> bool:
        return any(m.can_pay for m in self.members)

    @property
    def all_paid(self) -> bool:
        """Every member has paid this year (全户已缴清)."""
        return bool(self.members) and all(m.payment is not None for m in self.members)

    @property
    def receipts(self) -> list:
        """The receipts of the members' payments this year, each once, oldest first."""
        seen: dict[int, Receipt] = {}
        for m in self.members:
            line = getattr(m.payment, "receipt_line", None) if m.payment is not None else None
            if line is not None:
                seen.setdefault(line.receipt.pk, line.receipt)
        return sorted(seen.values(), key=lambda r: (r.issued_at, r.pk))


def member_dues(*, scope, residents: list[Resident], benefit_year: int | None = None, on: dt.date | None = None) -> HouseholdDues:
    """Each resident's assessed amount (核定) and today's quote, enrollment and payment status."""
    from yibao.registry.selectors import resident_enrollment_block

    on = on or business_today()
    if not residents:
        return HouseholdDues(campaign=None, paid_on=on)
    try:
        campaign = campaign_for(county_code=residents[0].county_code, benefit_year=benefit_year)
    except CampaignMissing as exc:
        return HouseholdDues(campaign=None, paid_on=on, error=str(exc))
    ids = [r.pk for r in residents]
    year = campaign.benefit_year
    county = campaign.county_code
    assessments = {a.resident_id: a for a in Assessment.objects.filter(campaign=campaign, resident_id__in=ids)}
    enrollments = {
        e.resident_id: e for e in Enrollment.objects.filter(county_code=county, benefit_year=year, resident_id__in=ids)
    }
    payments = {
        p.resident_id: p
        for p in Payment.objects.filter(
            county_code=county, benefit_year=year, resident_id__in=ids, status=Payment.Status.BOOKED
        ).select_related("receipt_line__receipt")
    }
    dues = HouseholdDues(campaign=campaign, paid_on=on)
    for resident in residents:
        enrollment = enrollments.get(resident.pk)
        row = MemberDue(
            resident=resident, shown_id=scope.show_id(resident.id_number), quote=None,
            assessment=assessments.get(resident.pk), enrollment=enrollment, payment=payments.get(resident.pk),
        )
        if enrollment is None:
            row.block = resident_enrollment_block(resident) or ""
        elif enrollment.status in (Enrollment.Status.SUSPENDED, Enrollment.Status.TERMINATED):
            row.block = f"参保状态为“{enrollment.get_status_display()}”（{enrollment.status_reason}）"
        try:
            row.quote = due_quote(resident=resident, campaign=campaign, paid_on=on, tier=enrollment.tier if enrollment else 1)
        except PolicyInputError as exc:
            row.error = str(exc)
        dues.members.append(row)
    return dues


def counter_dues(*, scope, residents: list[Resident], checked: set[int] | None = None) -> HouseholdDues:
    """member_dues for the pay form (the counter's and the household page's): who is ticked (everyone
    who may pay, unless `checked` says otherwise), each subsidy's name, each paid member's receipt,
    and the ticked total."""
    from yibao.policy.vocabulary import identity_name

    dues = member_dues(scope=scope, residents=residents)
    for m in dues.members:
        m.checked = m.can_pay if checked is None else (m.resident.pk in checked and m.can_pay)
        m.subsidy_name = identity_name(m.quote.subsidy_identity) if m.quote and m.quote.subsidy_identity else ""
        line = getattr(m.payment, "receipt_line", None) if m.payment else None
        m.receipt = line.receipt if line else None
    dues.checked_total = sum((m.payable for m in dues.members if m.checked), Decimal("0.00"))
    return dues


# ---------------------------------------------------------------- the collector's search


def counter_search(*, scope, q: str, limit: int = 20) -> list[dict]:
    """Households (and residents without one) matching an ID number, its last digits or a name."""
    from yibao.registry.selectors import resident_search

    q = (q or "").strip()
    if not q:
        return []
    found = list(resident_search(scope=scope, q=q, status=None)[:200])
    households: dict[int, dict] = {}
    singles = []
    for resident in found:
        if resident.household_id:
            entry = households.setdefault(resident.household_id, {"household": resident.household, "matched": []})
            entry["matched"].append(resident)
        else:
            singles.append({"household": None, "matched": [resident]})
    out = list(households.values()) + singles
    for entry in out:
        entry["matched_shown"] = [(r, scope.show_id(r.id_number)) for r in entry["matched"]]
    return out[:limit]


def counter_household(*, scope, pk: int) -> tuple[Household, list[Resident]]:
    from yibao.registry.selectors import household_get, household_members

    household = household_get(scope=scope, pk=pk)
    members = [m for m in household_members(household=household) if scope.contains(m.village_code)]
    return household, members


def counter_resident(*, scope, pk: int) -> Resident:
    from yibao.registry.selectors import resident_get

    return resident_get(scope=scope, pk=pk)


# ---------------------------------------------------------------- payments and receipts


def payment_list(
    *, scope, benefit_year: int | None = None, status: str | None = None, flag: str | None = None,
    q: str | None = None, source: str | None = None, region: str | None = None,
):
    from yibao.registry.selectors import check_region_param, id_query

    rows = scope.filter(Payment.objects.all())
    if scope.region_code:
        rows = rows.filter(county_code=scope.county_code)
    region = check_region_param(scope, region)
    if region:
        from yibao.accounts.scope import LEVEL_FIELD

        rows = rows.filter(**{LEVEL_FIELD[len(region)]: region})
    if benefit_year:
        rows = rows.filter(benefit_year=benefit_year)
    if status:
        rows = rows.filter(status=status)
    if flag:
        rows = rows.filter(flag=flag)
    if source:
        rows = rows.filter(source=source)
    q = (q or "").strip()
    if q:
        number = id_query(q)
        if number:
            rows = rows.filter(id_number=number)
        else:
            rows = rows.filter(Q(external_id=q) | Q(ticket_no=q) | Q(resident__name=q))
    return rows.select_related("resident").order_by("-paid_at", "-id")


def payment_get(*, scope, pk: int) -> Payment:
    payment = payment_list(scope=scope).filter(pk=pk).first()
    if payment is None:
        raise Http404("缴费记录不存在或不在您的管辖范围内。")
    return payment


def payment_counts(*, scope, benefit_year: int | None = None) -> dict:
    rows = payment_list(scope=scope, benefit_year=benefit_year).order_by()
    by_status = dict(rows.values_list("status").annotate(n=Count("id")))
    by_flag = dict(rows.filter(status=Payment.Status.FLAGGED).values_list("flag").annotate(n=Count("id")))
    booked_sum = Decimal(rows.filter(status=Payment.Status.BOOKED).aggregate(s=Sum("amount"))["s"] or 0).quantize(Decimal("0.01"))
    return {"by_status": by_status, "by_flag": by_flag, "booked_sum": booked_sum}


def receipt_list(*, scope):
    rows = scope.filter(Receipt.objects.all())
    if scope.region_code:
        rows = rows.filter(county_code=scope.county_code)
    return rows.order_by("-issued_at", "-id")


def receipt_get(*, scope, pk: int) -> Receipt:
    receipt = receipt_list(scope=scope).filter(pk=pk).first()
    if receipt is None:
        raise Http404("票据不存在或不在您的管辖范围内。")
    return receipt


def receipt_lines(receipt: Receipt) -> list:
    return list(receipt.lines.select_related("payment").order_by("id"))


def receipt_void_record(*, scope, receipt: Receipt) -> dict | None:
    """For a voided receipt: who voided it and when, what it covered, and the receipt issued in its place."""
    from yibao.core.models import Event

    if receipt.voided_at is None:
        return None
    event = (Event.objects.filter(county_code=receipt.county_code, entity="receipt", entity_id=str(receipt.pk),
                                  action="voided").order_by("-at").first())
    replaced_by = (event.after or {}).get("replaced_by") if event else None
    replacement = (receipt_list(scope=scope).filter(county_code=receipt.county_code, receipt_no=replaced_by).first()
                   if replaced_by else None)
    return {"event": event, "replacement": replacement, "replaced_by": replaced_by,
            "lines": (event.before or {}).get("lines", []) if event else []}


def explanation_lines(key: str) -> list[str]:
    if not key:
        return []
    row = QuoteExplanation.objects.filter(key=key).values_list("lines", flat=True).first()
    return list(row or [])


# ---------------------------------------------------------------- refunds


def refund_list(*, scope, status: str | None = None, benefit_year: int | None = None, q: str | None = None):
    from yibao.registry.selectors import id_query

    rows = scope.filter(Refund.objects.all())
    if scope.region_code:
        rows = rows.filter(county_code=scope.county_code)
    if status:
        rows = rows.filter(status=status)
    if benefit_year:
        rows = rows.filter(benefit_year=benefit_year)
    q = (q or "").strip()
    if q:
        number = id_query(q)
        rows = rows.filter(payment__id_number=number) if number else rows.filter(resident__name=q)
    return rows.select_related("resident", "payment").order_by("-requested_at", "-id")


def refund_get(*, scope, pk: int) -> Refund:
    refund = refund_list(scope=scope).filter(pk=pk).first()
    if refund is None:
        raise Http404("退费申请不存在或不在您的管辖范围内。")
    return refund


def refundable_payments(*, scope, resident: Resident, benefit_year: int | None = None):
    """A resident's payments that a refund may be asked for: booked, or flagged (over, duplicate, or
    never booked: blocked, not accepted, under-paid)."""
    rows = payment_list(scope=scope, benefit_year=benefit_year).filter(resident=resident).filter(
        Q(status=Payment.Status.BOOKED)
        | Q(status=Payment.Status.FLAGGED, flag__in=[Payment.Flag.OVER, Payment.Flag.DUPLICATE, Payment.Flag.BLOCKED,
                                                       Payment.Flag.NOT_ACCEPTED, Payment.Flag.UNDER])
    )
    return rows.exclude(refunds__status__in=[Refund.Status.REQUESTED, Refund.Status.APPROVED, Refund.Status.BOOKED])


# ---------------------------------------------------------------- 先缴后补


def subsidy_refund_list(
    *, scope, township: str | None = None, benefit_year: int | None = None, status: str | None = None,
    q: str | None = None,
):
    from yibao.registry.selectors import check_region_param, id_query

    rows = scope.filter(SubsidyRefund.objects.all())
    if scope.region_code:
        rows = rows.filter(county_code=scope.county_code)
    township = check_region_param(scope, township)
    if township:
        from yibao.accounts.scope import LEVEL_FIELD

        rows = rows.filter(**{LEVEL_FIELD[len(township)]: township})
    if benefit_year:
        rows = rows.filter(benefit_year=benefit_year)
    if status:
        rows = rows.filter(status=status)
    q = (q or "").strip()
    if q:
        number = id_query(q)
        rows = rows.filter(payment__id_number=number) if number else rows.filter(resident__name=q)
    return rows.select_related("resident", "payment").order_by("township_code", "village_code", "id")


def subsidy_refund_totals(rows) -> list[dict]:
    """Per township: how many and how much, by status."""
    table: dict[str, dict] = {}
    for row in rows.order_by().values("township_code", "status").annotate(n=Count("id"), total=Sum("amount")):
        entry = table.setdefault(row["township_code"], {"township_code": row["township_code"], "count": 0,
                                                         "total": Decimal("0"), "by_status": {}})
        entry["by_status"][row["status"]] = {"count": row["n"], "total": row["total"]}
        if row["status"] != SubsidyRefund.Status.CANCELLED:
            entry["count"] += row["n"]
            entry["total"] += row["total"]
    cent = Decimal("0.01")
    for entry in table.values():
        entry["total"] = Decimal(entry["total"]).quantize(cent)
        for part in entry["by_status"].values():
            part["total"] = Decimal(part["total"] or 0).quantize(cent)
    return sorted(table.values(), key=lambda e: e["township_code"])
