from django.contrib import messages
from django.http import Http404
from django.shortcuts import render

from yibao.accounts.decorators import scoped_view
from yibao.policy.engine import PolicyInputError
from yibao.policy.forms import PolicyUploadForm, QuoteForm
from yibao.policy.loader import PolicyFileError, PolicyNotFound, list_policies, load_policy, policies_for_region
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
                )
            except (PolicyNotFound, UnknownTerm, PolicyInputError, PolicyFileError) as exc:
                error = str(exc).strip("'\"")
    else:
        scope = request.scope
        local = policies_for_region(scope.county_code) if scope.region_code else []
        if scope.above_county:  # a city or province: its own policy or one of its counties'
            code = scope.region_code
            local = sorted((p for p in list_policies() if p.data.locality.region_prefix.startswith(code)
                            or code.startswith(p.data.locality.region_prefix)), key=lambda p: -p.data.benefit_year)
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
    return render(
        request,
        "policy/detail.html",
        {"policy": policy, "data": policy.data, "summary": policy_summary(policy), "identity_name": identity_name,
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
                    installed = policy_install(path=path, replace=form.cleaned_data["replace"], actor=request.user)
                    messages.success(request, f"已安装政策 {installed.id}（版本 {installed.version}）。")
                except PolicyInstallError as exc:
                    messages.error(request, str(exc))
    else:
        form = PolicyUploadForm()
    return render(request, "policy/upload.html", {"form": form, "report": report, "installed": installed})
