import tempfile

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yibao.accounts.decorators import scoped_view
from yibao.accounts.forms import apply_errors
from yibao.core.clock import business_today
from yibao.core.services import event_record
from yibao.regions.selectors import region_label, region_labels, region_options
from yibao.registry import selectors, services
from yibao.registry.forms import (
    FlagResolveForm,
    GroupFactForm,
    HouseholdForm,
    IdentityAddForm,
    IdentityEndForm,
    MemberAddForm,
    MemberFormSet,
    MoveForm,
    ReasonForm,
    ResidentEditForm,
    SetHeadForm,
)
from yibao.registry.models import Flag, GroupFact, Household, Identity, Resident

PAGE_SIZE = 50


def _messages(exc: ValidationError) -> str:
    return "；".join(exc.messages)


def _warn(request, result) -> None:
    for warning in result.warnings:
        messages.warning(request, warning)
    for flag in result.flags:
        messages.warning(request, f"{flag.resident.name}：{flag.get_kind_display()}（{flag.detail}），暂不能参保，待县医保局核实。")


# ---------------------------------------------------------------- residents


@scoped_view("registry.view")
def residents(request):
    scope = request.scope
    q, region = request.GET.get("q", "").strip(), request.GET.get("region", "").strip()
    status = request.GET.get("status", Resident.Status.ACTIVE)
    flagged = request.GET.get("flagged") == "1"
    rows = selectors.resident_search(scope=scope, q=q, region=region or None, status=status or None, flagged=flagged)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page)
    badges = selectors.resident_badges(items)
    labels = region_labels(r.village_code for r in items)
    for r in items:
        r.shown_id = scope.show_id(r.id_number)
        r.village_label = labels.get(r.village_code, r.village_code)
        r.badges = badges[r.pk]
    return render(request, "registry/residents.html", {
        "page": page, "items": items, "q": q, "region": region, "status": status, "flagged": flagged,
        "regions": region_options(scope=scope), "statuses": Resident.Status.choices,
        "can_edit": scope.can("registry.edit"), "can_export": scope.can("registry.export"),
    })


@scoped_view("registry.export")
def residents_export(request):
    """The residents list as xlsx, with the same filters as the page; ID numbers as the role may see them."""
    import xlsxwriter

    scope = request.scope
    q = request.GET.get("q") or None
    region = selectors.check_region_param(scope, request.GET.get("region"))
    status = request.GET.get("status", Resident.Status.ACTIVE) or None
    rows = selectors.residents_export_rows(scope=scope, q=q, region=region, status=status)
    handle = tempfile.TemporaryFile(dir=settings.VAR_DIR)
    book = xlsxwriter.Workbook(handle, {"constant_memory": True})
    sheet = book.add_worksheet("参保人名单")
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    sheet.set_column(0, 0, 22, text)
    sheet.set_column(1, 11, 14)
    for col, title in enumerate(selectors.EXPORT_COLUMNS):
        sheet.write_string(0, col, title, bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            sheet.write_string(count, col, str(value or ""))
    book.close()
    handle.seek(0)
    event_record(
        county_code=scope.county_code, entity="export", entity_id="residents", action="export", actor=request.user,
        after={"rows": count, "region": region or scope.region_code, "q": q or ""}, reason="导出参保人名单",
    )
    from yibao.core.downloads import region_file_name

    code = region or scope.region_code
    name = region_file_name(code, "参保人名单", extra=f"{business_today():%Y%m%d}") if code else \
        f"全部-参保人名单-{business_today():%Y%m%d}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@scoped_view("registry.view")
def resident(request, pk: int):
    scope = request.scope
    detail = selectors.resident_detail(scope=scope, pk=pk)
    r = detail["resident"]
    return render(request, "registry/resident.html", {
        **detail,
        "shown_id": scope.show_id(r.id_number),
        "place": region_label(r.village_code),
        "hukou_place": region_label(r.hukou_region_code, from_level=6) if r.hukou_region_code else "",
        "residence_place": region_label(r.residence_region_code, from_level=6) if r.residence_region_code else "",
        "can_edit": scope.can("registry.edit"),
        "can_identities": scope.can("identities.import"),
        "can_resolve": scope.can("registry.resolve_flags"),
        "can_audit": scope.can("audit.view"),
        **_enrollment_context(scope, r),
        "identity_form": IdentityAddForm(), "end_form": IdentityEndForm(auto_id=False, initial={"valid_to": business_today()}),
        "group_form": GroupFactForm(), "reason_form": ReasonForm(auto_id=False), "resolve_form": FlagResolveForm(auto_id=False),
    })


def _enrollment_context(scope, resident) -> dict:
    if not scope.can("enrollment.view"):
        return {}
    from yibao.enrollment.selectors import resident_assessments, resident_enrollments

    years: dict[int, dict] = {}
    for enrollment in resident_enrollments(resident=resident):
        years.setdefault(enrollment.benefit_year, {"year": enrollment.benefit_year})["enrollment"] = enrollment
    for assessment in resident_assessments(resident=resident):
        years.setdefault(assessment.benefit_year, {"year": assessment.benefit_year})["assessment"] = assessment
    return {"enrollment_years": [years[y] for y in sorted(years, reverse=True)]}


@scoped_view("registry.edit")
def resident_edit(request, pk: int):
    r = selectors.resident_get(scope=request.scope, pk=pk)
    form = ResidentEditForm(request.POST or None, initial={
        "name": r.name, "phone": r.phone, "residence_region_code": r.residence_region_code, "status": r.status,
    })
    if request.method == "POST" and form.is_valid():
        try:
            services.resident_update(actor=request.user, resident=r, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"已保存{r.name}的信息。")
            return redirect("registry:resident", pk=r.pk)
    return render(request, "registry/resident_edit.html", {"resident": r, "form": form, "shown_id": request.scope.show_id(r.id_number)})


@scoped_view("registry.edit")
def resident_move(request, pk: int):
    scope = request.scope
    r = selectors.resident_get(scope=scope, pk=pk)
    villages = [(c, label) for c, label in region_options(scope=scope, level=12) if c != r.village_code]
    form = MoveForm(request.POST or None, villages=villages)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        household = None
        if data["household_number"]:
            household = Household.objects.filter(
                county_code=r.county_code, village_code=data["to_village_code"], number=data["household_number"].strip()
            ).first()
            if household is None:
                form.add_error("household_number", f"迁入村没有户号为 {data['household_number']} 的户。")
        if form.is_valid() and not form.errors:
            try:
                services.resident_move(
                    actor=request.user, resident=r, to_village_code=data["to_village_code"], household=household,
                    relation=data["relation"], reason=data["reason"],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{r.name}已迁至{region_label(r.village_code)}。")
                if scope.contains(r.village_code):
                    return redirect("registry:resident", pk=r.pk)
                return redirect("registry:residents")
    return render(request, "registry/resident_move.html", {
        "resident": r, "form": form, "place": region_label(r.village_code), "shown_id": scope.show_id(r.id_number),
    })


@require_POST
@scoped_view("identities.import")
def identity_add(request, pk: int):
    r = selectors.resident_get(scope=request.scope, pk=pk)
    form = IdentityAddForm(request.POST)
    if form.is_valid():
        try:
            identity = services.identity_add(actor=request.user, resident=r, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, f"已登记资助身份：{dict(form.fields['code'].choices)[identity.code]}。")
    else:
        messages.error(request, "资助身份填写有误：" + "；".join(e for es in form.errors.values() for e in es))
    return redirect("registry:resident", pk=r.pk)


@require_POST
@scoped_view("identities.import")
def identity_end(request, pk: int):
    identity = Identity.objects.filter(pk=pk).first()
    r = selectors.resident_get(scope=request.scope, pk=identity.resident_id if identity else 0)
    form = IdentityEndForm(request.POST)
    if form.is_valid():
        try:
            services.identity_end(actor=request.user, identity=identity, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, "已终止该资助身份。")
    else:
        messages.error(request, "请填写终止日期和原因。")
    return redirect("registry:resident", pk=r.pk)


@require_POST
@scoped_view("registry.edit")
def group_fact_add(request, pk: int):
    r = selectors.resident_get(scope=request.scope, pk=pk)
    form = GroupFactForm(request.POST)
    if form.is_valid():
        try:
            services.group_fact_add(actor=request.user, resident=r, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, "已登记参保群体。")
    else:
        messages.error(request, "请选择参保群体。")
    return redirect("registry:resident", pk=r.pk)


@require_POST
@scoped_view("registry.edit")
def group_fact_remove(request, pk: int):
    fact = GroupFact.objects.filter(pk=pk).first()
    r = selectors.resident_get(scope=request.scope, pk=fact.resident_id if fact else 0)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.group_fact_remove(actor=request.user, fact=fact, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, "已删除该参保群体。")
    else:
        messages.error(request, "请填写删除原因。")
    return redirect("registry:resident", pk=r.pk)


# ---------------------------------------------------------------- households


@scoped_view("registry.view")
def household(request, pk: int):
    scope = request.scope
    h = selectors.household_get(scope=scope, pk=pk)
    members = selectors.household_members(household=h)
    badges = selectors.resident_badges(members)
    for m in members:
        m.shown_id = scope.show_id(m.id_number)
        m.badges = badges[m.pk]
    active = [(str(m.pk), m.name) for m in members if m.status == Resident.Status.ACTIVE and m.pk != h.head_id]
    return render(request, "registry/household.html", {
        "household": h, "members": members, "place": region_label(h.village_code),
        "can_edit": scope.can("registry.edit"),
        "member_form": MemberAddForm(), "head_form": SetHeadForm(members=active),
    })


@scoped_view("registry.edit")
def household_new(request):
    scope = request.scope
    villages = region_options(scope=scope, level=12)
    initial = {"village_code": scope.region_code} if len(scope.region_code or "") == 12 else {}
    form = HouseholdForm(request.POST or None, villages=villages, initial=initial)
    formset = MemberFormSet(request.POST or None, prefix="m", initial=[{"relation": "户主"}])
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        members = [f.cleaned_data for f in formset.forms if f.has_content()]
        try:
            result = services.household_register(actor=request.user, members=members, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"已登记家庭户 {result.household.number}，共{len(result.residents)}人。")
            _warn(request, result)
            return redirect("registry:household", pk=result.household.pk)
    return render(request, "registry/household_new.html", {"form": form, "formset": formset, "has_villages": bool(villages)})


@require_POST
@scoped_view("registry.edit")
def household_member_add(request, pk: int):
    h = selectors.household_get(scope=request.scope, pk=pk)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason")
        try:
            result = services.household_member_add(actor=request.user, household=h, member=data, reason=reason)
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, f"已将{result.residents[0].name}登记为本户成员。")
            _warn(request, result)
    else:
        messages.error(request, "成员信息填写有误。")
    return redirect("registry:household", pk=h.pk)


@require_POST
@scoped_view("registry.edit")
def household_set_head(request, pk: int):
    h = selectors.household_get(scope=request.scope, pk=pk)
    members = [(str(m.pk), m.name) for m in selectors.household_members(household=h)]
    form = SetHeadForm(request.POST, members=members)
    if form.is_valid():
        new_head = Resident.objects.get(pk=int(form.cleaned_data["resident"]))
        try:
            services.household_set_head(
                actor=request.user, household=h, resident=new_head,
                former_head_relation=form.cleaned_data["former_head_relation"], reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, f"户主已变更为{new_head.name}。")
    else:
        messages.error(request, "请选择新户主。")
    return redirect("registry:household", pk=h.pk)


# ---------------------------------------------------------------- identity review and flags


@scoped_view("identities.view")
def identity_review(request):
    scope = request.scope
    township = request.GET.get("township", "").strip() or None
    policy = selectors.review_policy(scope.county_code)
    residents = selectors.identity_review(scope=scope, township=township, policy=policy)
    page = Paginator(residents, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.identity_review_rows(residents=list(page), policy=policy, scope=scope)
    labels = region_labels(r.resident.village_code for r in rows)
    for row in rows:
        row.shown_id = scope.show_id(row.resident.id_number)
        row.place = labels.get(row.resident.village_code, row.resident.village_code)
    townships = region_options(scope=scope, level=9)
    return render(request, "registry/identity_review.html", {
        "page": page, "rows": rows, "policy": policy, "township": township or "", "townships": townships,
        "window": selectors.review_window(policy), "can_view_registry": scope.can("registry.view"),
    })


@scoped_view("registry.resolve_flags")
def flags(request):
    scope = request.scope
    kind, state = request.GET.get("kind", ""), request.GET.get("state", "open")
    region = request.GET.get("region", "").strip() or None
    rows = selectors.flag_list(scope=scope, kind=kind or None, state=state, region=region)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page)
    labels = region_labels(f.resident.village_code for f in items)
    for f in items:
        f.shown_id = scope.show_id(f.resident.id_number)
        f.place = labels.get(f.resident.village_code, f.resident.village_code)
    return render(request, "registry/flags.html", {
        "page": page, "items": items, "kind": kind, "state": state, "region": region or "",
        "kinds": Flag.Kind.choices, "form": FlagResolveForm(auto_id=False), "regions": region_options(scope=scope, level=9),
    })


@require_POST
@scoped_view("registry.resolve_flags")
def flag_resolve(request, pk: int):
    flag = selectors.flag_get(scope=request.scope, pk=pk)
    form = FlagResolveForm(request.POST)
    if form.is_valid():
        try:
            services.flag_resolve(actor=request.user, flag=flag, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _messages(exc))
        else:
            messages.success(request, f"已处理{flag.resident.name}的标记：{Flag.Outcome(form.cleaned_data['outcome']).label}。")
    else:
        messages.error(request, "请选择处理结论并填写处理依据。")
    back = request.POST.get("next") or ""
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("registry:flags")

