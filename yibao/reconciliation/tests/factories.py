"""Builders for reconciliation tests: a campaign, payments, receipts, handovers and tax files."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

from django.utils import timezone

from yibao.collection.models import Payment, Receipt, ReceiptLine
from yibao.enrollment.tests import factories as enrollment_factories
from yibao.registry.tests.factories import add_region, make_id, make_resident

COUNTY = "340321"
TOWN = "340321100"
VILLAGE = "340321100001"
VILLAGE_2 = "340321100002"
TOWN_2 = "340321101"
VILLAGE_3 = "340321101001"
YEAR = 2025
_ext = itertools.count(1)
_receipt = itertools.count(1)


def world():
    """怀远县 (340321) with two townships and three villages, and its 2025 campaign."""
    add_region(COUNTY, "怀远县")
    add_region(TOWN, "城关镇")
    add_region(VILLAGE, "东村")
    add_region(VILLAGE_2, "西村")
    add_region(TOWN_2, "河溜镇")
    add_region(VILLAGE_3, "河溜村")
    return enrollment_factories.campaign(COUNTY, "anhui-huaiyuan-2025")


def person(village=VILLAGE, name="张三", birth=dt.date(1980, 5, 17)):
    return make_resident(village, name, birth=birth)


def aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def payment(
    campaign, resident=None, *, amount="400.00", paid_on=dt.date(2024, 10, 8), source="file", channel="wechat",
    external_id=None, status="booked", collector=None, collector_name="", id_number=None, village=None,
) -> Payment:
    village = village or (resident.village_code if resident else VILLAGE)
    return Payment.objects.create(
        county_code=village[:6], township_code=village[:9], village_code=village, campaign=campaign,
        benefit_year=campaign.benefit_year, resident=resident, id_number=id_number or resident.id_number,
        source=source, channel=channel, external_id=external_id or f"EXT{next(_ext):06d}", amount=Decimal(amount),
        paid_at=aware(paid_on), paid_on=paid_on, status=status, collector=collector, collector_name=collector_name,
    )


def receipt(payments: list[Payment], *, total=None, voided=False, issued_by="李征收", lines=True) -> Receipt:
    first = payments[0] if payments else None
    village = first.village_code if first else VILLAGE
    number = next(_receipt)
    r = Receipt.objects.create(
        county_code=village[:6], township_code=village[:9], village_code=village, benefit_year=YEAR, number=number,
        receipt_no=f"HY{YEAR}{number:07d}", payer_name="缴款人",
        total=Decimal(total) if total is not None else sum((p.amount for p in payments), Decimal(0)),
        channel="cash", issued_at=aware(first.paid_on if first else dt.date(2024, 10, 8)), issued_by_name=issued_by,
        voided_at=timezone.now() if voided else None,
    )
    if lines:
        for p in payments:
            ReceiptLine.objects.create(county_code=p.county_code, receipt=r, payment=p, name="缴款人", amount=p.amount)
    return r


TAX_HEADER = ("缴费流水号", "缴费人证件号码", "缴费人姓名", "费款所属期", "实缴金额（元）", "缴费渠道", "缴款日期", "电子税票号码")


def tax_row(p: Payment | None = None, **over) -> dict:
    row = {
        "缴费流水号": p.external_id if p else "",
        "缴费人证件号码": p.id_number if p else make_id("340321"),
        "缴费人姓名": "",
        "费款所属期": str(YEAR),
        "实缴金额（元）": str(p.amount) if p else "400.00",
        "缴费渠道": {"cash": "现金", "wechat": "微信", "pos": "POS机"}.get(p.channel if p else "wechat", "其他"),
        "缴款日期": (p.paid_on if p else dt.date(2024, 10, 8)).isoformat() + " 09:30:00",
        "电子税票号码": "",
    }
    row.update(over)
    return row


def tax_file(path: Path, rows: list[dict], header=TAX_HEADER, encoding="utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.DictWriter(fh, fieldnames=list(header), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path
