from yibao.core.idnumber import mask_id_numbers_deep, mask_id_numbers_in
from yibao.core.models import Event, Job
from yibao.core.progress import job_progress_read


def job_progress(job: Job, scope=None) -> dict:
    """Figures for a job's progress bar: the live file while it runs, the row once it is done.

    With a scope that reads masked ID numbers only, a number in the message is masked.

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
    if scope is not None and not scope.full_id:
        message = mask_id_numbers_in(message)
    return {"total": total, "done": done, "message": message, "percent": percent}


def jobs_settled(jobs) -> list[Job]:
    """A page of jobs for a list, with any left 'running' by a killed process failed first, so the
    list doesn't show it as 进行中 until someone opens it."""
    from yibao.core.services import job_fail_if_interrupted

    return [job_fail_if_interrupted(job=job) if job.status == Job.Status.RUNNING else job for job in jobs]


def job_list(*, scope, kinds: list[str] | None = None):
    """The jobs a scope may see: those whose region lies inside the viewer's region.

    A job works on the county it was started for (imports, 核定, 缴费明细, 对账, 重新统计): its
    result and report name people of every village, so it is a county job, seen by county-level
    accounts only; a township or village account sees none of them (not even one it started). A
    department clerk sees only the jobs they started.
    """
    jobs = Job.objects.all()
    if scope.region_code:
        # county_code holds the job's region; a 9- or 12-digit viewer region never contains a county
        jobs = jobs.filter(county_code=scope.region_code) if scope.level == 6 else jobs.none()
    if scope.role == "department_clerk" and not scope.superuser:
        jobs = jobs.filter(created_by_id=scope.user_id)
    if kinds:
        jobs = jobs.filter(kind__in=kinds)
    return jobs


def event_list(*, scope, entity: str | None = None, entity_id: str | None = None, request_id: str | None = None):
    """The change log a scope may read. Events carry only the county, so an account bound to a
    township or village (an auditor there) reads only the events it made itself."""
    events = Event.objects.all().order_by("-at")
    if scope.region_code:
        events = events.filter(county_code=scope.county_code)
        if scope.level != 6:
            events = events.filter(actor_id=scope.user_id)
    if entity:
        events = events.filter(entity=entity)
    if entity_id:
        events = events.filter(entity_id=entity_id)
    if request_id:  # a complaint traced from the request log (X-Request-ID) to what changed
        events = events.filter(request_id=request_id.strip())
    return events


def event_shown(event: Event, *, scope) -> Event:
    """An event as a scope may read it: for a role that sees masked ID numbers only, every number in
    its before, after and reason masked (the row itself is not changed)."""
    if scope.full_id:
        return event
    event.before, event.after = mask_id_numbers_deep(event.before), mask_id_numbers_deep(event.after)
    event.reason = mask_id_numbers_in(event.reason)
    return event
