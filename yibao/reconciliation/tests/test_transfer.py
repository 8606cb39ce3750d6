"""After a move (迁移) a person's mismatches sit where progress counts their payment; a collector's stay at the counter."""

import datetime as dt

import pytest

from yibao.accounts.scope import Scope
from yibao.reconciliation import selectors, services
from yibao.reconciliation.tests import factories as f
from yibao.registry.services import resident_move

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 11, 30)


def places(run) -> dict[tuple[str, str], str]:
    return {(m.kind, m.person_name): m.village_code for m in run.mismatches.all()}


def test_a_moved_persons_channel_payment_is_reconciled_in_the_village_they_moved_to(tmp_path, make_user, settings):
    settings.YIBAO_TODAY = "2024-11-30"
    campaign = f.world()
    collector = make_user("li", role="village_collector", region_code=f.VILLAGE, display_name="李征收")
    mover, counter_payer = f.person(name="甲"), f.person(name="乙")
    app = f.payment(campaign, mover, amount="400.00", channel="wechat")  # 税务 has it for 380: 金额不符
    counter = f.payment(campaign, counter_payer, source="counter", channel="cash", collector=collector,
                        collector_name="李征收")  # 税务 has no record: 已入账未到账, 李征收 must fix it
    f.receipt([counter])
    tax = f.tax_file(tmp_path / "tax.csv", [f.tax_row(app, **{"实缴金额（元）": "380.00"})])
    before = services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=tax, as_of=AS_OF, actor="测试")[1]
    assert places(before) == {("amount_differs", "甲"): f.VILLAGE, ("booked_not_paid", "乙"): f.VILLAGE,
                              ("cash_short", ""): f.VILLAGE}  # the cash not yet handed over

    for person in (mover, counter_payer):
        resident_move(actor="测试", resident=person, to_village_code=f.VILLAGE_3, reason="婚迁")
    after = services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=tax, as_of=AS_OF, actor="测试")[1]
    assert places(after) == {("amount_differs", "甲"): f.VILLAGE_3, ("booked_not_paid", "乙"): f.VILLAGE,
                             ("cash_short", ""): f.VILLAGE}
    assert after.mismatch_total == before.mismatch_total and after.totals == before.totals
    moved_to = Scope(role="village_collector", region_code=f.VILLAGE_3)
    assert [m.person_name for m in selectors.mismatch_list(scope=moved_to, run=after)] == ["甲"]
    took_the_cash = Scope(role="village_collector", region_code=f.VILLAGE)
    assert [m.person_name for m in selectors.mismatch_list(scope=took_the_cash, run=after)] == ["乙", ""]
