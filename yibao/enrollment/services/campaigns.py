"""Campaigns: a county's benefit year opened under a policy, closed, reopened, and a history year
recorded for enrollments imported from before Yibao."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from yibao.core.clock import business_now
from yibao.core.services import event_record
from yibao.enrollment.models import Campaign
from yibao.enrollment.services.contract import EnrollmentError


class CampaignError(EnrollmentError):
    """A campaign cannot be opened, closed or assessed; the message is Chinese and says why."""


def _check(actor, capability: str, *regions: str):
    """A User actor must hold the capability and reach every region; a string actor (the CLI) may."""
    from yibao.accounts.scope import actor_scope

    scope = actor_scope(actor)
    if scope is not None:
        scope.require(capability)
        for region in regions:
            scope.require_region(region)
    return scope


def _actor_name(actor) -> str:
    from yibao.core.services import actor_fields

    return actor_fields(actor)["actor_name"]


@transaction.atomic
def campaign_open(
    *, county_code: str, policy_id: str, actor, collection_start=None, collection_end=None
) -> Campaign:
    """Open a county's benefit year under a policy file (one campaign per county and year).

    The collection window defaults to the policy's main window; the policy version is recorded.
    """
    from yibao.policy.loader import PolicyNotFound, load_policy, policies_for_region
    from yibao.regions.models import Region

    county_code = (county_code or "").strip()
    if not (county_code.isdigit() and len(county_code) == 6):
        raise CampaignError(f"县级区划代码应为6位数字，收到：{county_code or '空'}")
    _check(actor, "campaign.manage", county_code)
    county = Region.objects.filter(code=county_code).first()
    if county is None or county.level != Region.Level.COUNTY:
        raise CampaignError(f"未找到县级区划 {county_code}，请先导入行政区划。")
    try:
        policy = load_policy((policy_id or "").strip())
    except PolicyNotFound as exc:
        raise CampaignError(str(exc)) from None
    if policy.id not in {p.id for p in policies_for_region(county_code)}:
        where = policy.data.locality
        raise CampaignError(
            f"政策 {policy.id} 适用于{where.province}{where.city or ''}{where.county or ''}"
            f"（区划 {where.region_prefix}），不适用于{county.name}（{county_code}）。"
        )
    year = policy.data.benefit_year
    existing = Campaign.objects.filter(county_code=county_code, benefit_year=year).first()
    if existing is not None and existing.imported:
        raise CampaignError(
            f"{county.name}{year}年度已导入历年参保名单（{timezone.localtime(existing.opened_at):%Y-%m-%d}），"
            f"该年度只作为历史记录，不能再开启征缴。"
        )
    if existing is not None:
        raise CampaignError(
            f"{county.name}{year}年度征缴已于{timezone.localtime(existing.opened_at):%Y-%m-%d}开启"
            f"（政策 {existing.policy_id}），同一县同一年度只能开启一次。"
        )
    window = policy.data.collection.main_window
    start, end = collection_start or window.start, collection_end or window.end
    if start > end:
        raise CampaignError(f"集中征缴期起 {start} 晚于止 {end}。")
    if end > policy.year_end:
        raise CampaignError(f"集中征缴期止 {end} 不能晚于{year}年度末（{policy.year_end}）。")
    if start.year < year - 1:
        raise CampaignError(f"集中征缴期起 {start} 过早：{year}年度最早从{year - 1}年开始征缴。")
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                county_code=county_code, benefit_year=year, policy_id=policy.id, policy_version=policy.version,
                collection_start=start, collection_end=end, opened_at=business_now(),
                opened_by_name=_actor_name(actor),
            )
    except IntegrityError:
        raise CampaignError(f"{county.name}{year}年度征缴已开启（可能刚由他人办理）。") from None
    event_record(
        county_code=county_code, entity="campaign", entity_id=campaign.pk, action="opened", actor=actor,
        after={"benefit_year": year, "policy_id": policy.id, "policy_version": policy.version,
               "collection_start": start.isoformat(), "collection_end": end.isoformat()},
        reason=f"按政策 {policy.id} 开启{year}年度征缴",
    )
    return campaign


@transaction.atomic
def campaign_close(*, campaign: Campaign, actor, reason: str = "") -> Campaign:
    """End a campaign: no new registrations or assessments for the year (existing ones stay)."""
    _check(actor, "campaign.manage", campaign.county_code)
    campaign = Campaign.objects.select_for_update().get(county_code=campaign.county_code, pk=campaign.pk)
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignError(f"{campaign.benefit_year}年度征缴已结束。")
    campaign.status, campaign.closed_at, campaign.closed_by_name = Campaign.Status.CLOSED, business_now(), _actor_name(actor)
    campaign.save(update_fields=["status", "closed_at", "closed_by_name"])
    event_record(
        county_code=campaign.county_code, entity="campaign", entity_id=campaign.pk, action="closed", actor=actor,
        before={"status": Campaign.Status.OPEN}, after={"status": Campaign.Status.CLOSED},
        reason=(reason or "").strip() or f"{campaign.benefit_year}年度征缴结束",
    )
    return campaign


@transaction.atomic
def campaign_reopen(*, campaign: Campaign, actor, reason: str) -> Campaign:
    _check(actor, "campaign.manage", campaign.county_code)
    reason = (reason or "").strip()
    if not reason:
        raise CampaignError("重新开启须填写原因。")
    campaign = Campaign.objects.select_for_update().get(county_code=campaign.county_code, pk=campaign.pk)
    if campaign.imported:
        raise CampaignError(f"{campaign.history_note}，不能重新开启征缴。")
    if campaign.status == Campaign.Status.OPEN:
        raise CampaignError(f"{campaign.benefit_year}年度征缴正在进行，无需重新开启。")
    campaign.status, campaign.closed_at, campaign.closed_by_name = Campaign.Status.OPEN, None, ""
    campaign.save(update_fields=["status", "closed_at", "closed_by_name"])
    event_record(
        county_code=campaign.county_code, entity="campaign", entity_id=campaign.pk, action="reopened", actor=actor,
        before={"status": Campaign.Status.CLOSED}, after={"status": Campaign.Status.OPEN}, reason=reason,
    )
    return campaign


def campaign_history_ensure(*, county_code: str, benefit_year: int, actor, reason: str = "") -> tuple[Campaign, bool]:
    """The closed history campaign of a past year (上年参保名单), created when missing: (campaign, created).

    Raises CampaignError when the year was opened in Yibao: its enrollments are Yibao's own.
    The caller holds the transaction (the roster import).
    """
    import datetime as dt

    existing = Campaign.objects.filter(county_code=county_code, benefit_year=benefit_year).first()
    if existing is not None and not existing.imported:
        raise CampaignError(
            f"{benefit_year}年度已在本系统开启征缴（政策 {existing.policy_id}），参保记录以本系统为准，不能导入历史名单。"
        )
    if existing is not None:
        return existing, False
    name, now = _actor_name(actor), business_now()
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                county_code=county_code, benefit_year=benefit_year, policy_id="", policy_version="",
                collection_start=dt.date(benefit_year, 1, 1), collection_end=dt.date(benefit_year, 12, 31),
                status=Campaign.Status.CLOSED, imported=True, opened_at=now, opened_by_name=name,
                closed_at=now, closed_by_name=name,
            )
    except IntegrityError:
        raise CampaignError(f"{benefit_year}年度刚刚由他人开启征缴或导入，请重新导入。") from None
    event_record(
        county_code=county_code, entity="campaign", entity_id=campaign.pk, action="history_created", actor=actor,
        after={"benefit_year": benefit_year, "imported": True, "status": Campaign.Status.CLOSED},
        reason=reason or f"导入{benefit_year}年度历年参保名单",
    )
    return campaign, True
