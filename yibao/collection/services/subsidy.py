"""先缴后补: approvals, payouts and the xlsx list."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from yibao.accounts.scope import actor_scope
from yibao.collection.models import SubsidyRefund
from yibao.collection.services.common import (
    PaymentError,
    _actor_name,
    _check_actor,
)
from yibao.core.clock import business_now


def _subsidy_bulk(*, ids: list[int], scope, actor, capability: str, expected: str, new_status: str, verb: str) -> int:
    _check_actor(actor, capability)
    rows = SubsidyRefund.objects.select_for_update().filter(pk__in=list(ids))
    if scope is not None:
        rows = scope.filter(rows)
        if scope.region_code:
            rows = rows.filter(county_code=scope.county_code)
    rows = list(rows.order_by("id"))
    if len(rows) != len(set(ids)):
        raise PaymentError("所选名单中有不存在或不在您管辖范围内的记录，请刷新后重选。")
    wrong = [r for r in rows if r.status != expected]
    if wrong:
        names = "、".join(f"{r.resident.name}（{r.get_status_display()}）" for r in wrong[:5])
        raise PaymentError(f"只有“{SubsidyRefund.Status(expected).label}”的记录才能{verb}：{names}。")
    now = business_now()
    name = _actor_name(actor)
    from yibao.core.services import event_bulk_record

    events = []
    for row in rows:
        row.status = new_status
        if new_status == SubsidyRefund.Status.APPROVED:
            row.approved_at, row.approved_by_name = now, name
        else:
            row.paid_at, row.paid_by_name = now, name
        events.append({"county_code": row.county_code, "entity": "subsidy_refund", "entity_id": str(row.pk),
                       "action": new_status, "before": {"status": expected},
                       "after": {"status": new_status, "amount": str(row.amount)}, "reason": f"先缴后补{verb}"})
    SubsidyRefund.objects.bulk_update(rows, ["status", "approved_at", "approved_by_name", "paid_at", "paid_by_name"])
    event_bulk_record(rows=events, actor=actor)
    return len(rows)


@transaction.atomic
def subsidy_refunds_approve(*, ids: list[int], actor, scope=None) -> int:
    """乡镇审核: pending → approved, for the selected rows (all or none)."""
    scope = scope or actor_scope(actor)
    return _subsidy_bulk(ids=ids, scope=scope, actor=actor, capability="subsidy_refunds.approve",
                         expected=SubsidyRefund.Status.PENDING, new_status=SubsidyRefund.Status.APPROVED, verb="审核")


@transaction.atomic
def subsidy_refunds_pay(*, ids: list[int], actor, scope=None) -> int:
    """县（税务）发放: approved → paid, for the selected rows (all or none)."""
    scope = scope or actor_scope(actor)
    return _subsidy_bulk(ids=ids, scope=scope, actor=actor, capability="subsidy_refunds.pay",
                         expected=SubsidyRefund.Status.APPROVED, new_status=SubsidyRefund.Status.PAID, verb="发放")


def subsidy_refunds_export(*, rows, path, scope=None) -> int:
    """The 先缴后补 list as xlsx (xlsxwriter): one sheet of people, one of township totals.

    ID numbers are written as the scope may see them (masked for 审计); without a scope (the command
    line, run by the server's operator) whole."""
    import xlsxwriter

    from yibao.collection.selectors import subsidy_refund_totals
    from yibao.policy.vocabulary import identity_name
    from yibao.regions.selectors import region_labels

    items = list(rows)
    labels = region_labels({r.village_code for r in items} | {r.township_code for r in items})
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#F0F4F8", "border": 1})
    money = book.add_format({"num_format": "0.00"})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet("先缴后补名单")
    headers = ("乡镇（街道）", "村（社区）", "姓名", "身份证号码", "待遇年度", "补贴身份", "缴费金额", "退补金额", "状态",
               "缴费日期", "审核人", "发放人")
    sheet.write_row(0, 0, headers, bold)
    sheet.set_column(0, 1, 16)
    sheet.set_column(3, 3, 21, text)
    sheet.set_column(5, 5, 16)
    sheet.freeze_panes(1, 0)
    total = Decimal("0")
    for i, r in enumerate(items, start=1):
        sheet.write_string(i, 0, labels.get(r.township_code, r.township_code))
        sheet.write_string(i, 1, labels.get(r.village_code, r.village_code).split(" / ")[-1])
        sheet.write_string(i, 2, r.resident.name)
        sheet.write_string(i, 3, scope.show_id(r.resident.id_number, r.village_code) if scope else r.resident.id_number)
        sheet.write_number(i, 4, r.benefit_year)
        sheet.write_string(i, 5, identity_name(r.identity) if r.identity else "")
        sheet.write_number(i, 6, float(r.payment.amount), money)
        sheet.write_number(i, 7, float(r.amount), money)
        sheet.write_string(i, 8, r.get_status_display())
        sheet.write_string(i, 9, r.payment.paid_on.isoformat())
        sheet.write_string(i, 10, r.approved_by_name)
        sheet.write_string(i, 11, r.paid_by_name)
        if r.status != SubsidyRefund.Status.CANCELLED:
            total += r.amount
    last = len(items) + 1
    sheet.write_string(last, 6, "合计", bold)
    sheet.write_number(last, 7, float(total), money)
    sums = book.add_worksheet("乡镇汇总")
    sums.write_row(0, 0, ("乡镇（街道）", "人数", "退补金额合计", "待审核", "已审核", "已发放"), bold)
    sums.set_column(0, 0, 18)
    ids = [r.pk for r in items]
    totals = subsidy_refund_totals(SubsidyRefund.objects.filter(pk__in=ids)) if ids else []
    for i, entry in enumerate(totals, start=1):
        sums.write_string(i, 0, labels.get(entry["township_code"], entry["township_code"]))
        sums.write_number(i, 1, entry["count"])
        sums.write_number(i, 2, float(entry["total"]), money)
        for col, status in enumerate(("pending", "approved", "paid"), start=3):
            sums.write_number(i, col, float((entry["by_status"].get(status) or {}).get("total") or 0), money)
    book.close()
    return len(items)
