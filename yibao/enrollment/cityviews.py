"""The city's campaign page (市医保局): choose a city-wide policy, see each county's state, confirm, open."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse

from yibao.accounts.decorators import scoped_view
from yibao.core import confirm
from yibao.core.inputs import guard_form_fields
from yibao.enrollment.city import campaign_city_plan, campaign_open_city, city_name_of, city_policies
from yibao.enrollment.forms import DateInput
from yibao.enrollment.models import Campaign
from yibao.enrollment.services import EnrollmentError


class CityOpenForm(forms.Form):
    policy_id = forms.ChoiceField(label="全市适用的缴费政策", help_text="政策文件决定待遇年度、缴费标准、资助和征缴期。")
    collection_start = forms.DateField(label="集中征缴期起", required=False, widget=DateInput(), help_text="留空则按政策文件。")
    collection_end = forms.DateField(label="集中征缴期止", required=False, widget=DateInput(), help_text="留空则按政策文件。")

    def __init__(self, *args, policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy_id"].choices = [("", "请选择")] + list(policies)


guard_form_fields(CityOpenForm)


def _city_of(request) -> str:
    """The account's city; a superuser without a region names one (?city=1406)."""
    scope = request.scope
    if scope.above_county and len(scope.region_code) == 4:
        return scope.region_code
    if not scope.region_code:
        return (request.GET.get("city") or request.POST.get("city") or "").strip()[:4]
    raise PermissionDenied("全市开启征缴年度由市医保局办理；县医保局请在“参保核定”页面开启本县。")


def _url(city: str, policy: str = "") -> str:
    query = "&".join(p for p in (f"city={city}" if city else "", f"policy={policy}" if policy else "") if p)
    return reverse("enrollment:city_open") + (f"?{query}" if query else "")


@scoped_view("campaign.manage")
def city_open(request):
    city = _city_of(request)
    choices = [(p.id, f"{p.data.title}（{p.id}）") for p in city_policies(city_code=city)]
    if request.method == "POST":
        return _city_open_post(request, city, choices)
    policy = (request.GET.get("policy") or "").strip()[:100]
    if not policy and len(choices) == 1:
        policy = choices[0][0]
    plan, error = None, ""
    if policy and city:
        try:
            plan = campaign_city_plan(city_code=city, policy_id=policy, actor=request.user)
        except EnrollmentError as exc:
            error = str(exc)
    form = CityOpenForm(initial={"policy_id": policy}, policies=choices)
    campaigns = Campaign.objects.filter(county_code__startswith=city).order_by("-benefit_year", "county_code") if city else []
    from yibao.regions.selectors import region_labels

    names = region_labels(c.county_code for c in campaigns)
    for c in campaigns:
        c.county_name = names.get(c.county_code, c.county_code)
    return render(request, "enrollment/city_open.html", {
        "city": city, "city_name": city_name_of(city) if city else "", "form": form, "plan": plan, "error": error,
        "policy": policy, "campaigns": campaigns, "ask_city": not request.scope.region_code,
        "can_targets": request.scope.can("progress.view"),
    })


def _city_open_post(request, city: str, choices):
    form = CityOpenForm(request.POST, policies=choices)
    back = _url(city, request.POST.get("policy_id", "")[:100])
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}：{'；'.join(errors)}" if label else "；".join(errors))
        return redirect(back)
    data = form.cleaned_data

    def build():
        sheet = confirm.Sheet(
            title=f"确认为{city_name_of(city)}开启征缴年度", action=reverse("enrollment:city_open"), cancel_url=back,
            confirm_label="确认开启",
            fields=[("city", city), ("policy_id", data["policy_id"]),
                    ("collection_start", data["collection_start"].isoformat() if data["collection_start"] else ""),
                    ("collection_end", data["collection_end"].isoformat() if data["collection_end"] else "")],
        )
        try:
            plan = campaign_city_plan(city_code=city, policy_id=data["policy_id"], actor=request.user)
        except EnrollmentError as exc:
            sheet.error = str(exc)
            return sheet
        if not plan.to_open:
            sheet.error = f"{plan.city_name}各县（市、区）{plan.benefit_year}年度征缴均已开启，没有需要开启的县。"
            return sheet
        sheet.title = f"确认为{plan.city_name}开启{plan.benefit_year}年度征缴"
        sheet.changes = [f"{c.name}（{c.county_code}）：{c.outcome_label}。{c.note}" for c in plan.counties]
        window = ""
        if data["collection_start"] or data["collection_end"]:
            window = f"集中征缴期 {data['collection_start'] or '按政策'} 至 {data['collection_end'] or '按政策'}；"
        sheet.notices = [f"政策：{plan.policy_title}。{window}开启 {len(plan.to_open)} 个县，跳过 {len(plan.skipped)} 个县。"
                         "各县各自一个征缴年度（目标任务、票据号、对账都按县）；任何一个县不能开启，则全市都不开启。"]
        return sheet

    answer = confirm.ask(request, build, refused=back)
    if answer is not None:
        return answer
    try:
        plan = campaign_open_city(city_code=city, policy_id=data["policy_id"], actor=request.user,
                                  collection_start=data["collection_start"], collection_end=data["collection_end"])
    except (EnrollmentError, PermissionDenied) as exc:
        confirm.token_spend(request)
        messages.error(request, str(exc))
        return redirect(back)
    opened = "、".join(c.name for c in plan.counties if c.outcome == "opened")
    skipped = "、".join(c.name for c in plan.skipped)
    messages.success(request, f"已为{plan.city_name}开启{plan.benefit_year}年度征缴：{opened}。"
                     + (f"已开启而跳过：{skipped}。" if skipped else ""))
    return confirm.done(request, _url(city if not request.scope.region_code else "", plan.policy_id))
