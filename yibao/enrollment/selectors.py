"""Reads of the enrollment area, and the one bridge from the registry to the policy engine."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from yibao.enrollment.models import Campaign, Enrollment
from yibao.policy.engine import Person, Policy
from yibao.policy.loader import load_policy
from yibao.registry.models import Resident

# 与户主关系: who counts as a child of the household (独女户、独男户 "女儿/儿子至18周岁").
CHILD_RELATIONS = frozenset({"子", "女", "儿子", "女儿", "长子", "次子", "长女", "次女", "独子", "独女", "养子", "养女", "继子", "继女", "子女"})
PARENT_RELATIONS = frozenset({"户主", "本人", "配偶", "妻", "夫", "妻子", "丈夫"})


def household_role(relation: str | None) -> str | None:
    relation = (relation or "").strip()
    if relation in CHILD_RELATIONS:
        return "child"
    if relation in PARENT_RELATIONS:
        return "parent"
    return None


def campaign_get(*, county_code: str, benefit_year: int) -> Campaign | None:
    return Campaign.objects.filter(county_code=county_code, benefit_year=benefit_year).first()


def campaign_current(*, county_code: str) -> Campaign | None:
    """The open campaign of a county with the latest benefit year."""
    return (
        Campaign.objects.filter(county_code=county_code, status=Campaign.Status.OPEN).order_by("-benefit_year").first()
    )


def campaign_policy(campaign: Campaign) -> Policy:
    return load_policy(campaign.policy_id)


def gap_years_before(*, resident: Resident, benefit_year: int) -> int:
    """Years of broken coverage right before `benefit_year`, from this county's enrollment history.

    Someone with no history here counts as 0: Yibao cannot see coverage elsewhere.
    """
    last = (
        Enrollment.objects.filter(
            county_code=resident.county_code, resident=resident, benefit_year__lt=benefit_year,
            status__in=[Enrollment.Status.PAID, Enrollment.Status.SUSPENDED],
        )
        .order_by("-benefit_year")
        .values_list("benefit_year", flat=True)
        .first()
    )
    return 0 if last is None else max(0, benefit_year - 1 - last)


def person_for(*, resident: Resident, on: dt.date, benefit_year: int, tier: int = 1) -> Person:
    """The engine's view of a resident: identities valid on `on`, group facts, role, gap years."""
    identities = frozenset(
        code
        for code, valid_from, valid_to in resident.identities.values_list("code", "valid_from", "valid_to")
        if (valid_from is None or valid_from <= on) and (valid_to is None or on <= valid_to)
    )
    facts = list(resident.group_facts.values_list("group", "event_date"))
    event_dates = [d for _, d in facts if d is not None and d <= on]
    return Person(
        birth_date=resident.birth_date,
        identities=identities,
        groups=frozenset(group for group, _ in facts),
        event_date=max(event_dates) if event_dates else None,
        tier=tier,
        gap_years=gap_years_before(resident=resident, benefit_year=benefit_year),
        household_role=household_role(resident.relation_to_head),
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
