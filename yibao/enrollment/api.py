"""API of campaigns, assessment (核定) and enrollments. One thin operation per service; request.auth
is the Scope; capability and region are checked before anything is read or written."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from ninja import Router, Schema, Status

from yibao.core.api_types import DbId, ErrorOut, IsoDate, Money, PlainText, Tier, Year
from yibao.enrollment import selectors, services
from yibao.enrollment.models import Campaign, Enrollment

router = Router(tags=["参保与核定"])

MAX_PAGE_SIZE = 200


def _error(exc: Exception, status: int = 400) -> Status:
    return Status(status, {"detail": str(exc)})


def _page(queryset, page: int, page_size: int):
    paginator = Paginator(queryset, max(1, min(page_size, MAX_PAGE_SIZE)))
    return paginator, paginator.get_page(page)


# ---------------------------------------------------------------- campaigns


class CampaignOut(Schema):
    id: int
    county_code: str
    benefit_year: int
    policy_id: str
    policy_version: str
    collection_start: dt.date
    collection_end: dt.date
    status: str
    status_label: str
    opened_at: dt.datetime
    opened_by: str
    last_assessed_on: dt.date | None
    imported: bool
    note: str


class TotalsOut(Schema):
    residents: int
    accepted: int
    not_accepted: int
    payable: Money
    subsidy: Money
    refund_later: Money


class RegionTotalsOut(TotalsOut):
    code: str
    name: str


class CampaignDetailOut(CampaignOut):
    totals: TotalsOut
    by_region: list[RegionTotalsOut]
    assess_job_id: int | None


class CampaignIn(Schema):
    county_code: PlainText(6, "县级区划代码")
    policy_id: PlainText(100, "缴费政策")
    collection_start: IsoDate | None = None
    collection_end: IsoDate | None = None


class ReasonIn(Schema):
    reason: PlainText(200, "原因") = ""


class AssessIn(Schema):
    on: IsoDate | None = None


class JobOut(Schema):
    job_id: int
    status: str
    progress_url: str


def _campaign_out(campaign: Campaign) -> dict:
    return {
        "id": campaign.pk, "county_code": campaign.county_code, "benefit_year": campaign.benefit_year,
        "policy_id": campaign.policy_id, "policy_version": campaign.policy_version,
        "collection_start": campaign.collection_start, "collection_end": campaign.collection_end,
        "status": campaign.status, "status_label": campaign.get_status_display(), "opened_at": campaign.opened_at,
        "opened_by": campaign.opened_by_name, "last_assessed_on": campaign.last_assessed_on,
        "imported": campaign.imported, "note": campaign.history_note if campaign.imported else "",
    }


@router.get("/campaigns", response=list[CampaignOut], summary="征缴年度列表（本县）")
def campaign_list(request):
    scope = request.auth
    scope.require("enrollment.view")
    return [_campaign_out(c) for c in selectors.campaign_list(scope=scope)]


@router.post("/campaigns", response={201: CampaignOut, 400: ErrorOut}, summary="开启征缴年度")
def campaign_open(request, payload: CampaignIn):
    scope = request.auth
    scope.require("campaign.manage")
    scope.require_region(payload.county_code)
    try:
        campaign = services.campaign_open(
            county_code=payload.county_code, policy_id=payload.policy_id, actor=request.user,
            collection_start=payload.collection_start, collection_end=payload.collection_end,
        )
    except services.EnrollmentError as exc:
        return _error(exc)
    return Status(201, _campaign_out(campaign))


class CityOpenIn(Schema):
    city_code: PlainText(12, "市级区划代码")
    policy_id: PlainText(100, "缴费政策")
    collection_start: IsoDate | None = None
    collection_end: IsoDate | None = None


class CityCountyOut(Schema):
    county_code: str
    name: str
    outcome: str
    outcome_label: str
    note: str
    campaign_id: int | None


class CityPlanOut(Schema):
    city_code: str
    city_name: str
    policy_id: str
    policy_title: str
    benefit_year: int
    opened: int
    to_open: int
    skipped: int
    counties: list[CityCountyOut]


@router.get("/campaigns/city-plan", response={200: CityPlanOut, 400: ErrorOut},
            summary="全市开启征缴年度：各县将开启或跳过（不写入）")
def campaign_city_plan(request, city_code: str, policy_id: str):
    from yibao.enrollment.city import campaign_city_plan as plan

    scope = request.auth
    scope.require("campaign.manage")
    try:
        return Status(200, plan(city_code=city_code[:8], policy_id=policy_id[:100], actor=request.user).as_dict())
    except services.EnrollmentError as exc:
        return _error(exc)


@router.post("/campaigns/city-open", response={201: CityPlanOut, 400: ErrorOut},
             summary="全市开启征缴年度（各县各一个征缴年度；全部成功或全部不开启，已开启的县跳过）")
def campaign_city_open(request, payload: CityOpenIn):
    from yibao.enrollment.city import campaign_open_city

    scope = request.auth
    scope.require("campaign.manage")
    try:
        plan = campaign_open_city(city_code=payload.city_code, policy_id=payload.policy_id, actor=request.user,
                                  collection_start=payload.collection_start, collection_end=payload.collection_end)
    except services.EnrollmentError as exc:
        return _error(exc)
    return Status(201, plan.as_dict())


@router.get("/campaigns/{campaign_id}", response=CampaignDetailOut, summary="征缴年度：核定合计（按乡镇或村）")
def campaign_detail(request, campaign_id: DbId, region: str | None = None):
    scope = request.auth
    scope.require("enrollment.view")
    campaign = selectors.campaign_in_scope(scope=scope, pk=campaign_id)
    job = selectors.campaign_assess_job(campaign=campaign, scope=scope)
    return {
        **_campaign_out(campaign),
        "totals": selectors.assessment_summary(scope=scope, campaign=campaign),
        "by_region": selectors.assessment_totals(scope=scope, campaign=campaign, region=region),
        "assess_job_id": job.pk if job else None,
    }


@router.post("/campaigns/{campaign_id}/close", response={200: CampaignOut, 400: ErrorOut}, summary="结束征缴年度")
def campaign_close(request, campaign_id: DbId, payload: ReasonIn):
    scope = request.auth
    scope.require("campaign.manage")
    campaign = selectors.campaign_in_scope(scope=scope, pk=campaign_id)
    try:
        campaign = services.campaign_close(campaign=campaign, actor=request.user, reason=payload.reason)
    except services.EnrollmentError as exc:
        return _error(exc)
    return _campaign_out(campaign)


@router.post("/campaigns/{campaign_id}/assess", response={201: JobOut, 400: ErrorOut}, summary="核定（创建后台任务）")
def campaign_assess(request, campaign_id: DbId, payload: AssessIn):
    from django.urls import reverse

    from yibao.core.jobs import job_enqueue
    from yibao.enrollment.tasks import assessment_job_create

    scope = request.auth
    scope.require("campaign.manage")
    campaign = selectors.campaign_in_scope(scope=scope, pk=campaign_id)
    if campaign.imported:
        return _error(services.CampaignError(f"{campaign.history_note}，不能核定。"))
    if campaign.status == Campaign.Status.CLOSED:
        return _error(services.CampaignError(f"{campaign.benefit_year}年度征缴已结束，不能再核定。"))
    job = job_enqueue(assessment_job_create(campaign=campaign, actor=request.user, on=payload.on))
    job.refresh_from_db()
    return Status(201, {"job_id": job.pk, "status": job.status, "progress_url": reverse("core:job_progress", args=[job.pk])})


# ---------------------------------------------------------------- assessments


class AssessmentOut(Schema):
    resident_id: int
    name: str
    id_number: str
    township_code: str
    village_code: str
    assessed_on: dt.date
    accepted: bool
    reason: str
    tier: int
    standard: Money
    subsidy: Money
    payable: Money
    refund_later: Money
    subsidy_identity: str
    rule: str
    benefit_start: dt.date | None
    benefit_end: dt.date | None
    policy_version: str


class AssessmentPage(Schema):
    count: int
    page: int
    pages: int
    items: list[AssessmentOut]


class AssessmentDetailOut(AssessmentOut):
    explanation: list[str]
    stale: bool


def _assessment_out(scope, a) -> dict:
    return {
        "resident_id": a.resident_id, "name": a.resident.name, "id_number": scope.show_id(a.resident.id_number),
        "township_code": a.township_code, "village_code": a.village_code, "assessed_on": a.assessed_on,
        "accepted": a.accepted, "reason": a.reason, "tier": a.tier, "standard": a.standard, "subsidy": a.subsidy,
        "payable": a.payable, "refund_later": a.refund_later, "subsidy_identity": a.subsidy_identity, "rule": a.rule,
        "benefit_start": a.benefit_start, "benefit_end": a.benefit_end, "policy_version": a.policy_version,
    }


@router.get("/campaigns/{campaign_id}/assessments", response=AssessmentPage, summary="核定名单（按村、是否受理筛选）")
def assessment_list(
    request, campaign_id: int, village: str | None = None, accepted: bool | None = None, q: str | None = None,
    page: int = 1, page_size: int = 50,
):
    scope = request.auth
    scope.require("enrollment.view")
    campaign = selectors.campaign_in_scope(scope=scope, pk=campaign_id)
    rows = selectors.assessment_search(scope=scope, campaign=campaign, village=village, accepted=accepted, q=q)
    paginator, current = _page(rows, page, page_size)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": [_assessment_out(scope, a) for a in current]}


@router.get("/campaigns/{campaign_id}/assessments/{resident_id}", response=AssessmentDetailOut,
            summary="一人的核定结果及说明")
def assessment_detail(request, campaign_id: DbId, resident_id: DbId):
    scope = request.auth
    scope.require("enrollment.view")
    campaign = selectors.campaign_in_scope(scope=scope, pk=campaign_id)
    assessment = selectors.assessment_get(scope=scope, campaign=campaign, resident_id=resident_id)
    explained = selectors.assessment_explain(assessment=assessment)
    explanation = list(explained["quote"].explanation) if explained["quote"] else [explained["error"]]
    if assessment.reason and not assessment.accepted and assessment.rule in ("blocked", "terminated"):
        explanation = [f"【不予受理】{assessment.reason}", *explanation]
    return {**_assessment_out(scope, assessment), "explanation": explanation, "stale": explained["stale"]}


# ---------------------------------------------------------------- enrollments


class EnrollmentOut(Schema):
    id: int
    resident_id: int
    name: str
    id_number: str
    benefit_year: int
    county_code: str
    township_code: str
    village_code: str
    kind: str
    kind_label: str
    tier: int
    status: str
    status_label: str
    status_reason: str
    benefit_start: dt.date | None
    benefit_end: dt.date | None
    registered_at: dt.datetime


class EnrollmentPage(Schema):
    count: int
    page: int
    pages: int
    items: list[EnrollmentOut]


class EventOut(Schema):
    at: dt.datetime
    action: str
    actor: str
    before: dict | None
    after: dict | None
    reason: str


class EnrollmentDetailOut(EnrollmentOut):
    events: list[EventOut]
    undo_change_id: int | None = None  # a status change its maker may undo for 10 minutes (POST /status-changes/{id}/undo)


class RegisterIn(Schema):
    resident_id: DbId
    benefit_year: Year
    tier: Tier = 1


class SuspendIn(Schema):
    reason: PlainText(200, "原因")


class TerminateIn(Schema):
    cause: PlainText(40, "终止原因")
    reason: PlainText(150, "说明") = ""
    effective_on: IsoDate | None = None


class TransferIn(Schema):
    to_village_code: PlainText(12, "迁入村（社区）")
    reason: PlainText(200, "迁移原因")
    household_id: DbId | None = None
    relation: PlainText(20, "与户主关系") = ""


class TierIn(Schema):
    tier: Tier
    reason: PlainText(200, "说明") = ""


def _enrollment_out(scope, e: Enrollment) -> dict:
    return {
        "id": e.pk, "resident_id": e.resident_id, "name": e.resident.name, "id_number": scope.show_id(e.id_number),
        "benefit_year": e.benefit_year, "county_code": e.county_code, "township_code": e.township_code,
        "village_code": e.village_code, "kind": e.kind, "kind_label": e.get_kind_display(), "tier": e.tier,
        "status": e.status, "status_label": e.get_status_display(), "status_reason": e.status_reason,
        "benefit_start": e.benefit_start, "benefit_end": e.benefit_end, "registered_at": e.registered_at,
    }


def _detail(scope, enrollment: Enrollment) -> dict:
    enrollment = selectors.enrollment_in_scope(scope=scope, pk=enrollment.pk)
    events = [
        {"at": ev.at, "action": ev.action, "actor": ev.actor_name, "before": ev.before, "after": ev.after,
         "reason": ev.reason}
        for ev in selectors.enrollment_events(enrollment=enrollment)
    ]
    return {**_enrollment_out(scope, enrollment), "events": events}


@router.get("/enrollments", response=EnrollmentPage, summary="参保登记列表（按年度、村、状态筛选）")
def enrollment_list(
    request, benefit_year: int | None = None, village: str | None = None, status: str | None = None,
    q: str | None = None, page: int = 1, page_size: int = 50,
):
    scope = request.auth
    scope.require("enrollment.view")
    rows = selectors.enrollment_search(scope=scope, benefit_year=benefit_year, status=status, village=village, q=q)
    paginator, current = _page(rows, page, page_size)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": [_enrollment_out(scope, e) for e in current]}


@router.get("/enrollments/{enrollment_id}", response=EnrollmentDetailOut, summary="参保登记详情及变更记录")
def enrollment_detail(request, enrollment_id: DbId):
    scope = request.auth
    scope.require("enrollment.view")
    return _detail(scope, selectors.enrollment_in_scope(scope=scope, pk=enrollment_id))


@router.post("/enrollments", response={201: EnrollmentDetailOut, 400: ErrorOut}, summary="参保登记（首次登记或续保）")
def enrollment_register(request, payload: RegisterIn):
    from yibao.registry.selectors import resident_get

    scope = request.auth
    scope.require("enrollment.edit")
    resident = resident_get(scope=scope, pk=payload.resident_id)
    scope.require_region(resident.village_code)
    campaign = selectors.campaign_get(county_code=resident.county_code, benefit_year=payload.benefit_year)
    if campaign is None:
        return Status(400, {"detail": f"本县尚未开启{payload.benefit_year}年度征缴。"})
    try:
        enrollment = services.enrollment_register_checked(
            resident=resident, campaign=campaign, actor=request.user, tier=payload.tier
        )
    except services.EnrollmentError as exc:
        return _error(exc)
    return Status(201, _detail(scope, enrollment))


def _act(request, enrollment_id: DbId, action, kind: str = ""):
    """Run `action`; a status change (`kind`) is recorded so its maker may undo it for 10 minutes."""
    from yibao.registry.undo import status_change_apply

    scope = request.auth
    scope.require("enrollment.edit")
    enrollment = selectors.enrollment_in_scope(scope=scope, pk=enrollment_id)
    scope.require_region(enrollment.village_code)
    change = None
    try:
        if kind:
            enrollment, change = status_change_apply(
                actor=request.user, resident=enrollment.resident, kind=kind, capability="enrollment.edit",
                title=f"{enrollment.resident.name} {enrollment.benefit_year}年度{UNDO_TITLES[kind]}",
                do=lambda: action(enrollment))
        else:
            enrollment = action(enrollment)
    except services.EnrollmentError as exc:
        return _error(exc)
    return Status(200, {**_detail(scope, enrollment), "undo_change_id": change.pk if change else None})


UNDO_TITLES = {"enrollment_suspend": "参保已暂停", "enrollment_terminate": "参保已终止", "enrollment_transfer": "参保随人迁移"}


@router.post("/enrollments/{enrollment_id}/suspend", response={200: EnrollmentDetailOut, 400: ErrorOut},
             summary="参保暂停（保留本年度待遇至12月31日）")
def enrollment_suspend(request, enrollment_id: DbId, payload: SuspendIn):
    return _act(request, enrollment_id, lambda e: services.enrollment_suspend(
        enrollment=e, actor=request.user, reason=payload.reason), kind="enrollment_suspend")


@router.post("/enrollments/{enrollment_id}/resume", response={200: EnrollmentDetailOut, 400: ErrorOut},
             summary="恢复参保（撤销本年度的参保暂停）")
def enrollment_resume(request, enrollment_id: DbId, payload: SuspendIn):
    return _act(request, enrollment_id, lambda e: services.enrollment_resume(
        enrollment=e, actor=request.user, reason=payload.reason))


@router.post("/enrollments/{enrollment_id}/terminate", response={200: EnrollmentDetailOut, 400: ErrorOut},
             summary="参保终止（死亡、参加职工医保、迁出本县）")
def enrollment_terminate(request, enrollment_id: DbId, payload: TerminateIn):
    return _act(request, enrollment_id, lambda e: services.enrollment_terminate(
        enrollment=e, cause=payload.cause, actor=request.user, reason=payload.reason,
        effective_on=payload.effective_on), kind="enrollment_terminate")


@router.post("/enrollments/{enrollment_id}/transfer", response={200: EnrollmentDetailOut, 400: ErrorOut},
             summary="县内迁移到其他村（社区）")
def enrollment_transfer(request, enrollment_id: DbId, payload: TransferIn):
    from yibao.registry.models import Household

    def transfer(e):
        household = None
        if payload.household_id is not None:
            household = Household.objects.filter(pk=payload.household_id, county_code=e.county_code).first()
            if household is None:
                raise services.EnrollmentError(f"未找到户 #{payload.household_id}。")
        return services.enrollment_transfer(
            enrollment=e, to_village_code=payload.to_village_code, actor=request.user, reason=payload.reason,
            household=household, relation=payload.relation)

    if payload.to_village_code.strip():
        request.auth.require_region(payload.to_village_code.strip())
    return _act(request, enrollment_id, transfer, kind="enrollment_transfer")


@router.post("/enrollments/{enrollment_id}/tier", response={200: EnrollmentDetailOut, 400: ErrorOut},
             summary="选择缴费档次（缴费前）")
def enrollment_tier(request, enrollment_id: DbId, payload: TierIn):
    return _act(request, enrollment_id, lambda e: services.enrollment_choose_tier(
        enrollment=e, tier=payload.tier, actor=request.user, reason=payload.reason))
