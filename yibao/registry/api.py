"""API of the registry. Every operation takes request.auth (the Scope) and checks capability and region."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from ninja import Router, Schema, Status

from yibao.accounts.api import ErrorOut, error_response
from yibao.core.clock import business_today
from yibao.policy.vocabulary import identity_name
from yibao.regions.selectors import region_labels
from yibao.registry import selectors, services
from yibao.registry.models import Identity, Resident
from yibao.core.api_types import DbId, IsoDate, Money, PageNo, PageSize, PlainText

router = Router(tags=["户籍与参保人"])

MAX_PAGE_SIZE = 200


class ResidentItem(Schema):
    id: int
    name: str
    id_number: str
    sex: str
    birth_date: dt.date
    county_code: str
    township_code: str
    village_code: str
    village_label: str
    household_id: int | None
    household_number: str
    relation_to_head: str
    phone: str
    status: str
    identities: list[str]
    open_flags: int


class ResidentPage(Schema):
    count: int
    page: int
    pages: int
    items: list[ResidentItem]


class IdentityOut(Schema):
    id: int
    code: str
    name: str
    department: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    source_name: str
    active: bool


class GroupFactOut(Schema):
    group: str
    name: str
    event_date: dt.date | None
    note: str


class FlagOut(Schema):
    id: int
    resident_id: int
    resident_name: str
    id_number: str
    village_code: str
    kind: str
    kind_label: str
    detail: str
    created_at: dt.datetime
    open: bool
    outcome: str
    resolution: str
    resolved_by: str
    resolved_at: dt.datetime | None


class ResidentDetail(ResidentItem):
    hukou_region_code: str
    residence_region_code: str
    identity_list: list[IdentityOut]
    group_facts: list[GroupFactOut]
    flags: list[FlagOut]
    enrollment_block: str | None


class HouseholdOut(Schema):
    id: int
    number: str
    county_code: str
    township_code: str
    village_code: str
    village_label: str
    address: str
    head_id: int | None
    members: list[ResidentItem]
    warnings: list[str] = []


class MemberIn(Schema):
    name: PlainText(50, "姓名")
    id_number: PlainText(18, "身份证号码")
    relation: PlainText(20, "与户主关系")
    sex: PlainText(2, "性别") | None = None
    birth_date: IsoDate | None = None
    phone: PlainText(20, "联系电话") = ""


class HouseholdIn(Schema):
    village_code: PlainText(12, "村（社区）")
    number: PlainText(40, "户号") = ""
    address: PlainText(200, "住址") = ""
    members: list[MemberIn]


class ReviewIdentity(Schema):
    code: str
    name: str
    department: str
    valid_from: dt.date | None
    valid_to: dt.date | None


class ReviewItem(Schema):
    resident_id: int
    name: str
    id_number: str
    village_code: str
    village_label: str
    identities: list[ReviewIdentity]
    applied: str | None
    applied_name: str
    subsidy: Money | None
    note: str


class ReviewPage(Schema):
    count: int
    page: int
    pages: int
    policy_id: str | None
    window_start: dt.date
    window_end: dt.date
    items: list[ReviewItem]


class FlagPage(Schema):
    count: int
    page: int
    pages: int
    items: list[FlagOut]


class ResolveIn(Schema):
    outcome: PlainText(12, "处理结论")
    resolution: PlainText(300, "处理依据")


def _page(queryset, page: int, page_size: int):
    paginator = Paginator(queryset, max(1, min(page_size, MAX_PAGE_SIZE)))
    return paginator, paginator.get_page(page)


def _resident_items(scope, residents: list[Resident]) -> list[dict]:
    badges = selectors.resident_badges(residents)
    labels = region_labels(r.village_code for r in residents)
    codes = {}
    for i in Identity.objects.filter(resident_id__in=[r.pk for r in residents]).order_by("code"):
        codes.setdefault(i.resident_id, []).append(i)
    today = business_today()
    return [
        {
            "id": r.pk, "name": r.name, "id_number": scope.show_id(r.id_number), "sex": r.sex, "birth_date": r.birth_date,
            "county_code": r.county_code, "township_code": r.township_code, "village_code": r.village_code,
            "village_label": labels.get(r.village_code, r.village_code), "household_id": r.household_id,
            "household_number": r.household.number if r.household_id and r.household else "",
            "relation_to_head": r.relation_to_head, "phone": r.phone, "status": r.status,
            "identities": [i.code for i in codes.get(r.pk, []) if i.active_on(today)],
            "open_flags": badges[r.pk]["flags"],
        }
        for r in residents
    ]


def _flag_out(scope, flag) -> dict:
    return {
        "id": flag.pk, "resident_id": flag.resident_id, "resident_name": flag.resident.name,
        "id_number": scope.show_id(flag.resident.id_number), "village_code": flag.resident.village_code,
        "kind": flag.kind, "kind_label": flag.get_kind_display(), "detail": flag.detail, "created_at": flag.created_at,
        "open": flag.resolved_at is None, "outcome": flag.outcome, "resolution": flag.resolution,
        "resolved_by": flag.resolved_by_name, "resolved_at": flag.resolved_at,
    }


def _household_out(scope, household, warnings=()) -> dict:
    members = selectors.household_members(household=household)
    return {
        "id": household.pk, "number": household.number, "county_code": household.county_code,
        "township_code": household.township_code, "village_code": household.village_code,
        "village_label": region_labels([household.village_code]).get(household.village_code, ""),
        "address": household.address, "head_id": household.head_id,
        "members": _resident_items(scope, members), "warnings": list(warnings),
    }


@router.get("/residents", response=ResidentPage, summary="查找参保人（身份证号码、后几位或姓名）")
def resident_list(
    request, q: str | None = None, region: str | None = None, status: str | None = Resident.Status.ACTIVE,
    flagged: bool = False, page: int = 1, page_size: int = 50,
):
    scope = request.auth
    scope.require("registry.view")
    rows = selectors.resident_search(scope=scope, q=q, region=region, status=status or None, flagged=flagged)
    paginator, current = _page(rows, page, page_size)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": _resident_items(scope, list(current))}


@router.get("/residents/{resident_id}", response=ResidentDetail, summary="参保人详情：身份、参保群体、标记")
def resident_detail(request, resident_id: DbId):
    scope = request.auth
    scope.require("registry.view")
    detail = selectors.resident_detail(scope=scope, pk=resident_id)
    r = detail["resident"]
    return {
        **_resident_items(scope, [r])[0],
        "hukou_region_code": r.hukou_region_code, "residence_region_code": r.residence_region_code,
        "identity_list": [
            {"id": row.identity.pk, "code": row.identity.code, "name": row.name, "department": row.department,
             "valid_from": row.identity.valid_from, "valid_to": row.identity.valid_to,
             "source_name": row.identity.source_name, "active": row.active}
            for row in detail["identities"]
        ],
        "group_facts": [
            {"group": g["fact"].group, "name": g["name"], "event_date": g["fact"].event_date, "note": g["fact"].note}
            for g in detail["group_facts"]
        ],
        "flags": [_flag_out(scope, f) for f in detail["flags"]],
        "enrollment_block": detail["enrollment_block"],
    }


@router.get("/households/{household_id}", response=HouseholdOut, summary="家庭户及其成员")
def household_detail(request, household_id: DbId):
    scope = request.auth
    scope.require("registry.view")
    return _household_out(scope, selectors.household_get(scope=scope, pk=household_id))


@router.post("/households", response={201: HouseholdOut, 400: ErrorOut}, summary="登记家庭户（户主及成员）")
def household_register(request, payload: HouseholdIn):
    scope = request.auth
    scope.require("registry.edit")
    scope.require_region(payload.village_code)
    try:
        result = services.household_register(
            actor=request.user, village_code=payload.village_code, number=payload.number, address=payload.address,
            members=[m.dict() for m in payload.members],
        )
    except ValidationError as exc:
        return error_response(exc)
    return Status(201, _household_out(scope, result.household, result.warnings))


@router.get("/identity-review", response=ReviewPage, summary="多重身份审核：每人的全部身份与适用身份（就高不就低）")
def identity_review(request, township: str | None = None, page: PageNo = 1, page_size: PageSize = 50):
    scope = request.auth
    scope.require("identities.view")
    policy = selectors.review_policy(scope.county_code)
    paginator, current = _page(selectors.identity_review(scope=scope, township=township, policy=policy), page, page_size)
    rows = selectors.identity_review_rows(residents=list(current), policy=policy, scope=scope)
    labels = region_labels(r.resident.village_code for r in rows)
    start, end = selectors.review_window(policy)
    return {
        "count": paginator.count, "page": current.number, "pages": paginator.num_pages,
        "policy_id": policy.id if policy else None, "window_start": start, "window_end": end,
        "items": [
            {
                "resident_id": row.resident.pk, "name": row.resident.name, "id_number": scope.show_id(row.resident.id_number),
                "village_code": row.resident.village_code,
                "village_label": labels.get(row.resident.village_code, row.resident.village_code),
                "identities": [
                    {"code": i.identity.code, "name": identity_name(i.identity.code), "department": i.department,
                     "valid_from": i.identity.valid_from, "valid_to": i.identity.valid_to}
                    for i in row.identities
                ],
                "applied": row.applied, "applied_name": row.applied_name, "subsidy": row.subsidy, "note": row.note,
            }
            for row in rows
        ],
    }


@router.get("/flags", response=FlagPage, summary="重复参保标记（其他县已登记、职工医保）")
def flag_list(
    request, kind: str | None = None, state: str = "open", region: str | None = None, page: int = 1, page_size: int = 50
):
    scope = request.auth
    scope.require("registry.resolve_flags")
    paginator, current = _page(selectors.flag_list(scope=scope, kind=kind, state=state, region=region), page, page_size)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": [_flag_out(scope, f) for f in current]}


@router.post("/flags/{flag_id}/resolve", response={200: FlagOut, 400: ErrorOut}, summary="处理重复参保标记")
def flag_resolve(request, flag_id: DbId, payload: ResolveIn):
    scope = request.auth
    scope.require("registry.resolve_flags")
    flag = selectors.flag_get(scope=scope, pk=flag_id)
    try:
        flag = services.flag_resolve(actor=request.user, flag=flag, outcome=payload.outcome, resolution=payload.resolution)
    except ValidationError as exc:
        return error_response(exc)
    return Status(200, _flag_out(scope, flag))


# ---------------------------------------------------------------- undo (撤销) of a status change


class StatusChangeOut(Schema):
    id: int
    resident_id: int
    kind: str
    title: str
    lines: list[str]
    actor: str
    created_at: dt.datetime
    undo_until: dt.datetime
    undone_at: dt.datetime | None
    undone_by: str


def _status_change(scope, change_id: int):
    from django.http import Http404

    from yibao.registry import undo

    try:
        change = undo.status_change_get(change_id=change_id)
    except undo.UndoError:
        raise Http404(f"没有编号为 {change_id} 的可撤销变更。") from None
    scope.require(change.capability)
    if not scope.contains(change.village_code):
        raise Http404(f"没有编号为 {change_id} 的可撤销变更。")
    return change


@router.get("/status-changes/{change_id}", response=StatusChangeOut, summary="状态变更详情（暂停、终止、迁移、催缴标记）")
def status_change_detail(request, change_id: DbId):
    from yibao.registry.undo import change_out

    return change_out(_status_change(request.auth, change_id))


@router.post("/status-changes/{change_id}/undo", response={200: StatusChangeOut, 400: ErrorOut},
             summary="撤销状态变更（办理人本人，办理后 10 分钟内）")
def status_change_undo(request, change_id: DbId):
    from yibao.registry import undo

    _status_change(request.auth, change_id)
    try:
        change = undo.status_change_undo(change_id=change_id, actor=request.user)
    except undo.UndoError as exc:
        return Status(400, {"detail": str(exc)})
    return Status(200, undo.change_out(change))


# ---------------------------------------------------------------- the person page (registry.person)


class PersonMemberOut(Schema):
    resident_id: int
    name: str
    relation_to_head: str
    is_head: bool
    status: str


class PersonAssessmentOut(Schema):
    benefit_year: int
    accepted: bool
    reason: str
    standard: Money
    subsidy: Money
    payable: Money
    refund_later: Money
    subsidy_identity: str
    benefit_start: dt.date | None
    benefit_end: dt.date | None
    explanation: list[str]
    stale: bool


class PersonPaymentOut(Schema):
    id: int
    benefit_year: int
    amount: Money
    status: str
    flag: str
    channel: str
    external_id: str
    paid_on: dt.date
    benefit_start: dt.date | None
    benefit_end: dt.date | None
    receipt_id: int | None
    receipt_no: str
    receipt_voided: bool


class PersonRefundOut(Schema):
    id: int
    payment_id: int
    benefit_year: int
    amount: Money
    reason: str
    status: str


class PersonSubsidyRefundOut(Schema):
    id: int
    benefit_year: int
    amount: Money
    status: str


class PersonRemindMarkOut(Schema):
    benefit_year: int
    outcome: str
    note: str
    marked_at: dt.datetime
    marked_by: str


class PersonMismatchOut(Schema):
    id: int
    run_id: int
    benefit_year: int
    kind: str
    kind_label: str
    responsible_name: str
    detail: str
    action: str


class PersonHistoryOut(Schema):
    at: dt.datetime
    action: str
    actor: str
    sentence: str
    reason: str


class PersonActionOut(Schema):
    key: str
    label: str
    url: str
    note: str


class PersonOverviewOut(Schema):
    resident: ResidentItem
    benefit_year: int | None
    members: list[PersonMemberOut]
    assessment: PersonAssessmentOut | None
    payments: list[PersonPaymentOut]
    refunds: list[PersonRefundOut]
    subsidy_refunds: list[PersonSubsidyRefundOut]
    remind_marks: list[PersonRemindMarkOut]
    mismatches: list[PersonMismatchOut]
    history: list[PersonHistoryOut]
    actions: list[PersonActionOut]


def _person_assessment(found: dict | None) -> dict | None:
    if not found:
        return None
    a, explained = found["a"], found["explained"]
    return {
        "benefit_year": a.benefit_year, "accepted": a.accepted, "reason": a.reason or "", "standard": a.standard,
        "subsidy": a.subsidy, "payable": a.payable, "refund_later": a.refund_later,
        "subsidy_identity": a.subsidy_identity or "", "benefit_start": a.benefit_start, "benefit_end": a.benefit_end,
        "explanation": list(explained["quote"].explanation) if explained.get("quote") else [],
        "stale": bool(explained.get("stale")),
    }


@router.get("/residents/{resident_id}/overview", response={200: PersonOverviewOut, 404: ErrorOut},
            summary="个人页面：户与成员、本年度核定、缴费、票据、退费、先缴后补、催缴标记、对账差异、变更记录和可办理事项")
def resident_overview(request, resident_id: DbId):
    from yibao.registry.person import person_overview

    scope = request.auth
    scope.require("registry.view")
    ov = person_overview(scope=scope, resident=selectors.resident_get(scope=scope, pk=resident_id))
    return {
        "resident": _resident_items(scope, [ov["resident"]])[0], "benefit_year": ov["year"],
        "members": [{"resident_id": m.resident.pk, "name": m.resident.name, "relation_to_head": m.resident.relation_to_head,
                     "is_head": m.is_head, "status": m.status} for m in ov["members"]],
        "assessment": _person_assessment(ov.get("assessment")),
        "payments": [
            {"id": p.payment.pk, "benefit_year": p.payment.benefit_year, "amount": p.payment.amount,
             "status": p.payment.status, "flag": p.payment.flag, "channel": p.payment.channel,
             "external_id": p.payment.external_id, "paid_on": p.payment.paid_on,
             "benefit_start": p.payment.benefit_start, "benefit_end": p.payment.benefit_end,
             "receipt_id": p.receipt.pk if p.receipt else None, "receipt_no": p.receipt.receipt_no if p.receipt else "",
             "receipt_voided": bool(p.receipt and p.receipt.voided_at)}
            for p in ov["payments"]
        ],
        "refunds": [{"id": r.pk, "payment_id": r.payment_id, "benefit_year": r.benefit_year, "amount": r.amount,
                     "reason": r.reason, "status": r.status} for r in ov["refunds"]],
        "subsidy_refunds": [{"id": x.pk, "benefit_year": x.benefit_year, "amount": x.amount, "status": x.status}
                            for x in ov["subsidy_refunds"]],
        "remind_marks": [{"benefit_year": m.benefit_year, "outcome": m.outcome, "note": m.note, "marked_at": m.marked_at,
                          "marked_by": m.marked_by_name} for m in ov["remind_marks"]],
        "mismatches": [{"id": d.pk, "run_id": d.run_id, "benefit_year": d.run.benefit_year, "kind": d.kind,
                        "kind_label": d.get_kind_display(), "responsible_name": d.responsible_name, "detail": d.detail,
                        "action": d.action} for d in ov["mismatches"]],
        "history": [{k: h[k] for k in ("at", "action", "actor", "sentence", "reason")} for h in ov["events"]],
        "actions": [a.__dict__ for a in ov["actions"]],
    }
