"""Job runners of the progress area."""

from yibao.core.jobs import job_runner


@job_runner("progress_refresh", label="征缴进度统计")
def run_progress_refresh(*, job, progress) -> dict:
    from yibao.progress.services import progress_refresh

    result = progress_refresh(
        county_code=job.county_code, benefit_year=int(job.params["benefit_year"]),
        village_codes=job.params.get("village_codes") or None, progress=progress, job=job,
    )
    return {**result, "rows": result["villages"]}
