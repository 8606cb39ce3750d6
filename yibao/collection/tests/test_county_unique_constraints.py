"""Unique constraints that gained county_code (the Citus shard key) still refuse what they refused.

Each constraint's other fields already belong to one county (a campaign, a resident, a payment, a
receipt number that starts with the county code), so adding county_code must change nothing a
county sees: the database still refuses the second row. The tables' foreign keys carry no database
constraint, so rows point at made-up ids.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from yibao.collection.models import Receipt, Refund
from yibao.enrollment.models import Assessment
from yibao.registry.models import Flag

pytestmark = pytest.mark.django_db

PLACE = {"county_code": "340321", "township_code": "340321100", "village_code": "340321100001"}


def _assessment(**extra) -> Assessment:
    values = {**PLACE, "campaign_id": 7, "resident_id": 11, "benefit_year": 2025, "assessed_on": dt.date(2024, 9, 1),
              "standard": Decimal("400"), "subsidy": Decimal("0"), "payable": Decimal("400"),
              "refund_later": Decimal("0"), "policy_version": "v1", "input_hash": "h"}
    return Assessment.objects.create(**{**values, **extra})


def _receipt(**extra) -> Receipt:
    values = {**PLACE, "benefit_year": 2025, "number": 1, "receipt_no": "340321-2025-0000001", "payer_name": "赵一",
              "total": Decimal("400"), "channel": "cash"}
    return Receipt.objects.create(**{**values, **extra})


def _refund(**extra) -> Refund:
    values = {**PLACE, "payment_id": 21, "resident_id": 11, "benefit_year": 2025, "amount": Decimal("400"),
              "reason": Refund.Reason.choices[0][0], "enrollment_action": Refund.EnrollmentAction.NONE}
    return Refund.objects.create(**{**values, **extra})


def _refused(make) -> bool:
    try:
        with transaction.atomic():
            make()
    except IntegrityError:
        return True
    return False


def test_second_assessment_of_a_resident_in_one_campaign_is_refused():
    _assessment()
    assert _refused(lambda: _assessment(tier=2))
    assert not _refused(lambda: _assessment(resident_id=12))  # another person
    assert not _refused(lambda: _assessment(campaign_id=8, benefit_year=2026))  # another year's campaign


def test_second_open_flag_of_one_kind_is_refused_and_a_resolved_one_is_not():
    first = Flag.objects.create(county_code="340321", resident_id=11, kind=Flag.Kind.choices[0][0])
    assert _refused(lambda: Flag.objects.create(county_code="340321", resident_id=11, kind=first.kind))
    first.resolved_at = dt.datetime(2024, 10, 1, tzinfo=dt.UTC)
    first.save()
    Flag.objects.create(county_code="340321", resident_id=11, kind=first.kind)
    assert Flag.objects.filter(resident_id=11, resolved_at__isnull=True).count() == 1


def test_second_live_refund_of_a_payment_is_refused_and_after_a_rejection_it_is_not():
    first = _refund()
    assert _refused(lambda: _refund(amount=Decimal("1")))
    first.status = Refund.Status.REJECTED
    first.save()
    _refund()
    assert Refund.objects.filter(payment_id=21).count() == 2


def test_a_receipt_number_is_refused_twice_even_under_another_series_number():
    _receipt()
    assert _refused(lambda: _receipt(number=2))
    _receipt(number=2, receipt_no="340321-2025-0000002")
    assert Receipt.objects.count() == 2


def test_the_constraints_carry_the_county_code():
    """What Citus needs of a distributed table's unique constraints; the read side (docs/scale.md) relies on it."""
    with connection.cursor() as cursor:
        found = {}
        for model in (Assessment, Flag, Refund, Receipt):
            for name, info in connection.introspection.get_constraints(cursor, model._meta.db_table).items():
                if info["unique"] and not info["primary_key"]:
                    found[(model.__name__, name)] = info["columns"]
    wanted = {("Assessment", "one_assessment_per_campaign_resident"), ("Flag", "one_open_flag_per_kind"),
              ("Refund", "one_live_refund_per_payment"), ("Receipt", "receipt_no_unique")}
    for key in wanted:
        assert key in found, key
        assert "county_code" in found[key], (key, found[key])
