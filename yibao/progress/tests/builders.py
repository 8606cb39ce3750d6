"""Test builders for progress: a small 怀远县 tree, enrollments and booked payments made directly.

The collection services are not needed: progress reads the tables, so tests write the rows the
way bookings leave them (Enrollment 正常参保 + Payment booked).
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.utils import timezone

from yibao.enrollment.models import Assessment, Campaign, Enrollment
from yibao.enrollment.tests import factories as f
from yibao.registry.models import Household
from yibao.registry.tests.factories import add_region

COUNTY = "340321"
LIUCHENG, LONGKANG = "340321100", "340321101"
DONGCUN, XICUN = "340321100201", "340321100202"
NANCUN, BEICUN = "340321101201", "340321101202"
_external = itertools.count(1)


def huaiyuan_tree() -> None:
    add_region(COUNTY, "怀远县")
    add_region(LIUCHENG, "榴城镇")
    add_region(LONGKANG, "龙亢镇")
    add_region(DONGCUN, "东村")
    add_region(XICUN, "西村")
    add_region(NANCUN, "南村")
    add_region(BEICUN, "北村")


def campaign(year: int = 2025) -> Campaign:
    """怀远县's 2025 campaign (window 2024-09-01 .. 2024-12-31); another year copies its dates a year off."""
    existing = Campaign.objects.filter(county_code=COUNTY, benefit_year=year).first()
    if existing:
        return existing
    if year == 2025:
        return f.campaign(county=COUNTY)
    shift = year - 2025
    return Campaign.objects.create(
        county_code=COUNTY, benefit_year=year, policy_id="anhui-huaiyuan-2025", policy_version="test",
        collection_start=dt.date(2024 + shift, 9, 1), collection_end=dt.date(2024 + shift, 12, 31),
    )


def person(village: str, name: str, *, identities=(), household: Household | None = None, relation: str = "户主",
           birth=dt.date(1980, 5, 17), phone: str = ""):
    from yibao.registry.models import Identity
    from yibao.registry.tests.factories import make_resident

    resident = make_resident(village, name, household=household, relation=relation, birth=birth, phone=phone)
    for code in identities:
        Identity.objects.create(county_code=resident.county_code, resident=resident, code=code, department="民政")
    return resident


def enroll(resident, year: int, status: str = Enrollment.Status.PAID, *, at: dt.datetime | None = None) -> Enrollment:
    enrollment = Enrollment.objects.create(
        county_code=resident.county_code, township_code=resident.township_code, village_code=resident.village_code,
        campaign=campaign(year), benefit_year=year, resident=resident, id_number=resident.id_number,
        kind=Enrollment.Kind.RENEWAL, status=status,
    )
    if status in (Enrollment.Status.PAID, Enrollment.Status.SUSPENDED):  # as a booking leaves it
        Enrollment.objects.filter(pk=enrollment.pk).update(benefit_start=dt.date(year, 1, 1), benefit_end=dt.date(year, 12, 31))
        enrollment.refresh_from_db()
    if at is not None:
        Enrollment.objects.filter(pk=enrollment.pk).update(registered_at=at, updated_at=at)
    return enrollment


def pay(resident, day: dt.date, amount: str = "400.00", year: int = 2025):
    """A booked payment on `day` and the enrollment it made 正常参保."""
    from yibao.collection.models import Payment

    enrollment = Enrollment.objects.filter(county_code=resident.county_code, resident=resident, benefit_year=year).first()
    if enrollment is None:
        enrollment = enroll(resident, year)
    else:
        Enrollment.objects.filter(pk=enrollment.pk).update(
            status=Enrollment.Status.PAID, benefit_start=dt.date(year, 1, 1), benefit_end=dt.date(year, 12, 31))
    paid_at = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
    return Payment.objects.create(
        county_code=resident.county_code, township_code=resident.township_code, village_code=resident.village_code,
        campaign=campaign(year), benefit_year=year, resident=resident, enrollment=enrollment,
        id_number=resident.id_number, source="counter", channel="cash", external_id=f"T{next(_external)}",
        amount=Decimal(amount), paid_at=paid_at, paid_on=day, status="booked",
    )


def assess(resident, *, payable: str, identity: str = "", year: int = 2025) -> Assessment:
    c = campaign(year)
    return Assessment.objects.create(
        county_code=resident.county_code, township_code=resident.township_code, village_code=resident.village_code,
        campaign=c, benefit_year=year, resident=resident, assessed_on=dt.date(2024, 9, 1),
        standard=Decimal("400.00"), subsidy=Decimal("400.00") - Decimal(payable), payable=Decimal(payable),
        refund_later=Decimal("0.00"), subsidy_identity=identity, policy_version="test", input_hash="x",
    )


def set_targets(**totals) -> None:
    """Village targets by code → total (with no special split)."""
    from yibao.progress.models import Target
    from yibao.progress.services import targets_rollup

    for code, total in totals.items():
        Target.objects.update_or_create(
            region_code=code, benefit_year=2025,
            defaults={"county_code": code[:6], "level": len(code), "total": total, "source": "manual"},
        )
    targets_rollup(county_code=COUNTY, benefit_year=2025)
