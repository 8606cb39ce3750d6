from django.contrib import messages
from django.http import Http404
from django.shortcuts import render

from yibao.accounts.decorators import scoped_view
from yibao.policy.engine import PolicyInputError
from yibao.policy.forms import PolicyUploadForm, QuoteForm
from yibao.policy.loader import PolicyFileError, PolicyNotFound, load_policy, policies_for_region
from yibao.policy.selectors import policy_list, policy_summary, policy_title, quote_for
from yibao.policy.services import PolicyInstallError, policy_check_uploaded, policy_install
from yibao.policy.schema import SUSPENSION_REASONS
from yibao.policy.vocabulary import UnknownTerm, identity_name


@scoped_view("policy.view")
def quote_page(request):
    result, error = None, None
    if request.method == "POST":
        form = QuoteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = quote_for(
                    policy_id=data["policy"],
                    birth_date=data["birth_date"],
                    paid_on=data["paid_on"],
                    identities=data["identities"],
                    group=data["group"] or None,
                    event_date=data["event_date"],
                    tier=data["tier"],
                    gap_years=data["gap_years"] or 0,
                    backpaid_years=data["backpaid_years"] or 0,
                    household_role=data["household_role"] or None,
                    first_time=data["first_time"],
                    employee_months=data["employee_months"],
                    household_enrolled={"yes": True, "no": False}.get(data["household_enrolled"]),
                    identity_since={code: data["identity_since"] for code in data["identities"]}
                    if data["identity_since"] else None,
                )
            except (PolicyNotFound, UnknownTerm, PolicyInputError, PolicyFileError) as exc:
                error = str(exc).strip("'\"")
    else:
        local = policies_for_region(request.scope.county_code or request.scope.region_code) if request.scope.region_code else []
        form = QuoteForm(initial={"policy": local[0].id} if local else None)
    context = {
        "form": form,
        "result": result,
        "error": error,
        "subsidy_name": identity_name(result.subsidy_identity) if result and result.subsidy_identity else None,
        "policy_title": policy_title(result.policy_id) if result else "",
    }
    if request.headers.get("HX-Request"):
        return render(request, "policy/_quote_result.html", context)
    return render(request, "policy/quote.html", context)


@scoped_view("policy.view")
def policy_list_page(request):
    return render(request, "policy/list.html", {"policies": policy_list(), "can_manage": request.scope.can("policy.manage")})


@scoped_view("policy.view")
def policy_detail_page(request, policy_id: str):
    try:
        policy = load_policy(policy_id)
    except PolicyNotFound:
        raise Http404("未找到该政策") from None
    from yibao.policy.checklist import checklist_rows

    earlier = _previous_year(policy)
    return render(
        request,
        "policy/detail.html",
        {"policy": policy, "data": policy.data, "summary": policy_summary(policy), "identity_name": identity_name,
         "previous_id": earlier.id if earlier else None, "checklist": checklist_rows(policy.data),
         "suspension_reasons": [SUSPENSION_REASONS[r] for r in policy.data.suspension.reasons]
         if policy.data.suspension else []},
    )


@scoped_view("policy.manage")
def policy_upload_page(request):
    report, installed = None, None
    if request.method == "POST":
        form = PolicyUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["policy_file"]
            report, path = policy_check_uploaded(
                policy_bytes=upload.read(),
                cases_bytes=form.cleaned_data["cases_file"].read(),
                policy_name=upload.name,
                notice_bytes=notice.read() if (notice := form.cleaned_data.get("notice_file")) else None,
                notice_name=notice.name if notice else None,
            )
            if report.ok and form.cleaned_data["install"]:
                try:
                    installed = policy_install(path=path, replace=form.cleaned_data["replace"], actor=request.user,
                                               via="page")
                    messages.success(request, f"已安装政策 {installed.id}（版本 {installed.version}）。")
                except PolicyInstallError as exc:
                    messages.error(request, str(exc))
    else:
        form = PolicyUploadForm()
    previous, changes = None, []
    if report is not None and report.policy is not None:
        from yibao.policy.diff import diff_sections, policy_diff

        previous = _previous_year(report.policy)
        changes = diff_sections(policy_diff(previous, report.policy)) if previous else []
    return render(request, "policy/upload.html", {"form": form, "report": report, "installed": installed,
                                                  "previous": previous, "changes": changes})


def _previous_year(policy):
    """The newest loaded policy of the same locality with an earlier benefit year."""
    prefix = policy.data.locality.region_prefix
    earlier = [p for p in policies_for_region(prefix)
               if p.data.locality.region_prefix == prefix and p.data.benefit_year < policy.data.benefit_year]
    return earlier[0] if earlier else None


@scoped_view("policy.view")
def vocabulary_page(request):
    from yibao.policy.catalog import vocabulary

    return render(request, "policy/vocabulary.html", {"vocabulary": vocabulary()})


@scoped_view("policy.view")
def policy_diff_page(request):
    """Two policies side by side: what changed, in Chinese. ?before=ID&after=ID."""
    from yibao.policy.diff import diff_sections, policy_diff

    ids = [p["id"] for p in policy_list()]
    before, after = request.GET.get("before", ""), request.GET.get("after", "")
    sections, error, count = [], None, 0
    if before or after:
        if before not in ids or after not in ids:
            error = f"未找到政策：{'、'.join(x for x in (before, after) if x not in ids) or '（未选）'}。请从列表中选择"
        else:
            changes = policy_diff(load_policy(before), load_policy(after))
            sections, count = diff_sections(changes), len(changes)
    return render(request, "policy/diff.html", {
        "ids": ids, "before": before, "after": after, "sections": sections, "count": count, "error": error,
        "compared": bool(before and after and not error),
    })
