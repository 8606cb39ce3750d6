from django.db.models import Q

from yibao.core.models import Event, Job
from yibao.core.progress import job_progress_read


def job_progress(job: Job) -> dict:
    """Figures for a job's progress bar: the live file while it runs, the row once it is done.

    A job left 'running' by a killed process is failed here first (the one write in a selector:
    otherwise its bar would spin forever).
    """
    if job.status == Job.Status.RUNNING:
        from yibao.core.services import job_fail_if_interrupted

        job_fail_if_interrupted(job=job)
    live = job_progress_read(job.pk) if job.status == Job.Status.RUNNING else None
    total, done, message = (live["total"], live["done"], live["message"]) if live else (job.total, job.done, job.message)
    if job.status in (Job.Status.SUCCEEDED, Job.Status.WRITTEN):
        percent = 100
    else:
        percent = min(100, int(done * 100 / total)) if total else 0
    return {"total": total, "done": done, "message": message, "percent": percent}


def jobs_settled(jobs) -> list[Job]:
    """A page of jobs for a list, with any left 'running' by a killed process failed first, so the
    list doesn't show it as 进行中 until someone opens it."""
    from yibao.core.services import job_fail_if_interrupted

    return [job_fail_if_interrupted(job=job) if job.status == Job.Status.RUNNING else job for job in jobs]


def job_list(*, scope, kinds: list[str] | None = None):
    jobs = Job.objects.all()
    if scope.region_code:
        jobs = jobs.filter(county_code=scope.county_code)
    if scope.role == "department_clerk":
        jobs = jobs.filter(created_by_id=scope.user_id)
    elif (scope.level or 6) > 6:
        # an import's report lists a whole county's names and ID numbers: township and village
        # accounts see only the imports they started (other jobs, e.g. 核定, stay visible)
        jobs = jobs.exclude(Q(kind__startswith="import_") & ~Q(created_by_id=scope.user_id))
    if kinds:
        jobs = jobs.filter(kind__in=kinds)
    return jobs


def event_list(*, scope, entity: str | None = None, entity_id: str | None = None):
    events = Event.objects.all().order_by("-at")
    if scope.region_code:
        events = events.filter(county_code=scope.county_code)
    if entity:
        events = events.filter(entity=entity)
    if entity_id:
        events = events.filter(entity_id=entity_id)
    return events
