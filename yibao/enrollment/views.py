"""Pages of campaigns, assessment (核定) and enrollments. Thin: forms in, services and selectors out."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from yibao.accounts.decorators import scoped_view
from yibao.core.eventtext import event_rows
from yibao.core.inputs import parse_year
from yibao.core.jobs import job_enqueue
from yibao.core.selectors import job_progress
from yibao.enrollment import selectors, services
from yibao.enrollment.forms import (
    AssessForm,
    CampaignOpenForm,
    CloseForm,
    ReasonForm,
    TerminateForm,
    TierForm,
    TransferForm,
)
from yibao.enrollment.models import Campaign, Enrollment
from yibao.enrollment.tasks import assessment_job_create
from yibao.policy.vocabulary import identity_name
from yibao.regions.selectors import ancestor_codes, region_label, region_labels, region_options, scope_counties

PAGE_SIZE = 50


def _form_errors(form) -> str:
    return "；".join(f"{form.fields[f].label if f in form.fields else ''}{'：' if f in form.fields else ''}{m}"
                    for f, ms in form.errors.items() for m in ms)


# ---------------------------------------------------------------- campaigns


def _open_form(scope, data=None) -> CampaignOpenForm:
    from yibao.policy.loader import list_policies
    from yibao.regions.models import Region

    if scope.above_county:  # a city or province: any of its counties (a city-wide opening is cityops' page)
        counties = [(code, f"{name}（{code}）") for code, name in scope_counties(scope=scope)]
        policies = [p for code, _ in counties for p in selectors.campaign_policies(county_code=code)]
        policies = list({p.id: p for p in policies}.values())
    elif scope.region_code:
        counties = [(scope.county_code, region_label(scope.county_code, from_level=6))]
        policies = selectors.campaign_policies(county_code=scope.county_code)
    else:
        counties = [(r.code, f"{r.name}（{r.code}）") for r in Region.objects.filter(level=6).order_by("code")]
        policies = list_policies()
    choices = [(p.id, f"{p.data.title}（{p.id}）") for p in policies]
    return CampaignOpenForm(data, counties=counties, policies=choices)


def _campaigns_page(request, form=None, status=200):
    from yibao.policy.selectors import policy_title

    scope = request.scope
    rows = list(selectors.campaign_list(scope=scope))
    names = region_labels(c.county_code for c in rows)
    for c in rows:
        c.county_name = names.get(c.county_code, c.county_code)
        c.policy_title = policy_title(c.policy_id) if not c.imported else ""
    can_manage = scope.can("campaign.manage")
    if can_manage and form is None:
        form = _open_form(scope)
    return render(request, "enrollment/campaigns.html", {"campaigns": rows, "form": form, "can_manage": can_manage},
                  status=status)


@scoped_view("enrollment.view")
def campaigns(request):
    return _campaigns_page(request)


@require_POST
@scoped_view("campaign.manage")
def campaign_open(request):
    scope = request.scope
    form = _open_form(scope, request.POST)
    if not form.is_valid():
        return _campaigns_page(request, form)
    data = form.cleaned_data
    scope.require_region(data["county_code"])
    try:
        campaign = services.campaign_open(
            county_code=data["county_code"], policy_id=data["policy_id"], actor=request.user,
            collection_start=data["collection_start"], collection_end=data["collection_end"],
        )
    except services.EnrollmentError as exc:
        form.add_error(None, str(exc))
        return _campaigns_page(request, form)
    if not scope.can("enrollment.view"):  # a city account: the county runs its 核定
        messages.success(request, f"已为{region_label(campaign.county_code, from_level=6)}开启{campaign.benefit_year}年度征缴，由该县执行核定。")
        return redirect("progress:dashboard")
    messages.success(request, f"已开启{campaign.benefit_year}年度征缴。下一步：执行核定。")
    return redirect("enrollment:campaign", campaign.pk)


@scoped_view("enrollment.view")
def campaign(request, pk: int):
    from yibao.policy.loader import PolicyNotFound, load_policy

    scope = request.scope
    c = selectors.campaign_in_scope(scope=scope, pk=pk)
    if c.imported:
        return _history_campaign(request, c)
    region = request.GET.get("region") or scope.region_code or c.county_code
    by_region = selectors.assessment_totals(scope=scope, campaign=c, region=region)
    job = selectors.campaign_assess_job(campaign=c, scope=scope)
    try:
        policy = load_policy(c.policy_id)
    except PolicyNotFound:
        policy = None
    crumbs = [(code, region_label(code, from_level=len(code))) for code in ancestor_codes(region)
              if len(code) >= len(scope.region_code or "")]
    return render(request, "enrollment/campaign.html", {
        "campaign": c,
        "policy": policy,
        "county_name": region_label(c.county_code, from_level=6),
        "totals": selectors.assessment_summary(scope=scope, campaign=c),
        "by_region": by_region,
        "region": region,
        "child_level": "村（社区）" if len(region) >= 9 else "乡镇（街道）",
        "crumbs": crumbs,
        "job": job,
        "progress": job_progress(job) if job else None,
        "can_manage": scope.can("campaign.manage"),
        "assess_form": AssessForm(),
        "close_form": CloseForm(),
        "reopen_form": ReasonForm(),
        "default_on": _default_on(c) if policy else None,
    })


def _history_campaign(request, c: Campaign):
    """An imported past year: no policy, no assessment; its enrollments by status and the imports that wrote it."""
    from yibao.imports.selectors import import_job_list

    scope = request.scope
    counts = selectors.enrollment_status_counts(scope=scope, campaign=c)
    statuses = [(value, label, counts[value]) for value, label in Enrollment.Status.choices if counts[value]]
    jobs = [j for j in import_job_list(scope=scope, kind="enrollments").filter(county_code=c.county_code)
            .order_by("-created_at")[:50] if c.benefit_year in ((j.result or {}).get("years") or [])][:10]
    return render(request, "enrollment/campaign_history.html", {
        "campaign": c, "county_name": region_label(c.county_code, from_level=6), "statuses": statuses,
        "total": sum(counts.values()), "jobs": jobs,
    })


def _default_on(campaign: Campaign):
    try:
        return services.assessment_date(campaign=campaign)
    except services.EnrollmentError:
        return None


@require_POST
@scoped_view("campaign.manage")
def campaign_assess(request, pk: int):
    scope = request.scope
    c = selectors.campaign_for_county_work(scope=scope, pk=pk)
    scope.require_region(c.county_code)
    form = AssessForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("enrollment:campaign", c.pk)
    if c.imported:
        messages.error(request, f"{c.history_note}，不能核定。")
        return redirect("enrollment:campaign", c.pk)
    if c.status == Campaign.Status.CLOSED:
        messages.error(request, f"{c.benefit_year}年度征缴已结束，不能再核定。")
        return redirect("enrollment:campaign", c.pk)
    job = job_enqueue(assessment_job_create(campaign=c, actor=request.user, on=form.cleaned_data["on"]))
    job.refresh_from_db()
    if request.headers.get("HX-Request"):
        from yibao.policy.loader import PolicyNotFound, load_policy

        try:
            policy = load_policy(c.policy_id)
        except PolicyNotFound:  # a policy file gone: the job shows without its title
            policy = None
        return render(request, "enrollment/_assess_job.html",
                      {"job": job, "progress": job_progress(job), "campaign": c, "policy": policy})
    messages.success(request, f"核定任务 #{job.pk} 已提交。")
    return redirect("enrollment:campaign", c.pk)


@require_POST
@scoped_view("campaign.manage")
def campaign_close(request, pk: int):
    scope = request.scope
    c = selectors.campaign_for_county_work(scope=scope, pk=pk)
    form = CloseForm(request.POST)
    form.is_valid()
    try:
        services.campaign_close(campaign=c, actor=request.user, reason=form.cleaned_data.get("reason", ""))
        messages.success(request, f"{c.benefit_year}年度征缴已结束。")
    except services.EnrollmentError as exc:
        messages.error(request, str(exc))
    return redirect("enrollment:campaign", c.pk)


@require_POST
@scoped_view("campaign.manage")
def campaign_reopen(request, pk: int):
    scope = request.scope
    c = selectors.campaign_for_county_work(scope=scope, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "重新开启须填写原因。")
        return redirect("enrollment:campaign", c.pk)
    try:
        services.campaign_reopen(campaign=c, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"{c.benefit_year}年度征缴已重新开启。")
    except services.EnrollmentError as exc:
        messages.error(request, str(exc))
    return redirect("enrollment:campaign", c.pk)


# ---------------------------------------------------------------- assessments


def _enrollment_by_resident(campaign: Campaign, resident_ids) -> dict[int, Enrollment]:
    return {
        e.resident_id: e
        for e in Enrollment.objects.filter(
            county_code=campaign.county_code, benefit_year=campaign.benefit_year, resident_id__in=list(resident_ids)
        )
    }


@scoped_view("enrollment.view")
def assessments(request, pk: int):
    scope = request.scope
    c = selectors.campaign_in_scope(scope=scope, pk=pk)
    village = request.GET.get("village", "").strip()
    accepted = {"1": True, "0": False}.get(request.GET.get("accepted", ""))
    q = request.GET.get("q", "").strip()
    rows = selectors.assessment_search(scope=scope, campaign=c, village=village or None, accepted=accepted, q=q)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page)
    enrollments = _enrollment_by_resident(c, (a.resident_id for a in items))
    labels = region_labels(a.village_code for a in items)
    for a in items:
        a.shown_id = scope.show_id(a.resident.id_number)
        a.village_label = labels.get(a.village_code, a.village_code)
        a.enrollment = enrollments.get(a.resident_id)
        a.identity_label = identity_name(a.subsidy_identity) if a.subsidy_identity else ""
    return render(request, "enrollment/assessments.html", {
        "campaign": c, "page": page, "items": items, "village": village, "accepted": request.GET.get("accepted", ""),
        "q": q, "villages": region_options(scope=scope, level=12) if len(scope.region_code or "") < 12 else [],
    })


@scoped_view("enrollment.view")
def assessment(request, pk: int, resident_id: int):
    scope = request.scope
    c = selectors.campaign_in_scope(scope=scope, pk=pk)
    a = selectors.assessment_get(scope=scope, campaign=c, resident_id=resident_id)
    explained = selectors.assessment_explain(assessment=a)
    enrollment = _enrollment_by_resident(c, [a.resident_id]).get(a.resident_id)
    tiers = _tiers(c)
    return render(request, "enrollment/assessment.html", {
        "campaign": c, "a": a, "resident": a.resident, "shown_id": scope.show_id(a.resident.id_number),
        "place": region_label(a.village_code), "explained": explained, "enrollment": enrollment,
        "identity_label": identity_name(a.subsidy_identity) if a.subsidy_identity else "",
        "can_edit": scope.can("enrollment.edit") and c.status == Campaign.Status.OPEN,
        "tier_form": TierForm(tiers=tiers, initial={"tier": a.tier}), "tiers": tiers,
    })


def _tiers(campaign: Campaign) -> list[int]:
    from yibao.policy.loader import PolicyNotFound, load_policy

    try:
        return sorted(load_policy(campaign.policy_id).data.contribution.tiers())
    except PolicyNotFound:
        return [1]


@require_POST
@scoped_view("enrollment.edit")
def assessment_refresh(request, pk: int, resident_id: int):
    scope = request.scope
    c = selectors.campaign_in_scope(scope=scope, pk=pk)
    a = selectors.assessment_get(scope=scope, campaign=c, resident_id=resident_id)
    scope.require_region(a.village_code)
    services.assessment_refresh(campaign=c, resident=a.resident)
    messages.success(request, "已按最新的户籍、身份和参保记录重新核定。")
    if not selectors.assessment_rows(scope=scope, campaign=c).filter(resident_id=resident_id).exists():
        return redirect("enrollment:assessments", c.pk)
    return redirect("enrollment:assessment", c.pk, resident_id)


@require_POST
@scoped_view("enrollment.edit")
def enrollment_register(request, pk: int, resident_id: int):
    from yibao.registry.selectors import resident_get

    scope = request.scope
    c = selectors.campaign_in_scope(scope=scope, pk=pk)
    resident = resident_get(scope=scope, pk=resident_id)
    scope.require_region(resident.village_code)
    form = TierForm(request.POST, tiers=_tiers(c))
    tier = form.cleaned_data["tier"] if form.is_valid() else 1
    try:
        enrollment = services.enrollment_register_checked(resident=resident, campaign=c, actor=request.user, tier=tier)
    except services.EnrollmentError as exc:
        messages.error(request, str(exc))
        return redirect("enrollment:assessment", c.pk, resident_id)
    messages.success(request, f"{resident.name} 已办理{c.benefit_year}年度{enrollment.get_kind_display()}。")
    return redirect("enrollment:enrollment", enrollment.pk)


# ---------------------------------------------------------------- enrollments


@scoped_view("enrollment.view")
def enrollments(request):
    scope = request.scope
    year = request.GET.get("year", "").strip()
    status = request.GET.get("status", "").strip()
    village = request.GET.get("village", "").strip()
    q = request.GET.get("q", "").strip()
    years = sorted({c.benefit_year for c in selectors.campaign_list(scope=scope)}, reverse=True)
    if not year and years:
        year = str(years[0])
    rows = selectors.enrollment_search(
        scope=scope, benefit_year=parse_year(year), status=status or None,
        village=village or None, q=q,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page)
    labels = region_labels(e.village_code for e in items)
    for e in items:
        e.shown_id = scope.show_id(e.id_number)
        e.village_label = labels.get(e.village_code, e.village_code)
    return render(request, "enrollment/enrollments.html", {
        "page": page, "items": items, "year": year, "years": years, "status": status, "village": village, "q": q,
        "statuses": Enrollment.Status.choices,
        "villages": region_options(scope=scope, level=12) if len(scope.region_code or "") < 12 else [],
    })


def _detail_context(request, e: Enrollment) -> dict:
    scope = request.scope
    villages = [(code, label) for code, label in region_options(scope=scope, level=12) if code != e.village_code]
    return {
        "e": e, "resident": e.resident, "shown_id": scope.show_id(e.id_number), "place": region_label(e.village_code),
        "events": event_rows(selectors.enrollment_events(enrollment=e)),
        "can_edit": scope.can("enrollment.edit"),
        "suspend_form": ReasonForm(prefix="suspend"), "resume_form": ReasonForm(prefix="resume"),
        "terminate_form": TerminateForm(prefix="terminate"),
        "transfer_form": TransferForm(prefix="transfer", villages=villages),
        "tier_form": TierForm(prefix="tier", tiers=_tiers(e.campaign), initial={"tier": e.tier}),
        "tiers": _tiers(e.campaign),
        "assessment_url": reverse("enrollment:assessment", args=[e.campaign_id, e.resident_id])
        if e.campaign.assessments.filter(resident_id=e.resident_id).exists() else "",
    }


@scoped_view("enrollment.view")
def enrollment(request, pk: int):
    from yibao.registry.views_undo import undo_banner

    e = selectors.enrollment_in_scope(scope=request.scope, pk=pk)
    return render(request, "enrollment/enrollment.html", {**_detail_context(request, e), **undo_banner(request)})


def _act(request, pk: int, form_class, prefix: str, action, done: str, ask=None, **form_kwargs):
    """Validate the form and run `action`. With `ask` (a status change) the first POST only shows what will
    change; `confirmed=1` makes it, recorded so its maker may undo it for 10 minutes."""
    scope = request.scope
    e = selectors.enrollment_in_scope(scope=scope, pk=pk)
    scope.require_region(e.village_code)
    form = form_class(request.POST, prefix=prefix, **form_kwargs)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("enrollment:enrollment", e.pk)
    if ask is not None:
        return _ask_then_act(request, e, lambda: action(e, form.cleaned_data), done, *ask(e, form.cleaned_data))
    try:
        action(e, form.cleaned_data)
    except services.EnrollmentError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("enrollment:enrollment", e.pk)


def _ask_then_act(request, e: Enrollment, do, done: str, kind: str, headline: str, title: str, button: str):
    from django.core.exceptions import ValidationError

    from yibao.registry import undo
    from yibao.registry.views_undo import confirm_page, confirmed, with_undo

    page = reverse("enrollment:enrollment", args=[e.pk])
    try:
        if not confirmed(request):
            lines = undo.status_change_preview(resident=e.resident, do=do)
            return confirm_page(request, headline=headline, lines=lines, cancel_url=page, button=button, danger=True)
        _, change = undo.status_change_apply(actor=request.user, resident=e.resident, kind=kind,
                                             capability="enrollment.edit", title=title, do=do)
    except (services.EnrollmentError, ValidationError) as exc:
        messages.error(request, "；".join(getattr(exc, "messages", None) or [str(exc)]))
        return redirect(page)
    messages.success(request, done)
    return redirect(with_undo(page, change))


def _who(e: Enrollment) -> str:
    return f"{e.resident.name} {e.benefit_year}年度"


@require_POST
@scoped_view("enrollment.edit")
def enrollment_suspend(request, pk: int):
    return _act(request, pk, ReasonForm, "suspend", lambda e, d: services.enrollment_suspend(
        enrollment=e, actor=request.user, reason=d["reason"]), "已办理参保暂停。",
        ask=lambda e, d: ("enrollment_suspend", f"{_who(e)}参保将暂停", f"{_who(e)}参保已暂停", "确认暂停"))


@require_POST
@scoped_view("enrollment.edit")
def enrollment_resume(request, pk: int):
    return _act(request, pk, ReasonForm, "resume", lambda e, d: services.enrollment_resume(
        enrollment=e, actor=request.user, reason=d["reason"]), "已恢复参保。")


@require_POST
@scoped_view("enrollment.edit")
def enrollment_terminate(request, pk: int):
    from yibao.enrollment.services import TERMINATION_CAUSES

    def ask(e, d):
        cause = TERMINATION_CAUSES.get(d["cause"], d["cause"])
        return ("enrollment_terminate", f"{_who(e)}参保将终止（{cause}）", f"{_who(e)}参保已终止（{cause}）", "确认终止")

    return _act(request, pk, TerminateForm, "terminate", lambda e, d: services.enrollment_terminate(
        enrollment=e, cause=d["cause"], actor=request.user, reason=d["reason"], effective_on=d["effective_on"]),
        "已办理参保终止。", ask=ask)


@require_POST
@scoped_view("enrollment.edit")
def enrollment_transfer(request, pk: int):
    from yibao.registry.models import Household

    def transfer(e, d):
        household = None
        if d["household_number"].strip():
            household = Household.objects.filter(county_code=e.county_code, number=d["household_number"].strip()).first()
            if household is None:
                raise services.EnrollmentError(f"本县没有户号 {d['household_number']}。")
        request.scope.require_region(d["to_village_code"])
        services.enrollment_transfer(enrollment=e, to_village_code=d["to_village_code"], actor=request.user,
                                     reason=d["reason"], household=household, relation=d["relation"])

    def ask(e, d):
        to = region_label(d["to_village_code"])
        return ("enrollment_transfer", f"{e.resident.name} 将迁往{to}", f"{e.resident.name} 已迁往{to}", "确认迁移")

    villages = region_options(scope=request.scope, level=12)
    return _act(request, pk, TransferForm, "transfer", transfer, "已迁移到新村（社区）。", ask=ask, villages=villages)


@require_POST
@scoped_view("enrollment.edit")
def enrollment_tier(request, pk: int):
    e = selectors.enrollment_in_scope(scope=request.scope, pk=pk)
    return _act(request, pk, TierForm, "tier", lambda e, d: services.enrollment_choose_tier(
        enrollment=e, tier=d["tier"], actor=request.user, reason=d["reason"]), "已变更缴费档次。",
        tiers=_tiers(e.campaign))
