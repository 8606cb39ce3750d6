"""API of the roll-ups above the county: a city's counties (a province's cities) ranked, and its 周报."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpResponse
from ninja import Router, Schema

from yibao.core.api_types import IsoDate, Money, Year
from yibao.progress import rollup, rollup_reports
from yibao.progress.rollup_views import ensure_counted

router = Router(tags=["进度与报表"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RollupRowOut(Schema):
    code: str
    name: str
    level: int
    target: int | None
    paid: int
    enrolled: int
    amount: Money
    rate: float | None
    share: float | None
    expected: int | None
    behind: int | None
    on_pace: bool | None
    gap: int | None
    special_people: int
    special_enrolled: int
    special_rate: float | None
    last_year: int
    renewed: int
    renewal_rate: float | None
    remind_closed: int
    remind_open: int
    remind_refused: int
    counties: int
    counties_open: int
    counties_targeted: int
    enrolled_targeted: int  # 已下达目标的县的参保人数：合计的参保率、差额按它计算
    reconcile_status: str
    reconcile_label: str
    reconcile_ok: int
    reconcile_judged: int
    reconcile_runs: int
    reconcile_required: int | None
    last_run: dt.date | None
    mismatches: int
    rank: int | None
    rank_of: int | None
    marks: list[str]


class RollupOut(Schema):
    region_code: str
    name: str
    level: int
    benefit_year: int
    on: dt.date
    as_of: str
    source: str
    sort: str
    total: RollupRowOut
    rows: list[RollupRowOut]


def row_out(row: rollup.RollupRow) -> dict:
    out = row.as_dict()
    for key in ("rate", "share", "special_rate", "renewal_rate"):
        out[key] = None if out[key] is None else float(out[key])
    out["amount"] = f"{row.amount:.2f}"
    return out


def rollup_out(result: rollup.Rollup, sort: str) -> dict:
    return {
        "region_code": result.region_code, "name": result.name, "level": result.level,
        "benefit_year": result.benefit_year, "on": result.on, "as_of": result.as_of_label, "source": result.source,
        "sort": sort, "total": row_out(result.total), "rows": [row_out(r) for r in result.rows],
    }


def _checked(scope, region: str | None, year: int | None, on: dt.date | None) -> tuple[str, int, dt.date | None]:
    from yibao.progress.snapshots import check_day

    code = rollup.check_region(scope, region)
    year = year or rollup.year_default(code)
    if not year:
        raise Http404("该市（省）的各县还没有征缴年度或目标任务，请指定待遇年度（year）。")
    return code, year, check_day(on)


@router.get("/progress/rollup", response=RollupOut,
            summary="市、省汇总：各县（市）的目标、参保、已缴、金额、参保率、序时、待催缴、对账达标和排名；合计为各部分之和")
def progress_rollup(request, region: str | None = None, year: Year | None = None, on: IsoDate | None = None,
                    sort: str = "rate"):
    scope = request.auth
    scope.require("progress.view")
    code, year, on = _checked(scope, region, year, on)
    ensure_counted(region_code=code, benefit_year=year, on=on, actor=request.user)
    sort = sort if sort in rollup.SORTS else "rate"
    return rollup_out(rollup.rollup(scope=scope, region_code=code, benefit_year=year, on=on, sort=sort), sort)


@router.get("/progress/rollup/weekly.{fmt}", summary="下载市（省）周报：各县（市）进度并列，xlsx 或 pdf")
def progress_rollup_report(request, fmt: str, region: str | None = None, year: Year | None = None,
                           on: IsoDate | None = None):
    scope = request.auth
    scope.require("reports.export")
    if fmt not in ("xlsx", "pdf"):
        raise Http404("报表格式应为 xlsx 或 pdf。")
    code, year, on = _checked(scope, region, year, on)
    ensure_counted(region_code=code, benefit_year=year, on=on, actor=request.user)
    report = rollup_reports.rollup_weekly(scope=scope, region_code=code, benefit_year=year, on=on)
    content = rollup_reports.render(report, fmt)
    rollup_reports.record_export(code=code, year=year, fmt=fmt, report=report, actor=request.user)
    from yibao.core.downloads import content_disposition

    response = HttpResponse(content, content_type=XLSX if fmt == "xlsx" else "application/pdf")
    response["Content-Disposition"] = content_disposition(f"{report.filename}.{fmt}")
    return response
