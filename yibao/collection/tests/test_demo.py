"""The demo year of collection: every amount and date it books agrees with the policy engine."""

import pytest

from yibao.collection.demo import collection_demo
from yibao.collection.models import Payment, Refund, SubsidyRefund
from yibao.collection.tests import factories as f
from yibao.enrollment.selectors import person_for
from yibao.policy.engine import quote
from yibao.policy.loader import load_policy
from yibao.registry.models import Flag

pytestmark = pytest.mark.django_db


def test_collection_demo_runs_the_year(tmp_path):
    f.campaign()
    identities = [(), ("dibao",), ("entitled_group",), ("only_son_family",), (), ("tekun",)]
    for i in range(24):
        village = f.VILLAGE if i % 2 else f.OTHER_VILLAGE
        f.family(village=village, number=f"D{i:03d}", head_identities=identities[i % len(identities)],
                 child_identities=identities[(i + 3) % len(identities)])
    blocked = f.person(name="职工医保人")
    Flag.objects.create(county_code="340321", resident=blocked, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="某厂")
    summary = collection_demo(county_code="340321", folder=tmp_path, counter_share=0.4, file_share=0.4)
    assert summary["counter_receipts"] > 0 and summary["counter_payments"] >= summary["counter_receipts"]
    assert summary["file"]["booked"] > 0 and summary["file"]["rejected"] == 1
    assert summary["file"]["flagged_by_kind"]["duplicate"] == 2 and summary["file"]["flagged_by_kind"]["unknown_person"] == 2
    assert summary["late_counter_payment"]["benefit_start"].isoformat() > "2025-01-01"
    assert Refund.objects.filter(status="booked").count() == 1
    assert SubsidyRefund.objects.exists() and summary["subsidy_refunds_approved"] >= 1
    policy = load_policy("anhui-huaiyuan-2025")
    for payment in Payment.objects.filter(status="booked").select_related("resident"):
        expected = quote(policy, person_for(resident=payment.resident, on=payment.paid_on, benefit_year=2025), payment.paid_on)
        paid = payment.amount + sum(t.amount for t in payment.top_ups.all())
        assert paid == expected.payable, payment.external_id
        assert payment.benefit_start == expected.benefit_start or payment.top_ups.exists()
    assert not Payment.objects.filter(resident=blocked, status="booked").exists()
