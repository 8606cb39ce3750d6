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
    if scope.above_county:  # a city or province: the jobs of its counties (reports stay with the county)
        jobs = jobs.filter(county_code__startswith=scope.region_code)
    elif scope.region_code:
        # county_code holds the job's region; a 9- or 12-digit viewer region never contains a county
        jobs = jobs.filter(county_code=scope.region_code) if scope.level == 6 else jobs.none()
    if scope.role == "department_clerk" and not scope.superuser:
        jobs = jobs.filter(created_by_id=scope.user_id)
    if kinds:
        jobs = jobs.filter(kind__in=kinds)
    return jobs


def event_list(*, scope, entity: str | None = None, entity_id: str | None = None, request_id: str | None = None,
               person: str | None = None, user: str | None = None, action: str | None = None,
               date_from=None, date_to=None, resident_ids=None):
    """The change log a scope may read. Events carry only the county, so an account bound to a
    township or village (an auditor there) reads only the events it made itself.

    person: a name, an ID number (whole) or a resident's id: the events about those people (their
    payments, receipts, refunds, enrollments, marks…); resident_ids: the same for known residents (the
    person page). user: an account's name or username. action: "entity.action" (eventtext.ACTION_LABELS).
    date_from/date_to: dates, both ends included (business time zone).
    """
    events = scope.filter_counties(Event.objects.all().order_by("-at", "-pk"))
    if scope.region_code and not scope.above_county:
        if scope.level != 6:
            events = events.filter(actor_id=scope.user_id)
    if entity:
        events = events.filter(entity=entity)
    if entity_id:
        events = events.filter(entity_id=entity_id)
    if request_id:  # a complaint traced from the request log (X-Request-ID) to what changed
        events = events.filter(request_id=request_id.strip())
    if person and person.strip():
        resident_ids = list(resident_ids or []) + person_matches(scope=scope, text=person)
        events = events.filter(person_event_q(resident_ids))
    elif resident_ids is not None:
        events = events.filter(person_event_q(list(resident_ids)))
    if user and user.strip():
        from django.db.models import Q

        text = user.strip()[:150]
        events = events.filter(Q(actor_name__icontains=text) | Q(actor__username__iexact=text))
    if action:
        entity_name, _, verb = action.partition(".")
        events = events.filter(entity=entity_name, action=verb)
    if date_from or date_to:
        import datetime as dt

        from django.utils import timezone

        zone = timezone.get_default_timezone()
        if date_from:
            events = events.filter(at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=zone))
        if date_to:
            events = events.filter(at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
    return events


PERSON_LIMIT = 200


def person_matches(*, scope, text: str) -> list[int]:
    """The residents (ids, within the scope's county) a change-log person filter names: a whole ID
    number, a resident id (digits shorter than an ID number) or a name."""
    from yibao.core.idnumber import normalize
    from yibao.registry.models import Resident

    text = text.strip()[:50]
    people = scope.filter_counties(Resident.objects.all())
    number = normalize(text) if text[:1].isdigit() else ""
    if len(number) == 15 and number.isdigit():
        from yibao.core.idnumber import upgrade_15_to_18

        number = upgrade_15_to_18(number)  # the register keeps 18-digit numbers
    if number and len(number) == 18:
        people = people.filter(id_number=number)
    elif text.isascii() and text.isdigit():
        people = people.filter(pk=int(text)) if len(text) < 19 else people.none()
    else:
        people = people.filter(name=text)
    return list(people.values_list("pk", flat=True)[:PERSON_LIMIT])


def person_event_q(resident_ids: list[int]):
    """A Q over Event rows about these residents: the rows of the resident, its 催缴 marks, payments,
    receipts, refunds, 先缴后补, enrollments, identities and household."""
    from django.db.models import Q

    from yibao.collection.models import Payment, ReceiptLine, Refund, SubsidyRefund
    from yibao.enrollment.models import Enrollment
    from yibao.registry.models import Identity, Resident

    if not resident_ids:
        return Q(pk__in=[])
    ids = [str(i) for i in resident_ids]

    def keys(queryset) -> list[str]:
        return [str(k) for k in queryset.values_list("pk", flat=True)[:5000]]

    payments = Payment.objects.filter(resident_id__in=resident_ids)
    households = Resident.objects.filter(pk__in=resident_ids, household_id__isnull=False).values_list("household_id", flat=True)
    q = Q(entity__in=["resident", "remind"], entity_id__in=ids)
    q |= Q(entity="payment", entity_id__in=keys(payments))
    q |= Q(entity="receipt", entity_id__in=[str(r) for r in ReceiptLine.objects.filter(
        payment__resident_id__in=resident_ids).values_list("receipt_id", flat=True)[:5000]])
    q |= Q(entity="refund", entity_id__in=keys(Refund.objects.filter(Q(resident_id__in=resident_ids) | Q(payment__in=payments))))
    q |= Q(entity="subsidy_refund", entity_id__in=keys(SubsidyRefund.objects.filter(resident_id__in=resident_ids)))
    q |= Q(entity="enrollment", entity_id__in=keys(Enrollment.objects.filter(resident_id__in=resident_ids)))
    q |= Q(entity="identity", entity_id__in=keys(Identity.objects.filter(resident_id__in=resident_ids)))
    q |= Q(entity="household", entity_id__in=[str(h) for h in households])
    return q


def event_shown(event: Event, *, scope) -> Event:
    """An event as a scope may read it: for a role that sees masked ID numbers only, every number in
    its before, after and reason masked (the row itself is not changed)."""
    if scope.full_id:
        return event
    event.before, event.after = mask_id_numbers_deep(event.before), mask_id_numbers_deep(event.after)
    event.reason = mask_id_numbers_in(event.reason)
    return event


REPORT_PREVIEW = 20


def job_report_preview(job: Job, *, scope, limit: int = REPORT_PREVIEW) -> list[dict]:
    """The first lines of each part of a finished job's report (错误, 警告, 跳过): row, column, value and
    the Chinese reason, so a warning shows even when errors are many. Numbers masked for a scope that
    reads masked numbers only."""
    if not (job.finished and job.report_path):
        return []
    from yibao.imports.reports import report_read

    try:
        lines = report_read(job.report_path)
    except Exception:  # a report moved away: the page still shows the job
        return []
    shown, seen = [], {}
    for line in lines:
        seen[line["sheet"]] = seen.get(line["sheet"], 0) + 1
        if seen[line["sheet"]] > limit:
            continue
        value, reason = line["值"], line["原因"]
        if not scope.full_id:  # a number may sit in any column, and reasons quote it
            value, reason = mask_id_numbers_in(str(value or "")), mask_id_numbers_in(str(reason or ""))
        if "身份证" in line["列"] or "号码" in line["列"]:
            value = scope.show_id(value)
        shown.append({"sheet": line["sheet"], "row": line["行号"], "column": line["列"], "value": value, "reason": reason})
    return shown
