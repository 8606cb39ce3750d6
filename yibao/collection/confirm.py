"""The confirmation sheets of the collection area: what each money action would do, computed with
the same plan the booking uses (counter_plan, top_up_plan, refund_plan, the void check).

Each builder takes the request's form values and returns a `Sheet`; a refusal comes back as the
sheet's `error` (nothing to confirm). See yibao.core.confirm for the two-step POST and the token.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from django.urls import reverse

from yibao.collection import services
from yibao.collection.models import Payment, Receipt, Refund
from yibao.collection.selectors import COUNTER_CHANNELS
from yibao.core.confirm import Sheet
from yibao.core.inputs import BadInput, parse_amount
from yibao.core.money import yuan
from yibao.policy.engine import cn_date
from yibao.regions.selectors import region_labels

SHOWN = 20  # people listed on a sheet; the rest are counted


def benefit_notice(name: str, quote) -> str:
    """A waiting period, said plainly: from the quote the booking stores (never recomputed)."""
    days = quote.waiting_days if quote is not None else 0
    if quote is None or quote.benefit_start is None or not (quote.waiting_months or days):
        return ""
    wait = " 另加 ".join(part for part in (f"{days} 天" if days else "",
                                         f"{quote.waiting_months} 个月" if quote.waiting_months else "") if part)
    return f"{name}：待遇自 {cn_date(quote.benefit_start)} 起享受（等待期 {wait}）"


def benefit_periods(quotes) -> list[str]:
    """The ordinary benefit periods (no waiting period), once each."""
    periods = dict.fromkeys(
        f"待遇享受期 {cn_date(q.benefit_start)} 至 {cn_date(q.benefit_end)}"
        for q in quotes if q is not None and q.benefit_start and q.benefit_end and not q.waiting_months
        and not q.waiting_days)
    return list(periods)


def _people(scope, rows) -> tuple[list[dict], int]:
    """rows: (name, id_number, village_code, amount, note); the ID number as the scope may see it."""
    rows = list(rows)
    labels = region_labels(r[2] for r in rows[:SHOWN])
    people = [
        {"name": name, "shown_id": scope.show_id(id_number, village) if id_number else "",
         "place": labels.get(village, village) if village else "", "amount": yuan(amount) if amount is not None else "",
         "note": note}
        for name, id_number, village, amount, note in rows[:SHOWN]
    ]
    return people, max(0, len(rows) - SHOWN)


def cash_received(sheet: Sheet, raw) -> None:
    """The cash handed over, checked against the total; the sheet says what is wrong."""
    try:
        sheet.received = parse_amount(raw, label="实收现金", field="received")
    except BadInput as exc:
        sheet.received_error = str(exc)
        return
    sheet.received_text = yuan(sheet.received) if sheet.received is not None else ""
    if sheet.received is not None and sheet.total is not None and sheet.received < sheet.total:
        sheet.received_error = f"实收现金 {yuan(sheet.received)} 元少于应收 {yuan(sheet.total)} 元，不能收款。"


def counter_sheet(request, *, people, household, channel: str, amount, back: str) -> Sheet:
    scope = request.scope
    fields = [("household", str(household.pk))] if household else []
    fields += [("residents", str(p.pk)) for p in people] + [("channel", channel)]
    sheet = Sheet(title="确认收款", action=reverse("collection:counter_pay"), cancel_url=back,
                  confirm_label="确认收款并开票", fields=fields, total_label="应收合计",
                  cash=channel == Payment.Channel.CASH)
    try:
        plan = services.counter_plan(residents=people, channel=channel, actor=request.user, amount=amount)
    except services.PaymentError as exc:
        sheet.error = str(exc)
        return sheet
    sheet.fields.append(("amount", str(plan.total)))
    quotes = plan.quotes
    sheet.people, sheet.more = _people(scope, [
        (p.name, p.id_number, p.village_code, quotes[p.pk].payable, _subsidy_note(quotes[p.pk])) for p in plan.residents])
    sheet.total = plan.total
    sheet.confirm_label = f"确认收款 {yuan(plan.total)} 元"
    year = plan.campaign.benefit_year
    sheet.changes = [
        f"登记 {year} 年度参保（{len(plan.residents)} 人），开具票据 1 张",
        f"收款方式：{Payment.Channel(channel).label}，缴费日期 {cn_date(plan.paid_on)}",
    ]
    later = sum((q.refund_later for q in quotes.values()), Decimal("0"))
    if later > 0:
        sheet.changes.append(f"先缴后补：全额缴费，日后退补 {yuan(later)} 元")
    sheet.changes += benefit_periods(quotes[p.pk] for p in plan.residents)
    sheet.notices = [n for n in (benefit_notice(p.name, quotes[p.pk]) for p in plan.residents) if n]
    if sheet.cash:
        cash_received(sheet, request.POST.get("received"))
    return sheet


def _subsidy_note(quote) -> str:
    return f"先缴后补，日后退补 {yuan(quote.refund_later)} 元" if quote.refund_later > 0 else ""


def top_up_sheet(request, *, payment: Payment, channel: str) -> Sheet:
    back = reverse("collection:payment", args=[payment.pk])
    sheet = Sheet(title="确认补缴差额", action=reverse("collection:payment_top_up", args=[payment.pk]),
                  cancel_url=back, confirm_label="确认补缴并开票", fields=[("channel", channel)],
                  total_label="补缴差额", cash=channel == Payment.Channel.CASH)
    if channel not in COUNTER_CHANNELS:
        names = "、".join(Payment.Channel(c).label for c in COUNTER_CHANNELS)
        sheet.error = f"窗口收款方式只能是{names}，收到：{channel}。"
        return sheet
    try:
        answer, rest = services.top_up_plan(payment=payment)
    except services.PaymentError as exc:
        sheet.error = str(exc)
        return sheet
    resident = payment.resident
    sheet.fields.append(("amount", str(rest)))
    sheet.total = rest
    sheet.confirm_label = f"确认补缴 {yuan(rest)} 元"
    sheet.people, _ = _people(request.scope, [(resident.name, resident.id_number, resident.village_code, rest, "")])
    sheet.changes = [
        f"收取差额 {yuan(rest)} 元，开具票据 1 张（{Payment.Channel(channel).label}）",
        f"原缴费（缴费流水号 {payment.external_id}，{yuan(payment.amount)} 元）入账，合计 {yuan(answer.payable)} 元，"
        f"登记 {payment.benefit_year} 年度参保",
    ]
    sheet.changes += benefit_periods([answer])
    notice = benefit_notice(resident.name, answer)
    sheet.notices = [notice] if notice else []
    if sheet.cash:
        cash_received(sheet, request.POST.get("received"))
    return sheet


def void_sheet(request, *, receipt: Receipt, reason: str, reissue: bool) -> Sheet:
    back = reverse("collection:receipt", args=[receipt.pk])
    sheet = Sheet(title="确认作废票据", action=reverse("collection:receipt_void", args=[receipt.pk]), cancel_url=back,
                  confirm_label="确认作废", fields=[("reason", reason)] + ([("reissue", "1")] if reissue else []),
                  total_label="原票据金额", danger=True)
    try:
        in_force = services.receipt_void_plan(receipt=receipt, reason=reason, reissue=reissue)
    except services.PaymentError as exc:
        sheet.error = str(exc)
        return sheet
    lines = list(receipt.lines.select_related("payment").order_by("pk"))
    sheet.people, sheet.more = _people(request.scope, [
        (line.name, line.payment.id_number, line.payment.village_code, line.amount,
         "已退费" if line.payment.status == Payment.Status.REFUNDED else "") for line in lines])
    sheet.total = receipt.total
    if in_force:
        kept = sum((line.amount for line in in_force), Decimal("0"))
        sheet.changes = [f"票据 {receipt.receipt_no} 作废，换开新票据（{len(in_force)} 人，合计 {yuan(kept)} 元）",
                         "换开的新票据须打印交给缴费人，原票据收回"]
        sheet.confirm_label = "确认作废并换开"
    else:
        sheet.changes = [f"票据 {receipt.receipt_no} 作废，不再换开（所含缴费均已退费）"]
    sheet.changes.append(f"作废原因：{reason}")
    return sheet


def refund_request_sheet(request, *, payment: Payment, reason: str, enrollment_action: str, note: str, q: str) -> Sheet:
    back = reverse("collection:refund_new") + (f"?{urlencode({'q': q})}" if q else "")
    fields = [("payment", str(payment.pk)), ("reason", reason), ("note", note), ("q", q)]
    if enrollment_action:
        fields.append(("enrollment_action", enrollment_action))
    sheet = Sheet(title="确认申请退费", action=reverse("collection:refund_new"), cancel_url=back,
                  confirm_label="确认提交退费申请", fields=fields, total_label="退费金额")
    try:
        code, amount, action = services.refund_plan(payment=payment, reason=reason, enrollment_action=enrollment_action or None)
    except services.PaymentError as exc:
        sheet.error = str(exc)
        return sheet
    resident = payment.resident
    name = resident.name if resident else f"查无此人（身份证号码尾号{payment.id_number[-4:]}）"
    sheet.people, _ = _people(request.scope, [(name, payment.id_number, payment.village_code, amount, "")])
    sheet.total = amount
    sheet.confirm_label = f"确认申请退费 {yuan(amount)} 元"
    sheet.changes = [
        f"退还缴费流水号 {payment.external_id}（{cn_date(payment.paid_on)} 缴纳 {yuan(payment.amount)} 元）"
        f"中的 {yuan(amount)} 元给{'缴费人' if resident is None else resident.name}",
        f"退费原因：{Refund.Reason(code).label}" + (f"（{note}）" if note else ""),
    ]
    if action != Refund.EnrollmentAction.NONE:
        sheet.changes.append(f"退款入账时同时办理{Refund.EnrollmentAction(action).label}")
    sheet.changes.append("提交后须经县医保局审批，再由税务办理退款")
    return sheet


def _refund_people(request, refund: Refund):
    payment = refund.payment
    return _people(request.scope, [(refund.person_label, payment.id_number, payment.village_code, refund.amount, "")])


def refund_approve_sheet(request, *, refund: Refund, note: str, back: str) -> Sheet:
    sheet = Sheet(title="确认同意退费", action=reverse("collection:refund_approve", args=[refund.pk]),
                  cancel_url=back, confirm_label=f"确认同意退费 {yuan(refund.amount)} 元",
                  fields=[("note", note), ("next", back)], total_label="退费金额")
    if refund.status != Refund.Status.REQUESTED:
        sheet.error = f"退费申请状态为“{refund.get_status_display()}”，不能审批。"
        return sheet
    sheet.people, _ = _refund_people(request, refund)
    sheet.total = refund.amount
    sheet.changes = [f"同意{refund.person_label}的退费申请（{refund.get_reason_display()}），"
                     f"退还缴费流水号 {refund.payment.external_id} 中的 {yuan(refund.amount)} 元",
                     "审批后由税务办理退款"]
    return sheet


def refund_book_sheet(request, *, refund: Refund, back: str) -> Sheet:
    sheet = Sheet(title="确认退款入账", action=reverse("collection:refund_book", args=[refund.pk]), cancel_url=back,
                  confirm_label=f"确认退款 {yuan(refund.amount)} 元", fields=[("next", back)], total_label="退款金额",
                  danger=True)
    if refund.status != Refund.Status.APPROVED:
        sheet.error = f"退费申请状态为“{refund.get_status_display()}”，不能办理退款。"
        return sheet
    payment = refund.payment
    sheet.people, _ = _refund_people(request, refund)
    sheet.total = refund.amount
    sheet.changes = [f"退还 {yuan(refund.amount)} 元给{refund.person_label}（{refund.get_reason_display()}）"]
    if refund.reason == Refund.Reason.OVERPAID:
        sheet.changes.append(f"缴费流水号 {payment.external_id} 其余 {yuan(payment.expected_amount)} 元入账")
    else:
        sheet.changes.append(f"缴费流水号 {payment.external_id} 标记为已退费")
        if refund.enrollment_action != Refund.EnrollmentAction.NONE:
            sheet.changes.append(f"{payment.benefit_year} 年度{refund.get_enrollment_action_display()}")
        if refund.reason == Refund.Reason.DEATH and refund.resident_id:
            sheet.changes.append("户籍状态登记为已死亡")
    return sheet


def subsidy_pay_sheet(request, *, rows, ids: list[int], back: str) -> Sheet:
    sheet = Sheet(title="确认发放先缴后补", action=reverse("collection:subsidy_refunds_action"), cancel_url=back,
                  confirm_label="确认发放", fields=[("action", "pay"), ("next", back)] + [("ids", str(i)) for i in ids],
                  total_label="发放合计")
    rows = list(rows.select_related("resident").order_by("pk"))
    wrong = [r for r in rows if r.status != "approved"]
    if wrong:
        names = "、".join(f"{r.resident.name}（{r.get_status_display()}）" for r in wrong[:5])
        sheet.error = f"只有“已审核”的记录才能发放：{names}。"
        return sheet
    sheet.people, sheet.more = _people(request.scope, [
        (r.resident.name, r.resident.id_number, r.village_code, r.amount, "") for r in rows])
    sheet.total = sum((r.amount for r in rows), Decimal("0"))
    sheet.confirm_label = f"确认发放 {yuan(sheet.total)} 元"
    sheet.changes = [f"先缴后补 {len(rows)} 人标记为已发放，合计 {yuan(sheet.total)} 元"]
    return sheet
