"""Receipt prints (打印、补打) and voiding (作废、换开)."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from yibao.collection.models import Payment, Receipt, ReceiptLine
from yibao.collection.selectors import (
    business_now,
)
from yibao.collection.services.common import (
    PaymentError,
    _actor_name,
    _check_actor,
    receipt_no_format,
    receipt_number_take,
    receipt_series_lock,
)
from yibao.core.services import event_record


def receipt_print(*, receipt: Receipt, actor) -> tuple[bytes, bool]:
    """The receipt's PDF; every print after the first is a 补打 (reprint) and says so."""
    from yibao.collection.receipts import receipt_layout, receipt_pdf
    from yibao.collection.selectors import receipt_lines
    from yibao.regions.selectors import region_name

    _check_actor(actor, "receipts.print", receipt.village_code)
    with transaction.atomic():
        locked = Receipt.objects.select_for_update().get(county_code=receipt.county_code, pk=receipt.pk)
        reprint = locked.prints > 0
        locked.prints += 1
        locked.save(update_fields=["prints"])
        event_record(
            county_code=locked.county_code, entity="receipt", entity_id=locked.pk,
            action="reprinted" if reprint else "printed", actor=actor,
            before={"prints": locked.prints - 1}, after={"prints": locked.prints},
            reason="补打票据" if reprint else "打印票据",
        )
    lines, history = _as_issued(locked, receipt_lines(locked))
    layout = receipt_layout(
        receipt=locked, lines=lines, county_name=region_name(locked.county_code),
        reprint=reprint, print_no=locked.prints, **history,
    )
    receipt.prints = locked.prints
    return receipt_pdf(layout), reprint


def _as_issued(receipt: Receipt, lines: list) -> tuple[list, dict]:
    """The lines a receipt was issued with, and what became of it (作废, 换开).

    Voiding with 换开 moves the lines still in force to the new number, so a voided receipt's
    lines come from its void event's `before`; the event also names the replacement. A receipt
    issued in place of another names the one it replaces.
    """
    from types import SimpleNamespace

    from yibao.core.models import Event

    events = Event.objects.filter(county_code=receipt.county_code, entity="receipt", entity_id=str(receipt.pk))
    if receipt.voided_at is None:
        issued = events.filter(action="issued").order_by("-pk").first()
        return lines, {"replaces": ((issued.after or {}).get("replaces") or "") if issued else ""}
    event = events.filter(action="voided").order_by("-pk").first()
    recorded = ((event.before or {}).get("lines") or []) if event else []
    if recorded:
        payments = Payment.objects.in_bulk([row["payment"] for row in recorded])
        lines = [
            SimpleNamespace(name=row["name"], amount=Decimal(row["amount"]), payment=payments[row["payment"]])
            for row in recorded if row["payment"] in payments
        ]
    replaced_by = ((event.after or {}).get("replaced_by") or "") if event else ""
    return lines, {"void": {"reason": receipt.void_reason, "at": receipt.voided_at, "replaced_by": replaced_by}}


def receipt_void_plan(*, receipt: Receipt, reason: str, reissue: bool, lines: list | None = None) -> list:
    """The checks of a void, nothing written: the lines still in force (they move to the new
    receipt). Raises PaymentError. The confirmation sheet shows it; `receipt_void` does it."""
    if not (reason or "").strip():
        raise PaymentError("请填写作废原因。")
    if receipt.voided_at is not None:
        raise PaymentError(
            f"票据 {receipt.receipt_no} 已于 {timezone.localtime(receipt.voided_at):%Y-%m-%d %H:%M} 作废"
            f"（{receipt.void_reason}），不能重复作废。"
        )
    if lines is None:
        lines = list(ReceiptLine.objects.filter(receipt=receipt).select_related("payment").order_by("pk"))
    in_force = [line for line in lines if line.payment.status != Payment.Status.REFUNDED]
    if in_force and not reissue:
        names = "、".join(line.name for line in in_force)
        raise PaymentError(
            f"票据 {receipt.receipt_no} 所含 {len(in_force)} 人（{names}）的缴费仍然有效，单独作废会使缴费人没有有效票据"
            "（白条）。请选择“作废并换开新票据”，或先办理退费。"
        )
    return in_force


def receipt_void(*, receipt: Receipt, actor, reason: str, reissue: bool = False) -> Receipt | None:
    """Void (作废) a receipt, e.g. one taken back after its payments were refunded, or one printed wrong.

    A receipt whose payments are still in force can only be voided together with a new receipt
    (换开) for them: the new number takes those lines, the voided one keeps the refunded ones, and
    the event row lists what the voided receipt covered. Returns the new receipt, or None.
    """
    reason = (reason or "").strip()
    _check_actor(actor, "receipts.void", receipt.village_code)
    if not reason:
        raise PaymentError("请填写作废原因。")
    with transaction.atomic():
        series = receipt_series_lock(county_code=receipt.county_code, benefit_year=receipt.benefit_year)
        locked = Receipt.objects.select_for_update().get(county_code=receipt.county_code, pk=receipt.pk)
        lines = list(ReceiptLine.objects.filter(receipt=locked).select_related("payment").order_by("pk"))
        in_force = receipt_void_plan(receipt=locked, reason=reason, reissue=reissue, lines=lines)
        before = {
            "receipt_no": locked.receipt_no, "total": str(locked.total), "voided_at": None,
            "lines": [{"payment": line.payment_id, "name": line.name, "amount": str(line.amount),
                       "status": line.payment.status} for line in lines],
        }
        now = business_now()
        locked.voided_at, locked.void_reason = now, reason[:200]
        locked.save(update_fields=["voided_at", "void_reason"])
        replacement = None
        if in_force:
            number = receipt_number_take(series=series)
            replacement = Receipt.objects.create(
                county_code=locked.county_code, township_code=locked.township_code, village_code=locked.village_code,
                benefit_year=locked.benefit_year, number=number,
                receipt_no=receipt_no_format(locked.county_code, locked.benefit_year, number),
                payer_name=locked.payer_name, household_id=locked.household_id,
                total=sum((line.amount for line in in_force), Decimal(0)), channel=locked.channel,
                issued_at=now, issued_by_name=_actor_name(actor),
            )
            ReceiptLine.objects.filter(pk__in=[line.pk for line in in_force]).update(receipt=replacement)
            event_record(
                county_code=replacement.county_code, entity="receipt", entity_id=replacement.pk, action="issued",
                actor=actor, after={"receipt_no": replacement.receipt_no, "total": str(replacement.total),
                                    "replaces": locked.receipt_no, "payments": [line.payment_id for line in in_force]},
                reason=f"换开票据（原票据 {locked.receipt_no} 作废：{reason}）",
            )
        event_record(
            county_code=locked.county_code, entity="receipt", entity_id=locked.pk, action="voided", actor=actor,
            before=before, after={"voided_at": locked.voided_at.isoformat(), "void_reason": locked.void_reason,
                                  "replaced_by": replacement.receipt_no if replacement else None},
            reason=reason,
        )
    receipt.voided_at, receipt.void_reason = locked.voided_at, locked.void_reason
    return replacement
