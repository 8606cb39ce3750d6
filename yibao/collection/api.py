"""API of the collection area: one thin operation each. request.auth is the Scope."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import HttpResponse
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from yibao.accounts.api import ErrorOut
from yibao.collection import selectors, services
from yibao.collection.models import Payment, Refund
from yibao.core.api_errors import FIELD_NAMES
from yibao.core.api_types import DbId, Money, MoneyIn, PageNo, PageSize, PlainText, Year

router = Router(tags=["征收与退费"])
MAX_PAGE_SIZE = 200

FIELD_NAMES.update({
    "resident_ids": "缴费人员", "channel": "收款方式", "amount": "实收金额", "household_id": "家庭户",
    "benefit_year": "待遇年度", "payment_id": "缴费记录", "reason": "退费原因", "enrollment_action": "参保关系处理",
    "note": "说明", "ids": "名单记录", "reissue": "换开新票据",
})


def _problem(exc: Exception, status: int = 400) -> Status:
    return Status(status, {"detail": str(exc)})


# ---------------------------------------------------------------- dues and counter payments


class MemberDueOut(Schema):
    resident_id: int
    name: str
    id_number: str
    relation_to_head: str
    status: str
    can_pay: bool
    assessed_payable: Money | None
    payable: Money | None
    refund_later: Money | None
    subsidy_identity: str | None
    benefit_start: dt.date | None
    benefit_end: dt.date | None
    reason: str | None
    block: str
    receipt_no: str | None


class DuesOut(Schema):
    benefit_year: int | None
    paid_on: dt.date
    payable_total: Money
    error: str
    members: list[MemberDueOut]


def _dues_out(dues) -> dict:
    members = []
    for m in dues.members:
        q = m.quote
        line = getattr(m.payment, "receipt_line", None) if m.payment else None
        members.append({
            "resident_id": m.resident.pk, "name": m.resident.name, "id_number": m.shown_id,
            "relation_to_head": m.resident.relation_to_head, "status": m.status_label, "can_pay": m.can_pay,
            "assessed_payable": m.assessment.payable if m.assessment else None, "payable": m.payable,
            "refund_later": q.refund_later if m.payable is not None else None,
            "subsidy_identity": m.payment.subsidy_identity or None if m.payment else (q.subsidy_identity if q else None),
            "benefit_start": m.payment.benefit_start if m.payment else (q.benefit_start if q else None),
            "benefit_end": m.payment.benefit_end if m.payment else (q.benefit_end if q else None),
            "reason": m.paid_note or (q.reason if q and not q.accepted else None) or m.error or None, "block": m.block,
            "receipt_no": line.receipt.receipt_no if line else None,
        })
    return {"benefit_year": dues.campaign.benefit_year if dues.campaign else None, "paid_on": dues.paid_on,
            "payable_total": dues.payable_total, "error": dues.error, "members": members}


@router.get("/collection/households/{household_id}/dues", response=DuesOut, summary="家庭户各成员的核定金额、今日应缴与缴费状态")
def household_dues(request, household_id: DbId):
    scope = request.auth
    scope.require("payments.collect")
    household, members = selectors.counter_household(scope=scope, pk=household_id)
    return _dues_out(selectors.member_dues(scope=scope, residents=members))


@router.get("/collection/residents/{resident_id}/dues", response=DuesOut, summary="一名参保人的核定金额、今日应缴与缴费状态")
def resident_dues(request, resident_id: DbId):
    scope = request.auth
    scope.require("payments.collect")
    resident = selectors.counter_resident(scope=scope, pk=resident_id)
    return _dues_out(selectors.member_dues(scope=scope, residents=[resident]))


class CounterIn(Schema):
    resident_ids: list[DbId]
    channel: PlainText(12, "渠道")
    amount: MoneyIn | None = None
    household_id: DbId | None = None
    benefit_year: Year | None = None


class PaymentLineOut(Schema):
    payment_id: int
    external_id: str
    id_number: str
    name: str
    benefit_year: int
    amount: Money
    refund_later: Money
    subsidy_identity: str | None
    benefit_start: dt.date | None
    benefit_end: dt.date | None
    rule: str
    policy_version: str


class CounterOut(Schema):
    booked: int
    flagged: int
    rejected: int
    receipt_id: int
    receipt_no: str
    total: Money
    channel: str
    payments: list[PaymentLineOut]


@router.post("/collection/counter-payments", response={201: CounterOut, 400: ErrorOut}, summary="窗口收款（一人或一户）并开具票据")
def counter_pay(request, payload: CounterIn):
    from yibao.registry.selectors import resident_get

    scope = request.auth
    scope.require("payments.collect")
    residents = [resident_get(scope=scope, pk=pk) for pk in payload.resident_ids]
    household = None
    if payload.household_id:
        household, _ = selectors.counter_household(scope=scope, pk=payload.household_id)
    try:
        result = services.payment_collect(
            residents=residents, channel=payload.channel, actor=request.user, benefit_year=payload.benefit_year,
            amount=payload.amount, household=household,
        )
    except services.PaymentError as exc:
        return _problem(exc)
    return Status(201, result.as_dict())


# ---------------------------------------------------------------- payments


class PaymentOut(Schema):
    id: int
    external_id: str
    benefit_year: int
    resident_id: int | None
    name: str
    id_number: str
    village_code: str
    source: str
    channel: str
    amount: Money
    expected_amount: Money | None
    paid_at: dt.datetime
    status: str
    flag: str
    flag_advice: str
    benefit_start: dt.date | None
    benefit_end: dt.date | None
    refund_later: Money
    rule: str
    ticket_no: str


class PaymentPage(Schema):
    count: int
    page: int
    pages: int
    items: list[PaymentOut]


class PaymentDetail(PaymentOut):
    explanation: list[str]
    policy_version: str
    receipt_no: str | None


def _payment_out(scope, p: Payment) -> dict:
    return {
        "id": p.pk, "external_id": p.external_id, "benefit_year": p.benefit_year, "resident_id": p.resident_id,
        "name": p.resident.name if p.resident_id and p.resident else "", "id_number": scope.show_id(p.id_number),
        "village_code": p.village_code, "source": p.source, "channel": p.channel, "amount": p.amount,
        "expected_amount": p.expected_amount, "paid_at": p.paid_at, "status": p.status, "flag": p.flag,
        "flag_advice": p.flag_advice, "benefit_start": p.benefit_start, "benefit_end": p.benefit_end,
        "refund_later": p.refund_later, "rule": p.rule, "ticket_no": p.ticket_no,
    }


@router.get("/collection/payments", response=PaymentPage, summary="缴费记录（可按年度、状态、问题类型、身份证号码筛选）")
def payment_list(request, benefit_year: Year | None = None, status: str | None = None, flag: str | None = None,
                 q: str | None = None, source: str | None = None, region: str | None = None, page: PageNo = 1,
                 page_size: PageSize = 50):
    scope = request.auth
    scope.require("payments.view")
    rows = selectors.payment_list(scope=scope, benefit_year=benefit_year, status=status, flag=flag, q=q, source=source,
                                  region=region)
    paginator = Paginator(rows, max(1, min(page_size, MAX_PAGE_SIZE)))
    current = paginator.get_page(page)
    return {"count": paginator.count, "page": current.number, "pages": paginator.num_pages,
            "items": [_payment_out(scope, p) for p in current]}


@router.get("/collection/payments/{payment_id}", response=PaymentDetail, summary="缴费记录详情（含测算说明）")
def payment_detail(request, payment_id: DbId):
    scope = request.auth
    scope.require("payments.view")
    p = selectors.payment_get(scope=scope, pk=payment_id)
    line = getattr(p, "receipt_line", None) if p.source == Payment.Source.COUNTER else None
    return {**_payment_out(scope, p), "explanation": selectors.explanation_lines(p.explanation_key),
            "policy_version": p.policy_version, "receipt_no": line.receipt.receipt_no if line else None}


class TopUpIn(Schema):
    channel: PlainText(12, "渠道")


@router.post("/collection/payments/{payment_id}/top-up", response={201: CounterOut, 400: ErrorOut}, summary="少缴的缴费补缴差额（开票并入账）")
def payment_top_up(request, payment_id: DbId, payload: TopUpIn):
    scope = request.auth
    scope.require("payments.collect")
    payment = selectors.payment_get(scope=scope, pk=payment_id)
    try:
        result = services.payment_top_up(payment=payment, channel=payload.channel, actor=request.user)
    except services.PaymentError as exc:
        return _problem(exc)
    return Status(201, result.as_dict())


@router.post("/collection/payments/{payment_id}/recheck", response={200: PaymentOut, 400: ErrorOut},
             summary="重新匹配未入账的渠道缴费（查无此人、参保受限、不予受理、少缴）：符合条件即入账")
def payment_recheck(request, payment_id: DbId):
    scope = request.auth
    scope.require("payments.ingest")
    payment = selectors.payment_get(scope=scope, pk=payment_id)
    try:
        payment = services.payment_recheck(payment=payment, actor=request.user)
    except services.PaymentError as exc:
        return _problem(exc)
    return _payment_out(scope, payment)


class JobOut(Schema):
    job_id: int
    status: str
    result: dict


@router.post("/collection/payment-files", response={202: JobOut, 400: ErrorOut}, summary="上传渠道缴费明细（后台导入，返回任务编号）")
def payment_file_upload(request, file: File[UploadedFile], county_code: str = Form("", max_length=6)):
    from yibao.core.jobs import job_enqueue

    scope = request.auth
    scope.require("payments.ingest")
    try:
        county_code = services.payment_file_county_check(county_code)  # before the file is kept
        path = services.payment_file_store(uploaded=file)
        job = services.payment_file_job_create(path=path, file_name=file.name, county_code=county_code or None,
                                               actor=request.user)
    except services.PaymentError as exc:
        return _problem(exc)
    job_enqueue(job)
    job.refresh_from_db()
    return Status(202, {"job_id": job.pk, "status": job.status, "result": job.result or {}})


class ReceiptVoidIn(Schema):
    reason: PlainText(200, "作废原因")
    reissue: bool = False


class ReceiptVoidOut(Schema):
    receipt_id: int
    receipt_no: str
    voided_at: dt.datetime
    void_reason: str
    replacement_id: int | None
    replacement_no: str | None
    replacement_total: Money | None


@router.post("/collection/receipts/{receipt_id}/void", response={200: ReceiptVoidOut, 400: ErrorOut},
             summary="作废票据（所含缴费仍有效时须 reissue=true 同时换开新票据）")
def receipt_void(request, receipt_id: DbId, payload: ReceiptVoidIn):
    scope = request.auth
    scope.require("receipts.void")
    receipt = selectors.receipt_get(scope=scope, pk=receipt_id)
    try:
        replacement = services.receipt_void(receipt=receipt, actor=request.user, reason=payload.reason,
                                            reissue=payload.reissue)
    except services.PaymentError as exc:
        return _problem(exc)
    return {"receipt_id": receipt.pk, "receipt_no": receipt.receipt_no, "voided_at": receipt.voided_at,
            "void_reason": receipt.void_reason, "replacement_id": replacement.pk if replacement else None,
            "replacement_no": replacement.receipt_no if replacement else None,
            "replacement_total": replacement.total if replacement else None}


@router.get("/collection/receipts/{receipt_id}/pdf", summary="票据 PDF（第二次起标注“补打”）")
def receipt_pdf(request, receipt_id: DbId):
    scope = request.auth
    scope.require("receipts.print")
    receipt = selectors.receipt_get(scope=scope, pk=receipt_id)
    data, reprint = services.receipt_print(receipt=receipt, actor=request.user)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{receipt.receipt_no}.pdf"'
    response["X-Reprint"] = "1" if reprint else "0"
    return response


# ---------------------------------------------------------------- refunds


class RefundOut(Schema):
    id: int
    payment_id: int
    resident_id: int | None
    name: str
    id_number: str
    benefit_year: int
    amount: Money
    reason: str
    enrollment_action: str
    status: str
    note: str
    requested_by: str
    decided_by: str
    booked_by: str


def _refund_out(scope, r: Refund) -> dict:
    return {
        "id": r.pk, "payment_id": r.payment_id, "resident_id": r.resident_id, "name": r.person_label,
        "id_number": scope.show_id(r.payment.id_number), "benefit_year": r.benefit_year, "amount": r.amount,
        "reason": r.reason, "enrollment_action": r.enrollment_action, "status": r.status, "note": r.note,
        "requested_by": r.requested_by_name, "decided_by": r.decided_by_name, "booked_by": r.booked_by_name,
    }


@router.get("/collection/refunds", response=list[RefundOut], summary="退费申请列表")
def refund_list(request, status: str | None = None, benefit_year: Year | None = None, q: str | None = None):
    scope = request.auth
    scope.require("payments.view")
    rows = selectors.refund_list(scope=scope, status=status, benefit_year=benefit_year, q=q)[:500]
    return [_refund_out(scope, r) for r in rows]


class RefundIn(Schema):
    payment_id: DbId
    reason: PlainText(32, "退费原因")
    enrollment_action: PlainText(32, "参保关系处理") | None = None
    note: PlainText(300, "说明") = ""


@router.post("/collection/refunds", response={201: RefundOut, 400: ErrorOut}, summary="申请退费")
def refund_request(request, payload: RefundIn):
    scope = request.auth
    scope.require("refunds.request")
    payment = selectors.payment_get(scope=scope, pk=payload.payment_id)
    try:
        refund = services.refund_request(payment=payment, reason=payload.reason, actor=request.user,
                                         enrollment_action=payload.enrollment_action, note=payload.note)
    except services.PaymentError as exc:
        return _problem(exc)
    return Status(201, _refund_out(scope, refund))


class NoteIn(Schema):
    note: PlainText(200, "审批意见") = ""


@router.post("/collection/refunds/{refund_id}/approve", response={200: RefundOut, 400: ErrorOut}, summary="审批同意退费")
def refund_approve(request, refund_id: DbId, payload: NoteIn):
    scope = request.auth
    scope.require("refunds.approve")
    try:
        refund = services.refund_approve(refund=selectors.refund_get(scope=scope, pk=refund_id), actor=request.user,
                                         note=payload.note)
    except services.PaymentError as exc:
        return _problem(exc)
    return _refund_out(scope, refund)


@router.post("/collection/refunds/{refund_id}/reject", response={200: RefundOut, 400: ErrorOut}, summary="驳回退费申请")
def refund_reject(request, refund_id: DbId, payload: NoteIn):
    scope = request.auth
    scope.require("refunds.approve")
    try:
        refund = services.refund_reject(refund=selectors.refund_get(scope=scope, pk=refund_id), actor=request.user,
                                        note=payload.note)
    except services.PaymentError as exc:
        return _problem(exc)
    return _refund_out(scope, refund)


@router.post("/collection/refunds/{refund_id}/book", response={200: RefundOut, 400: ErrorOut}, summary="退款入账（同时暂停或终止参保关系）")
def refund_book(request, refund_id: DbId):
    scope = request.auth
    scope.require("refunds.book")
    try:
        refund = services.refund_book(refund=selectors.refund_get(scope=scope, pk=refund_id), actor=request.user)
    except services.PaymentError as exc:
        return _problem(exc)
    return _refund_out(scope, refund)


# ---------------------------------------------------------------- 先缴后补


class SubsidyRefundOut(Schema):
    id: int
    township_code: str
    village_code: str
    resident_id: int
    name: str
    id_number: str
    benefit_year: int
    identity: str
    amount: Money
    status: str


class TownshipTotal(Schema):
    township_code: str
    count: int
    total: Money


class SubsidyRefundList(Schema):
    townships: list[TownshipTotal]
    items: list[SubsidyRefundOut]


@router.get("/collection/subsidy-refunds", response=SubsidyRefundList, summary="先缴后补名单（按乡镇，含合计）")
def subsidy_refund_list(request, township: str | None = None, benefit_year: Year | None = None, status: str | None = None):
    scope = request.auth
    scope.require("subsidy_refunds.view")
    rows = selectors.subsidy_refund_list(scope=scope, township=township, benefit_year=benefit_year, status=status)
    totals = selectors.subsidy_refund_totals(rows)
    return {
        "townships": [{"township_code": t["township_code"], "count": t["count"], "total": t["total"]} for t in totals],
        "items": [{"id": r.pk, "township_code": r.township_code, "village_code": r.village_code,
                   "resident_id": r.resident_id, "name": r.resident.name, "id_number": scope.show_id(r.resident.id_number),
                   "benefit_year": r.benefit_year, "identity": r.identity, "amount": r.amount, "status": r.status}
                  for r in rows[:2000]],
    }


def _visible(scope, ids: list[int]) -> None:
    from django.http import Http404

    if selectors.subsidy_refund_list(scope=scope).filter(pk__in=ids).count() != len(set(ids)):
        raise Http404("所选名单中有不存在或不在您管辖范围内的记录。")


class IdsIn(Schema):
    ids: list[DbId]


class UpdatedOut(Schema):
    updated: int


@router.post("/collection/subsidy-refunds/approve", response={200: UpdatedOut, 400: ErrorOut}, summary="乡镇审核先缴后补（选中的记录）")
def subsidy_refunds_approve(request, payload: IdsIn):
    scope = request.auth
    scope.require("subsidy_refunds.approve")
    _visible(scope, payload.ids)
    try:
        return {"updated": services.subsidy_refunds_approve(ids=payload.ids, actor=request.user, scope=scope)}
    except services.PaymentError as exc:
        return _problem(exc)


@router.post("/collection/subsidy-refunds/pay", response={200: UpdatedOut, 400: ErrorOut}, summary="发放先缴后补退补款（选中的记录）")
def subsidy_refunds_pay(request, payload: IdsIn):
    scope = request.auth
    scope.require("subsidy_refunds.pay")
    _visible(scope, payload.ids)
    try:
        return {"updated": services.subsidy_refunds_pay(ids=payload.ids, actor=request.user, scope=scope)}
    except services.PaymentError as exc:
        return _problem(exc)
