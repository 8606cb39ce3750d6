"""Reads of the enrollment area, and the one bridge from the registry to the policy engine."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from yibao.enrollment.models import Campaign, Enrollment
from yibao.policy.engine import Person, Policy
from yibao.policy.facts import (  # noqa: F401
    CHILD_RELATIONS,
    PARENT_RELATIONS,
    household_role,
    one_person,
    registry_facts_asked,
)
from yibao.policy.loader import PolicyNotFound, load_policy
from yibao.registry.models import EmployeeInsuranceRecord, Resident

# CHILD_RELATIONS, PARENT_RELATIONS and household_role live with the one builder of the engine's
# facts (yibao.policy.facts) and are imported here for the callers that read them from here.


def campaign_get(*, county_code: str, benefit_year: int) -> Campaign | None:
    return Campaign.objects.filter(county_code=county_code, benefit_year=benefit_year).first()


def campaign_current(*, county_code: str) -> Campaign | None:
    """The open campaign of a county with the latest benefit year."""
    return (
        Campaign.objects.filter(county_code=county_code, status=Campaign.Status.OPEN).order_by("-benefit_year").first()
    )


class HistoryCampaign(PolicyNotFound):
    """A history campaign (an imported roster) has no policy: nothing is assessed or paid for it."""


def campaign_policy(campaign: Campaign) -> Policy:
    """The campaign's policy; HistoryCampaign (a PolicyNotFound) for an imported past year."""
    if campaign.imported:
        raise HistoryCampaign(campaign.history_note)
    return load_policy(campaign.policy_id)


COVERED_STATUSES = (Enrollment.Status.PAID, Enrollment.Status.SUSPENDED)


def covered_years(*, resident: Resident, benefit_year: int) -> list[int]:
    """The benefit years before `benefit_year` in which the resident was covered in this county."""
    return list(
        Enrollment.objects.filter(
            county_code=resident.county_code, resident=resident, benefit_year__lt=benefit_year,
            status__in=COVERED_STATUSES,
        ).values_list("benefit_year", flat=True)
    )


def gap_years_before(*, resident: Resident, benefit_year: int) -> int:
    """Years of broken coverage right before `benefit_year`, as the engine is told (0 for a first enrollment)."""
    return person_for(resident=resident, on=dt.date(benefit_year, 1, 1), benefit_year=benefit_year).gap_years


def person_for(
    *, resident: Resident, on: dt.date, benefit_year: int, tier: int = 1, policy: Policy | None = None
) -> Person:
    """The engine's view of a resident on `on`, built by the one builder (yibao.policy.facts) that
    the county-wide 核定 and the channel ingest use: identities, group facts, role, first
    enrollment or years of broken coverage.

    Someone with no history here is a first enrollment (首次参保): Yibao cannot see cover elsewhere.
    Given the `policy`, also the registry facts its conditions ask about (facts.registry_facts_asked):
    the 职工医保 months of the year asked, and whether another household member is paid up this year.
    """
    asked = registry_facts_asked(policy) if policy is not None else {"employee_year": None, "household": False}
    employee = None
    if asked["employee_year"] is not None:
        record = EmployeeInsuranceRecord.objects.filter(
            county_code=resident.county_code, id_number=resident.id_number).values_list("months_paid", "months_year").first()
        employee = tuple(record) if record else None
    household_years = None
    if asked["household"]:
        household_years = [] if resident.household_id is None else sorted(set(
            Enrollment.objects.filter(
                county_code=resident.county_code, resident__household_id=resident.household_id,
                benefit_year=benefit_year, status=Enrollment.Status.PAID,
            ).exclude(resident_id=resident.pk).values_list("benefit_year", flat=True)))
    return one_person(
        employee=employee, employee_year=asked["employee_year"], household_years=household_years,
        resident_id=resident.pk, birth_date=resident.birth_date, relation=resident.relation_to_head, on=on,
        benefit_year=benefit_year,
        identities=list(resident.identities.values_list("code", "valid_from", "valid_to")),
        groups=list(resident.group_facts.values_list("group", "event_date", "end_date")),
        covered_years=covered_years(resident=resident, benefit_year=benefit_year),
        tier=tier,
    )


def enrollment_list(*, scope, benefit_year: int | None = None, status: str | None = None):
    rows = scope.filter(Enrollment.objects.all())
    if benefit_year:
        rows = rows.filter(benefit_year=benefit_year)
    if status:
        rows = rows.filter(status=status)
    return rows


def enrollment_get(*, scope, pk: int) -> Enrollment:
    enrollment = enrollment_list(scope=scope).filter(pk=pk).first()
    if enrollment is None:
        raise PermissionDenied("未找到该参保登记，或不在当前账号的管辖范围内。")
    return enrollment


def enrollment_active_elsewhere(*, resident: Resident, benefit_year: int) -> Enrollment | None:
    """A live enrollment of the same ID number in another county for that year (looked up, not joined)."""
    return (
        Enrollment.objects.filter(id_number=resident.id_number, benefit_year=benefit_year)
        .exclude(county_code=resident.county_code)
        .filter(Q(status=Enrollment.Status.PAID) | Q(status=Enrollment.Status.REGISTERED))
        .first()
    )


# ================================================================ campaigns, assessments and enrollments
# for pages and the API: always within a scope


def _in_county(scope, queryset):
    """The scope filter plus county_code (the shard key and the leading column of the indexes)."""
    queryset = scope.filter(queryset)
    if scope.region_code:
        queryset = queryset.filter(county_code=scope.county_code)
    return queryset


def campaign_list(*, scope, county_code: str | None = None):
    campaigns = Campaign.objects.all()
    if scope.above_county:  # a city's or province's counties
        campaigns = campaigns.filter(county_code__startswith=scope.region_code)
    elif scope.region_code:
        campaigns = campaigns.filter(county_code=scope.county_code)
    if county_code:
        campaigns = campaigns.filter(county_code=county_code)
    return campaigns.order_by("county_code", "-benefit_year")


def campaign_in_scope(*, scope, pk: int) -> Campaign:
    from django.http import Http404

    campaign = campaign_list(scope=scope).filter(pk=pk).first()
    if campaign is None:
        raise Http404("未找到该征缴年度，或不在当前账号的管辖范围内。")
    return campaign


def campaign_policies(*, county_code: str) -> list:
    """Policies that may open a campaign in the county, newest year first."""
    from yibao.policy.loader import policies_for_region

    return policies_for_region(county_code) if county_code else []


def campaign_assess_job(*, campaign: Campaign, scope=None):
    """The latest 核定 job of a campaign, or None; with a scope, only a job the scope may see (a county job:
    county accounts only, see core.selectors.job_list)."""
    from yibao.core.models import Job
    from yibao.core.selectors import job_list

    jobs = job_list(scope=scope) if scope is not None else Job.objects.all()
    return (
        jobs.filter(kind="assess_campaign", county_code=campaign.county_code, params__campaign_id=campaign.pk)
        .order_by("-created_at", "-id")
        .first()
    )


def assessment_rows(*, scope, campaign: Campaign):
    from yibao.enrollment.models import Assessment

    return _in_county(scope, Assessment.objects.filter(campaign=campaign, benefit_year=campaign.benefit_year))


def _aggregates() -> dict:
    """Sums of a set of assessments; names don't collide with the model's fields."""
    from django.db.models import Count, Q, Sum

    return {
        "n_residents": Count("id"),
        "n_accepted": Count("id", filter=Q(accepted=True)),
        "n_not_accepted": Count("id", filter=Q(accepted=False)),
        "sum_payable": Sum("payable", filter=Q(accepted=True)),
        "sum_subsidy": Sum("subsidy", filter=Q(accepted=True)),
        "sum_refund_later": Sum("refund_later", filter=Q(accepted=True)),
    }


def _renamed(row: dict) -> dict:
    from decimal import Decimal

    out = {}
    for key, value in row.items():
        if key.startswith("n_"):
            out[key[2:]] = value or 0
        elif key.startswith("sum_"):
            out[key[4:]] = Decimal(value if value is not None else 0).quantize(Decimal("0.01"))
        else:
            out[key] = value
    return out


def assessment_summary(*, scope, campaign: Campaign) -> dict:
    """Totals of a campaign's assessment within the scope."""
    return _renamed(assessment_rows(scope=scope, campaign=campaign).aggregate(**_aggregates()))


def assessment_totals(*, scope, campaign: Campaign, region: str | None = None) -> list[dict]:
    """Totals one level below `region` (default: the scope's own region; the county → townships,
    a township → villages, a village → itself), each with the region's name."""
    from django.core.exceptions import PermissionDenied

    from yibao.accounts.scope import LEVEL_FIELD
    from yibao.regions.selectors import region_labels

    region = (region or "").strip() or scope.region_code or campaign.county_code
    if not (region.isdigit() and len(region) in LEVEL_FIELD) or not region.startswith(campaign.county_code):
        raise PermissionDenied(f"区划代码“{region}”不属于本征缴年度的县。")
    scope.require_region(region)
    child_field = {6: "township_code", 9: "village_code", 12: "village_code"}[len(region)]
    rows = (
        assessment_rows(scope=scope, campaign=campaign)
        .filter(**{LEVEL_FIELD[len(region)]: region})
        .values(child_field)
        .annotate(**_aggregates())
        .order_by(child_field)
    )
    rows = [_renamed(r) for r in rows]
    labels = region_labels(r[child_field] for r in rows)
    return [r | {"code": r[child_field], "name": labels.get(r[child_field], r[child_field])} for r in rows]


def assessment_search(
    *, scope, campaign: Campaign, village: str | None = None, accepted: bool | None = None, q: str | None = None
):
    """A campaign's assessments within the scope, with the resident, for lists."""
    from yibao.registry.selectors import check_region_param, id_query

    rows = assessment_rows(scope=scope, campaign=campaign).select_related("resident")
    village = check_region_param(scope, village)
    if village:
        from yibao.accounts.scope import LEVEL_FIELD

        rows = rows.filter(**{LEVEL_FIELD[len(village)]: village})
    if accepted is not None:
        rows = rows.filter(accepted=accepted)
    q = (q or "").strip()
    if q:
        number = id_query(q)
        rows = rows.filter(resident__id_number=number) if number else rows.filter(resident__name__startswith=q)
    return rows.order_by("village_code", "resident_id")


def assessment_get(*, scope, campaign: Campaign, resident_id: int):
    from django.http import Http404

    row = assessment_rows(scope=scope, campaign=campaign).select_related("resident").filter(resident_id=resident_id).first()
    if row is None:
        raise Http404("该参保人本年度尚未核定，或不在当前账号的管辖范围内。")
    return row


def assessment_explain(*, assessment) -> dict:
    """The scalar engine's answer for an assessment, with its explanation, and whether the stored
    row still agrees with it (it does not when the registry changed since the last 核定)."""
    from yibao.policy.engine import PolicyInputError, quote

    campaign, resident = assessment.campaign, assessment.resident
    try:
        policy = campaign_policy(campaign)
    except PolicyNotFound as exc:
        return {"quote": None, "error": str(exc), "stale": True}
    person = person_for(resident=resident, on=assessment.assessed_on, benefit_year=campaign.benefit_year,
                        tier=assessment.tier, policy=policy)
    try:
        result = quote(policy, person, assessment.assessed_on)
    except PolicyInputError as exc:
        return {"quote": None, "error": str(exc), "stale": False, "person": person}
    stored_blocked = assessment.rule in ("blocked", "terminated")
    same = stored_blocked or (
        result.accepted == assessment.accepted and result.payable == assessment.payable
        and result.subsidy == assessment.subsidy and result.refund_later == assessment.refund_later
        and (result.subsidy_identity or "") == assessment.subsidy_identity
        and result.benefit_start == assessment.benefit_start
    )
    return {
        "quote": result, "error": None, "person": person,
        "stale": not same or policy.version != assessment.policy_version,
    }


def enrollment_search(
    *, scope, benefit_year: int | None = None, status: str | None = None, village: str | None = None,
    q: str | None = None,
):
    """Enrollments within the scope, for the list page and the API."""
    from yibao.registry.selectors import check_region_param, id_query

    rows = _in_county(scope, Enrollment.objects.select_related("resident"))
    if benefit_year:
        rows = rows.filter(benefit_year=benefit_year)
    if status:
        rows = rows.filter(status=status)
    village = check_region_param(scope, village)
    if village:
        from yibao.accounts.scope import LEVEL_FIELD

        rows = rows.filter(**{LEVEL_FIELD[len(village)]: village})
    q = (q or "").strip()
    if q:
        number = id_query(q)
        rows = rows.filter(id_number=number) if number else rows.filter(resident__name__startswith=q)
    return rows.order_by("-benefit_year", "village_code", "resident_id")


def enrollment_in_scope(*, scope, pk: int) -> Enrollment:
    from django.http import Http404

    enrollment = _in_county(scope, Enrollment.objects.select_related("resident", "campaign")).filter(pk=pk).first()
    if enrollment is None:
        raise Http404("未找到该参保登记，或不在当前账号的管辖范围内。")
    return enrollment


EVENT_LABELS = {
    "registered": "参保登记", "paid": "缴费入账", "suspended": "参保暂停", "resumed": "恢复参保",
    "terminated": "参保终止", "transferred": "县内迁移", "tier": "变更档次", "import_update": "参保名单导入更新",
    "undo": "撤销",
}


def enrollment_events(*, enrollment: Enrollment, limit: int = 50) -> list:
    """The enrollment's event rows, newest first, each with a Chinese `label`."""
    from yibao.core.models import Event

    events = list(
        Event.objects.filter(county_code=enrollment.county_code, entity="enrollment", entity_id=str(enrollment.pk))
        .order_by("-at", "-id")[:limit]
    )
    for event in events:
        event.label = EVENT_LABELS.get(event.action, event.action)
    return events


def resident_enrollments(*, resident: Resident) -> list[Enrollment]:
    return list(
        Enrollment.objects.filter(county_code=resident.county_code, resident=resident).order_by("-benefit_year")
    )


def resident_assessments(*, resident: Resident) -> list:
    """A resident's assessments, newest year first, with their campaign (for the resident's page:
    link each to enrollment:assessment with campaign_id and resident id)."""
    from yibao.enrollment.models import Assessment

    return list(
        Assessment.objects.filter(county_code=resident.county_code, resident=resident)
        .select_related("campaign").order_by("-benefit_year")
    )


def enrollment_status_counts(*, scope, campaign: Campaign) -> dict[str, int]:
    """Enrollments of a campaign's year by status, within the scope (the summary of a history campaign)."""
    from django.db.models import Count

    rows = _in_county(scope, Enrollment.objects.filter(campaign=campaign, benefit_year=campaign.benefit_year))
    counts = dict(rows.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in Enrollment.Status.values}
