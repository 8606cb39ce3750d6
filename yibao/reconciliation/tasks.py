"""Job runner of a reconciliation run; pages enqueue it, the CLI runs it in-process."""

from yibao.core.jobs import job_runner
from yibao.reconciliation.services import JOB_KIND, run_job


@job_runner(JOB_KIND, label="对账")
def run_reconciliation(*, job, progress) -> dict:
    return run_job(job=job, progress=progress)
