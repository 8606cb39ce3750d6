from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from yibao.accounts.decorators import scoped_view
from yibao.core.models import Job
from yibao.core.selectors import event_list, event_shown, job_list, job_progress, job_report_preview


@scoped_view
def home(request):
    """The tiles of the user's menu, and above them what needs doing in the user's area."""
    from yibao.progress.selectors import benefit_year_default
    from yibao.progress.home import home_cards
    from yibao.progress.services import progress_ensure

    scope = request.scope
    if scope.region_code and not scope.above_county and scope.can("progress.view"):
        year = benefit_year_default(scope.county_code)
        if year:
            progress_ensure(county_code=scope.county_code, benefit_year=year, actor=request.user)
    counter = bool(scope.region_code) and scope.can("payments.collect") and scope.level in (9, 12)
    return render(request, "core/home.html", {"cards": home_cards(scope=scope), "counter_search": counter})


def _visible_job(request, pk: int) -> Job:
    return get_object_or_404(job_list(scope=request.scope), pk=pk)


@scoped_view("jobs.view")
def job_progress_partial(request, pk: int):
    job = _visible_job(request, pk)
    progress = job_progress(job)  # settles a job left running by a killed process first
    return render(request, "core/_job_progress.html", {"job": job, "progress": progress,
                                                       "preview": job_report_preview(job, scope=request.scope)})


@scoped_view("jobs.view")
def job_report(request, pk: int):
    job = _visible_job(request, pk)
    if not request.scope.reads_county_files:
        # reports quote the rows as they were given, whole ID numbers of the whole county included
        raise PermissionDenied("错误报告含全县完整身份证号码，只有县级经办账号可以下载；当前账号只能在任务页查看脱敏预览。")
    if not job.report_path or not Path(job.report_path).exists():
        raise Http404("该任务没有错误报告。")
    return FileResponse(open(job.report_path, "rb"), as_attachment=True, filename=Path(job.report_path).name)


@require_POST
@scoped_view("jobs.view")
def job_report_regenerate(request, pk: int):
    """The 重新生成报告 button of a job that is 已写入，报告未生成: the partial again (htmx), or back to the page."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError

    from yibao.core.services import job_fail_if_interrupted
    from yibao.core.services import job_report_regenerate as regenerate

    job = job_fail_if_interrupted(job=_visible_job(request, pk))
    try:
        job = regenerate(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        error = "；".join(exc.messages)
    else:
        messages.success(request, f"任务 #{job.pk} 的报告已重新生成。")
        error = ""
    if request.headers.get("HX-Request"):
        return render(request, "core/_job_progress.html", {"job": job, "progress": job_progress(job), "error": error})
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = "/"
    return redirect(back)


def _event_filters(request):
    from yibao.core.eventlog import event_filters
    from yibao.core.inputs import BadInput

    try:
        return event_filters(request.GET), ""
    except BadInput as exc:
        return None, exc.message


@scoped_view("audit.view")
def events(request):
    """The change log in sentences, filtered by person, user, action and dates."""
    from yibao.core.eventlog import action_choices, county_title
    from yibao.core.eventtext import event_rows

    scope = request.scope
    filters, error = _event_filters(request)
    rows = event_list(scope=scope, entity=request.GET.get("entity") or None,
                      entity_id=(request.GET.get("id") or "")[:64] or None, **(filters or {}))
    if filters is None:
        rows = rows.none()
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    page.object_list = event_rows([event_shown(e, scope=scope) for e in page.object_list])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "core/events.html", {
        "page": page, "error": error, "actions": action_choices(), "f": request.GET,
        "county": county_title(scope.region_code[:6]), "export_query": query.urlencode(),
    })


@scoped_view("audit.view")
def events_export(request):
    """The change log with the page's filters, as an xlsx for audit (an export is an event too)."""
    import tempfile
    from urllib.parse import quote

    from django.contrib import messages

    from yibao.core.clock import business_today
    from yibao.core.eventlog import events_export as write, export_file_name
    from yibao.core.services import event_record, export_counties

    scope = request.scope
    filters, error = _event_filters(request)
    if filters is None:
        messages.error(request, error)
        return redirect("core:events")
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    handle.close()
    count = write(events=event_list(scope=scope, **filters), path=handle.name)
    shown = {k: str(v) for k, v in filters.items() if v}
    for county in export_counties(scope):
        event_record(county_code=county, entity="export", entity_id="events", action="export",
                     actor=request.user, after={"rows": count, **shown}, reason="导出变更记录")
    response = FileResponse(open(handle.name, "rb"), as_attachment=True,
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(export_file_name(scope, business_today()))}"
    Path(handle.name).unlink(missing_ok=True)  # the open handle keeps the data until it is sent
    return response


@never_cache
@require_safe
def healthz(request):
    """For monitors, without login: 200 when the database answers, the worker's heartbeat is fresh
    and the disk has room; otherwise 503. Either way a JSON body says which check failed and why."""
    from yibao.core.health import health_report

    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503,
                        json_dumps_params={"ensure_ascii": False})
