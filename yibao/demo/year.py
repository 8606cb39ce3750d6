"""The demo county's year, through the real services: import last year's roster (上年参保名单),
open the 2025 campaign, assess (核定), load the targets, collect at the counter and from a
channel file (with a late payment, a top-up, refunds and 先缴后补, one payment for part of a
household, a transfer), import the group lists (births, a school roll, a release list), reconcile with the tax
bureau twice a month through the window and once more on the business day, count the progress and
make last Friday's 周报 (var/demo/).

The notices are from the past, so the demo fixes the business day (var/business_today) after
the last event of the year: the window has closed, late payments still come in under the
national waiting period, and every page and command of the deployment reads the same day.
"""

from __future__ import annotations

import datetime as dt

from yibao.core.clock import business_day_set
from yibao.demo.county import COUNTY_CODE, POLICY_ID

ACTOR = "演示数据"
DEMO_DAY = dt.date(2025, 3, 20)


def _step(progress_factory, label: str):
    """A rich bar from the CLI, or nothing."""
    return progress_factory(label) if progress_factory else None


def demo_year(*, county_code: str = COUNTY_CODE, policy_id: str = POLICY_ID, business_day: dt.date = DEMO_DAY,
              seed: int = 2024, progress_factory=None) -> dict:
    from yibao.collection.demo import collection_demo
    from yibao.collection.models import Payment
    from yibao.collection.services import progress_refresh_deferred
    from yibao.demo.build import demo_logins
    from yibao.demo.extras import demo_household_part, demo_past_weekly, demo_transfer, last_friday
    from yibao.demo.groups import demo_groups
    from yibao.demo.history import demo_history
    from yibao.enrollment.selectors import campaign_get
    from yibao.enrollment.services import assessment_run, campaign_open
    from yibao.policy.loader import load_policy
    from yibao.progress.services import progress_refresh, targets_load_demo
    from yibao.reconciliation.demo import demo_reconcile_campaign
    from yibao.reconciliation.models import ReconciliationRun

    business_day_set(business_day)
    demo_logins()  # the accounts exist first: 何店村's counter cash is taken by its collector, 孙征收
    policy = load_policy(policy_id)
    year = policy.data.benefit_year
    summary: dict = {"business_day": business_day, "benefit_year": year}

    campaign = campaign_get(county_code=county_code, benefit_year=year)
    if campaign is None:
        if campaign_get(county_code=county_code, benefit_year=year - 1) is None:
            # the county's first year on Yibao: last year's roster makes renewals, gap years and 催缴 real
            summary["history"] = demo_history(county_code, year - 1, seed=seed, actor=ACTOR,
                                              progress_factory=progress_factory)
        campaign = campaign_open(county_code=county_code, policy_id=policy_id, actor=ACTOR)
        # the other offices' lists: births, a school roll, a release list (before the assessment)
        summary["groups"] = demo_groups(county_code, year, seed=seed, actor=ACTOR, progress_factory=progress_factory)
    summary["campaign"] = campaign.pk

    bar = _step(progress_factory, "核定")
    if bar:
        with bar:
            summary["assessment"] = assessment_run(campaign=campaign, actor=ACTOR, on=campaign.collection_start, progress=bar)
    else:
        summary["assessment"] = assessment_run(campaign=campaign, actor=ACTOR, on=campaign.collection_start)

    summary["targets"] = targets_load_demo(county_code=county_code, benefit_year=year, actor=ACTOR)

    if not Payment.objects.filter(county_code=county_code, benefit_year=year).exists():
        with progress_refresh_deferred():  # counted once, below
            summary["collection"] = collection_demo(county_code=county_code, benefit_year=year, actor=ACTOR, seed=seed)
            summary["household_part"] = demo_household_part(county_code=county_code, benefit_year=year, actor=ACTOR)
            summary["transfer"] = demo_transfer(county_code=county_code, benefit_year=year, actor=ACTOR)
    if not ReconciliationRun.objects.filter(county_code=county_code, benefit_year=year).exists():
        run = demo_reconcile_campaign(county_code=county_code, benefit_year=year, actor=ACTOR,
                                      collection_start=campaign.collection_start,
                                      collection_end=campaign.collection_end, until=business_day)
        summary["reconciliation"] = run.pk if run else None
    summary["progress"] = progress_refresh(county_code=county_code, benefit_year=year)
    # last week's 周报, made today: the figures as they stood at the end of that Friday
    summary["past_weekly"] = demo_past_weekly(county_code=county_code, benefit_year=year,
                                              on=last_friday(business_day))
    return summary
