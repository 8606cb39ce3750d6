from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render

from yibao.accounts.decorators import scoped_view
from yibao.core.models import Job
from yibao.core.selectors import event_list, job_list, job_progress


@scoped_view
def home(request):
    """The tiles of the user's menu, and above them what needs doing in the user's area."""
    from yibao.progress.selectors import benefit_year_default, home_cards
    from yibao.progress.services import progress_ensure

    scope = request.scope
    if scope.region_code and scope.can("progress.view"):
        year = benefit_year_default(scope.county_code)
        if year:
            progress_ensure(county_code=scope.county_code, benefit_year=year, actor=request.user)
    return render(request, "core/home.html", {"cards": home_cards(scope=scope)})


def _visible_job(request, pk: int) -> Job:
    return get_object_or_404(job_list(scope=request.scope), pk=pk)


@scoped_view("jobs.view")
def job_progress_partial(request, pk: int):
    job = _visible_job(request, pk)
    return render(request, "core/_job_progress.html", {"job": job, "progress": job_progress(job)})


@scoped_view("jobs.view")
def job_report(request, pk: int):
    job = _visible_job(request, pk)
    if not request.scope.full_id:
        # reports quote the rows as they were given, whole ID numbers included
        raise PermissionDenied("错误报告含完整身份证号码，当前账号只能在任务页查看脱敏预览。")
    if not job.report_path or not Path(job.report_path).exists():
        raise Http404("该任务没有错误报告。")
    return FileResponse(open(job.report_path, "rb"), as_attachment=True, filename=Path(job.report_path).name)


@scoped_view("audit.view")
def events(request):
    rows = event_list(scope=request.scope, entity=request.GET.get("entity") or None, entity_id=(request.GET.get("id") or "")[:64] or None)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "core/events.html", {"page": page})
