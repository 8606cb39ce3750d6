"""Shared pieces of the collection writes: errors, actor checks, receipt numbers, progress refresh."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from decimal import Decimal

from django.db import IntegrityError, transaction

from yibao.accounts.scope import actor_scope
from yibao.collection.models import (
    Payment,
    QuoteExplanation,
    ReceiptSeries,
    SubsidyRefund,
)
from yibao.core.services import actor_fields, event_record
from yibao.policy.engine import cn_money
from yibao.registry.models import Resident

CENT = Decimal("0.01")


class PaymentError(ValueError):
    """A payment, receipt or refund cannot be made; the message is Chinese and names the person."""


def _actor_name(actor) -> str:
    return actor_fields(actor)["actor_name"]


def _check_actor(actor, capability: str, region_code: str | None = None) -> None:
    scope = actor_scope(actor)
    if scope is None:
        return
    scope.require(capability)
    if region_code:
        scope.require_region(region_code)


def _who(resident: Resident) -> str:
    return f"{resident.name}（身份证号码尾号{resident.id_number[-4:]}）"


def _money(value) -> str:
    return cn_money(Decimal(value).quantize(CENT))


def explanation_store(lines) -> str:
    """Store a quote's explanation once and return its key."""
    lines = list(lines or ())
    if not lines:
        return ""
    key = hashlib.md5(json.dumps(lines, ensure_ascii=False).encode("utf-8")).hexdigest()
    QuoteExplanation.objects.get_or_create(key=key, defaults={"lines": lines})
    return key


# ---------------------------------------------------------------- receipt numbers


_progress_refresh_deferred = contextvars.ContextVar("progress_refresh_deferred", default=False)


@contextlib.contextmanager
def progress_refresh_deferred():
    """Inside, bookings leave the progress count to the caller (bulk work recounts once at the end)."""
    token = _progress_refresh_deferred.set(True)
    try:
        yield
    finally:
        _progress_refresh_deferred.reset(token)


def progress_refresh_after_commit(*, county_code: str, benefit_year: int, village_codes) -> None:
    """Once a booking commits, the progress rollup counts its villages again (tens of ms).

    A failure there is logged, never raised: the payment stands whatever the count does.
    """
    if _progress_refresh_deferred.get():
        return
    villages = sorted({code for code in village_codes if code})

    def refresh():
        from yibao.progress.services import progress_refresh

        progress_refresh(county_code=county_code, benefit_year=benefit_year, village_codes=villages)

    if villages:
        transaction.on_commit(refresh, robust=True)


def receipt_series_lock(*, county_code: str, benefit_year: int) -> ReceiptSeries:
    """The county's series for the year, locked until the transaction ends (created on first use).

    Every counter payment and every channel-file ingest of the county and year takes this lock
    first, so they never book the same person twice nor use a receipt number twice. SQLite runs
    IMMEDIATE transactions: the write lock is held from the start, which serialises them as well.
    """
    series = ReceiptSeries.objects.select_for_update().filter(county_code=county_code, benefit_year=benefit_year).first()
    if series is None:
        try:
            with transaction.atomic():
                ReceiptSeries.objects.create(county_code=county_code, benefit_year=benefit_year, next_number=1)
        except IntegrityError:
            pass  # someone else created it at the same moment
        series = ReceiptSeries.objects.select_for_update().get(county_code=county_code, benefit_year=benefit_year)
    return series


def receipt_number_take(*, series: ReceiptSeries) -> int:
    """The next number of a locked series (no gaps: the increment rolls back with the payment)."""
    number = series.next_number
    series.next_number = number + 1
    series.save(update_fields=["next_number"])
    return number


def receipt_no_format(county_code: str, benefit_year: int, number: int) -> str:
    return f"{county_code}-{benefit_year}-{number:07d}"



def _payment_snapshot(payment: Payment) -> dict:
    return {
        "status": payment.status, "flag": payment.flag, "amount": str(payment.amount),
        "expected_amount": str(payment.expected_amount) if payment.expected_amount is not None else None,
        "benefit_year": payment.benefit_year, "external_id": payment.external_id,
        "benefit_start": payment.benefit_start.isoformat() if payment.benefit_start else None,
        "benefit_end": payment.benefit_end.isoformat() if payment.benefit_end else None,
        "refund_later": str(payment.refund_later), "rule": payment.rule, "policy_version": payment.policy_version,
    }


def _subsidy_refund_open(*, payment: Payment, identity: str | None, actor) -> SubsidyRefund:
    entry = SubsidyRefund.objects.create(
        county_code=payment.county_code, township_code=payment.township_code, village_code=payment.village_code,
        payment=payment, resident_id=payment.resident_id, benefit_year=payment.benefit_year,
        identity=identity or "", amount=payment.refund_later,
    )
    event_record(
        county_code=entry.county_code, entity="subsidy_refund", entity_id=entry.pk, action="created", actor=actor,
        after={"status": entry.status, "amount": str(entry.amount), "identity": entry.identity, "payment": payment.pk},
        reason="先缴后补：全额缴费，日后退补",
    )
    return entry



def _person(resident: Resident, payment: Payment, policy=None):
    from yibao.enrollment.selectors import person_for

    return person_for(resident=resident, on=payment.paid_on, benefit_year=payment.benefit_year, policy=policy)
