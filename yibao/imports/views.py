"""Pages of the imports: the history, an upload form per kind, a job with its live progress bar."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yibao.accounts.decorators import scoped_view
from yibao.accounts.forms import apply_errors
from yibao.core.jobs import job_enqueue
from yibao.core.selectors import job_progress, job_report_preview, jobs_settled
from yibao.imports import selectors, services
from yibao.imports.columns import KIND_COLUMNS, KIND_LABELS
from yibao.imports.forms import UploadForm
from yibao.imports.validation import department_name
from yibao.policy.vocabulary import group_name

PAGE_SIZE = 30
REPORT_PREVIEW = 20


def _kinds(scope) -> list[dict]:
    return [{"kind": k, "label": KIND_LABELS[k]} for k in selectors.import_kinds(scope=scope)]


@scoped_view("jobs.view")
def jobs(request):
    scope = request.scope
    kind = request.GET.get("kind", "")
    rows = selectors.import_job_list(scope=scope, kind=kind or None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = jobs_settled(page.object_list)
    for item in page:
        item.department_label = department_name((item.params or {}).get("department", ""))
    return render(request, "imports/jobs.html", {
        "page": page, "kinds": _kinds(scope), "kind": kind, "all_kinds": list(KIND_LABELS.items()),
        "sees_imports": scope.level == 6 or (scope.superuser and not scope.region_code),
    })


def _columns(kind: str) -> list[dict]:
    return [
        {"label": c.label, "required": c.required, "synonyms": [s for s in c.synonyms if s != c.label][:5]}
        for c in KIND_COLUMNS[kind]
    ]


@scoped_view("jobs.view")
def upload(request, kind: str):
    scope = request.scope
    if kind not in services.JOB_KINDS:
        raise Http404("没有这种名单。")
    scope.require(services.CAPABILITIES[kind])
    form = UploadForm(
        request.POST or None, request.FILES or None, kind=kind,
        counties=selectors.county_choices(scope=scope), departments=selectors.department_choices(scope=scope),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            path = services.upload_store(uploaded=data["file"])
            job = services.import_job_create(
                kind=kind, path=path, file_name=data["file"].name,
                county_code=data.get("county_code") or (scope.county_code if scope.region_code else ""),
                department=data.get("department", ""), actor=request.user, dry_run=bool(request.POST.get("dry_run")),
                group=data.get("group", ""),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            job_enqueue(job)  # the job page's banner says it runs, and what came of it once done
            return redirect("imports:job", pk=job.pk)
    return render(request, "imports/upload.html", {
        "form": form, "kind": kind, "kind_label": KIND_LABELS[kind], "columns": _columns(kind), "kinds": _kinds(scope),
    })


@scoped_view("jobs.view")
def job(request, pk: int):
    item = selectors.import_job_get(scope=request.scope, pk=pk)
    params = item.params or {}
    preview = job_report_preview(item, scope=request.scope, limit=REPORT_PREVIEW)
    return render(request, "imports/job.html", {
        "job": item, "progress": job_progress(item), "kind": params.get("kind", ""),
        "department": department_name(params.get("department", "")) if params.get("department") else "",
        "group": group_name(params["group"]) if params.get("group") else "",
        "preview": preview, "preview_limit": REPORT_PREVIEW,
    })


@require_POST
@scoped_view("jobs.view")
def job_commit(request, pk: int):
    """正式导入 after a 试导入: the same stored file, now written."""
    item = selectors.import_job_get(scope=request.scope, pk=pk)
    request.scope.require(services.CAPABILITIES[(item.params or {}).get("kind", "")] if (item.params or {}).get("kind")
                          in services.CAPABILITIES else "jobs.view")
    try:
        job = services.import_job_commit(job=item, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("imports:job", pk=item.pk)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("imports:job", pk=item.pk)
    job_enqueue(job)
    return redirect("imports:job", pk=job.pk)


@scoped_view("jobs.view")
def template(request, kind: str):
    """An empty xlsx with the expected header row, to fill in."""
    import xlsxwriter

    if kind not in services.JOB_KINDS:
        raise Http404("没有这种名单。")
    request.scope.require(services.CAPABILITIES[kind])
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(KIND_LABELS[kind])
    bold = book.add_format({"bold": True, "bg_color": "#F0F4F8"})
    text = book.add_format({"num_format": "@"})
    for i, column in enumerate(KIND_COLUMNS[kind]):
        sheet.write(0, i, column.label, bold)
        sheet.set_column(i, i, 20, text)  # text cells keep 18-digit ID numbers whole
    book.close()
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    from urllib.parse import quote

    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(KIND_LABELS[kind] + '模板.xlsx')}"
    return response


@scoped_view("identities.view")
def identities(request):
    """A department's list as it stands: who holds which identity it certified (ID numbers masked)."""
    from yibao.core.inputs import parse_id
    from yibao.policy.vocabulary import identity_name
    from yibao.regions.selectors import region_labels

    scope = request.scope
    clerk = scope.role == "department_clerk" and not scope.superuser
    department = scope.department if clerk else (request.GET.get("department") or "")
    if department and department not in dict(selectors.department_choices(scope=scope)):
        department = ""
    job_id = parse_id(request.GET.get("job"), label="名单", field="job")
    q = (request.GET.get("q") or "").strip()[:40]
    rows = selectors.department_identities(scope=scope, department=department or None, job_id=job_id, q=q)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    items = list(page)
    labels = region_labels(i.resident.village_code for i in items)
    for i in items:
        i.shown_id = scope.show_id(i.resident.id_number, i.resident.village_code)
        i.name_label = identity_name(i.code)
        i.department_label = department_name(i.department)
        i.place = labels.get(i.resident.village_code, i.resident.village_code)
    return render(request, "imports/identities.html", {
        "page": page, "items": items, "q": q, "job_id": job_id or "", "department": department, "clerk": clerk,
        "departments": selectors.department_choices(scope=scope),
        "department_label": department_name(department) if department else "",
    })

