"""Pages of the collection area: the collector's counter, receipts, payments, refunds, 先缴后补, channel files."""

from __future__ import annotations

import tempfile
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from yibao.accounts.decorators import scoped_view
from yibao.collection import confirm as sheets
from yibao.collection import selectors, services
from yibao.collection.models import Payment, Refund, SubsidyRefund
from yibao.collection.receipts import receipt_collector
from yibao.collection.tasks import INGEST_KIND
from yibao.core import confirm
from yibao.core.clock import business_today
from yibao.core.inputs import BadInput, parse_amount, parse_id, parse_ids, parse_year, posted_text
from yibao.core.money import yuan
from yibao.core.selectors import job_list, job_progress, jobs_settled
from yibao.policy.vocabulary import identity_name
from yibao.regions.selectors import region_label, region_labels, region_options

PAGE_SIZE = 50


# ---------------------------------------------------------------- the collector's counter


@scoped_view("payments.collect")
def counter(request):
    scope = request.scope
    q = request.GET.get("q", "").strip()
    results = selectors.counter_search(scope=scope, q=q) if q else []
    context = {"q": q, "results": results, "today": selectors.business_today()}
    if request.headers.get("HX-Request"):
        return render(request, "collection/_counter_results.html", context)
    return render(request, "collection/counter.html", context)


def _counter_context(request, *, household=None, residents, error: str = "", checked=None, channel: str = "cash"):
    dues = selectors.counter_dues(scope=request.scope, residents=residents, checked=checked)
    return {
        "household": household, "dues": dues, "error": error, "channel": channel,
        "channels": [(c, Payment.Channel(c).label) for c in selectors.COUNTER_CHANNELS],
        "place": region_label(residents[0].village_code) if residents else "",
        "checked_total": dues.checked_total,
    }


@scoped_view("payments.collect")
def counter_household(request, pk: int):
    household, members = selectors.counter_household(scope=request.scope, pk=pk)
    return render(request, "collection/counter_household.html",
                  _counter_context(request, household=household, residents=members))


@scoped_view("payments.collect")
def counter_resident(request, pk: int):
    resident = selectors.counter_resident(scope=request.scope, pk=pk)
    if resident.household_id:
        return redirect("collection:counter_household", pk=resident.household_id)
    return render(request, "collection/counter_household.html", _counter_context(request, residents=[resident]))


@require_POST
@scoped_view("payments.collect")
def counter_pay(request):
    """收款: the first POST shows the confirmation sheet; only the sheet's own POST books."""
    from yibao.registry.selectors import resident_get

    scope = request.scope
    household = None
    if request.POST.get("household"):
        household, members = selectors.counter_household(
            scope=scope, pk=parse_id(request.POST["household"], label="户", field="household"))
    ids = parse_ids(request.POST.getlist("residents"), label="参保人", field="residents")
    people = [resident_get(scope=scope, pk=pk) for pk in ids]
    if household is None:
        members = people
    elif any(p.household_id != household.pk for p in people):
        raise Http404("所选人员不是该户成员。")
    channel = request.POST.get("channel", "cash")

    def refused(error: str):
        context = _counter_context(request, household=household, residents=members, error=error,
                                   checked=set(ids), channel=channel)
        return render(request, "collection/counter_household.html", context, status=400)

    try:
        amount = parse_amount(request.POST.get("amount"), label="实收金额")
    except BadInput as exc:
        return refused(str(exc))
    back = (reverse("collection:counter_household", args=[household.pk]) if household
            else reverse("collection:counter_resident", args=[people[0].pk]) if people else reverse("collection:counter"))

    def build():
        return sheets.counter_sheet(request, people=people, household=household, channel=channel, amount=amount, back=back)

    answer = confirm.ask(request, build, refused=refused)
    if answer is not None:
        return answer
    sheet = build() if channel == Payment.Channel.CASH else None
    if sheet is not None and not sheet.error and (sheet.received is None or sheet.received_error):
        sheet.received_error = sheet.received_error or "请填写实收现金金额。"
        return confirm.sheet_render(request, sheet, status=400)
    try:
        result = services.payment_collect(residents=people, channel=channel, actor=request.user, amount=amount,
                                          household=household)
    except services.PaymentError as exc:
        confirm.token_spend(request)
        return refused(str(exc))
    change = f"实收现金 {yuan(sheet.received)} 元，找零 {yuan(sheet.change)} 元；" if sheet is not None else ""
    messages.success(request, f"已收款 {yuan(result.total)} 元，{change}票据号 {result.receipt.receipt_no}。")
    return confirm.done(request, reverse("collection:receipt", args=[result.receipt.pk]))


@scoped_view("payments.view")
def receipt(request, pk: int):
    scope = request.scope
    item = selectors.receipt_get(scope=scope, pk=pk)
    lines = selectors.receipt_lines(item)
    for line in lines:
        line.shown_id = scope.show_id(line.payment.id_number)
    return render(request, "collection/receipt.html", {
        "receipt": item, "lines": lines, "can_print": scope.can("receipts.print"),
        "collector": receipt_collector(item, lines),
        "can_collect": scope.can("payments.collect"), "voided": selectors.receipt_void_record(scope=scope, receipt=item),
        "can_void": scope.can("receipts.void") and item.voided_at is None,
        "in_force": sum(1 for line in lines if line.payment.status != Payment.Status.REFUNDED),
    })


@require_POST
@scoped_view("receipts.void")
def receipt_void(request, pk: int):
    """作废/换开: the reason and the choice first, then the sheet, then the void."""
    item = selectors.receipt_get(scope=request.scope, pk=pk)
    try:
        reason = posted_text(request.POST, "reason", label="作废原因", max_length=200)
    except BadInput as exc:
        messages.error(request, str(exc))
        return redirect("collection:receipt", pk=item.pk)
    reissue = request.POST.get("reissue") == "1"

    def build():
        return sheets.void_sheet(request, receipt=item, reason=reason, reissue=reissue)

    answer = confirm.ask(request, build, refused=reverse("collection:receipt", args=[item.pk]))
    if answer is not None:
        return answer
    try:
        replacement = services.receipt_void(receipt=item, actor=request.user, reason=reason, reissue=reissue)
    except services.PaymentError as exc:
        confirm.token_spend(request)
        messages.error(request, str(exc))
        return redirect("collection:receipt", pk=item.pk)
    if replacement is not None:
        messages.success(request, f"票据 {item.receipt_no} 已作废，已换开新票据 {replacement.receipt_no}，请打印交给缴费人。")
        return confirm.done(request, reverse("collection:receipt", args=[replacement.pk]))
    messages.success(request, f"票据 {item.receipt_no} 已作废。")
    return confirm.done(request, reverse("collection:receipt", args=[item.pk]))


@scoped_view("receipts.print")
def receipt_pdf(request, pk: int):
    item = selectors.receipt_get(scope=request.scope, pk=pk)
    data, reprint = services.receipt_print(receipt=item, actor=request.user)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{item.receipt_no}{"-bu-da" if reprint else ""}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- payments


@scoped_view("payments.view")
def payments(request):
    scope = request.scope
    g = request.GET
    year = g.get("year") or ""
    rows = selectors.payment_list(
        scope=scope, benefit_year=parse_year(year), status=g.get("status") or None,
        flag=g.get("flag") or None, q=g.get("q") or None, source=g.get("source") or None, region=g.get("region") or None,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(g.get("page"))
    items = list(page)
    labels = region_labels(p.village_code for p in items)
    for p in items:
        p.shown_id = scope.show_id(p.id_number)
        p.village_label = labels.get(p.village_code, p.village_code)
    return render(request, "collection/payments.html", {
        "page": page, "items": items, "q": g.get("q", ""), "year": year, "status": g.get("status", ""),
        "flag": g.get("flag", ""), "source": g.get("source", ""), "region": g.get("region", ""),
        "statuses": Payment.Status.choices, "flags": [c for c in Payment.Flag.choices if c[0]],
        "sources": Payment.Source.choices, "regions": region_options(scope=scope),
        "counts": selectors.payment_counts(scope=scope, benefit_year=parse_year(year)),
        "can_refund": scope.can("refunds.request"),
    })


@scoped_view("payments.view")
def payment(request, pk: int):
    scope = request.scope
    item = selectors.payment_get(scope=scope, pk=pk)
    line = getattr(item, "receipt_line", None) if item.source == Payment.Source.COUNTER else None
    unbooked = item.status == Payment.Status.FLAGGED and item.flag in services.UNBOOKED_FLAGS
    live_refund = item.refunds.exclude(status=Refund.Status.REJECTED).exists()
    return render(request, "collection/payment.html", {
        "payment": item, "shown_id": scope.show_id(item.id_number), "place": region_label(item.village_code) if item.village_code else "",
        "explanation": selectors.explanation_lines(item.explanation_key), "receipt": line.receipt if line else None,
        "refunds": list(item.refunds.order_by("-requested_at")),
        "can_refund": scope.can("refunds.request") and item.resident_id and (
            item.status == Payment.Status.BOOKED or item.flag in (Payment.Flag.OVER, Payment.Flag.DUPLICATE)),
        "subsidy_name": identity_name(item.subsidy_identity) if item.subsidy_identity else "",
        "top_up": _top_up_offer(scope, item),
        "channels": [(c, Payment.Channel(c).label) for c in selectors.COUNTER_CHANNELS],
        "top_ups": list(item.top_ups.all()),
        "unbooked": unbooked, "live_refund": live_refund,
        "can_recheck": unbooked and not live_refund and scope.can("payments.ingest"),
        "can_refund_unbooked": unbooked and not live_refund and scope.can("refunds.request"),
    })


def _top_up_offer(scope, item: Payment) -> dict | None:
    """What a 补缴差额 would take today, for a flagged under-payment the user may collect."""
    if not (item.status == Payment.Status.FLAGGED and item.flag == Payment.Flag.UNDER and item.resident_id
            and scope.can("payments.collect")):
        return None
    paid = selectors.booked_payment(resident=item.resident, benefit_year=item.benefit_year)
    if paid is not None:
        return {"error": f"{item.resident.name}{selectors.paid_text(paid)}，本笔少缴款项请办理退费。"}
    refusal = selectors.booking_refusal(campaign=item.campaign, paid_on=selectors.business_today())
    if refusal:
        return {"error": f"今日不能补缴差额：{refusal}"}
    try:
        answer = selectors.due_quote(resident=item.resident, campaign=item.campaign, paid_on=selectors.business_today())
    except Exception as exc:  # the page still shows the payment; the reason goes beside the button
        return {"error": str(exc)}
    if not answer.accepted:
        return {"error": f"今日补缴不予受理：{answer.reason}"}
    rest = answer.payable - item.amount
    return {"rest": rest, "payable": answer.payable} if rest > 0 else {"error": "按今日政策已无差额可补。"}


@require_POST
@scoped_view("payments.ingest")
def payment_recheck(request, pk: int):
    item = selectors.payment_get(scope=request.scope, pk=pk)
    try:
        item = services.payment_recheck(payment=item, actor=request.user)
    except services.PaymentError as exc:
        messages.error(request, str(exc))
    else:
        if item.status == Payment.Status.BOOKED:
            messages.success(request, f"已重新匹配并入账：{item.resident.name}，待遇享受期 {item.benefit_start:%Y-%m-%d} 至 "
                                      f"{item.benefit_end:%Y-%m-%d}。")
        else:
            messages.error(request, f"重新匹配后仍未入账（{item.get_flag_display()}）：{item.flag_advice}")
    return redirect("collection:payment", pk=item.pk)


@require_POST
@scoped_view("payments.collect")
def payment_top_up(request, pk: int):
    item = selectors.payment_get(scope=request.scope, pk=pk)
    channel = request.POST.get("channel", "cash")

    def build():
        return sheets.top_up_sheet(request, payment=item, channel=channel)

    answer = confirm.ask(request, build, refused=reverse("collection:payment", args=[item.pk]))
    if answer is not None:
        return answer
    sheet = build() if channel == Payment.Channel.CASH else None
    if sheet is not None and not sheet.error and (sheet.received is None or sheet.received_error):
        sheet.received_error = sheet.received_error or "请填写实收现金金额。"
        return confirm.sheet_render(request, sheet, status=400)
    try:
        amount = parse_amount(request.POST.get("amount"), label="补缴差额")
        result = services.payment_top_up(payment=item, channel=channel, actor=request.user, amount=amount)
    except (services.PaymentError, BadInput) as exc:
        confirm.token_spend(request)
        messages.error(request, str(exc))
        return redirect("collection:payment", pk=item.pk)
    change = f"实收现金 {yuan(sheet.received)} 元，找零 {yuan(sheet.change)} 元；" if sheet is not None else ""
    messages.success(request, f"已补缴差额 {yuan(result.total)} 元，{change}票据号 {result.receipt.receipt_no}，原缴费已入账。")
    return confirm.done(request, reverse("collection:receipt", args=[result.receipt.pk]))


# ---------------------------------------------------------------- refunds


@scoped_view("payments.view")
def refunds(request):
    """Everyone who sees payments sees the refunds of their area; the buttons follow the capabilities."""
    scope = request.scope
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()
    rows = selectors.refund_list(scope=scope, status=status or None, q=q or None)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page)
    for r in items:
        r.shown_id = scope.show_id(r.payment.id_number)  # a refund for 查无此人 has no resident
    return render(request, "collection/refunds.html", {
        "page": page, "items": items, "status": status, "q": q, "statuses": Refund.Status.choices,
        "can_request": scope.can("refunds.request"), "can_approve": scope.can("refunds.approve"),
        "can_book": scope.can("refunds.book"),
    })


@scoped_view("refunds.request")
def refund_new(request):
    """Find the person, pick the payment, give the reason: the rule is checked on submit."""
    from yibao.registry.selectors import resident_search

    scope = request.scope
    q = (request.GET.get("q") or request.POST.get("q") or "").strip()
    found, error = [], ""
    if request.method == "POST":
        payment_item = selectors.payment_get(scope=scope, pk=parse_id(request.POST.get("payment"), label="缴费记录", field="payment") or 0)
        answer, error = _refund_request_post(request, payment_item, q)
        if answer is not None:
            return answer
    chosen = parse_id(request.GET.get("resident") or request.POST.get("resident"), label="参保人", field="resident")
    if chosen:  # from the person page: that person, preselected
        from yibao.registry.selectors import resident_get

        people = [resident_get(scope=scope, pk=chosen)]
    else:
        people = list(resident_search(scope=scope, q=q, status=None)[:10]) if q else []
    if people:
        for resident in people:
            options = list(selectors.refundable_payments(scope=scope, resident=resident))
            found.append({"resident": resident, "shown_id": scope.show_id(resident.id_number), "payments": options})
    reasons = [(c, label) for c, label in Refund.Reason.choices]
    actions = [(c, label) for c, label in Refund.EnrollmentAction.choices if c != Refund.EnrollmentAction.NONE]
    return render(request, "collection/refund_new.html", {
        "q": q, "found": found, "error": error, "reasons": reasons, "actions": actions,
        "today": selectors.business_today(),
    }, status=400 if error else 200)


def _refund_request_post(request, payment_item: Payment, q: str):
    """申请退费: the sheet first, then the request. (response, error): an error keeps the search page."""
    try:
        reason = posted_text(request.POST, "reason", label="退费原因", max_length=32)
        note = posted_text(request.POST, "note", label="说明", max_length=300)
    except BadInput as exc:
        return None, str(exc)
    action = request.POST.get("enrollment_action") or ""

    def build():
        return sheets.refund_request_sheet(request, payment=payment_item, reason=reason, enrollment_action=action,
                                           note=note, q=q)

    if not confirm.confirmed(request):
        sheet = build()
        if sheet.error and not confirm.wants_sheet(request):
            return None, sheet.error
        return confirm.sheet_render(request, sheet), ""
    guard = confirm.guard(request, build)
    if guard is not None:
        return guard, ""
    try:
        refund = services.refund_request(payment=payment_item, reason=reason, actor=request.user,
                                         enrollment_action=action or None, note=note)
    except services.PaymentError as exc:
        confirm.token_spend(request)
        return None, str(exc)
    messages.success(request, f"已提交退费申请：{refund.person_label} {yuan(refund.amount)} 元，待审批。")
    return confirm.done(request, reverse("collection:refunds")), ""


def _refund_action(request, pk: int, capability: str, step):
    scope = request.scope
    scope.require(capability)
    refund = selectors.refund_get(scope=scope, pk=pk)
    try:
        step(refund)
    except services.PaymentError as exc:
        messages.error(request, str(exc))
    return redirect(request.POST.get("next") or "collection:refunds")


def _refund_sheet_step(request, pk: int, capability: str, build, step):
    """同意退费 and 退款入账 open the sheet first; the sheet's POST runs `step`."""
    scope = request.scope
    scope.require(capability)
    refund = selectors.refund_get(scope=scope, pk=pk)
    back = confirm.safe_next(request, reverse("collection:refunds"))

    def sheet():
        return build(request, refund=refund, back=back)

    answer = confirm.ask(request, sheet, refused=back)
    if answer is not None:
        return answer
    try:
        step(refund)
    except (services.PaymentError, BadInput) as exc:
        confirm.token_spend(request)
        messages.error(request, str(exc))
        return redirect(back)
    return confirm.done(request, back)


@require_POST
@scoped_view
def refund_approve(request, pk: int):
    note = request.POST.get("note", "")

    def build(request, *, refund, back):
        return sheets.refund_approve_sheet(request, refund=refund, note=note, back=back)

    def step(refund):
        services.refund_approve(refund=refund, actor=request.user,
                                note=posted_text(request.POST, "note", label="审批意见", max_length=200))
        messages.success(request, f"已同意 {refund.person_label} 的退费申请。")

    return _refund_sheet_step(request, pk, "refunds.approve", build, step)


@require_POST
@scoped_view
def refund_reject(request, pk: int):
    def step(refund):
        services.refund_reject(refund=refund, actor=request.user,
                               note=posted_text(request.POST, "note", label="审批意见", max_length=200))
        messages.success(request, f"已驳回 {refund.person_label} 的退费申请。")

    return _refund_action(request, pk, "refunds.approve", step)


@require_POST
@scoped_view
def refund_book(request, pk: int):
    def step(refund):
        services.refund_book(refund=refund, actor=request.user)
        messages.success(request, f"已退款 {yuan(refund.amount)} 元给 {refund.person_label}"
                                  + ("" if refund.enrollment_action == Refund.EnrollmentAction.NONE
                                     else f"，并办理{refund.get_enrollment_action_display()}") + "。")

    return _refund_sheet_step(request, pk, "refunds.book", sheets.refund_book_sheet, step)


# ---------------------------------------------------------------- 先缴后补


def _subsidy_rows(request):
    scope = request.scope
    g = request.GET
    year = g.get("year") or ""
    return selectors.subsidy_refund_list(
        scope=scope, township=g.get("township") or None, benefit_year=parse_year(year),
        status=g.get("status") or None, q=g.get("q") or None,
    )


@scoped_view("subsidy_refunds.view")
def subsidy_refunds(request):
    scope = request.scope
    rows = _subsidy_rows(request)
    totals = selectors.subsidy_refund_totals(rows)
    labels = region_labels({t["township_code"] for t in totals})
    for t in totals:
        t["label"] = labels.get(t["township_code"], t["township_code"])
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    items = list(page)
    village_labels = region_labels(r.village_code for r in items)
    for r in items:
        r.shown_id = scope.show_id(r.resident.id_number)
        r.village_label = village_labels.get(r.village_code, r.village_code)
        r.identity_name = identity_name(r.identity) if r.identity else ""
    return render(request, "collection/subsidy_refunds.html", {
        "page": page, "items": items, "totals": totals, "township": request.GET.get("township", ""),
        "status": request.GET.get("status", ""), "q": request.GET.get("q", ""), "year": request.GET.get("year", ""),
        "statuses": SubsidyRefund.Status.choices, "townships": region_options(scope=scope, level=9),
        "can_approve": scope.can("subsidy_refunds.approve"), "can_pay": scope.can("subsidy_refunds.pay"),
        "grand_total": sum((t["total"] for t in totals), Decimal("0.00")),
        "grand_count": sum(t["count"] for t in totals),
    })


@require_POST
@scoped_view("subsidy_refunds.view")
def subsidy_refunds_action(request):
    scope = request.scope
    action = request.POST.get("action")
    ids = parse_ids(request.POST.getlist("ids"), label="先缴后补记录", field="ids")
    back = request.POST.get("next") or "collection:subsidy_refunds"
    capability = {"approve": "subsidy_refunds.approve", "pay": "subsidy_refunds.pay"}.get(action)
    if capability is None:
        raise Http404("未知的操作。")
    scope.require(capability)
    if not ids:
        messages.error(request, "请先勾选要处理的人员。")
        return redirect(back)
    if selectors.subsidy_refund_list(scope=scope).filter(pk__in=ids).count() != len(set(ids)):
        raise Http404("所选名单中有不存在或不在您管辖范围内的记录。")
    if action == "pay":
        return _subsidy_pay(request, ids, back)
    try:
        n = services.subsidy_refunds_approve(ids=ids, actor=request.user, scope=scope)
        messages.success(request, f"已审核 {n} 人。")
    except services.PaymentError as exc:
        messages.error(request, str(exc))
    return redirect(back)


def _subsidy_pay(request, ids: list[int], back: str):
    """先缴后补发放 moves money: the sheet first (who, how much in all), then the payout."""
    scope = request.scope
    back_url = confirm.safe_next(request, reverse("collection:subsidy_refunds"))

    def build():
        rows = selectors.subsidy_refund_list(scope=scope).filter(pk__in=ids)
        return sheets.subsidy_pay_sheet(request, rows=rows, ids=ids, back=back_url)

    answer = confirm.ask(request, build, refused=back)
    if answer is not None:
        return answer
    try:
        n = services.subsidy_refunds_pay(ids=ids, actor=request.user, scope=scope)
    except services.PaymentError as exc:
        confirm.token_spend(request)
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(request, f"已发放 {n} 人。")
    return confirm.done(request, back_url)


@scoped_view("subsidy_refunds.view")
def subsidy_refunds_export(request):
    scope = request.scope
    rows = _subsidy_rows(request)
    handle = tempfile.NamedTemporaryFile(dir=settings.VAR_DIR, suffix=".xlsx", delete=False)
    handle.close()
    count = services.subsidy_refunds_export(rows=rows, path=handle.name, scope=scope)
    from yibao.core.services import event_record

    event_record(county_code=scope.county_code, entity="export", entity_id="subsidy_refunds", action="export",
                 actor=request.user, after={"rows": count, "township": request.GET.get("township", ""),
                                                "q": request.GET.get("q", "")},
                 reason="导出先缴后补名单")
    from yibao.core.downloads import region_file_name

    code = request.GET.get("township") or scope.region_code
    name = region_file_name(code, "先缴后补名单", extra=f"{business_today():%Y%m%d}") if code else \
        f"全部-先缴后补名单-{business_today():%Y%m%d}.xlsx"
    return FileResponse(open(handle.name, "rb"), as_attachment=True, filename=name,
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# ---------------------------------------------------------------- channel files


@scoped_view("payments.ingest")
def ingest(request):
    from yibao.collection.ingest import PAYMENT_COLUMNS
    from yibao.core.jobs import job_enqueue

    scope = request.scope
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        county = (request.POST.get("county_code") or "").strip() or None
        if upload is None:
            error = "请选择要上传的缴费明细文件（CSV 或 xlsx）。"
        else:
            try:
                county = services.payment_file_county_check(county) or None  # before the file is kept
                path = services.payment_file_store(uploaded=upload)
                job = services.payment_file_job_create(path=path, file_name=upload.name, county_code=county,
                                                       actor=request.user)
            except services.PaymentError as exc:
                error = str(exc)
            except PermissionDenied as exc:
                error = str(exc)
            else:
                job_enqueue(job)  # the job page's banner says it runs, then what came of it
                return redirect("collection:ingest_job", pk=job.pk)
    jobs = jobs_settled(job_list(scope=scope, kinds=[INGEST_KIND]).order_by("-created_at")[:20])
    return render(request, "collection/ingest.html", {
        "error": error, "jobs": jobs, "needs_county": not scope.region_code,
        "columns": [{"label": c.label, "required": c.required, "synonyms": [s for s in c.synonyms if s != c.label][:5]}
                    for c in PAYMENT_COLUMNS],
    }, status=400 if error else 200)


@scoped_view("payments.ingest")
def ingest_job(request, pk: int):
    job = get_object_or_404(job_list(scope=request.scope, kinds=[INGEST_KIND]), pk=pk)
    flagged = []
    if job.result and job.result.get("flagged_by_kind"):
        flagged = [(Payment.Flag(k).label, k, n) for k, n in job.result["flagged_by_kind"].items() if n]
    template = "collection/_ingest_summary.html" if request.GET.get("partial") else "collection/ingest_job.html"
    from yibao.core.selectors import job_report_preview

    preview = job_report_preview(job, scope=request.scope) if not request.GET.get("partial") else []
    return render(request, template, {"job": job, "progress": job_progress(job), "flagged": flagged, "preview": preview})
