"""Reads of 催缴: last year's enrollees not yet renewed, what each owes as the counter would answer,
their marks, and the summary by unit (definitions as in selectors.py and docs/progress.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404

from yibao.core.clock import business_today
from yibao.enrollment.models import Assessment, Campaign, Enrollment
from yibao.progress.models import RemindMark
from yibao.progress.selectors import (
    DONE_STATUSES,
    campaign_for,
    covered_q,
    policy_for,
    progress_overview,
)
from yibao.registry.models import Household, Identity, Resident


@dataclass
class RemindRow:
    resident: Resident
    shown_id: str
    household_number: str
    head_name: str
    last_status: str
    this_status: str
    owed: Decimal | None
    owed_basis: str  # 核定 / 测算 / 不予受理
    owed_note: str
    mark: RemindMark | None

    @property
    def closed(self) -> bool:
        return (self.mark is not None and self.mark.closes) or self.resident.status != Resident.Status.ACTIVE

    @property
    def refused(self) -> bool:
        """Still to chase, and the newest mark says 拒缴."""
        return not self.closed and self.mark is not None and self.mark.outcome == RemindMark.Outcome.REFUSED


def remind_base(*, county_code: str, benefit_year: int, village_code: str | None = None):
    """Last year's enrollees (正常参保 or 暂停) not in 正常参保 this year and without a booked payment."""
    from yibao.collection.models import Payment

    rows = Enrollment.objects.filter(covered_q(), county_code=county_code, benefit_year=benefit_year - 1)
    if village_code:
        rows = rows.filter(resident__village_code=village_code)
    done = Enrollment.objects.filter(
        county_code=county_code, benefit_year=benefit_year, resident_id=OuterRef("resident_id"), status__in=DONE_STATUSES
    )
    booked = Payment.objects.filter(
        county_code=county_code, benefit_year=benefit_year, resident_id=OuterRef("resident_id"), status=Payment.Status.BOOKED
    )
    return rows.exclude(Exists(done)).exclude(Exists(booked))


def _owed_quotes(residents: list[Resident], county_code: str, benefit_year: int, on: dt.date) -> dict[int, tuple]:
    """(amount, basis, note) per resident, as the counter would answer on `on`: this year's 核定
    up to the end of the collection window, else a live quote with the facts the counter and 核定
    use (yibao.policy.facts). After the window the 核定 no longer holds (the late rules decide), and
    a closed year owes only what the booking gate still lets in, and then what the late rules accept
    (the counter registers such a person then, as it does everyone the quote accepts)."""
    from yibao.collection.selectors import booking_refusal
    from yibao.policy.engine import PolicyInputError, quote

    campaign = campaign_for(county_code, benefit_year)
    policy = policy_for(county_code, benefit_year, campaign)
    late = policy is not None and on > policy.data.collection.main_window.end
    out: dict[int, tuple] = {}
    if campaign is not None and not campaign.imported and campaign.status == Campaign.Status.CLOSED:
        refusal = booking_refusal(campaign=campaign, paid_on=on)
        if refusal:
            for r in residents:
                out[r.pk] = (None, "不予受理", refusal)
    if campaign is not None and not late:
        for resident_id, payable, accepted, identity in Assessment.objects.filter(
            campaign=campaign, resident_id__in=[r.pk for r in residents if r.pk not in out]
        ).values_list("resident_id", "payable", "accepted", "subsidy_identity"):
            out[resident_id] = (payable, "核定", identity) if accepted else (None, "不予受理", "核定为不予受理")
    missing = [r for r in residents if r.pk not in out]
    if not missing:
        return out
    if policy is None:
        note = f"{campaign.history_note}，无法测算" if campaign is not None and campaign.imported else "尚无缴费政策，无法测算"
        for r in missing:
            out[r.pk] = (None, "", note)
        return out
    window = policy.data.collection.main_window
    paid_on = max(on, window.start)
    import polars as pl

    from yibao.enrollment.selectors import COVERED_STATUSES
    from yibao.policy.facts import (
        COVERED_SCHEMA,
        GROUP_SCHEMA,
        IDENTITY_SCHEMA,
        KEY_SCHEMA,
        person_facts,
        person_from_row,
    )
    from yibao.registry.models import GroupFact

    ids = [r.pk for r in missing]
    keys = pl.DataFrame(
        [(r.pk, r.pk, paid_on, benefit_year, r.relation_to_head, r.birth_date) for r in missing], schema=KEY_SCHEMA,
        orient="row")
    frames = [
        pl.DataFrame(list(model.objects.filter(county_code=county_code, resident_id__in=ids).values_list(*columns)), schema=schema, orient="row")
        for model, columns, schema in (
            (Identity, ("resident_id", "code", "valid_from", "valid_to"), IDENTITY_SCHEMA),
            (GroupFact, ("resident_id", "group", "event_date", "end_date"), GROUP_SCHEMA),
        )
    ]
    covered = pl.DataFrame(list(Enrollment.objects.filter(
        county_code=county_code, resident_id__in=ids, benefit_year__lt=benefit_year, status__in=COVERED_STATUSES,
    ).values_list("resident_id", "benefit_year")), schema=COVERED_SCHEMA, orient="row")
    from yibao.enrollment.assessment import employee_months_rows, household_enrolled_rows
    from yibao.policy.facts import registry_facts_asked

    asked = registry_facts_asked(policy)
    employees = (employee_months_rows(county_code=county_code, resident_ids=ids)
                 if asked["employee_year"] is not None else None)
    household = (household_enrolled_rows(county_code=county_code, benefit_year=benefit_year, resident_ids=ids)
                 if asked["household"] else None)
    facts = {row["_key"]: row for row in person_facts(
        keys, *frames, covered, employees=employees, employee_year=asked["employee_year"], household=household,
    ).iter_rows(named=True)}
    for r in missing:
        person = person_from_row(facts[r.pk] | {"birth_date": r.birth_date})
        try:
            result = quote(policy, person, paid_on)
        except PolicyInputError as exc:
            out[r.pk] = (None, "", str(exc))
            continue
        if result.accepted:
            out[r.pk] = (result.payable, "测算", result.subsidy_identity or "")
        else:
            out[r.pk] = (None, "不予受理", result.reason or "")
    return out


def remind_rows(*, scope, village_code: str, benefit_year: int, state: str = "open", on: dt.date | None = None) -> list[RemindRow]:
    """The 催缴 list of a village: who paid last year and not yet this year, with household, phone and amount owed.

    state: "open" (still to chase), "refused" (those of "open" whose newest mark is 拒缴),
    "closed" (moved away, 职工医保, died, or no longer 正常 on the register), "all".
    """
    if not (village_code and len(village_code) == 12 and village_code.isdigit()):
        raise Http404("催缴名单按村（社区）查看：请指定12位村级区划代码。")
    scope.require_region(village_code)
    county_code = village_code[:6]
    on = on or business_today()
    last = list(
        remind_base(county_code=county_code, benefit_year=benefit_year, village_code=village_code).select_related("resident")
    )
    # households and their heads read by county too (a join on id alone may scan every county's households)
    households = {h.pk: h for h in Household.objects.filter(
        county_code=county_code, pk__in={e.resident.household_id for e in last if e.resident.household_id})}
    heads = dict(Resident.objects.filter(
        county_code=county_code, pk__in={h.head_id for h in households.values() if h.head_id}).values_list("pk", "name"))
    last.sort(key=lambda e: (  # households together, heads first; people without a household last
        e.resident.household_id not in households, households[e.resident.household_id].number
        if e.resident.household_id in households else "",
        e.resident.household_id or 0, e.resident.relation_to_head != "户主", e.resident_id,
    ))
    residents = [e.resident for e in last]
    ids = [r.pk for r in residents]
    this_year = dict(
        Enrollment.objects.filter(county_code=county_code, benefit_year=benefit_year, resident_id__in=ids)
        .values_list("resident_id", "status")
    )
    marks: dict[int, RemindMark] = {}
    for mark in RemindMark.objects.filter(county_code=county_code, benefit_year=benefit_year, resident_id__in=ids).order_by(
        "marked_at", "pk"
    ):
        marks[mark.resident_id] = mark  # the newest wins
    owed = _owed_quotes(residents, county_code, benefit_year, on)
    status_names = dict(Enrollment.Status.choices)
    rows = []
    for enrollment in last:
        r = enrollment.resident
        household = households.get(r.household_id)
        amount, basis, note = owed.get(r.pk, (None, "", ""))
        row = RemindRow(
            resident=r, shown_id=scope.show_id(r.id_number), household_number=household.number if household else "",
            head_name=heads.get(household.head_id, "") if household else "",
            last_status=status_names.get(enrollment.status, enrollment.status),
            this_status=status_names.get(this_year.get(r.pk), "未登记") if r.pk in this_year else "未登记",
            owed=amount, owed_basis=basis, owed_note=note, mark=marks.get(r.pk),
        )
        if state == "refused":
            if row.refused:
                rows.append(row)
        elif state == "all" or (state == "closed") == row.closed:
            rows.append(row)
    return rows


def remind_resident(*, scope, resident_id: int) -> Resident:
    """A resident on some village's 催缴 list inside the scope (the target of a mark)."""
    resident = scope.filter(Resident.objects.all()).filter(pk=resident_id).first()
    if resident is None:
        raise PermissionDenied("未找到该居民，或不在当前账号的管辖范围内。")
    return resident


def renewal_summary(*, scope, region_code: str | None = None, benefit_year: int | None = None,
                    on: dt.date | None = None) -> dict:
    """The 12-10 comparison: for each child unit, last year's enrollees, how many renewed, and who is left.
    Verified people (迁出、职工医保、死亡) count where the person lives now, as the rollup counts last year's cover;
    拒缴 people are still to chase ("refused" is a part of "open")."""
    overview = progress_overview(scope=scope, region_code=region_code, benefit_year=benefit_year, on=on)
    unit = overview["unit"]
    rows = [{"unit": u, "closed": u.remind_closed, "open": u.remind_open, "refused": u.remind_refused}
            for u in (overview["children"] or [unit])]
    return {**overview, "rows": rows, "total": {"unit": unit, "closed": unit.remind_closed, "open": unit.remind_open,
                                                "refused": unit.remind_refused}}
