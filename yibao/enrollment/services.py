"""Writes of the enrollment area. First the contract that payments rely on: finding or registering
the enrollment a payment books to, marking it paid, and suspending or terminating it with a
refund. Then campaigns (open, close), the county-wide assessment (核定) and the rest of the
lifecycle (suspend, resume, terminate, transfer, tier).

Every change of status writes an event row. No one is enrolled twice for a year: within a county
the (county, resident, year) constraint, across counties the EnrollmentClaim constraint.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from yibao.core.clock import business_now, business_today
from yibao.core.services import event_record, job_outcome_record
from yibao.enrollment.models import Campaign, Enrollment, EnrollmentClaim
from yibao.enrollment.selectors import enrollment_active_elsewhere
from yibao.regions.selectors import county_label
from yibao.registry.models import Resident
from yibao.registry.selectors import resident_enrollment_block


class EnrollmentError(ValueError):
    """The enrollment cannot be made or changed; the message is Chinese and says why."""


def _snapshot(enrollment: Enrollment) -> dict:
    return {
        "status": enrollment.status,
        "benefit_start": enrollment.benefit_start.isoformat() if enrollment.benefit_start else None,
        "benefit_end": enrollment.benefit_end.isoformat() if enrollment.benefit_end else None,
        "village_code": enrollment.village_code,
    }


def _check_tier(campaign: Campaign, tier: int) -> None:
    from yibao.policy.loader import PolicyNotFound, load_policy

    try:
        tiers = load_policy(campaign.policy_id).data.contribution.tiers()
    except PolicyNotFound:
        return
    if tier not in tiers:
        allowed = "、".join(f"{t}档" for t in sorted(tiers))
        raise EnrollmentError(f"政策 {campaign.policy_id} 只设{allowed}缴费标准，没有{tier}档。")


def _previous_place_still_active(resident: Resident, benefit_year: int) -> Enrollment | None:
    """Last year's enrollment in another county that was not suspended (参保暂停 comes first)."""
    return (
        Enrollment.objects.filter(id_number=resident.id_number, benefit_year=benefit_year - 1)
        .exclude(county_code=resident.county_code)
        .filter(status__in=[Enrollment.Status.PAID, Enrollment.Status.REGISTERED])
        .first()
    )


@transaction.atomic
def enrollment_register(*, resident: Resident, campaign: Campaign, actor, tier: int = 1, on=None) -> Enrollment:
    """参保登记 (first registration) or 续保 (renewal) for the campaign's year; returns the existing
    enrollment when there is one. Raises EnrollmentError when the resident may not enroll.

    `on` is the day of the payment the registration is for (default: the business day). A closed
    year registers only whom its policy accepts on that day under a late rule (新生儿 and the like),
    as the booking gate and the quote decide (collection.selectors.closed_year_registration_refusal).
    """
    if resident.county_code != campaign.county_code:
        raise EnrollmentError(f"{resident.name} 不属于{county_label(campaign.county_code)}，不能在本县参保。")
    existing = (
        Enrollment.objects.select_for_update()
        .filter(county_code=campaign.county_code, resident=resident, benefit_year=campaign.benefit_year)
        .first()
    )
    if existing is not None:
        if existing.status == Enrollment.Status.TERMINATED:
            raise EnrollmentError(f"{resident.name} 的{campaign.benefit_year}年度参保关系已终止（{existing.status_reason}），不能再缴费。")
        return existing
    if campaign.imported:
        raise EnrollmentError(f"{campaign.history_note}，不能办理参保登记。")
    _check_tier(campaign, tier)
    if campaign.status == Campaign.Status.CLOSED:
        from yibao.collection.selectors import closed_year_registration_refusal

        refusal = closed_year_registration_refusal(resident=resident, campaign=campaign, on=on or business_today(),
                                                   tier=tier)
        if refusal:
            raise EnrollmentError(refusal.rstrip("。") + "。")
    if resident.status != Resident.Status.ACTIVE:
        raise EnrollmentError(f"{resident.name} 的户籍状态为“{resident.get_status_display()}”，不能参保。")
    block = resident_enrollment_block(resident)
    if block:
        raise EnrollmentError(f"{resident.name} 暂不能参保：{block}")
    elsewhere = enrollment_active_elsewhere(resident=resident, benefit_year=campaign.benefit_year)
    if elsewhere is not None:
        raise EnrollmentError(
            f"{resident.name} 已在{county_label(elsewhere.county_code)}登记{campaign.benefit_year}年度居民医保，不得重复参保。"
        )
    previous = _previous_place_still_active(resident, campaign.benefit_year)
    if previous is not None:
        raise EnrollmentError(
            f"{resident.name} 上年在{county_label(previous.county_code)}参保，须先在原参保地办理“参保暂停”，再在本地登记。"
        )
    renewal = Enrollment.objects.filter(
        county_code=campaign.county_code, resident=resident, benefit_year=campaign.benefit_year - 1,
        status__in=[Enrollment.Status.PAID, Enrollment.Status.SUSPENDED],
    ).exists()
    enrollment = Enrollment(
        county_code=resident.county_code,
        township_code=resident.township_code,
        village_code=resident.village_code,
        campaign=campaign,
        benefit_year=campaign.benefit_year,
        resident=resident,
        id_number=resident.id_number,
        kind=Enrollment.Kind.RENEWAL if renewal else Enrollment.Kind.FIRST,
        tier=tier,
        registered_at=business_now(),
    )
    try:
        with transaction.atomic():
            enrollment.save()
            EnrollmentClaim.objects.create(
                id_number=resident.id_number, benefit_year=campaign.benefit_year,
                county_code=campaign.county_code, enrollment_id=enrollment.pk,
            )
    except IntegrityError:
        # someone registered the same person a moment ago: here, that is the enrollment to use;
        # in another county (the claim), it is a second enrollment and is refused
        concurrent = Enrollment.objects.filter(
            county_code=campaign.county_code, resident=resident, benefit_year=campaign.benefit_year
        ).first()
        if concurrent is not None and concurrent.status != Enrollment.Status.TERMINATED:
            return concurrent
        raise EnrollmentError(f"{resident.name} 的{campaign.benefit_year}年度参保登记已存在（可能刚由他人办理），请刷新后重试。") from None
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk, action="registered",
        actor=actor, after=_snapshot(enrollment) | {"kind": enrollment.kind},
        reason=enrollment.get_kind_display(),
    )
    return enrollment


@transaction.atomic
def enrollment_mark_paid(*, enrollment: Enrollment, benefit_start, benefit_end, actor, reason: str = "缴费入账") -> Enrollment:
    enrollment = Enrollment.objects.select_for_update().get(county_code=enrollment.county_code, pk=enrollment.pk)
    if enrollment.status not in (Enrollment.Status.REGISTERED, Enrollment.Status.PAID):
        raise EnrollmentError(f"参保状态为“{enrollment.get_status_display()}”，不能入账。")
    before = _snapshot(enrollment)
    enrollment.status = Enrollment.Status.PAID
    enrollment.status_reason = reason
    enrollment.benefit_start, enrollment.benefit_end = benefit_start, benefit_end
    enrollment.updated_at = timezone.now()
    enrollment.save(update_fields=["status", "status_reason", "benefit_start", "benefit_end", "updated_at"])
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk, action="paid",
        actor=actor, before=before, after=_snapshot(enrollment), reason=reason,
    )
    return enrollment


@transaction.atomic
def enrollment_end(
    *, enrollment: Enrollment, action: str, reason: str, actor, release_claim: bool, benefit_end=None
) -> Enrollment:
    """参保暂停 (action 'suspend') or 参保终止 ('terminate').

    A suspension keeps this year's benefits (to 31 December, as the notices say) and lets the
    person register elsewhere next year; `release_claim` also frees this year's claim, when the
    contribution is refunded before the benefit period begins. `benefit_end` (a termination on
    death, say) ends the benefit period early when it falls inside it.
    """
    enrollment = Enrollment.objects.select_for_update().get(county_code=enrollment.county_code, pk=enrollment.pk)
    if enrollment.status == Enrollment.Status.TERMINATED:
        raise EnrollmentError("参保关系已终止。")
    if action not in ("suspend", "terminate"):
        raise EnrollmentError(f"未知的处理方式：{action}")
    before = _snapshot(enrollment)
    enrollment.status = Enrollment.Status.SUSPENDED if action == "suspend" else Enrollment.Status.TERMINATED
    enrollment.status_reason = reason
    enrollment.updated_at = timezone.now()
    if release_claim:
        enrollment.benefit_start = enrollment.benefit_end = None
    elif benefit_end is not None and enrollment.benefit_start and enrollment.benefit_end:
        if enrollment.benefit_start <= benefit_end < enrollment.benefit_end:
            enrollment.benefit_end = benefit_end
    enrollment.save(update_fields=["status", "status_reason", "benefit_start", "benefit_end", "updated_at"])
    if release_claim:
        EnrollmentClaim.objects.filter(enrollment_id=enrollment.pk, released_at__isnull=True).update(released_at=timezone.now())
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk,
        action="suspended" if action == "suspend" else "terminated",
        actor=actor, before=before, after=_snapshot(enrollment) | {"claim_released": release_claim}, reason=reason,
    )
    return enrollment


# ================================================================ beyond the contract: campaigns,
# assessment (核定) and the rest of the enrollment lifecycle


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


# ---------------------------------------------------------------- 核定


ASSESSMENT_COLUMNS = (
    "county_code", "township_code", "village_code", "campaign_id", "benefit_year", "resident_id", "assessed_on",
    "accepted", "standard", "subsidy", "payable", "refund_later", "subsidy_identity", "rule", "policy_version",
    "input_hash", "assessed_at", "reason", "tier", "benefit_start", "benefit_end",
)


def _assessment_rows(campaign: Campaign, frame, on, policy_version: str):
    """The assessment table's columns for every row of an assessed frame."""
    import polars as pl
    from django.db import connection

    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    stamp = stamp if isinstance(stamp, str) else now.isoformat()
    return frame.select(
        pl.lit(campaign.county_code).alias("county_code"),
        "township_code",
        "village_code",
        pl.lit(campaign.pk, dtype=pl.Int64).alias("campaign_id"),
        pl.lit(campaign.benefit_year, dtype=pl.Int64).alias("benefit_year"),
        "resident_id",
        pl.lit(on, dtype=pl.Date).alias("assessed_on"),
        "accepted",
        "standard",
        "subsidy",
        "payable",
        "refund_later",
        pl.col("subsidy_identity").fill_null(""),
        pl.col("rule").fill_null(""),
        pl.lit(policy_version).alias("policy_version"),
        "input_hash",
        pl.lit(stamp).alias("assessed_at"),
        pl.col("reason").fill_null("").str.slice(0, 300),
        "tier",
        "benefit_start",
        "benefit_end",
    )


def _campaign_policy_checked(campaign: Campaign):
    from yibao.enrollment.selectors import campaign_policy
    from yibao.policy.loader import PolicyNotFound

    try:
        policy = campaign_policy(campaign)
    except PolicyNotFound as exc:
        raise CampaignError(str(exc)) from None
    if policy.data.benefit_year != campaign.benefit_year:
        raise CampaignError(f"政策 {policy.id} 的待遇年度为{policy.data.benefit_year}，与征缴年度{campaign.benefit_year}不一致。")
    if not campaign.county_code.startswith(policy.data.locality.region_prefix):
        raise CampaignError(f"政策 {policy.id} 不适用于 {campaign.county_code}。")
    return policy


def assessment_date(*, campaign: Campaign, today=None):
    """The default 核定日期 of a campaign (see assessment.default_assessment_date)."""
    from yibao.enrollment.assessment import default_assessment_date

    policy = _campaign_policy_checked(campaign)
    return default_assessment_date(
        policy=policy, start=campaign.collection_start, end=campaign.collection_end,
        today=today or business_today(),
    )


def _assess_prepare(*, campaign: Campaign, on, resident_ids=None, progress=None):
    """Read the registry and quote (no write lock needed): (policy, answers)."""
    from yibao.core.progress import NullProgress
    from yibao.enrollment.assessment import assess_frame, persons_frame
    from yibao.policy.facts import registry_facts_asked

    progress = progress or NullProgress()
    policy = _campaign_policy_checked(campaign)
    progress.step("读取户籍、资助身份与参保记录")
    persons = persons_frame(
        county_code=campaign.county_code, benefit_year=campaign.benefit_year, on=on, resident_ids=resident_ids,
        **registry_facts_asked(policy),
    )
    progress.step(f"测算 {persons.height} 人的应缴金额")
    return policy, assess_frame(policy, persons, on)


def _assess_write(*, campaign: Campaign, on, policy, answers, resident_ids=None, progress=None) -> dict:
    """Compare digests with the stored rows and write what changed (inside the caller's transaction)."""
    import polars as pl

    from yibao.core.progress import NullProgress
    from yibao.enrollment import bulkio
    from yibao.enrollment.assessment import fetch_frame
    from yibao.enrollment.models import Assessment

    progress = progress or NullProgress()
    table = Assessment._meta.db_table
    id_filter, id_params = "", []
    if resident_ids is not None:
        id_filter = f" AND resident_id IN ({', '.join(['%s'] * len(resident_ids))})" if resident_ids else " AND 1 = 0"
        id_params = list(resident_ids)
    existing = fetch_frame(
        f"SELECT id, resident_id, input_hash FROM {table} WHERE campaign_id = %s{id_filter}",
        [campaign.pk, *id_params],
        {"id": pl.Int64, "resident_id": pl.Int64, "old_hash": pl.String},
    )
    joined = answers.join(existing, on="resident_id", how="left")
    new_rows = joined.filter(pl.col("id").is_null())
    changed = joined.filter(pl.col("id").is_not_null() & (pl.col("old_hash") != pl.col("input_hash")))
    removed = existing.join(answers.select("resident_id"), on="resident_id", how="anti")
    unchanged = answers.height - new_rows.height - changed.height

    to_write = new_rows.height + changed.height
    progress.start(max(to_write, 1), f"写入核定结果：新增 {new_rows.height}，更新 {changed.height}")
    bulkio.insert_frame(table, _assessment_rows(campaign, new_rows, on, policy.version), progress=progress)
    update = _assessment_rows(campaign, changed, on, policy.version).with_columns(changed.get_column("id"))
    bulkio.update_frame(table, update, progress=progress)
    bulkio.delete_ids(table, removed.get_column("id").to_list())
    if to_write == 0:
        progress.advance(1)

    accepted = answers.filter(pl.col("accepted"))
    return {
        "residents": answers.height,
        "assessed": to_write,
        "unchanged": unchanged,
        "removed": removed.height,
        "not_accepted": answers.height - accepted.height,
        "payable_total": accepted.get_column("payable").sum() if accepted.height else 0,
        "refund_later_total": accepted.get_column("refund_later").sum() if accepted.height else 0,
        "policy_version": policy.version,
        "assessed_on": on,
    }


def _assess(*, campaign: Campaign, on, resident_ids=None, progress=None) -> dict:
    policy, answers = _assess_prepare(campaign=campaign, on=on, resident_ids=resident_ids, progress=progress)
    return _assess_write(campaign=campaign, on=on, policy=policy, answers=answers, resident_ids=resident_ids,
                         progress=progress)


def assessment_run(*, campaign: Campaign, actor, on=None, progress=None, job=None) -> dict:
    """核定 of a whole county: every ACTIVE resident, as of `on` (default: assessment_date).

    Only rows whose digest changed (inputs, place, policy version or answer) are written; new
    residents are added and residents no longer active are dropped. Returns the counts:
    residents, assessed, unchanged, removed, not_accepted, payable_total, refund_later_total,
    policy_version, assessed_on, seconds.

    The registry is read and quoted before the write transaction (so SQLite's write lock is held
    only while rows are written); the stored digests are read under the campaign's lock, so two
    runs at once write each change once.
    """
    import time
    from decimal import Decimal

    began = time.monotonic()
    _check(actor, "campaign.manage", campaign.county_code)
    if campaign.imported:
        raise CampaignError(f"{campaign.history_note}，不能核定。")
    if campaign.status == Campaign.Status.CLOSED:
        raise CampaignError(f"{campaign.benefit_year}年度征缴已结束，不能再核定。")
    on = on or assessment_date(campaign=campaign)
    policy, answers = _assess_prepare(campaign=campaign, on=on, progress=progress)
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(county_code=campaign.county_code, pk=campaign.pk)
        if campaign.status == Campaign.Status.CLOSED:
            raise CampaignError(f"{campaign.benefit_year}年度征缴已结束，不能再核定。")
        counts = _assess_write(campaign=campaign, on=on, policy=policy, answers=answers, progress=progress)
        counts["payable_total"] = Decimal(counts["payable_total"]).quantize(Decimal("0.01"))
        counts["refund_later_total"] = Decimal(counts["refund_later_total"]).quantize(Decimal("0.01"))
        counts["seconds"] = round(time.monotonic() - began, 3)
        campaign.last_assessed_at, campaign.last_assessed_on = business_now(), on
        campaign.save(update_fields=["last_assessed_at", "last_assessed_on"])
        event_record(
            county_code=campaign.county_code, entity="campaign", entity_id=campaign.pk, action="assessed", actor=actor,
            after={k: (str(v) if isinstance(v, Decimal) else v.isoformat() if hasattr(v, "isoformat") else v)
                   for k, v in counts.items()},
            reason=f"{campaign.benefit_year}年度核定（核定日期 {on.isoformat()}）",
        )
        job_outcome_record(job=job, result=counts | {"campaign_id": campaign.pk, "county_code": campaign.county_code,
                                                     "benefit_year": campaign.benefit_year})
    return counts


@transaction.atomic
def assessment_refresh(*, campaign: Campaign, resident: Resident, on=None):
    """Re-assess one resident now (after a tier choice, a transfer, a registration); returns the
    Assessment, or None when the resident is no longer on the register."""
    from yibao.enrollment.models import Assessment

    if resident.county_code != campaign.county_code or campaign.status == Campaign.Status.CLOSED:
        return Assessment.objects.filter(campaign=campaign, resident=resident).first()
    _assess(campaign=campaign, on=on or assessment_date(campaign=campaign), resident_ids=[resident.pk])
    return Assessment.objects.filter(campaign=campaign, resident=resident).first()


# ---------------------------------------------------------------- the enrollment lifecycle


TERMINATION_CAUSES = {
    "death": "死亡",
    "employee_insurance": "参加职工医保",
    "moved_away": "迁出本县",
}


def _locked(enrollment: Enrollment) -> Enrollment:
    return Enrollment.objects.select_for_update().select_related("resident", "campaign").get(county_code=enrollment.county_code, pk=enrollment.pk)


def _required(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise EnrollmentError(f"请填写{what}。")
    return text[:200]


@transaction.atomic
def enrollment_register_checked(*, resident: Resident, campaign: Campaign, actor, tier: int = 1) -> Enrollment:
    """enrollment_register for a page or the API: the actor must be allowed to register here."""
    _check(actor, "enrollment.edit", resident.village_code)
    from yibao.enrollment.models import Assessment

    enrollment = enrollment_register(resident=resident, campaign=campaign, actor=actor, tier=tier)
    if enrollment.tier != tier and enrollment.status == Enrollment.Status.REGISTERED:
        enrollment = enrollment_choose_tier(enrollment=enrollment, tier=tier, actor=actor)
    elif Assessment.objects.filter(campaign=campaign, resident=resident).exclude(tier=enrollment.tier).exists():
        assessment_refresh(campaign=campaign, resident=resident)
    return enrollment


@transaction.atomic
def enrollment_suspend(*, enrollment: Enrollment, actor, reason: str) -> Enrollment:
    """参保暂停 at the old place before registering elsewhere (moving, studying, marrying away).

    A paid enrollment keeps this year's benefits to 31 December and keeps the year's claim (no
    second enrollment this year); next year the person may register at the new place. An unpaid
    one has nothing to keep: the year's claim is freed so the new place can register them now.
    """
    _check(actor, "enrollment.edit", enrollment.village_code)
    reason = _required(reason, "暂停原因（如：迁往外地、在外地参保）")
    enrollment = _locked(enrollment)
    if enrollment.status not in (Enrollment.Status.REGISTERED, Enrollment.Status.PAID):
        raise EnrollmentError(f"参保状态为“{enrollment.get_status_display()}”，不能暂停。")
    unpaid = enrollment.status == Enrollment.Status.REGISTERED
    return enrollment_end(enrollment=enrollment, action="suspend", reason=f"参保暂停：{reason}", actor=actor,
                          release_claim=unpaid)


@transaction.atomic
def enrollment_resume(*, enrollment: Enrollment, actor, reason: str) -> Enrollment:
    """Undo a suspension in the same year (the person stayed after all)."""
    _check(actor, "enrollment.edit", enrollment.village_code)
    reason = _required(reason, "恢复原因")
    enrollment = _locked(enrollment)
    if enrollment.status != Enrollment.Status.SUSPENDED:
        raise EnrollmentError(f"参保状态为“{enrollment.get_status_display()}”，只有参保暂停的才能恢复。")
    if enrollment.campaign.status == Campaign.Status.CLOSED:
        raise EnrollmentError(f"{enrollment.benefit_year}年度征缴已结束，不能恢复。")
    resident = enrollment.resident
    if not EnrollmentClaim.objects.filter(enrollment_id=enrollment.pk, released_at__isnull=True).exists():
        elsewhere = enrollment_active_elsewhere(resident=resident, benefit_year=enrollment.benefit_year)
        if elsewhere is not None:
            raise EnrollmentError(
                f"{resident.name} 已在{county_label(elsewhere.county_code)}登记{enrollment.benefit_year}年度居民医保，不能恢复本地参保。"
            )
        try:
            with transaction.atomic():
                EnrollmentClaim.objects.create(
                    id_number=enrollment.id_number, benefit_year=enrollment.benefit_year,
                    county_code=enrollment.county_code, enrollment_id=enrollment.pk,
                )
        except IntegrityError:
            raise EnrollmentError(
                f"{resident.name} 的{enrollment.benefit_year}年度参保已在其他地方登记，不能恢复本地参保。"
            ) from None
    before = _snapshot(enrollment)
    enrollment.status = Enrollment.Status.PAID if enrollment.benefit_start else Enrollment.Status.REGISTERED
    enrollment.status_reason = f"恢复参保：{reason}"
    enrollment.updated_at = timezone.now()
    enrollment.save(update_fields=["status", "status_reason", "updated_at"])
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk, action="resumed",
        actor=actor, before=before, after=_snapshot(enrollment), reason=reason,
    )
    return enrollment


@transaction.atomic
def enrollment_terminate(
    *, enrollment: Enrollment, cause: str, actor, reason: str = "", effective_on=None, update_registry: bool = True
) -> Enrollment:
    """参保终止 on death, joining 职工医保, or moving away from the county.

    Benefits end on `effective_on` when it falls inside the benefit period. An unpaid enrollment
    frees the year's claim (the person may enroll where they went); a paid one keeps it until a
    refund (collection) releases it. With `update_registry` the register follows: the resident
    becomes 已死亡 / 已迁出, or gets a 职工医保 flag that blocks resident enrollment until cleared.
    """
    from django.core.exceptions import ValidationError

    _check(actor, "enrollment.edit", enrollment.village_code)
    if cause not in TERMINATION_CAUSES:
        raise EnrollmentError(f"未知的终止原因：{cause}（应为 {'、'.join(TERMINATION_CAUSES)}）")
    enrollment = _locked(enrollment)
    if enrollment.status == Enrollment.Status.TERMINATED:
        raise EnrollmentError("参保关系已终止。")
    label = TERMINATION_CAUSES[cause]
    detail = (reason or "").strip()
    text = f"{label}：{detail}" if detail else label
    unpaid = enrollment.status in (Enrollment.Status.REGISTERED,) or (
        enrollment.status == Enrollment.Status.SUSPENDED and enrollment.benefit_start is None
    )
    enrollment = enrollment_end(
        enrollment=enrollment, action="terminate", reason=f"参保终止（{text}）"[:200], actor=actor,
        release_claim=unpaid, benefit_end=effective_on,
    )
    if update_registry:
        from yibao.registry import services as registry

        resident = enrollment.resident
        try:
            if cause in ("death", "moved_away") and resident.status == Resident.Status.ACTIVE:
                status = Resident.Status.DECEASED if cause == "death" else Resident.Status.MOVED_AWAY
                registry.resident_status_change(actor=actor, resident=resident, status=status,
                                                reason=f"参保终止：{text}", source="enrollment")
            elif cause == "employee_insurance":
                registry.flag_create(actor=actor, resident=resident, kind="employee_insurance",
                                     detail=f"{enrollment.benefit_year}年度参保终止：{text}")
        except ValidationError as exc:
            raise EnrollmentError("；".join(exc.messages)) from None
    return enrollment


@transaction.atomic
def enrollments_follow_resident_status(*, actor, resident: Resident, status: str, reason: str) -> list[Enrollment]:
    """户籍维护 set the resident 已死亡 or 已迁出: the enrollments whose benefit year has not ended
    follow, as a 催缴 mark of the same outcome ends them (the register already says so).

    死亡: every live enrollment (registered, paid, suspended) is terminated, benefits ending today.
    迁出: a registered or paid one is suspended (参保暂停): a paid one keeps its benefits to the end
    of its period, an unpaid one frees its year so the new county can register the person; if the
    person did not leave after all, 恢复参保 undoes it. A refund, if due, goes through 退费.
    """
    if status not in (Resident.Status.DECEASED, Resident.Status.MOVED_AWAY):
        return []
    death = status == Resident.Status.DECEASED
    live = [Enrollment.Status.REGISTERED, Enrollment.Status.PAID] + ([Enrollment.Status.SUSPENDED] if death else [])
    today = business_today()
    ended = []
    for enrollment in Enrollment.objects.filter(
        county_code=resident.county_code, resident=resident, status__in=live, benefit_year__gte=today.year,
    ).order_by("benefit_year"):
        if death:
            ended.append(enrollment_terminate(enrollment=enrollment, cause="death", actor=actor,
                                              reason=f"户籍状态变更：{reason}", effective_on=today, update_registry=False))
        else:
            ended.append(enrollment_suspend(enrollment=enrollment, actor=actor, reason=f"户籍状态变更：已迁出（{reason}）"))
    return ended


@transaction.atomic
def enrollment_transfer(
    *, enrollment: Enrollment, to_village_code: str, actor, reason: str, household=None, relation: str = ""
) -> Enrollment:
    """Transfer within the county (村际迁移): the resident moves (registry.resident_move), which carries
    this and any later year's live enrollments and their assessments to the new village."""
    from django.core.exceptions import ValidationError

    from yibao.registry.services import resident_move

    to_village_code = (to_village_code or "").strip()
    _check(actor, "enrollment.edit", enrollment.village_code, to_village_code or enrollment.village_code)
    reason = _required(reason, "迁移原因（如：婚迁、购房迁入）")
    enrollment = _locked(enrollment)
    if enrollment.status == Enrollment.Status.TERMINATED:
        raise EnrollmentError("参保关系已终止，不能迁移。")
    resident = enrollment.resident
    try:
        resident_move(actor=actor, resident=resident, to_village_code=to_village_code, household=household,
                      relation=relation, reason=reason, from_year=enrollment.benefit_year)
    except ValidationError as exc:
        raise EnrollmentError("；".join(exc.messages)) from None
    return Enrollment.objects.get(pk=enrollment.pk)


@transaction.atomic
def enrollment_choose_tier(*, enrollment: Enrollment, tier: int, actor, reason: str = "") -> Enrollment:
    """缴费档次 for policies with more than one tier (新民镇: 一档、二档), before paying."""
    _check(actor, "enrollment.edit", enrollment.village_code)
    enrollment = _locked(enrollment)
    _check_tier(enrollment.campaign, tier)
    if enrollment.tier == tier:
        return enrollment
    if enrollment.status != Enrollment.Status.REGISTERED:
        raise EnrollmentError(f"参保状态为“{enrollment.get_status_display()}”，缴费后不能变更档次。")
    before = {"tier": enrollment.tier}
    enrollment.tier = tier
    enrollment.updated_at = timezone.now()
    enrollment.save(update_fields=["tier", "updated_at"])
    event_record(
        county_code=enrollment.county_code, entity="enrollment", entity_id=enrollment.pk, action="tier",
        actor=actor, before=before, after={"tier": tier}, reason=(reason or "").strip() or f"选择{tier}档缴费",
    )
    assessment_refresh(campaign=enrollment.campaign, resident=enrollment.resident)
    return enrollment
