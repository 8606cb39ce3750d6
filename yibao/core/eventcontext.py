"""What a page of change-log events names (people, payments, receipts, places…), loaded in a few queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from yibao.core.idnumber import mask_id_number


def person_text(name: str, id_number: str = "") -> str:
    """'张三（340321********1234）': always masked."""
    if not name and not id_number:
        return "（已删除的参保人）"
    return f"{name}（{mask_id_number(id_number)}）" if id_number else name


@dataclass
class EventContext:
    """What a page of events names, loaded in a few queries."""

    residents: dict = field(default_factory=dict)
    payments: dict = field(default_factory=dict)
    receipts: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    subsidy: dict = field(default_factory=dict)
    enrollments: dict = field(default_factory=dict)
    households: dict = field(default_factory=dict)
    campaigns: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    identities: dict = field(default_factory=dict)
    employees: dict = field(default_factory=dict)
    regions: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)
    jobs: dict = field(default_factory=dict)
    receipt_names: dict = field(default_factory=dict)
    rule_labels: dict | None = None  # policy rule id → its label, read from the policies once a page (eventtext)

    def region(self, code: str) -> str:
        name = self.regions.get(code)
        return f"{name}（{code}）" if name else str(code)

    def person(self, resident_id) -> str:
        if _int(resident_id) is None:
            return "（未知参保人）"
        r = self.residents.get(_int(resident_id))
        return person_text(r.name, r.id_number) if r else f"参保人（编号 {resident_id}）"

    def payment_person(self, payment_id) -> str:
        if _int(payment_id) is None:
            return "缴费人"
        p = self.payments.get(_int(payment_id))
        if p is None:
            return f"缴费（编号 {payment_id}）的缴费人"
        if p.resident_id and p.resident_id in self.residents:
            return self.person(p.resident_id)
        return person_text("", p.id_number) if p.id_number else "查无此人的缴费人"


def _s(value, default: str = "—") -> str:
    return default if value in (None, "") else str(value)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ids(events, entity: str) -> set[int]:
    return {i for i in (_int(e.entity_id) for e in events if e.entity == entity) if i is not None}


def event_context(events) -> EventContext:
    """Load the people, payments, receipts… that a list of events names."""
    from django.contrib.auth import get_user_model

    from yibao.collection.models import Payment, Receipt, ReceiptLine, Refund, SubsidyRefund
    from yibao.enrollment.models import Campaign, Enrollment
    from yibao.registry.models import EmployeeInsuranceRecord, Household, Identity, Resident
    from yibao.regions.models import Region

    events = list(events)
    ctx = EventContext()
    after_ids = lambda key, entity: {_int((e.after or {}).get(key)) for e in events if e.entity == entity}  # noqa: E731
    ctx.refunds = Refund.objects.in_bulk(_ids(events, "refund"))
    ctx.subsidy = SubsidyRefund.objects.in_bulk(_ids(events, "subsidy_refund"))
    ctx.enrollments = Enrollment.objects.in_bulk(_ids(events, "enrollment"))
    ctx.receipts = Receipt.objects.in_bulk(_ids(events, "receipt"))
    payment_ids = _ids(events, "payment") | {r.payment_id for r in ctx.refunds.values()}
    payment_ids |= {s.payment_id for s in ctx.subsidy.values()} | (after_ids("payment", "subsidy_refund") - {None})
    ctx.payments = Payment.objects.in_bulk(payment_ids)
    lines: dict[int, list] = {}
    for line in ReceiptLine.objects.filter(receipt_id__in=list(ctx.receipts)).values("receipt_id", "name"):
        lines.setdefault(line["receipt_id"], []).append(line["name"])
    ctx.receipt_names = lines
    ctx.identities = Identity.objects.in_bulk(_ids(events, "identity"))
    ctx.employees = EmployeeInsuranceRecord.objects.in_bulk(_ids(events, "employee_record"))
    ctx.households = Household.objects.in_bulk(_ids(events, "household") | (after_ids("household", "resident") - {None}))
    resident_ids = _ids(events, "resident") | _ids(events, "remind")
    resident_ids |= {p.resident_id for p in ctx.payments.values() if p.resident_id}
    resident_ids |= {x.resident_id for x in ctx.enrollments.values()} | {x.resident_id for x in ctx.subsidy.values()}
    resident_ids |= {x.resident_id for x in ctx.refunds.values() if x.resident_id}
    resident_ids |= {x.resident_id for x in ctx.identities.values()}
    resident_ids |= {h.head_id for h in ctx.households.values() if h.head_id}
    resident_ids |= {_int((e.after or {}).get("head")) for e in events if e.entity == "household"} - {None}
    ctx.residents = Resident.objects.in_bulk(resident_ids)
    ctx.campaigns = Campaign.objects.in_bulk(_ids(events, "campaign"))
    user_model = get_user_model()
    user_ids = _ids(events, "user") | {e.actor_id for e in events if e.actor_id}
    ctx.users = user_model.objects.in_bulk(user_ids)
    from yibao.core.models import Job

    ctx.jobs = Job.objects.in_bulk(_ids(events, "job"))
    codes = {e.county_code for e in events if e.county_code}
    for e in events:
        for part in (e.before or {}, e.after or {}):
            if isinstance(part, dict):
                for key in ("village_code", "township_code", "village", "region", "counted_in", "taken_in"):
                    value = part.get(key)
                    if isinstance(value, str) and value.isdigit():
                        codes.add(value)
        if e.entity in ("target", "targets", "region"):
            codes.add(str(e.entity_id).split(":")[0])
    codes |= {r.village_code for r in ctx.residents.values()}
    ctx.regions = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return ctx
