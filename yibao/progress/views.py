"""Pages of progress: the dashboard, targets, 催缴 (with the 12-10 comparison) and report downloads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from yibao.accounts.decorators import scoped_view
from yibao.core.downloads import content_disposition
from yibao.core.inputs import parse_date, parse_year, posted_text
from yibao.core.services import event_record
from yibao.core.uploads import upload_check
from yibao.progress import remind as reminders
from yibao.progress import remindbook, reports, selectors, services, snapshots
from yibao.progress.models import RemindMark, Target
from yibao.progress.pace import AMBER_POINTS, percent, standing_colour
from yibao.regions.selectors import county_pick, region_labels, scope_counties

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _messages(exc: ValidationError) -> list[str]:
    return exc.messages


def _year_param(request, county: str) -> int | None:
    year = parse_year(request.GET.get("year") or request.POST.get("year"))
    return year or selectors.benefit_year_default(county)


def _on_param(request) -> dt.date | None:
    """The day asked for (on=YYYY-MM-DD), not later than today; a bad one is a 400 with a Chinese message."""
    return snapshots.check_day(parse_date(request.GET.get("on"), label="统计日期", field="on"))


def _region_param(request, *names: str) -> str:
    """The region asked for, else the user's own; a superuser without a region starts at the first county."""
    code = next((request.GET.get(n) or request.POST.get(n) for n in (*names, "region") if request.GET.get(n) or request.POST.get(n)), "")
    if not code and not request.scope.region_code:
        from yibao.regions.models import Region

        code = Region.objects.filter(level=6).order_by("code").values_list("code", flat=True).first() or ""
    return selectors._visible_region(request.scope, code)


def _by_rate(units) -> list:
    """Highest rate first; units without a rate (no target, 0 of 0) last, by code."""
    return sorted(units, key=lambda u: (u.rate is None, -(u.rate or 0), -u.enrolled, u.code))


def furthest_behind(tree, unit, limit: int = 10) -> list[dict]:
    """The villages under `unit` furthest behind: points below 序时进度 (or below the whole target when the
    window is unknown), then people behind; only villages with a target that are not on pace."""
    if unit.level >= 12:
        return []
    reference = tree.share if tree.share is not None else Decimal(1)
    rows = []
    for v in tree.descendants(unit.code, 12):
        if v.rate is None or v.on_pace is True or (v.on_pace is None and v.rate >= reference):
            continue
        behind = v.behind if v.behind is not None else (v.gap or 0)
        rows.append({"unit": v, "points": reference - v.rate, "behind": behind,
                     "colour": standing_colour(v.rate, tree.share, v.on_pace),
                     "township": tree.units[v.code[:9]].name if v.code[:9] in tree.units else v.code[:9]})
    rows.sort(key=lambda r: (-r["points"], -r["behind"], r["unit"].code))
    return rows[:limit]


def _chart_data(overview: dict, history: list[dict], keep: str = "") -> dict:
    unit, tree = overview["unit"], overview["tree"]
    children = _by_rate(overview["children"])
    return {
        "unit": {"code": unit.code, "name": unit.name, "level": unit.level},
        "pace": float(tree.share) if tree.share is not None else None,
        "amber_points": float(AMBER_POINTS),
        "units": [
            {"code": u.code, "name": u.name, "rate": float(u.rate) if u.rate is not None else None, "enrolled": u.enrolled,
             "target": u.target, "on_pace": u.on_pace, "colour": standing_colour(u.rate, tree.share, u.on_pace),
             "url": "?" + urlencode({"region": u.code, "year": tree.benefit_year}) + keep}
            for u in children
        ],
        "history": {
            "days": [r["day"].isoformat() for r in history],
            "cumulative": [r["cumulative"] for r in history],
            "expected": [r["expected"] for r in history],
            "target": unit.target,
        },
        "special": {
            "people": unit.special_people, "enrolled": unit.special_enrolled,
            "rate": float(unit.special_rate) if unit.special_rate is not None else None,
            "goal": float(overview["goals"]["special_groups_rate"]),
        },
    }


@scoped_view("progress.view")
def dashboard(request):
    """County → township → village; a user starts at their own region (a city or province at its roll-up)."""
    from yibao.progress import rollup_views

    scope = request.scope
    if rollup_views.wants_rollup(request):
        return rollup_views.rollup_page(request)
    region = _region_param(request)
    year = _year_param(request, region[:6])
    if not year:
        return render(request, "progress/empty.html", {"region": region})
    on = _on_param(request)
    state = services.progress_ensure(county_code=region[:6], benefit_year=year, actor=request.user, on=on)
    overview = selectors.progress_overview(scope=scope, region_code=region, benefit_year=year, on=on)
    tree, unit = overview["tree"], overview["unit"]
    history = selectors.history_rows(
        county_code=tree.county_code, benefit_year=year, region_code=unit.code, target=unit.target, window=tree.window,
        until=tree.on,
    )
    parent = None
    if unit.level > 6 and scope.contains(unit.parent_code):
        parent = tree.units.get(unit.parent_code)
    keep = f"&on={tree.on.isoformat()}" if request.GET.get("on") else ""  # an "as of" view stays as of that day
    villages = [(v, tree.units[v.code[:9]].name if v.code[:9] in tree.units else v.code[:9]) for v in overview["villages"]]
    return render(request, "progress/dashboard.html", {
        **overview, "year": year, "refresh_state": state, "parent": parent, "keep": keep, "village_rows": villages,
        "chart_data": _chart_data(overview, history, keep), "behind": furthest_behind(tree, unit), "pace_text": percent(tree.share) if tree.share is not None else "—",
        "can_export": scope.can("reports.export"), "can_remind": scope.can("remind.view"),
        "can_refresh": scope.can("progress.refresh"), "today": snapshots.business_today(),
        "path": [u for u in overview["path"] if scope.contains(u.code)],
        "above": rollup_views.path_of(scope, unit.code),
    })


@require_POST
@scoped_view("progress.refresh")
def refresh(request):
    scope = request.scope
    county = scope.county_code or (request.POST.get("county") or "")[:6]
    if not county:
        raise Http404("请指定县。")
    year = _year_param(request, county)
    job = services.progress_refresh_enqueue(county_code=county, benefit_year=year, actor=request.user)
    job.refresh_from_db()
    if job.status == job.Status.SUCCEEDED:
        messages.success(request, "已重新统计征缴进度。")
    else:
        messages.info(request, "已开始重新统计征缴进度，稍后刷新页面查看。")
    back = request.POST.get("next") or reverse("progress:dashboard")
    return redirect(back if back.startswith("/") else reverse("progress:dashboard"))


# ---------------------------------------------------------------- targets


@scoped_view("progress.view")
def targets(request):
    scope = request.scope
    if scope.above_county and len(scope.region_code) == 4:  # a city sets its counties' targets
        return redirect("progress:city_targets")
    county = county_pick(scope=scope, requested=request.GET.get("county"))
    year = _year_param(request, county) if county else None
    rows = selectors.target_list(scope=scope, benefit_year=year, region=county if scope.above_county else None) if year else []
    labels = region_labels(t.region_code for t in rows)
    for t in rows:
        t.label = labels.get(t.region_code, t.region_code)
    years = selectors.target_years(scope=scope)
    if year and year not in years:
        years = sorted({*years, year}, reverse=True)
    return render(request, "progress/targets.html", {
        "rows": rows, "year": year, "years": years, "can_manage": scope.can("targets.manage") and bool(county),
        "county": county, "county_choices": scope_counties(scope=scope) if scope.above_county else [],
        "county_keep": [("year", year)] if year else [],
    })


@require_POST
@scoped_view("targets.manage")
def targets_import(request):
    upload = request.FILES.get("file")
    year_raw = (request.POST.get("year") or "").strip()
    back = reverse("progress:targets")
    if upload is None:
        messages.error(request, "请选择任务表文件（xlsx 或 csv）。")
        return redirect(back)
    try:
        upload_check(upload)
        result = services.targets_import(
            actor=request.user, content=upload.read(), filename=upload.name,
            county_code=county_pick(scope=request.scope, requested=request.POST.get("county")) or None,
            benefit_year=parse_year(year_raw),
            township_code=(request.POST.get("township") or "").strip() or None,
            accept_total_mismatch=request.POST.get("accept_total_mismatch") == "1",
        )
    except ValidationError as exc:
        for message in _messages(exc)[:20]:
            messages.error(request, message)
        return redirect(back)
    sums = result["sums"]
    messages.success(
        request, f"已导入{result['file']}：{result['rows']}行，新增{result['imported']}、更新{result['updated']}、"
        f"未变{result['unchanged']}，应参保人数合计{sums['total']}。",
    )
    for warning in result["warnings"]:
        messages.warning(request, warning)
    return redirect(f"{back}?year={result['benefit_year']}")


@scoped_view("targets.manage")
def target_edit(request, code: str, year: int):
    scope = request.scope
    scope.require_region(code)
    target = Target.objects.filter(region_code=code, benefit_year=year).first()
    label = region_labels([code]).get(code, code)
    errors: dict[str, list[str]] = {}
    data = request.POST if request.method == "POST" else {
        "total": target.total if target else "", "special": target.special if target and target.special is not None else "",
        "others": target.others if target and target.others is not None else "",
        "population": target.population if target and target.population is not None else "",
        "supplementary": target.supplementary if target and target.supplementary is not None else "", "reason": "",
    }
    if request.method == "POST":
        try:
            services.target_set(
                actor=request.user, region_code=code, benefit_year=year, total=data.get("total"),
                special=data.get("special") or None, others=data.get("others") or None,
                population=data.get("population") or None, supplementary=data.get("supplementary") or None,
                reason=posted_text(data, "reason", label="调整原因", max_length=200),
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        else:
            messages.success(request, f"已调整{label}的{year}年度目标任务。")
            return redirect(f"{reverse('progress:targets')}?year={year}")
    return render(request, "progress/target_edit.html", {
        "target": target, "code": code, "year": year, "label": label, "data": data, "errors": errors,
    })


@require_POST
@scoped_view("targets.manage")
def targets_derive(request):
    scope = request.scope
    county = county_pick(scope=scope, requested=request.POST.get("county"))
    if not county:
        messages.error(request, "请选择县（区）。")
        return redirect(reverse("progress:targets"))
    year = _year_param(request, county)
    basis = request.POST.get("basis", "last_year")
    try:
        result = services.targets_derive(actor=request.user, county_code=county, benefit_year=year, basis=basis,
                                         growth_percent=request.POST.get("growth") or 0)
    except (ValidationError, ArithmeticError) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, f"已生成 {result['villages']} 个村的目标任务（保留导入或手工调整的 {result['kept']} 个）。")
        for warning in result["warnings"]:
            messages.warning(request, warning)
    return redirect(f"{reverse('progress:targets')}?year={year}&county={county}")


# ---------------------------------------------------------------- reports


def _download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename)
    return response


@scoped_view("reports.export")
def report(request, kind: str, fmt: str):
    scope = request.scope
    if kind not in ("weekly", "biweekly") or fmt not in ("xlsx", "pdf"):
        raise Http404("没有这种报表。")
    region = _region_param(request)
    year = _year_param(request, region[:6])
    if not year:
        raise Http404("该县还没有征缴年度或目标任务。")
    on = _on_param(request)
    services.progress_ensure(county_code=region[:6], benefit_year=year, actor=request.user, on=on)
    build = reports.weekly_report if kind == "weekly" else reports.biweekly_report
    result = build(scope=scope, region_code=region, benefit_year=year, on=on)
    content = reports.report_xlsx(result) if fmt == "xlsx" else reports.report_pdf(result)
    event_record(
        county_code=region[:6], entity="export", entity_id=f"progress_{kind}", action="export", actor=request.user,
        after={"region": region, "benefit_year": year, "format": fmt, "rows": len(result.rows)}, reason=f"导出{result.title}",
    )
    return _download(content, f"{result.filename}.{fmt}", XLSX if fmt == "xlsx" else "application/pdf")


# ---------------------------------------------------------------- 催缴


STATES = remindbook.STATES


@scoped_view("remind.view")
def remind(request):
    """A village's 催缴 list; above a village, the 12-10 comparison of its units with last year."""
    scope = request.scope
    region = _region_param(request, "village")
    year = _year_param(request, region[:6])
    if not year:
        return render(request, "progress/empty.html", {"region": region})
    on = _on_param(request)
    services.progress_ensure(county_code=region[:6], benefit_year=year, actor=request.user, on=on)
    if len(region) == 12:
        state = request.GET.get("state", "open")
        if state not in dict(STATES):
            state = "open"
        rows = reminders.remind_rows(scope=scope, village_code=region, benefit_year=year, state=state, on=on)
        from yibao.registry.views_undo import undo_banner

        return render(request, "progress/remind_village.html", {**undo_banner(request),
            "rows": rows, "village": region, "label": region_labels([region]).get(region, region), "year": year,
            "state": state, "states": STATES, "outcomes": RemindMark.Outcome.choices,
            "can_mark": scope.can("remind.mark"), "up": region[:9] if scope.contains(region[:9]) else None,
        })
    summary = reminders.renewal_summary(scope=scope, region_code=region, benefit_year=year, on=on)
    return render(request, "progress/remind_summary.html", {**summary, "year": year, "region": region})


@require_POST
@scoped_view("remind.mark")
def remind_mark(request, resident_id: int):
    """A 催缴 mark asks once (the sheet says what changes), then is made and may be undone for 10 minutes;
    已联系 and 拒缴 are records (no sheet), undone the same way."""
    from yibao.registry import undo
    from yibao.registry.views_undo import confirm_fragment, confirm_page, confirmed, undo_fragment, with_undo

    scope = request.scope
    resident = reminders.remind_resident(scope=scope, resident_id=resident_id)
    year = _year_param(request, resident.county_code)
    htmx = bool(request.headers.get("HX-Request"))
    back = f"{reverse('progress:remind')}?{urlencode({'village': resident.village_code, 'year': year})}"
    outcome = request.POST.get("outcome", "")
    label = dict(RemindMark.Outcome.choices).get(outcome, outcome)
    try:
        note = posted_text(request.POST, "note", label="说明", max_length=300)

        def do():
            return services.remind_mark(actor=request.user, resident=resident, benefit_year=year, outcome=outcome,
                                        note=note)

        if outcome not in RemindMark.RECORDS and not confirmed(request):  # 已联系、拒缴 change no status: no sheet
            lines = undo.status_change_preview(resident=resident, do=do)
            sheet = {"headline": f"{resident.name} 将标记为{label}", "lines": lines, "cancel_url": back,
                     "button": f"确认标记为{label}", "danger": True}
            if htmx:
                return confirm_fragment(request, hx_target="closest .mark-result", **sheet)
            return confirm_page(request, **sheet)
        mark, change = undo.status_change_apply(actor=request.user, resident=resident, kind="remind_mark",
                                                capability="remind.mark", title=f"{resident.name} 已标记为{label}", do=do)
    except ValidationError as exc:
        error = "；".join(exc.messages)
        if htmx:
            return HttpResponse(f'<p class="error" role="alert">{_escape(error)}</p>', status=200)
        messages.error(request, error)
        return redirect(back)
    text = f"{resident.name}：{mark.get_outcome_display()}" + (f"（{'；'.join(mark.effects)}）" if mark.effects else "")
    if htmx:
        return HttpResponse(f'<p class="ok" role="status">已标记 {_escape(text)}</p>'
                            + undo_fragment(request, change, next_url=back, hx_target="closest .mark-result"))
    messages.success(request, f"已标记 {text}")
    return redirect(with_undo(back, change))


def _escape(text: str) -> str:
    from django.utils.html import escape

    return escape(text)


@scoped_view("remind.view")
def remind_export(request):
    """A village's 催缴 list (?village=), or the workbook of a township or county (?region=, ?township=, ?county=)."""
    scope = request.scope
    code = next((request.GET.get(n) for n in ("village", "region", "township", "county") if request.GET.get(n)),
                scope.region_code)
    if not (code and code.isdigit() and len(code) in (6, 9, 12)):
        raise Http404("请指定村（社区）、乡镇或县的区划代码。")
    scope.require_region(code)
    year = _year_param(request, code[:6])
    if not year:
        raise Http404("该县还没有征缴年度。")
    content, people, filename = remindbook.remind_export(scope=scope, code=code, year=year,
                                                      state=request.GET.get("state", "open"), on=_on_param(request))
    event_record(
        county_code=code[:6], entity="export", entity_id="remind", action="export", actor=request.user,
        after={("village" if len(code) == 12 else "region"): code, "benefit_year": year, "rows": people},
        reason="导出催缴名单",
    )
    return _download(content, filename, XLSX)
