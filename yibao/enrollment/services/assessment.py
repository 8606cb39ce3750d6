"""The county-wide assessment (核定): every registered resident decided by the policy in bulk, as of
the assessment date, and one resident again after a change."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from yibao.core.clock import business_now, business_today
from yibao.core.services import event_record, job_outcome_record
from yibao.enrollment.models import Campaign
from yibao.registry.models import Resident
from yibao.enrollment.services.campaigns import CampaignError, _check


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
