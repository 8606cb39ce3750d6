"""A city's year: one city-wide policy opens the benefit year for every county of the city loaded in the
region tree. Each county still gets its own Campaign (its targets, receipt series and reconciliation stay
per county); the city adds nothing but the one step.

All or nothing: one transaction; a county that fails stops the whole open and nothing is written.
Counties already open for that year (or holding that year's imported history) are reported and skipped;
when no county is left to open, the open is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from yibao.enrollment.models import Campaign
from yibao.enrollment.services import CampaignError, campaign_open
from yibao.enrollment.services.campaigns import _check


@dataclass
class CountyState:
    county_code: str
    name: str
    outcome: str  # "open" (will open / opened), "skip" (already open or history)
    note: str = ""
    campaign_id: int | None = None

    @property
    def outcome_label(self) -> str:
        return {"open": "开启", "opened": "已开启", "skip": "跳过"}.get(self.outcome, self.outcome)

    def as_dict(self) -> dict:
        return {"county_code": self.county_code, "name": self.name, "outcome": self.outcome,
                "outcome_label": self.outcome_label, "note": self.note, "campaign_id": self.campaign_id}


@dataclass
class CityPlan:
    city_code: str
    city_name: str
    policy_id: str
    policy_title: str
    benefit_year: int
    counties: list[CountyState] = field(default_factory=list)

    @property
    def to_open(self) -> list[CountyState]:
        return [c for c in self.counties if c.outcome in ("open", "opened")]

    @property
    def skipped(self) -> list[CountyState]:
        return [c for c in self.counties if c.outcome == "skip"]

    def as_dict(self) -> dict:
        return {"city_code": self.city_code, "city_name": self.city_name, "policy_id": self.policy_id,
                "policy_title": self.policy_title, "benefit_year": self.benefit_year,
                "opened": len([c for c in self.counties if c.outcome == "opened"]),
                "to_open": len(self.to_open), "skipped": len(self.skipped),
                "counties": [c.as_dict() for c in self.counties]}


def city_name_of(city_code: str) -> str:
    from yibao.regions.models import Region

    name = Region.objects.filter(code=city_code).values_list("name", flat=True).first()
    return name or f"区划 {city_code}"


def city_counties(*, city_code: str):
    """The counties of a city loaded in the region tree, by code."""
    from yibao.regions.models import Region

    return list(Region.objects.filter(level=Region.Level.COUNTY, code__startswith=city_code).order_by("code"))


def city_policies(*, city_code: str) -> list:
    """Policies that apply to the whole city (a city's or its province's), newest year first."""
    from yibao.policy.loader import policies_for_region

    return policies_for_region(city_code) if city_code else []


def _clean_city(city_code) -> str:
    city_code = (city_code or "").strip()
    if not (city_code.isdigit() and len(city_code) == 4):
        raise CampaignError(f"市级区划代码应为4位数字，收到：{city_code or '空'}")
    return city_code


def campaign_city_plan(*, city_code: str, policy_id: str, actor=None) -> CityPlan:
    """What opening the city's year would do, county by county (the confirmation step reads it).

    Raises CampaignError (Chinese) when the code, the policy or the region tree forbids it.
    """
    from yibao.policy.loader import PolicyNotFound, load_policy

    city_code = _clean_city(city_code)
    _check(actor, "campaign.manage", city_code)
    city_name = city_name_of(city_code)
    try:
        policy = load_policy((policy_id or "").strip())
    except PolicyNotFound as exc:
        raise CampaignError(str(exc)) from None
    if policy.id not in {p.id for p in city_policies(city_code=city_code)}:
        where = policy.data.locality
        raise CampaignError(
            f"政策 {policy.id} 适用于{where.province}{where.city or ''}{where.county or ''}（区划 {where.region_prefix}），"
            f"不是{city_name}（{city_code}）全市适用的政策，不能为全市开启征缴。"
        )
    counties = city_counties(city_code=city_code)
    if not counties:
        raise CampaignError(f"{city_name}（{city_code}）下还没有导入任何县（市、区），请先导入行政区划。")
    year = policy.data.benefit_year
    existing = {c.county_code: c for c in Campaign.objects.filter(county_code__in=[c.code for c in counties],
                                                                    benefit_year=year)}
    plan = CityPlan(city_code=city_code, city_name=city_name, policy_id=policy.id, policy_title=policy.data.title,
                    benefit_year=year)
    for county in counties:
        found = existing.get(county.code)
        if found is None:
            plan.counties.append(CountyState(county.code, county.name, "open", f"按政策 {policy.id} 开启{year}年度征缴"))
        elif found.imported:
            plan.counties.append(CountyState(county.code, county.name, "skip",
                                             f"{year}年度已导入历年参保名单，只作历史记录，跳过", found.pk))
        else:
            plan.counties.append(CountyState(
                county.code, county.name, "skip",
                f"{year}年度征缴已于{timezone.localtime(found.opened_at):%Y-%m-%d}开启（政策 {found.policy_id}），跳过",
                found.pk,
            ))
    return plan


@transaction.atomic
def campaign_open_city(*, city_code: str, policy_id: str, actor, collection_start=None, collection_end=None) -> CityPlan:
    """Open the policy's benefit year for every county of the city that has not opened it; all or nothing.

    Each county's Campaign and its `opened` event row are written by campaign_open; one more event row
    (county_code = the city's code) records the city's step. Raises CampaignError naming the county.
    """
    plan = campaign_city_plan(city_code=city_code, policy_id=policy_id, actor=actor)
    if not plan.to_open:
        raise CampaignError(
            f"{plan.city_name}各县（市、区）{plan.benefit_year}年度征缴均已开启，没有需要开启的县："
            + "；".join(f"{c.name}（{c.county_code}）{c.note}" for c in plan.skipped)
        )
    for county in plan.to_open:
        try:
            campaign = campaign_open(county_code=county.county_code, policy_id=plan.policy_id, actor=actor,
                                     collection_start=collection_start, collection_end=collection_end)
        except CampaignError as exc:
            raise CampaignError(f"{county.name}（{county.county_code}）：{exc} 全市均未开启。") from None
        county.outcome, county.campaign_id, county.note = "opened", campaign.pk, (
            f"已开启，集中征缴期 {campaign.collection_start} 至 {campaign.collection_end}")
    from yibao.core.services import event_record

    event_record(
        county_code=plan.city_code, entity="campaign_city", entity_id=f"{plan.city_code}:{plan.benefit_year}",
        action="opened", actor=actor,
        after={"policy_id": plan.policy_id, "benefit_year": plan.benefit_year,
               "opened": [c.county_code for c in plan.to_open], "skipped": [c.county_code for c in plan.skipped]},
        reason=f"按政策 {plan.policy_id} 为{plan.city_name}开启{plan.benefit_year}年度征缴",
    )
    return plan
