import dataclasses
import tempfile

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yibao.accounts.decorators import scoped_view
from yibao.accounts.forms import apply_errors
from yibao.core.clock import business_today
from yibao.core.inputs import parse_id, parse_year
from yibao.core.jobs import job_enqueue
from yibao.core.selectors import job_list, job_progress
from yibao.core.downloads import region_file_name
from yibao.core.services import event_record
from yibao.reconciliation import exports, rectify, selectors, services
from yibao.reconciliation.forms import HandoverForm, RunStartForm, VoidForm
from yibao.reconciliation.models import Mismatch
from yibao.regions.selectors import county_label, region_labels, region_options

PAGE_SIZE = 50


def _county_and_year(request) -> tuple[str, int | None, list[str], list[int]]:
    scope = request.scope
    counties = selectors.counties_with_campaigns(scope=scope)
    county = scope.county_code or request.GET.get("county") or (counties[0] if counties else "")
    if not scope.covers_county(county) and county:
        raise PermissionDenied(f"县 {county} 不在当前账号的管辖范围内。")
    years = selectors.campaign_years(scope=scope, county_code=county) if county else []
    year = parse_year(request.GET.get("year")) or (years[0] if years else None)
    return county, year, counties, years


# ---------------------------------------------------------------- runs


@scoped_view("reconcile.view")
def runs(request):
    scope = request.scope
    county, year, counties, years = _county_and_year(request)
    calendar = selectors.month_check(scope=scope, county_code=county, benefit_year=year) if county and year else None
    rows = selectors.run_list(scope=scope, county_code=county or None, benefit_year=year)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page)
    shown = selectors.run_counts_in_scope(scope=scope, runs=items)
    for run in items:
        run.shown_total = shown.get(run.pk, 0)
    return render(request, "reconciliation/runs.html", {
        "page": page, "items": items, "calendar": calendar, "county": county, "year": year, "years": years,
        "counties": counties, "can_run": scope.can("reconcile.run"), "partial": scope.level not in (None, 6) and not scope.above_county,
    })


def _job_context(request, job_id) -> dict:
    job = get_object_or_404(job_list(scope=request.scope, kinds=[services.JOB_KIND]), pk=job_id)
    return {"job": job, "progress": job_progress(job)}


@scoped_view("reconcile.run")
def run_new(request):
    scope = request.scope
    county, year, counties, years = _county_and_year(request)
    form = RunStartForm(request.POST or None, request.FILES or None, years=years, initial={"benefit_year": year})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.run_authorize(actor=request.user, county_code=county)
            services.run_params_check(county_code=county, benefit_year=data["benefit_year"], as_of=data["as_of"])
            path = services.tax_file_store(uploaded=data["tax_file"])
            job = services.run_job_create(
                county_code=county, benefit_year=data["benefit_year"], as_of=data["as_of"], tax_file=path,
                file_name=data["tax_file"].name, cash_grace_days=data["cash_grace_days"], actor=request.user,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            job_enqueue(job)
            query = f"?job={job.pk}" + (f"&county={county}" if not scope.region_code else "")
            return redirect(reverse("reconciliation:run_new") + query)
    context = {"form": form, "county": county, "year": year}
    job_id = parse_id(request.GET.get("job"), label="对账任务", field="job")
    if job_id:
        context.update(_job_context(request, job_id))
    return render(request, "reconciliation/run_new.html", context)


@scoped_view("reconcile.view")
def job_run_link(request, pk: int):
    """Polled beside the progress bar: once the job is done, the link to its run (or its error)."""
    return render(request, "reconciliation/_run_link.html", _job_context(request, pk))


def _filters(request, run) -> dict:
    kind = request.GET.get("kind") or None
    if kind and kind not in Mismatch.Kind.values:
        kind = None
    responsible = request.GET.get("responsible") or None
    if responsible and responsible not in Mismatch.Responsible.values:
        responsible = None
    state = request.GET.get("state") or None
    if state not in ("open", "rectified"):
        state = None
    return {
        "kind": kind, "region": (request.GET.get("region") or "").strip() or None, "responsible": responsible,
        "new_only": request.GET.get("new") == "1", "state": state,
    }


def _phones(items) -> None:
    """Tap-to-call: the person's phone (through the payment, else the ID number) and the responsible collector's."""
    from yibao.accounts.models import User
    from yibao.collection.models import Payment
    from yibao.registry.models import Resident

    by_payment = dict(
        Payment.objects.filter(pk__in=[m.payment_id for m in items if m.payment_id], resident__isnull=False)
        .values_list("pk", "resident__phone")
    )
    numbers = {m.id_number for m in items if m.id_number and not by_payment.get(m.payment_id)}
    by_number = {}
    if numbers and items:
        for number, phone in Resident.objects.filter(county_code=items[0].county_code, id_number__in=numbers).exclude(
            phone=""
        ).values_list("id_number", "phone"):
            by_number[number] = phone
    user_ids = {int(m.collector_key[1:]) for m in items if m.collector_key[1:].isdigit() and m.collector_key[:1] == "u"}
    users = dict(User.objects.filter(pk__in=user_ids).exclude(phone="").values_list("pk", "phone")) if user_ids else {}
    for m in items:
        m.person_phone = by_payment.get(m.payment_id) or by_number.get(m.id_number, "")
        key = m.collector_key
        m.responsible_phone = users.get(int(key[1:]), "") if key[:1] == "u" and key[1:].isdigit() else ""


@scoped_view("reconcile.view")
def run_detail(request, pk: int):
    scope = request.scope
    run = selectors.run_get(scope=scope, pk=pk)
    filters = _filters(request, run)
    rows = selectors.by_severity(selectors.mismatch_list(scope=scope, run=run, **filters))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page)
    labels = region_labels(m.village_code or m.township_code for m in items)
    _phones(items)
    for m in items:
        m.shown_id = scope.show_id(m.id_number) if m.id_number else ""
        m.shown_other_id = scope.show_id(m.other_id_number) if m.other_id_number else ""
        m.place = labels.get(m.village_code or m.township_code, "") if (m.village_code or m.township_code) else "（未知）"
        m.is_new = m.first_seen_run_id == run.pk
        m.may_rectify = rectify.may_rectify(scope, m)
    # a city or province picks among the run's county's townships and villages, not its whole area's
    places = dataclasses.replace(scope, region_code=run.county_code) if scope.above_county else scope
    regions = region_options(scope=places, level=9) + region_options(scope=places, level=12)
    regions.sort()
    resolved = selectors.resolved_since_previous(scope=scope, run=run)
    partial = scope.level not in (None, 6) and not scope.above_county
    changes = selectors.changes_in_scope(scope=scope, run=run)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "reconciliation/run_detail.html", {
        "run": run, "page": page, "items": items, "counts": selectors.mismatch_counts(scope=scope, run=run),
        "by_responsible": selectors.responsible_counts(scope=scope, run=run), "filters": filters,
        "kinds": Mismatch.Kind.choices, "responsibles": Mismatch.Responsible.choices, "regions": regions,
        "resolved_count": resolved.count(), "resolved": list(resolved[:20]), "query": query.urlencode(),
        "partial": partial, "changes": changes, "open_count": selectors.my_open_mismatches(scope=scope, run=run).count(),
        "back": request.get_full_path(), "county_name": county_label(run.county_code),
    })


@require_POST
@scoped_view("reconcile.view")
def mismatch_rectify(request, pk: int):
    """已整改 on one difference (the confirm button of its card), then back to the list."""
    mismatch = selectors.mismatch_get(scope=request.scope, pk=pk)
    note = (request.POST.get("note") or "")[:400]
    try:
        rectify.mismatch_rectify(mismatch=mismatch, actor=request.user, note=note)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        who = mismatch.person_name or mismatch.external_id or mismatch.receipt_no or mismatch.responsible_name
        messages.success(request, f"已将“{mismatch.get_kind_display()}：{who}”标记为已整改，下次对账时复核。")
    back = request.POST.get("next") or ""
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("reconciliation:run_detail", pk=mismatch.run_id)


@scoped_view("reconcile.view")
def run_export(request, pk: int):
    scope = request.scope
    run = selectors.run_get(scope=scope, pk=pk)
    filters = _filters(request, run)
    handle = tempfile.TemporaryFile(dir=settings.VAR_DIR)
    count = exports.mismatches_xlsx(scope=scope, run=run, target=handle, **filters)
    handle.seek(0)
    event_record(
        county_code=run.county_code, entity="export", entity_id=f"reconciliation_run:{run.pk}", action="export",
        actor=request.user, after={"rows": count, **{k: v for k, v in filters.items() if v}}, reason="导出对账差异",
    )
    name = region_file_name(run.county_code, "对账差异", run.benefit_year, extra=f"{run.ran_on:%Y%m%d}第{run.pk}次")
    return FileResponse(handle, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@scoped_view("reconcile.view")
def run_error_report(request, pk: int):
    from pathlib import Path

    run = selectors.run_get(scope=request.scope, pk=pk)
    if not request.scope.reads_county_files:
        # the tax file's bad rows, as given: whole ID numbers of the whole county
        raise PermissionDenied("税务文件错误报告含全县完整身份证号码，只有县级经办账号可以下载。")
    if not run.error_report_path or not Path(run.error_report_path).exists():
        raise Http404("该次对账的税务文件没有错误行。")
    return FileResponse(open(run.error_report_path, "rb"), as_attachment=True, filename=Path(run.error_report_path).name)


# ---------------------------------------------------------------- cash handovers


@scoped_view("payments.view")
def handovers(request):
    scope = request.scope
    county, year, _counties, years = _county_and_year(request)
    region = (request.GET.get("region") or "").strip() or None
    may_record = services.handover_may_record(scope)
    villages = region_options(scope=scope, level=12)
    collectors = selectors.handover_collectors(scope=scope, benefit_year=year) if may_record else []
    form = HandoverForm(request.POST or None, years=years, collectors=collectors, villages=villages,
                        initial={"benefit_year": year})
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied("现金交款须由接收现金的乡镇（街道）或县级人员登记，当前账号无权登记。")
        if form.is_valid():
            data = form.cleaned_data
            collector = None
            if data["collector"].startswith("u"):
                from yibao.accounts.models import User

                collector = User.objects.filter(pk=int(data["collector"][1:])).first()
                if collector is None or not scope.contains(collector.region_code):
                    raise PermissionDenied("该征收员不在当前账号的管辖范围内。")
            name = data["collector"][1:] if data["collector"].startswith("n") else data["collector_name"]
            try:
                handover = services.handover_record(
                    actor=request.user, village_code=data["village_code"], benefit_year=data["benefit_year"],
                    collector=collector, collector_name=name, period_start=data["period_start"],
                    period_end=data["period_end"], handed_on=data["handed_on"], amount=data["amount"], note=data["note"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"已登记 {handover.collector_name} 交款 {handover.amount} 元。")
                return redirect(reverse("reconciliation:handovers") + f"?year={handover.benefit_year}")
    rows = selectors.handover_list(scope=scope, benefit_year=year, region=region)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page)
    labels = region_labels(h.village_code for h in items)
    for h in items:
        h.place = labels.get(h.village_code, h.village_code)
    summary = selectors.cash_by_collector(scope=scope, benefit_year=year) if year else []
    village_names = region_labels(v for r in summary for v in r["villages"])
    for r in summary:
        r["places"] = [village_names.get(v, v) for v in r["villages"]]
    return render(request, "reconciliation/handovers.html", {
        "page": page, "items": items, "form": form, "may_record": may_record, "year": year, "years": years,
        "region": region or "", "villages": villages, "summary": summary, "void_form": VoidForm(auto_id=False),
        "today": business_today(),
    })


@require_POST
@scoped_view("payments.view")
def handover_void(request, pk: int):
    handover = selectors.handover_get(scope=request.scope, pk=pk)
    form = VoidForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写作废原因。")
    else:
        try:
            services.handover_void(actor=request.user, handover=handover, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已作废 {handover.collector_name} {handover.handed_on:%Y-%m-%d} 的交款记录。")
    return redirect(reverse("reconciliation:handovers") + f"?year={handover.benefit_year}")
