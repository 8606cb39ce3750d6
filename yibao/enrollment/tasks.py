"""Long work of the enrollment area: 核定 of a whole county, as a Job with progress."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from yibao.core.jobs import JobFailed, job_runner

ASSESS_KIND = "assess_campaign"


def _jsonable(counts: dict) -> dict:
    return {k: (str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, dt.date) else v)
            for k, v in counts.items()}


@job_runner(ASSESS_KIND, label="参保核定")
def run_assessment(*, job, progress) -> dict:
    """params: campaign_id, optional on (YYYY-MM-DD). The actor is the job's creator."""
    from yibao.enrollment.models import Campaign
    from yibao.enrollment.services import EnrollmentError, assessment_run

    campaign = Campaign.objects.filter(pk=job.params.get("campaign_id")).first()
    if campaign is None:
        raise JobFailed("征缴年度不存在。")
    on = dt.date.fromisoformat(job.params["on"]) if job.params.get("on") else None
    actor = job.created_by or job.created_by_name or None
    try:
        counts = assessment_run(campaign=campaign, actor=actor, on=on, progress=progress, job=job)
    except EnrollmentError as exc:
        raise JobFailed(str(exc)) from None
    return _jsonable(counts | {"campaign_id": campaign.pk, "county_code": campaign.county_code,
                               "benefit_year": campaign.benefit_year})


def assessment_job_create(*, campaign, actor, on: dt.date | None = None):
    """A queued 核定 job for a campaign (pages enqueue it, the CLI runs it in-process)."""
    from yibao.core.services import job_create

    params = {"campaign_id": campaign.pk}
    if on is not None:
        params["on"] = on.isoformat()
    return job_create(kind=ASSESS_KIND, county_code=campaign.county_code, params=params, actor=actor)
