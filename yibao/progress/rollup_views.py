"""Pages of the roll-ups above the county: a city's counties ranked (a province's cities), and its 周报 downloads."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render

from yibao.accounts.decorators import scoped_view
from yibao.core.inputs import parse_date, parse_year
from yibao.progress import rollup, rollup_reports, services, snapshots
from yibao.progress.pace import percent, standing_colour

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def wants_rollup(request) -> bool:
    """A city or province code asked for, or a city or province account that asked for no region."""
    code = (request.GET.get("region") or "").strip()
    if code:
        return code.isdigit() and len(code) in (2, 4)
    return request.scope.above_county


def ensure_counted(*, region_code: str, benefit_year: int, on, actor=None) -> None:
    """Each county with a campaign is counted once (and recounted in the background when stale), as its page does."""
    from yibao.enrollment.models import Campaign

    for county in Campaign.objects.filter(county_code__startswith=region_code, benefit_year=benefit_year,
                                          imported=False).values_list("county_code", flat=True):
        services.progress_ensure(county_code=county, benefit_year=benefit_year, actor=actor, on=on)


def _params(request) -> tuple[str, int | None, object, str]:
    scope = request.scope
    code = rollup.check_region(scope, request.GET.get("region") or scope.region_code)
    year = parse_year(request.GET.get("year")) or rollup.year_default(code)
    on = snapshots.check_day(parse_date(request.GET.get("on"), label="统计日期", field="on"))
    sort = request.GET.get("sort") or "rate"
    return code, year, on, sort if sort in rollup.SORTS else "rate"


def chart_data(result: rollup.Rollup, keep: str) -> dict:
    rows = rollup.sort_rows(result.rows, "rate")
    return {
        "unit": {"code": result.region_code, "name": result.name, "level": result.level},
        "pace": float(result.total.share) if result.total.share is not None else None,
        "units": [
            {"code": r.code, "name": r.name, "rate": float(r.rate) if r.rate is not None else None, "enrolled": r.enrolled,
             "target": r.target, "on_pace": r.on_pace, "colour": standing_colour(r.rate, r.share, r.on_pace),
             "url": "?" + urlencode({"region": r.code, "year": result.benefit_year}) + keep}
            for r in rows
        ],
    }


def path_of(scope, code: str) -> list[dict]:
    """The regions above `code` the user may open (a province, its city), for breadcrumbs."""
    from yibao.regions.models import Region

    wanted = [code[:n] for n in (2, 4) if n < len(code) and scope.contains(code[:n]) and
              (not scope.region_code or len(code[:n]) >= len(scope.region_code))]
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    return [{"code": c, "name": names.get(c, c)} for c in wanted]


@scoped_view("progress.view")
def rollup_page(request):
    scope = request.scope
    code, year, on, sort = _params(request)
    if not year:
        return render(request, "progress/empty.html", {"region": code})
    ensure_counted(region_code=code, benefit_year=year, on=on, actor=request.user)
    result = rollup.rollup(scope=scope, region_code=code, benefit_year=year, on=on, sort=sort)
    keep = f"&on={result.on.isoformat()}" if request.GET.get("on") else ""
    query = {"region": code, "year": year, **({"on": result.on.isoformat()} if request.GET.get("on") else {})}
    return render(request, "progress/rollup.html", {
        "r": result, "year": year, "sort": sort, "sorts": rollup.SORTS, "keep": keep, "query": urlencode(query),
        "path": path_of(scope, code), "chart_data": chart_data(result, keep), "today": snapshots.business_today(),
        "pace_text": percent(result.total.share), "can_export": scope.can("reports.export"),
    })


@scoped_view("reports.export")
def rollup_report(request, fmt: str):
    """The city's (province's) 周报: its counties (cities) side by side, xlsx or PDF."""
    from django.http import HttpResponse

    from yibao.core.downloads import content_disposition

    if fmt not in ("xlsx", "pdf"):
        raise Http404("报表格式应为 xlsx 或 pdf。")
    code, year, on, _ = _params(request)
    if not year:
        raise Http404("该市（省）的各县还没有征缴年度或目标任务。")
    ensure_counted(region_code=code, benefit_year=year, on=on, actor=request.user)
    report = rollup_reports.rollup_weekly(scope=request.scope, region_code=code, benefit_year=year, on=on)
    content = rollup_reports.render(report, fmt)
    rollup_reports.record_export(code=code, year=year, fmt=fmt, report=report, actor=request.user)
    response = HttpResponse(content, content_type=XLSX if fmt == "xlsx" else "application/pdf")
    response["Content-Disposition"] = content_disposition(f"{report.filename}.{fmt}")
    return response

