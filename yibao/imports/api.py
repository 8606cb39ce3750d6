"""API of the imports: start an import (multipart upload), read a job with its progress, list jobs."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.urls import reverse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from yibao.accounts.api import ErrorOut, error_response
from yibao.core.idnumber import mask_id_numbers_in
from yibao.core.jobs import job_enqueue
from yibao.core.selectors import job_progress, jobs_settled
from yibao.imports import selectors, services
from yibao.core.api_types import DbId, PageNo, PageSize

router = Router(tags=["导入任务"])


class ProgressOut(Schema):
    total: int
    done: int
    percent: int
    message: str


class JobOut(Schema):
    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    file_name: str
    file_sha256: str
    county_code: str
    county_name: str
    department: str
    group: str = ""
    dry_run: bool
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress: ProgressOut
    result: dict
    error: str
    report_url: str | None
    page_url: str


class JobPage(Schema):
    count: int
    page: int
    pages: int
    items: list[JobOut]


def _out(job, scope) -> dict:
    params = job.params or {}
    return {
        "id": job.pk,
        "kind": params.get("kind") or services.KIND_OF_JOB.get(job.kind, job.kind),
        "kind_label": job.kind_label,
        "status": job.status,
        "status_label": job.get_status_display(),
        "file_name": job.input_name,
        "file_sha256": job.input_sha256,
        "county_code": job.county_code,
        "county_name": job.county_title,
        "department": params.get("department", ""),
        "group": params.get("group", ""),
        "dry_run": job.dry_run,
        "created_by": job.created_by_name,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "progress": job_progress(job, scope=scope),
        "result": job.result or {},
        "error": (job.message if scope.full_id else mask_id_numbers_in(job.message)) if job.status == job.Status.FAILED else "",
        "report_url": reverse("core:job_report", args=[job.pk]) if job.report_path and scope.reads_county_files else None,
        "page_url": reverse("imports:job", args=[job.pk]),
    }


@router.post(
    "/imports/jobs",
    response={201: JobOut, 400: ErrorOut},
    summary="上传名单并开始导入（表单字段 kind：regions、residents、identities、employees、enrollments、groups；"
            "groups 须填 group：参保群体名称或代码）",
)
def import_start(
    request, kind: str = Form(..., max_length=20), file: UploadedFile = File(...),
    county_code: str = Form("", max_length=6), department: str = Form("", max_length=16),
    group: str = Form("", max_length=32, description="参保群体（kind=groups）：新生儿、在校大学生 … 或代码 newborn 等"),
    dry_run: bool = Form(False, description="试导入：校验并计数，不写入任何数据"),
):
    scope = request.auth
    if kind not in services.JOB_KINDS:
        return Status(400, {"detail": f"未知的导入类型：{kind}（应为 {'、'.join(services.JOB_KINDS)}）"})
    scope.require(services.CAPABILITIES[kind])
    if not county_code and scope.region_code:
        county_code = scope.county_code
    if kind == "identities" and not department and scope.department:
        department = scope.department
    try:
        path = services.upload_store(uploaded=file)
        job = services.import_job_create(
            kind=kind, path=path, file_name=file.name or path.name, county_code=county_code, department=department,
            actor=request.user, dry_run=dry_run, group=group,
        )
    except ValidationError as exc:
        return error_response(exc)
    job_enqueue(job)
    job.refresh_from_db()
    return Status(201, _out(job, scope))


@router.get("/imports/jobs", response=JobPage, summary="导入记录（按当前账号的范围）")
def import_jobs(request, kind: str = "", page: PageNo = 1, page_size: PageSize = 50):
    scope = request.auth
    scope.require("jobs.view")
    rows = selectors.import_job_list(scope=scope, kind=kind or None)
    paginator = Paginator(rows, max(1, min(page_size, 200)))
    current = paginator.get_page(page)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": [_out(j, scope) for j in jobs_settled(current)]}


@router.get("/imports/jobs/{job_id}", response=JobOut, summary="一个导入任务：进度、计数和错误报告")
def import_job(request, job_id: DbId):
    scope = request.auth
    scope.require("jobs.view")
    return _out(selectors.import_job_get(scope=scope, pk=job_id), scope)
