"""API of background jobs of every kind: read one, and make its report again."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Router, Schema, Status

from yibao.accounts.api import ErrorOut, error_response
from yibao.core.selectors import job_list, job_progress

router = Router(tags=["后台任务"])


class JobProgressOut(Schema):
    total: int
    done: int
    percent: int
    message: str


class JobDetailOut(Schema):
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    message: str
    county_code: str
    county_name: str
    dry_run: bool
    balance: str
    file_name: str
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    committed_at: dt.datetime | None
    progress: JobProgressOut
    result: dict
    report_pending: bool
    report_url: str | None


def job_out(job) -> dict:
    figures = job_progress(job)  # settles a job left 'running' by a killed process first
    return {
        "id": job.pk, "kind": job.kind, "kind_label": job.kind_label, "status": job.status,
        "status_label": job.get_status_display(), "message": job.message, "county_code": job.county_code,
        "county_name": job.county_title, "dry_run": job.dry_run, "balance": job.result_balance if job.finished else "",
        "file_name": job.input_name, "created_by": job.created_by_name, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at, "committed_at": job.committed_at,
        "progress": figures, "result": {k: v for k, v in (job.result or {}).items() if k != "report_pending"},
        "report_pending": job.report_pending,
        "report_url": reverse("core:job_report", args=[job.pk]) if job.report_path else None,
    }


@router.get("/jobs/{job_id}", response=JobDetailOut, summary="一个后台任务：状态、进度、计数和报告")
def job_get(request, job_id: int):
    scope = request.auth
    scope.require("jobs.view")
    return job_out(get_object_or_404(job_list(scope=scope), pk=job_id))


@router.post("/jobs/{job_id}/report", response={200: JobDetailOut, 400: ErrorOut},
             summary="重新生成任务报告（已写入，报告未生成的任务）")
def job_report_make(request, job_id: int):
    from yibao.core.services import job_fail_if_interrupted, job_report_regenerate

    scope = request.auth
    scope.require("jobs.view")
    job = job_fail_if_interrupted(job=get_object_or_404(job_list(scope=scope), pk=job_id))
    try:
        job = job_report_regenerate(job=job, actor=request.user)
    except ValidationError as exc:
        return error_response(exc)
    return Status(200, job_out(job))


# ---------------------------------------------------------------- the change log

class EventLogRowOut(Schema):
    id: int
    at: dt.datetime
    actor: str
    role: str
    region: str
    entity: str
    action: str
    action_label: str
    sentence: str
    reason: str
    request_id: str


class EventLogPageOut(Schema):
    count: int
    page: int
    pages: int
    items: list[EventLogRowOut]


def event_log_out(row: dict) -> dict:
    e = row["event"]
    return {"id": e.pk, "at": e.at, "actor": row["actor"], "role": row["role"], "region": row["region"],
            "entity": e.entity, "action": f"{e.entity}.{e.action}", "action_label": row["action"],
            "sentence": row["sentence"], "reason": row["reason"], "request_id": row["request_id"]}


@router.get("/events", response=EventLogPageOut, tags=["变更记录"],
            summary="变更记录（中文句子）：按参保人、操作人、动作、日期筛选，分页")
def events_get(request, person: str = "", user: str = "", action: str = "", date_from: str = "", date_to: str = "",
               request_id: str = "", page: int = 1, page_size: int = 50):
    """person：姓名、身份证号码或参保人编号；action：如 payment.booked（见页面的动作列表）；日期 YYYY-MM-DD。"""
    from django.core.paginator import Paginator

    from yibao.core.eventlog import event_filters
    from yibao.core.eventtext import event_rows
    from yibao.core.selectors import event_list, event_shown

    scope = request.auth
    scope.require("audit.view")
    filters = event_filters({"person": person, "user": user, "action": action, "from": date_from, "to": date_to,
                             "request": request_id})
    paginator = Paginator(event_list(scope=scope, **filters), max(1, min(page_size, 500)))
    current = paginator.get_page(page)
    rows = event_rows([event_shown(e, scope=scope) for e in current.object_list])
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": [event_log_out(r) for r in rows]}
