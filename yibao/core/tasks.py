from django_tasks import task


@task()
def run_job_task(job_id: int) -> str:
    from yibao.core.jobs import job_run
    from yibao.core.models import Job

    job = job_run(Job.objects.get(pk=job_id))
    return job.status
