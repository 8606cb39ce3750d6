"""API of reconciliation (对账): runs, mismatches, the monthly check and cash handovers.

Every operation takes request.auth (the Scope) and checks capability and region; one operation each.
"""

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status, UploadedFile

from yibao.accounts.api import ErrorOut, error_response
from yibao.core.api_types import MAX_YEAR, MIN_YEAR, DbId, IsoDate, Money, MoneyIn, PageNo, PageSize, PlainText, Year
from yibao.core.idnumber import mask_id_numbers_in
from yibao.core.jobs import job_enqueue
from yibao.core.selectors import job_list, job_progress
from yibao.reconciliation import rectify, selectors, services
from yibao.reconciliation.models import CashHandover, Mismatch, ReconciliationRun

router = Router(tags=["对账"])

MAX_PAGE_SIZE = 500


class KindCount(Schema):
    kind: str
    label: str
    count: int
    new: int
    difference: Money


class RunItem(Schema):
    id: int
    county_code: str
    benefit_year: int
    as_of: dt.date
    ran_on: dt.date
    started_at: dt.datetime
    created_by: str
    tax_file_name: str
    tax_file_sha256: str
    mismatches: int
    previous_id: int | None


class RunPage(Schema):
    count: int
    page: int
    pages: int
    items: list[RunItem]


class RunDetail(RunItem):
    counts: list[KindCount]
    totals: dict[str, str]
    inputs: dict
    changes: dict
    error_report: bool


class MismatchOut(Schema):
    id: int
    kind: str
    kind_label: str
    responsible: str
    responsible_name: str
    township_code: str
    village_code: str
    person_name: str
    id_number: str
    other_id_number: str
    external_id: str
    tax_row: int | None
    receipt_no: str
    tax_amount: Money | None
    yibao_amount: Money | None
    difference: Money
    paid_on: dt.date | None
    period_start: dt.date | None
    period_end: dt.date | None
    channel: str
    detail: str
    action: str
    first_seen_on: dt.date
    new: bool
    rectified: bool = False
    rectified_at: dt.datetime | None = None
    rectified_by: str = ""
    rectified_note: str = ""


class RectifyIn(Schema):
    note: PlainText(200, "整改说明") = ""


class MismatchPage(Schema):
    count: int
    page: int
    pages: int
    items: list[MismatchOut]


class JobOut(Schema):
    job_id: int
    status: str
    message: str
    percent: int
    run_id: int | None = None
    mismatches: int | None = None
    error: str = ""


class MonthOut(Schema):
    month: str
    done: int
    runs: int
    required: int
    status: str
    status_label: str
    days: list[dt.date]


class CalendarOut(Schema):
    county_code: str
    benefit_year: int
    required: int
    required_source: str
    reference: str
    short_months: int
    months: list[MonthOut]


class HandoverOut(Schema):
    id: int
    benefit_year: int
    county_code: str
    township_code: str
    village_code: str
    collector_id: int | None
    collector_name: str
    period_start: dt.date
    period_end: dt.date
    handed_on: dt.date
    amount: Money
    received_by_name: str
    note: str
    voided: bool
    void_reason: str


class HandoverPage(Schema):
    count: int
    page: int
    pages: int
    items: list[HandoverOut]


class HandoverIn(Schema):
    village_code: PlainText(12, "村（社区）")
    benefit_year: Year
    collector_id: DbId | None = None
    collector_name: PlainText(150, "征收员姓名") = ""
    period_start: IsoDate
    period_end: IsoDate
    handed_on: IsoDate
    amount: MoneyIn
    note: PlainText(200, "备注") = ""


class VoidIn(Schema):
    reason: PlainText(200, "作废原因")


def _page(queryset, page: int, page_size: int):
    paginator = Paginator(queryset, max(1, min(page_size, MAX_PAGE_SIZE)))
    return paginator, paginator.get_page(page)


def _run_item(run: ReconciliationRun, shown: int | None = None) -> dict:
    return {
        "id": run.pk, "county_code": run.county_code, "benefit_year": run.benefit_year, "as_of": run.as_of,
        "ran_on": run.ran_on, "started_at": run.started_at, "created_by": run.created_by_name,
        "tax_file_name": run.tax_file_name, "tax_file_sha256": run.tax_file_sha256,
        "mismatches": run.mismatch_total if shown is None else shown, "previous_id": run.previous_id,
    }


def _mismatch_out(scope, m: Mismatch, run: ReconciliationRun) -> dict:
    return {
        "id": m.pk, "kind": m.kind, "kind_label": m.get_kind_display(), "responsible": m.responsible,
        "responsible_name": m.responsible_name, "township_code": m.township_code, "village_code": m.village_code,
        "person_name": m.person_name, "id_number": scope.show_id(m.id_number) if m.id_number else "",
        "other_id_number": scope.show_id(m.other_id_number) if m.other_id_number else "",
        "external_id": m.external_id, "tax_row": m.tax_row, "receipt_no": m.receipt_no, "tax_amount": m.tax_amount,
        "yibao_amount": m.yibao_amount, "difference": m.difference, "paid_on": m.paid_on,
        "period_start": m.period_start, "period_end": m.period_end, "channel": m.channel, "detail": m.detail,
        "action": m.action, "first_seen_on": m.first_seen_on, "new": m.first_seen_run_id == run.pk,
        "rectified": m.rectified_at is not None, "rectified_at": m.rectified_at, "rectified_by": m.rectified_by_name,
        "rectified_note": m.rectified_note,
    }


def _handover_out(h: CashHandover) -> dict:
    return {
        "id": h.pk, "benefit_year": h.benefit_year, "county_code": h.county_code, "township_code": h.township_code,
        "village_code": h.village_code, "collector_id": h.collector_id, "collector_name": h.collector_name,
        "period_start": h.period_start, "period_end": h.period_end, "handed_on": h.handed_on, "amount": h.amount,
        "received_by_name": h.received_by_name, "note": h.note, "voided": h.voided_at is not None,
        "void_reason": h.void_reason,
    }


def _job_out(job, scope=None) -> dict:
    progress = job_progress(job, scope=scope)
    result = job.result or {}
    return {"job_id": job.pk, "status": job.status, "message": progress["message"], "percent": progress["percent"],
            "run_id": result.get("run_id"), "mismatches": result.get("mismatches"),
            "error": (job.message if scope is None or scope.full_id else mask_id_numbers_in(job.message))
            if job.status == "failed" else ""}


@router.get("/reconciliation/runs", response=RunPage, summary="对账记录")
def run_list(request, county: str | None = None, year: Year | None = None, page: PageNo = 1, page_size: PageSize = 50):
    scope = request.auth
    scope.require("reconcile.view")
    paginator, current = _page(selectors.run_list(scope=scope, county_code=county, benefit_year=year), page, page_size)
    runs = list(current)
    shown = selectors.run_counts_in_scope(scope=scope, runs=runs)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": [_run_item(r, shown.get(r.pk)) for r in runs]}


@router.get("/reconciliation/runs/{run_id}", response=RunDetail, summary="一次对账：各类差异条数、各方金额、与上次相比")
def run_detail(request, run_id: DbId):
    scope = request.auth
    scope.require("reconcile.view")
    run = selectors.run_get(scope=scope, pk=run_id)
    counts = selectors.mismatch_counts(scope=scope, run=run)
    return {**_run_item(run, sum(c["count"] for c in counts)), "counts": counts, "totals": run.totals,
            "inputs": run.inputs, "changes": selectors.changes_in_scope(scope=scope, run=run),
            "error_report": bool(run.error_report_path)}


@router.get("/reconciliation/runs/{run_id}/mismatches", response=MismatchPage, summary="对账差异（按类型、区划、责任方筛选）")
def mismatch_list(
    request, run_id: int, kind: str | None = None, region: str | None = None, responsible: str | None = None,
    new_only: bool = False, state: Literal["open", "rectified"] | None = None, page: int = 1, page_size: int = 100,
):
    scope = request.auth
    scope.require("reconcile.view")
    run = selectors.run_get(scope=scope, pk=run_id)
    rows = selectors.mismatch_list(scope=scope, run=run, kind=kind or None, region=region or None,
                                   responsible=responsible or None, new_only=new_only, state=state)
    paginator, current = _page(rows, page, page_size)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": [_mismatch_out(scope, m, run) for m in current]}


@router.post("/reconciliation/mismatches/{mismatch_id}/rectify", response={200: MismatchOut, 400: ErrorOut},
             summary="已整改：整改责任方标记一条对账差异已整改（下次对账复核）")
def mismatch_rectify(request, mismatch_id: DbId, payload: RectifyIn):
    scope = request.auth
    scope.require("reconcile.view")
    mismatch = selectors.mismatch_get(scope=scope, pk=mismatch_id)
    try:
        mismatch = rectify.mismatch_rectify(mismatch=mismatch, actor=request.user, note=payload.note)
    except ValidationError as exc:
        return error_response(exc)
    return _mismatch_out(scope, mismatch, mismatch.run)


@router.post("/reconciliation/runs", response={201: JobOut, 400: ErrorOut}, summary="上传税务缴费记录并开始对账（新建后台任务）")
def run_start(
    request, tax_file: File[UploadedFile], benefit_year: int = Form(..., ge=MIN_YEAR, le=MAX_YEAR),
    as_of: Form[IsoDate | None] = None, county_code: str = Form("", max_length=6),
    cash_grace_days: int = Form(services.DEFAULT_CASH_GRACE_DAYS, ge=-1000, le=1000),
):
    scope = request.auth
    scope.require("reconcile.run")
    county = county_code or scope.county_code
    try:
        services.run_authorize(actor=request.user, county_code=county)
        services.run_params_check(county_code=county, benefit_year=benefit_year, as_of=as_of)
        path = services.tax_file_store(uploaded=tax_file)
        job = services.run_job_create(
            county_code=county, benefit_year=benefit_year, as_of=as_of, tax_file=path, file_name=tax_file.name,
            cash_grace_days=cash_grace_days, actor=request.user,
        )
    except ValidationError as exc:
        return error_response(exc)
    job_enqueue(job)
    job.refresh_from_db()
    return Status(201, _job_out(job, scope))


@router.get("/reconciliation/jobs/{job_id}", response=JobOut, summary="对账任务进度")
def job_status(request, job_id: DbId):
    scope = request.auth
    scope.require("reconcile.view")
    job = get_object_or_404(job_list(scope=scope, kinds=[services.JOB_KIND]), pk=job_id)
    return _job_out(job, scope)


@router.get("/reconciliation/calendar", response=CalendarOut, summary="每月对账次数是否达到要求")
def calendar(request, year: Year, county: str | None = None):
    scope = request.auth
    scope.require("reconcile.view")
    county = county or scope.county_code
    if not county:
        raise PermissionDenied("请指定县级区划代码（county）。")
    check = selectors.month_check(scope=scope, county_code=county, benefit_year=year)
    return {
        "county_code": county, "benefit_year": year, "required": check["required"]["times"],
        "required_source": check["required"]["source"], "reference": check["required"]["reference"],
        "short_months": check["short"],
        "months": [{**{k: m[k] for k in ("done", "runs", "required", "status", "status_label", "days")},
                    "month": m["month"].strftime("%Y-%m")} for m in check["months"]],
    }


@router.get("/reconciliation/handovers", response=HandoverPage, summary="征收员现金交款记录")
def handover_list(request, year: Year | None = None, region: str | None = None, page: PageNo = 1, page_size: PageSize = 50):
    scope = request.auth
    scope.require("payments.view")
    paginator, current = _page(selectors.handover_list(scope=scope, benefit_year=year, region=region or None), page, page_size)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": [_handover_out(h) for h in current]}


@router.post("/reconciliation/handovers", response={201: HandoverOut, 400: ErrorOut}, summary="登记征收员现金交款")
def handover_record(request, payload: HandoverIn):
    from yibao.accounts.models import User

    scope = request.auth
    scope.require("payments.view")
    data = payload.dict()
    collector_id = data.pop("collector_id")
    collector = None
    if collector_id:
        collector = User.objects.filter(pk=collector_id).first()
        if collector is None or not scope.contains(collector.region_code):
            raise PermissionDenied("该征收员不在当前账号的管辖范围内。")
    try:
        handover = services.handover_record(actor=request.user, collector=collector, **data)
    except ValidationError as exc:
        return error_response(exc)
    return Status(201, _handover_out(handover))


@router.post("/reconciliation/handovers/{handover_id}/void", response={200: HandoverOut, 400: ErrorOut},
             summary="作废一笔登记错误的交款")
def handover_void(request, handover_id: DbId, payload: VoidIn):
    scope = request.auth
    scope.require("payments.view")
    handover = selectors.handover_get(scope=scope, pk=handover_id)
    try:
        handover = services.handover_void(actor=request.user, handover=handover, reason=payload.reason)
    except ValidationError as exc:
        return error_response(exc)
    return _handover_out(handover)
