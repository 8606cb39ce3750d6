"""The demo's reconciliation: handovers, a tax file with faults, one run."""

import datetime as dt

import pytest

from yibao.reconciliation.demo import demo_reconcile
from yibao.reconciliation.models import CashHandover
from yibao.reconciliation.tests import factories as f

pytestmark = pytest.mark.django_db


def test_demo_reconcile_finds_the_planted_faults(make_user):
    campaign = f.world()
    li = make_user("li", role="village_collector", region_code=f.VILLAGE, display_name="李征收")
    cash = {"source": "counter", "channel": "cash", "collector": li, "collector_name": "李征收"}
    # two weeks of counter cash (10-07 .. 10-13 and 10-14 .. 10-20) and some channel payments
    for day in (7, 8, 9, 15, 16):
        p = f.payment(campaign, f.person(), paid_on=dt.date(2024, 10, day), **cash)
        f.receipt([p])
    for day in (8, 9, 10):
        f.payment(campaign, f.person(), paid_on=dt.date(2024, 10, day))
    f.person(name="未入账")
    run = demo_reconcile(county_code=f.COUNTY, benefit_year=f.YEAR, as_of=dt.date(2024, 11, 30))
    handover = CashHandover.objects.get()  # the latest week stays with the collector
    assert (handover.period_start, handover.period_end, handover.amount) == (dt.date(2024, 10, 7), dt.date(2024, 10, 13), 1150)
    counts = run.counts
    assert counts["booked_not_paid"] == 2 and counts["amount_differs"] == 1 and counts["paid_not_booked"] == 1
    assert counts["cash_short"] == 2  # 50 short in the first week, the second week not handed over
    assert run.created_by_name == "演示数据"
    # a second call adds no duplicate handovers
    demo_reconcile(county_code=f.COUNTY, benefit_year=f.YEAR, as_of=dt.date(2024, 11, 30))
    assert CashHandover.objects.count() == 1
