"""The city's page of county targets (各县目标任务): each county's 应参保人数, edited together after a
confirmation sheet, or imported from a city task table. Targets stay per county; the city's is their sum."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from yibao.accounts.decorators import scoped_view
from yibao.core import confirm
from yibao.core.inputs import BadInput, parse_year, posted_text
from yibao.core.uploads import upload_check
from yibao.progress.city import (
    city_code_for,
    city_target_rows,
    city_targets_import,
    city_targets_plan,
    city_targets_set,
    city_year_default,
)

FIELD = "t_"  # t_140602: the new 应参保人数 of a county


def _city(request) -> str:
    scope = request.scope
    if scope.region_code and not scope.above_county:
        raise PermissionDenied("各县目标任务由市医保局设定；县医保局请在“目标任务”页面管理本县。")
    city = city_code_for(scope, (request.GET.get("city") or request.POST.get("city") or "").strip()[:4] or None)
    if not city:
        raise PermissionDenied("请在地址中指定市级区划代码（?city=1406）。")
    scope.require_region(city)
    return city


def _year(request, city: str) -> int:
    try:
        return parse_year(request.GET.get("year") or request.POST.get("year")) or city_year_default(city)
    except BadInput as exc:
        messages.error(request, f"{exc.message}；已显示默认年度。")
        return city_year_default(city)


def _url(request, city: str, year: int) -> str:
    extra = f"&city={city}" if not request.scope.above_county else ""
    return f"{reverse('progress:city_targets')}?year={year}{extra}"


@scoped_view("progress.view")
def city_targets(request):
    city = _city(request)
    year = _year(request, city)
    if request.method == "POST":
        request.scope.require("targets.manage")
        return _set(request, city, year)
    try:
        data = city_target_rows(scope=request.scope, city_code=city, benefit_year=year)
    except ValidationError as exc:
        raise PermissionDenied("；".join(exc.messages)) from None
    return render(request, "progress/city_targets.html", {
        "data": data, "year": year, "city": city, "can_manage": request.scope.can("targets.manage"),
        "ask_city": not request.scope.above_county, "field": FIELD,
        "can_open": request.scope.can("campaign.manage"),
    })


def _set(request, city: str, year: int):
    back = _url(request, city, year)
    totals = {key[len(FIELD):]: value.strip() for key, value in request.POST.items()
              if key.startswith(FIELD) and value.strip()}
    try:
        reason = posted_text(request.POST, "reason", label="调整原因", max_length=200)
    except BadInput as exc:
        messages.error(request, exc.message)
        return redirect(back)

    def build():
        sheet = confirm.Sheet(
            title=f"确认设定{year}年度各县目标任务", action=reverse("progress:city_targets"), cancel_url=back,
            confirm_label="确认设定",
            fields=[("city", city), ("year", str(year)), ("reason", reason)] + [(FIELD + k, v) for k, v in totals.items()],
        )
        if not reason.strip():
            sheet.error = "设定目标任务须填写原因（如：市政府2024年度目标任务分解）。"
            return sheet
        try:
            plan = city_targets_plan(actor=request.user, city_code=city, benefit_year=year, totals=totals)
        except ValidationError as exc:
            sheet.error = "；".join(exc.messages)
            return sheet
        if not plan["changes"]:
            sheet.error = "没有需要调整的县：填写的人数与现有目标任务相同。"
            return sheet
        sheet.title = f"确认设定{plan['city_name']}{year}年度各县目标任务"
        sheet.changes = [f"{c['name']}（{c['county_code']}）：{c['before'] if c['before'] is not None else '未设定'} → {c['after']}"
                         for c in plan["changes"]]
        sheet.notices = [f"原因：{reason}。各县一并设定，任何一县有误则都不写入；全市目标为各县之和。"]
        return sheet

    answer = confirm.ask(request, build, refused=back)
    if answer is not None:
        return answer
    try:
        plan = city_targets_set(actor=request.user, city_code=city, benefit_year=year, totals=totals, reason=reason)
    except ValidationError as exc:
        confirm.token_spend(request)
        for message in exc.messages:
            messages.error(request, message)
        return redirect(back)
    messages.success(request, f"已设定{len(plan['changes'])}个县的{year}年度目标任务。")
    return confirm.done(request, back)


@require_POST
@scoped_view("targets.manage")
def city_targets_upload(request):
    city = _city(request)
    year = _year(request, city)
    back = _url(request, city, year)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择全市任务表文件（xlsx 或 csv）。")
        return redirect(back)
    try:
        upload_check(upload)
        result = city_targets_import(actor=request.user, content=upload.read(), filename=upload.name, city_code=city,
                                     benefit_year=parse_year(request.POST.get("table_year")) or None,
                                     accept_total_mismatch=request.POST.get("accept_total_mismatch") == "1")
    except (ValidationError, BadInput) as exc:
        for message in getattr(exc, "messages", [getattr(exc, "message", str(exc))])[:20]:
            messages.error(request, message)
        return redirect(back)
    messages.success(request, f"已导入{result['file']}：{result['rows']}个县，新增{result['imported']}、更新{result['updated']}、"
                              f"未变{result['unchanged']}，应参保人数合计{result['sums']['total']}。")
    for warning in result["warnings"]:
        messages.warning(request, warning)
    return redirect(_url(request, city, result["benefit_year"]))
