"""The person page's reads: everything about one resident in one place, region-filtered, and the
actions the user's role allows on it.

`person_overview(scope=, resident=)` gathers; `person_actions(scope=, overview=)` lists the links to the
existing operation pages; the change log reads as the change-log page's sentences (`core.eventtext.event_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse

from yibao.core.models import Event
from yibao.registry.models import Resident

# entities whose events are about one resident (entity_id is the resident's pk)
_RESIDENT_ENTITIES = ("resident", "remind")
HISTORY_LIMIT = 100


# ---------------------------------------------------------------- this year


def this_year_campaign(county_code: str):
    """The open campaign with the latest year, else the newest campaign that is not an imported history year."""
    from yibao.enrollment.models import Campaign
    from yibao.enrollment.selectors import campaign_current

    return campaign_current(county_code=county_code) or (
        Campaign.objects.filter(county_code=county_code, imported=False).order_by("-benefit_year").first()
    )


@dataclass
class MemberRow:
    resident: Resident
    is_head: bool
    is_self: bool
    status: str  # this year's status in Chinese
    tone: str = ""  # badge colour: good, warn, bad or ""


def _members(scope, resident: Resident, year: int | None) -> list[MemberRow]:
    from yibao.collection.models import Payment
    from yibao.enrollment.models import Enrollment
    from yibao.registry.selectors import household_members

    household = resident.household
    if household is None:
        return []
    members = [m for m in household_members(household=household) if scope.contains(m.village_code)]
    ids = [m.pk for m in members]
    enrollments, paid = {}, set()
    if year:
        enrollments = {
            e.resident_id: e
            for e in Enrollment.objects.filter(county_code=household.county_code, benefit_year=year, resident_id__in=ids)
        }
        paid = set(
            Payment.objects.filter(county_code=household.county_code, benefit_year=year, resident_id__in=ids,
                                   status=Payment.Status.BOOKED).values_list("resident_id", flat=True)
        )
    rows = []
    for m in members:
        e = enrollments.get(m.pk)
        if m.status != Resident.Status.ACTIVE:
            status, tone = m.get_status_display(), "warn"
        elif m.pk in paid:
            status, tone = "已缴费", "good"
        elif e is not None:
            status = e.get_status_display()
            tone = {"paid": "good", "suspended": "warn", "terminated": "bad"}.get(e.status, "warn")
        else:
            status, tone = ("未登记" if year else "—"), ""
        rows.append(MemberRow(resident=m, is_head=m.pk == household.head_id, is_self=m.pk == resident.pk,
                              status=status, tone=tone))
    return rows


# ---------------------------------------------------------------- the overview


@dataclass
class PaymentRow:
    payment: object
    receipt: object | None  # the receipt, when inside the scope
    refunds: list = field(default_factory=list)
    top_ups: list = field(default_factory=list)
    top_up_due: bool = False  # 少缴: a 补缴差额 can be collected


def _assessment(resident: Resident, campaign) -> dict | None:
    from yibao.enrollment.models import Assessment
    from yibao.enrollment.selectors import assessment_explain
    from yibao.policy.vocabulary import identity_name

    if campaign is None:
        return None
    a = Assessment.objects.filter(campaign=campaign, resident=resident).select_related("campaign").first()
    if a is None:
        return None
    return {
        "a": a, "explained": assessment_explain(assessment=a),
        "identity_label": identity_name(a.subsidy_identity) if a.subsidy_identity else "",
    }


def _payments(scope, resident: Resident) -> list[PaymentRow]:
    from yibao.collection.models import Payment

    payments = list(
        scope.filter(Payment.objects.filter(county_code=resident.county_code, resident=resident))
        .select_related("receipt_line__receipt")
        .prefetch_related("refunds", "top_ups")
        .order_by("-benefit_year", "-paid_at", "-pk")
    )
    rows = []
    for p in payments:
        line = getattr(p, "receipt_line", None)
        receipt = line.receipt if line is not None and scope.contains(line.receipt.village_code) else None
        rows.append(PaymentRow(
            payment=p, receipt=receipt, refunds=sorted(p.refunds.all(), key=lambda r: r.requested_at, reverse=True),
            top_ups=list(p.top_ups.all()),
            top_up_due=p.status == Payment.Status.FLAGGED and p.flag == Payment.Flag.UNDER,
        ))
    return rows


def _mismatches(scope, resident: Resident, payment_ids: list[int]) -> list:
    """The differences of the latest reconciliation of each year that name this person."""
    from yibao.reconciliation.models import Mismatch, ReconciliationRun

    latest: dict[int, int] = {}
    for run_id, year in (ReconciliationRun.objects.filter(county_code=resident.county_code)
                         .order_by("-started_at", "-pk").values_list("pk", "benefit_year")):
        latest.setdefault(year, run_id)
    if not latest:
        return []
    names = Q(id_number=resident.id_number) | Q(other_id_number=resident.id_number)
    if payment_ids:
        names |= Q(payment_id__in=payment_ids)
    rows = scope.filter(Mismatch.objects.filter(run_id__in=latest.values()).filter(names))
    return list(rows.select_related("run").order_by("-run__benefit_year", "kind", "pk"))


def _history(scope, resident: Resident, *, enrollment_ids, payment_ids, receipt_ids, refund_ids, subsidy_ids) -> list:
    from yibao.core.selectors import event_shown

    about = Q(entity__in=_RESIDENT_ENTITIES, entity_id=str(resident.pk))
    for entity, ids in (("enrollment", enrollment_ids), ("payment", payment_ids), ("receipt", receipt_ids),
                        ("refund", refund_ids), ("subsidy_refund", subsidy_ids)):
        if ids:
            about |= Q(entity=entity, entity_id__in=[str(i) for i in ids])
    events = Event.objects.filter(county_code=resident.county_code).filter(about).order_by("-at", "-id")[:HISTORY_LIMIT]
    from yibao.core.eventtext import event_rows

    return event_rows([event_shown(e, scope=scope) for e in events])


def person_overview(*, scope, resident: Resident) -> dict:
    """Everything the person page shows about a resident the scope may see (resident_get checks that).

    Each part is read only when the role may see it; every list is filtered by the scope's region.
    """
    from yibao.enrollment.models import Enrollment
    from yibao.enrollment.selectors import resident_assessments, resident_enrollments
    from yibao.policy.vocabulary import identity_name
    from yibao.registry.selectors import resident_detail

    detail = resident_detail(scope=scope, pk=resident.pk)
    campaign = this_year_campaign(resident.county_code)
    year = campaign.benefit_year if campaign else None
    out = {**detail, "campaign": campaign, "year": year, "members": _members(scope, resident, year)}
    enrollments = resident_enrollments(resident=resident) if scope.can("enrollment.view") else []
    out["enrollments"] = enrollments
    out["enrollment"] = next((e for e in enrollments if e.benefit_year == year), None)
    if scope.can("enrollment.view"):
        years: dict[int, dict] = {}
        for e in enrollments:
            years.setdefault(e.benefit_year, {"year": e.benefit_year})["enrollment"] = e
        for a in resident_assessments(resident=resident):
            a.identity_label = identity_name(a.subsidy_identity) if a.subsidy_identity else ""
            years.setdefault(a.benefit_year, {"year": a.benefit_year})["assessment"] = a
        out["enrollment_years"] = [years[y] for y in sorted(years, reverse=True)]
        out["assessment"] = _assessment(resident, campaign)
    payments = _payments(scope, resident) if scope.can("payments.view") else []
    out["payments"] = payments
    out["receipts"] = _distinct([p.receipt for p in payments if p.receipt is not None])
    out["refunds"] = [r for p in payments for r in p.refunds]
    out["subsidy_refunds"] = []
    if scope.can("subsidy_refunds.view"):
        from yibao.collection.models import SubsidyRefund

        out["subsidy_refunds"] = list(
            scope.filter(SubsidyRefund.objects.filter(county_code=resident.county_code, resident=resident))
            .order_by("-benefit_year", "-pk")
        )
    out["remind_marks"], out["on_remind_list"] = [], False
    if scope.can("remind.view"):
        from yibao.progress.models import RemindMark
        from yibao.progress.remind import remind_base

        out["remind_marks"] = list(
            scope.filter(RemindMark.objects.filter(county_code=resident.county_code, resident=resident))
            .order_by("-marked_at", "-pk")
        )
        if year:
            out["on_remind_list"] = remind_base(
                county_code=resident.county_code, benefit_year=year, village_code=resident.village_code
            ).filter(resident=resident).exists()
    payment_ids = [p.payment.pk for p in payments]
    out["mismatches"] = _mismatches(scope, resident, payment_ids) if scope.can("reconcile.view") else []
    out["events"] = _history(
        scope, resident,
        enrollment_ids=list(Enrollment.objects.filter(county_code=resident.county_code, resident=resident)
                            .values_list("pk", flat=True)),
        payment_ids=payment_ids, receipt_ids=[r.pk for r in out["receipts"]],
        refund_ids=[r.pk for r in out["refunds"]], subsidy_ids=[s.pk for s in out["subsidy_refunds"]],
    )
    out["sees"] = {key: scope.can(cap) for key, cap in (
        ("payments", "payments.view"), ("subsidy_refunds", "subsidy_refunds.view"), ("remind", "remind.view"),
        ("mismatches", "reconcile.view"))}
    out["actions"] = person_actions(scope=scope, overview=out)
    return out


def _distinct(items: list) -> list:
    seen: dict[int, object] = {}
    for item in items:
        seen.setdefault(item.pk, item)
    return list(seen.values())


# ---------------------------------------------------------------- actions


@dataclass(frozen=True)
class Action:
    key: str  # collect, top_up, refund, reprint, enrollment, remind
    label: str
    url: str
    note: str = ""


def person_actions(*, scope, overview: dict) -> list[Action]:
    """Links to the existing operation pages, for what the role may do and the person's state allows."""
    from yibao.collection.models import Payment

    resident: Resident = overview["resident"]
    active = resident.status == Resident.Status.ACTIVE
    year = overview["year"]
    payments: list[PaymentRow] = overview["payments"]
    actions = []
    paid_this_year = any(p.payment.benefit_year == year and p.payment.status == Payment.Status.BOOKED for p in payments)
    if scope.can("payments.collect") and active and year and not paid_this_year:
        url = (reverse("collection:counter_household", args=[resident.household_id]) if resident.household_id
               else reverse("collection:counter_resident", args=[resident.pk]))
        actions.append(Action("collect", "收款", url))
    if scope.can("payments.collect"):
        for p in payments:
            if p.top_up_due:
                actions.append(Action("top_up", "补缴", reverse("collection:payment", args=[p.payment.pk]) + "#top-up",
                                      f"{p.payment.benefit_year}年度少缴"))
    if scope.can("refunds.request") and any(_refundable(p) for p in payments):
        actions.append(Action("refund", "退费", reverse("collection:refund_new") + "?" + urlencode({"resident": resident.pk})))
    if scope.can("receipts.print"):
        live = [r for r in overview["receipts"] if r.voided_at is None]
        if live:
            actions.append(Action("reprint", "补打", reverse("collection:receipt_pdf", args=[live[0].pk]),
                                  f"票据 {live[0].receipt_no}"))
    enrollment = overview.get("enrollment")
    if scope.can("enrollment.edit") and enrollment is not None and enrollment.status != "terminated":
        actions.append(Action("enrollment", "暂停/终止/转移", reverse("enrollment:enrollment", args=[enrollment.pk]),
                              f"{enrollment.benefit_year}年度{enrollment.get_status_display()}"))
    if scope.can("remind.mark") and overview.get("on_remind_list"):
        query = urlencode({"village": resident.village_code, "year": year})
        actions.append(Action("remind", "标记", f"{reverse('progress:remind')}?{query}#remind-{resident.pk}", "催缴结果"))
    return actions


def _refundable(row: PaymentRow) -> bool:
    from yibao.collection.models import Payment, Refund

    p = row.payment
    if any(r.status != Refund.Status.REJECTED for r in row.refunds):
        return False
    return p.status == Payment.Status.BOOKED or (
        p.status == Payment.Status.FLAGGED
        and p.flag in (Payment.Flag.OVER, Payment.Flag.DUPLICATE, Payment.Flag.BLOCKED, Payment.Flag.NOT_ACCEPTED,
                       Payment.Flag.UNDER)
    )


