"""API of progress: targets, progress, ranking, history, the 12-10 comparison, 催缴 and report downloads.

One thin operation each; request.auth is the Scope.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from yibao.accounts.api import ErrorOut, error_response
from yibao.core.clock import business_time
from yibao.core.services import event_record
from yibao.core.uploads import upload_check
from yibao.progress import remind, reports, selectors, services
from yibao.progress.models import RemindMark
from yibao.regions.selectors import region_labels
from yibao.core.api_types import Count, DbId, IsoDate, Money, PlainText, RegionLevel, Year

REMIND_STATES = ("open", "refused", "closed", "all")

AsOf = IsoDate | None  # 统计日期（今天或以前）：该日结束时的全部数字；不填为今日实时

router = Router(tags=["进度与报表"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TargetOut(Schema):
    region_code: str
    name: str
    level: int
    benefit_year: int
    total: Count
    special: int | None
    others: int | None
    population: int | None
    supplementary: int | None
    supplementary_label: str
    source: str
    source_label: str
    source_name: str
    updated_at: dt.datetime
    updated_by: str


class TargetList(Schema):
    benefit_year: int
    items: list[TargetOut]


class TargetIn(Schema):
    total: Count
    special: Count | None = None
    others: Count | None = None
    population: Count | None = None
    supplementary: Count | None = None
    supplementary_label: PlainText(40, "补充保险列名") = ""
    reason: PlainText(200, "调整原因")


class ImportOut(Schema):
    file: str
    title: str
    county_code: str
    benefit_year: int
    level: int
    layout: str
    rows: int
    imported: int
    updated: int
    unchanged: int
    sums: dict
    printed_total: dict | None
    supplementary_label: str
    units: list[dict]
    warnings: list[str]


class UnitOut(Schema):
    code: str
    name: str
    level: int
    target: int | None
    special_target: int | None
    others_target: int | None
    population: int | None
    supplementary: int | None
    paid: int
    enrolled: int
    registered: int
    rate: float | None
    expected: int | None
    on_pace: bool | None
    gap: int | None
    special_people: int
    special_enrolled: int
    special_rate: float | None
    last_year: int
    renewed: int
    not_renewed: int
    remind_closed: int
    remind_open: int
    remind_refused: int  # 其中拒缴 (part of remind_open)
    amount: Money
    rank: int | None
    rank_of: int | None


class OverviewOut(Schema):
    benefit_year: int
    on: dt.date
    as_of: str  # 截至 YYYY-MM-DD 日终, or 今日实时
    source: str  # live (today), counted (that day's last count), rebuilt (computed from dates)
    notice: str
    pace_share: float | None
    window_start: dt.date | None
    deadline: dt.date | None
    refreshed_at: dt.datetime | None
    special_goal: float
    unit: UnitOut
    path: list[UnitOut]
    children: list[UnitOut]


class DayOut(Schema):
    day: dt.date
    new: int
    paid: int
    exempt: int
    amount: Money
    cumulative: int | None
    expected: int | None


class HistoryOut(Schema):
    benefit_year: int
    code: str
    name: str
    target: int | None
    days: list[DayOut]


class RenewalRow(Schema):
    code: str
    name: str
    last_year: int
    renewed: int
    not_renewed: int
    closed: int
    open: int
    refused: int  # 其中拒缴 (part of open)
    renewal_rate: float | None
    new_enrolled: int


class RenewalOut(Schema):
    benefit_year: int
    total: RenewalRow
    rows: list[RenewalRow]


class RemindPerson(Schema):
    resident_id: int
    name: str
    id_number: str
    household_number: str
    head_name: str
    relation: str
    phone: str
    last_status: str
    this_status: str
    register_status: str
    owed: Money | None
    owed_basis: str
    owed_note: str
    mark: str
    mark_code: str
    marked_at: str
    marked_by: str
    mark_note: str
    closed: bool
    refused: bool  # newest mark 拒缴 and still to chase


class RemindOut(Schema):
    village_code: str
    benefit_year: int
    state: str
    count: int
    people: list[RemindPerson]


class MarkIn(Schema):
    benefit_year: Year
    outcome: PlainText(20, "催缴结果")
    note: PlainText(300, "说明") = ""


class MarkOut(Schema):
    id: int
    resident_id: int
    resident_name: str
    outcome: str
    outcome_label: str
    note: str
    marked_at: dt.datetime
    marked_by: str
    effects: list[str]
    undo_change_id: int | None = None  # its maker may undo it for 10 minutes (POST /status-changes/{id}/undo)


class RefreshIn(Schema):
    county_code: PlainText(6, "县级区划代码") | None = None
    benefit_year: Year | None = None


class JobOut(Schema):
    id: int
    status: str
    result: dict


def _float(value) -> float | None:
    return None if value is None else float(value)


def _unit(u) -> dict:
    out = u.as_dict()
    for key in ("rate", "special_rate"):
        out[key] = _float(out[key])
    return out


def _target_out(t, labels) -> dict:
    return {
        "region_code": t.region_code, "name": labels.get(t.region_code, t.region_code), "level": t.level,
        "benefit_year": t.benefit_year, "total": t.total, "special": t.special, "others": t.others,
        "population": t.population, "supplementary": t.supplementary, "supplementary_label": t.supplementary_label,
        "source": t.source, "source_label": t.get_source_display(), "source_name": t.source_name,
        "updated_at": t.updated_at, "updated_by": t.updated_by_name,
    }


def _year(scope, region: str | None, year: int | None) -> int:
    county = (region or scope.region_code or "")[:6]
    year = year or selectors.benefit_year_default(county)
    if not year:
        raise Http404("请指定待遇年度（year）。")
    return year


def _on(on: dt.date | None) -> dt.date | None:
    """on= today or earlier (a malformed date is refused by its type, 422); a later day is a 400 in Chinese."""
    from yibao.progress.snapshots import check_day

    return check_day(on)


def _ensure(scope, region: str | None, year: int | None, actor, on: dt.date | None = None) -> tuple[str, int]:
    region = selectors._visible_region(scope, region)
    year = _year(scope, region, year)
    services.progress_ensure(county_code=region[:6], benefit_year=year, actor=actor, on=on)
    return region, year


@router.get("/progress/targets", response=TargetList, summary="目标任务（应参保人数、特群免缴、其他居民、总人口、补充保险）")
def target_list(request, year: Year | None = None, region: str | None = None):
    scope = request.auth
    scope.require("progress.view")
    year = _year(scope, region, year)
    rows = selectors.target_list(scope=scope, benefit_year=year, region=region)
    labels = region_labels(t.region_code for t in rows)
    return {"benefit_year": year, "items": [_target_out(t, labels) for t in rows]}


@router.post("/progress/targets/import", response={201: ImportOut, 400: ErrorOut},
             summary="导入目标任务表（xlsx/csv，肖岭乡或随县格式；整表导入，合计行须与各行之和相符）")
def target_import(
    request, file: UploadedFile = File(...), county_code: str = Form(""), benefit_year: int | None = Form(None),
    township_code: str = Form(""), accept_total_mismatch: bool = Form(False),
):
    scope = request.auth
    scope.require("targets.manage")
    try:
        upload_check(file)
        result = services.targets_import(
            actor=request.user, content=file.read(), filename=file.name or "任务表", county_code=county_code or None,
            benefit_year=benefit_year, township_code=township_code or None, accept_total_mismatch=accept_total_mismatch,
        )
    except ValidationError as exc:
        return error_response(exc)
    return Status(201, result)


class CityTargetRowOut(Schema):
    county_code: str
    name: str
    total: int | None
    source: str
    source_label: str
    updated_at: dt.datetime | None
    updated_by: str


class CityTargetsOut(Schema):
    city_code: str
    city_name: str
    benefit_year: int
    total: int
    counties_without_target: int
    counties: list[CityTargetRowOut]


class CityTargetsIn(Schema):
    totals: dict[PlainText(12, "县级区划代码"), Count | None]
    reason: PlainText(200, "原因")


class CityTargetChangeOut(Schema):
    county_code: str
    name: str
    before: int | None
    after: int


class CityTargetsSetOut(Schema):
    city_code: str
    city_name: str
    benefit_year: int
    changes: list[CityTargetChangeOut]


@router.get("/progress/city-targets/{city_code}/{year}", response={200: CityTargetsOut, 400: ErrorOut},
            summary="全市各县（市、区）的目标任务；全市目标为各县之和")
def city_targets(request, city_code: str, year: Year):
    from yibao.progress.city import city_target_rows

    scope = request.auth
    scope.require("progress.view")
    try:
        return Status(200, city_target_rows(scope=scope, city_code=city_code[:8], benefit_year=year))
    except ValidationError as exc:
        return error_response(exc)


@router.put("/progress/city-targets/{city_code}/{year}", response={200: CityTargetsSetOut, 400: ErrorOut},
            summary="市医保局设定本市各县的目标任务（应参保人数；全部成功或全部不写入，须填写原因）")
def city_targets_set(request, city_code: str, year: Year, payload: CityTargetsIn):
    from yibao.progress.city import city_targets_set as run

    scope = request.auth
    scope.require("targets.manage")
    try:
        return Status(200, run(actor=request.user, city_code=city_code[:8], benefit_year=year,
                               totals=payload.totals, reason=payload.reason))
    except ValidationError as exc:
        return error_response(exc)


@router.post("/progress/city-targets/import", response={201: dict, 400: ErrorOut},
             summary="导入全市任务表（每行一个县（市、区）；整表导入，逐行说明错误）")
def city_targets_import(
    request, file: UploadedFile = File(...), city_code: str = Form(""), benefit_year: int | None = Form(None),
    accept_total_mismatch: bool = Form(False),
):
    from yibao.progress.city import city_targets_import as run

    scope = request.auth
    scope.require("targets.manage")
    try:
        upload_check(file)
        result = run(actor=request.user, content=file.read(), filename=file.name or "任务表", city_code=city_code or None,
                     benefit_year=benefit_year, accept_total_mismatch=accept_total_mismatch)
    except ValidationError as exc:
        return error_response(exc)
    return Status(201, result)


@router.put("/progress/targets/{region_code}/{year}", response={200: TargetOut, 400: ErrorOut},
            summary="调整一个单位的目标任务（须填写原因，记入变更记录）")
def target_adjust(request, region_code: str, year: Year, payload: TargetIn):
    scope = request.auth
    scope.require("targets.manage")
    scope.require_region(region_code)
    try:
        target = services.target_set(actor=request.user, region_code=region_code, benefit_year=year, **payload.dict())
    except ValidationError as exc:
        return error_response(exc)
    return Status(200, _target_out(target, region_labels([target.region_code])))


@router.get("/progress", response=OverviewOut, summary="征缴进度：一个单位及其下级的目标、已缴、参保、参保率、序时进度、特殊群体")
def progress_overview(request, region: str | None = None, year: Year | None = None, on: AsOf = None):
    scope = request.auth
    scope.require("progress.view")
    on = _on(on)
    region, year = _ensure(scope, region, year, request.user, on)
    data = selectors.progress_overview(scope=scope, region_code=region, benefit_year=year, on=on)
    tree = data["tree"]
    return {
        "benefit_year": year, "on": tree.on, "as_of": tree.as_of_label, "source": tree.source, "notice": tree.notice,
        "pace_share": _float(tree.share),
        "window_start": tree.window.start if tree.window else None, "deadline": tree.window.deadline if tree.window else None,
        "refreshed_at": business_time(tree.refreshed_at), "special_goal": float(data["goals"]["special_groups_rate"]),
        "unit": _unit(data["unit"]), "path": [_unit(u) for u in data["path"]], "children": [_unit(u) for u in data["children"]],
    }


@router.get("/progress/ranking", response=list[UnitOut], summary="排名：区划内各乡镇（level=9）或各村（level=12）按参保率排序")
def progress_ranking(request, region: str | None = None, year: Year | None = None, level: RegionLevel = 12, on: AsOf = None):
    scope = request.auth
    scope.require("progress.view")
    on = _on(on)
    region, year = _ensure(scope, region, year, request.user, on)
    return [_unit(u) for u in selectors.progress_ranking(scope=scope, region_code=region, benefit_year=year, level=level, on=on)]


@router.get("/progress/history", response=HistoryOut, summary="每日进度：每日完成参保人数、累计人数与序时进度线")
def progress_history(request, region: str | None = None, year: Year | None = None, on: AsOf = None):
    scope = request.auth
    scope.require("progress.view")
    on = _on(on)
    region, year = _ensure(scope, region, year, request.user, on)
    data = selectors.progress_history(scope=scope, region_code=region, benefit_year=year, on=on)
    unit = data["unit"]
    return {"benefit_year": year, "code": unit.code, "name": unit.name, "target": unit.target, "days": data["rows"]}


@router.get("/progress/renewal", response=RenewalOut, summary="12-10 排查：与上年参保比对，各单位续保与未续保人数")
def progress_renewal(request, region: str | None = None, year: Year | None = None, on: AsOf = None):
    scope = request.auth
    scope.require("remind.view")
    on = _on(on)
    region, year = _ensure(scope, region, year, request.user, on)
    data = remind.renewal_summary(scope=scope, region_code=region, benefit_year=year, on=on)

    def row(item):
        u = item["unit"]
        return {"code": u.code, "name": u.name, "last_year": u.last_year, "renewed": u.renewed, "not_renewed": u.not_renewed,
                "closed": item["closed"], "open": item["open"], "refused": item["refused"], "renewal_rate": _float(u.renewal_rate),
                "new_enrolled": u.new_enrolled}

    return {"benefit_year": year, "total": row(data["total"]), "rows": [row(r) for r in data["rows"]]}


@router.post("/progress/refresh", response={202: JobOut}, summary="重新统计征缴进度（后台任务）")
def progress_refresh(request, payload: RefreshIn):
    scope = request.auth
    scope.require("progress.refresh")
    county = (payload.county_code or scope.county_code or "").strip()[:6]
    if not county:
        raise Http404("请指定县级区划代码（county_code）。")
    if not scope.covers_county(county):
        raise PermissionDenied(f"区划 {county} 不在当前账号的管辖范围内。")
    if not county:
        raise Http404("请指定县级区划代码（county_code）。")
    year = _year(scope, county, payload.benefit_year)
    job = services.progress_refresh_enqueue(county_code=county, benefit_year=year, actor=request.user)
    job.refresh_from_db()
    return Status(202, {"id": job.pk, "status": job.status, "result": job.result or {}})


def _report_response(request, kind: str, fmt: str, region: str | None, year: Year | None, on: dt.date | None):
    scope = request.auth
    scope.require("reports.export")
    if kind not in ("weekly", "biweekly") or fmt not in ("xlsx", "pdf"):
        raise Http404("报表应为 weekly（每周公布表）或 biweekly（两周通报），格式 xlsx 或 pdf。")
    on = _on(on)
    region, year = _ensure(scope, region, year, request.user, on)
    build = reports.weekly_report if kind == "weekly" else reports.biweekly_report
    report = build(scope=scope, region_code=region, benefit_year=year, on=on)
    content = reports.report_xlsx(report) if fmt == "xlsx" else reports.report_pdf(report)
    event_record(
        county_code=region[:6], entity="export", entity_id=f"progress_{kind}", action="export", actor=request.user,
        after={"region": region, "benefit_year": year, "format": fmt, "rows": len(report.rows)}, reason=f"导出{report.title}",
    )
    response = HttpResponse(content, content_type=XLSX if fmt == "xlsx" else "application/pdf")
    from yibao.core.downloads import content_disposition

    response["Content-Disposition"] = content_disposition(report.filename + "." + fmt)
    return response


@router.get("/progress/reports/{kind}.{fmt}", summary="下载进度报表：weekly 每周公布表（各村）、biweekly 两周通报（各乡镇），xlsx 或 pdf")
def progress_report(request, kind: str, fmt: str, region: str | None = None, year: Year | None = None, on: AsOf = None):
    return _report_response(request, kind, fmt, region, year, on)


@router.get("/remind", response=RemindOut, summary="催缴名单：上年参保、本年未缴费的居民（按村），含户号、电话、应缴金额")
def remind_list(request, village: str, year: Year | None = None, state: str = "open"):
    scope = request.auth
    scope.require("remind.view")
    year = _year(scope, village, year)
    if state not in REMIND_STATES:
        raise Http404("state 应为 open、refused、closed 或 all。")
    rows = remind.remind_rows(scope=scope, village_code=village, benefit_year=year, state=state)
    return {"village_code": village, "benefit_year": year, "state": state, "count": len(rows), "people": reports.remind_json(rows)}


@router.get("/remind/export.xlsx",
            summary="导出催缴名单（xlsx）：village 一个村；region 为乡镇或县时一个工作簿，每村一个工作表，另有汇总表")
def remind_export(request, village: str | None = None, region: str | None = None, year: Year | None = None,
                  state: str = "open"):
    from yibao.core.downloads import content_disposition
    from yibao.progress import remindbook

    scope = request.auth
    scope.require("remind.view")
    code = (village or region or scope.region_code or "").strip()
    if not (code.isdigit() and len(code) in (6, 9, 12)):
        raise Http404("请指定 village（12位村级代码）或 region（6位县级、9位乡镇级代码）。")
    if state not in REMIND_STATES:
        raise Http404("state 应为 open、refused、closed 或 all。")
    scope.require_region(code)
    year = _year(scope, code, year)
    content, people, filename = remindbook.remind_export(scope=scope, code=code, year=year, state=state)
    event_record(
        county_code=code[:6], entity="export", entity_id="remind", action="export", actor=request.user,
        after={("village" if len(code) == 12 else "region"): code, "benefit_year": year, "rows": people},
        reason="导出催缴名单",
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(filename)
    return response


@router.post("/remind/{resident_id}/marks", response={201: MarkOut, 400: ErrorOut},
             summary="标记催缴结果：contacted 已联系、refused 拒缴（须填说明）、moved_away 已迁出、employee_insurance 已参加职工医保、deceased 已死亡")
def remind_mark(request, resident_id: DbId, payload: MarkIn):
    from yibao.registry.undo import status_change_apply

    scope = request.auth
    scope.require("remind.mark")
    resident = remind.remind_resident(scope=scope, resident_id=resident_id)
    try:
        mark, change = status_change_apply(
            actor=request.user, resident=resident, kind="remind_mark", capability="remind.mark",
            title=f"{resident.name} 已标记为{dict(RemindMark.Outcome.choices).get(payload.outcome, payload.outcome)}",
            do=lambda: services.remind_mark(actor=request.user, resident=resident, benefit_year=payload.benefit_year,
                                            outcome=payload.outcome, note=payload.note))
    except ValidationError as exc:
        return error_response(exc)
    return Status(201, {
        "id": mark.pk, "resident_id": resident.pk, "resident_name": resident.name, "outcome": mark.outcome,
        "outcome_label": RemindMark.Outcome(mark.outcome).label, "note": mark.note, "marked_at": mark.marked_at,
        "marked_by": mark.marked_by_name, "effects": mark.effects, "undo_change_id": change.pk,
    })
