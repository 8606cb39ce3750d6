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
