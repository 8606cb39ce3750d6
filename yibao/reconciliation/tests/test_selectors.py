"""Reads: the monthly check, mismatches within a scope, cash per collector."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from yibao.accounts.scope import scope_for
from yibao.enrollment.tests import factories as enrollment_factories
from yibao.policy.loader import BUILTIN_DIR
from yibao.reconciliation import selectors
from yibao.reconciliation.models import CashHandover, Mismatch, ReconciliationRun
from yibao.reconciliation.tests import factories as f

pytestmark = pytest.mark.django_db


def a_run(county=f.COUNTY, ran_on=dt.date(2024, 10, 8), year=f.YEAR, **extra) -> ReconciliationRun:
    return ReconciliationRun.objects.create(
        county_code=county, benefit_year=year, as_of=ran_on, ran_on=ran_on,
        started_at=timezone.make_aware(dt.datetime.combine(ran_on, dt.time(9))), tax_file_name="t.csv",
        tax_file_sha256="0" * 64, **extra,
    )


def a_mismatch(run, village, kind="booked_not_paid", responsible="collector", key=None, name="某人", **extra) -> Mismatch:
    return Mismatch.objects.create(
        run=run, county_code=run.county_code, township_code=village[:9] if len(village) >= 9 else "", village_code=village,
        kind=kind, responsible=responsible, responsible_name="村征收员 李", key=key or f"{kind}:{village}:{name}",
        first_seen_run_id=run.pk, first_seen_on=run.ran_on, person_name=name, detail="说明", action="要求",
        difference=Decimal("400.00"), **extra,
    )


@pytest.fixture
def admin(make_user):
    return scope_for(make_user("admin", role="county_admin", region_code=f.COUNTY))


@pytest.fixture
def township(make_user):
    return scope_for(make_user("town", role="township_officer", region_code=f.TOWN))


def test_month_check_counts_distinct_days_against_two_by_default(admin):
    f.world()  # 怀远 2025: collection 2024-09-01 .. 2024-12-31, no frequency in the policy
    for day in (dt.date(2024, 9, 3), dt.date(2024, 9, 20), dt.date(2024, 10, 8), dt.date(2024, 10, 8), dt.date(2024, 11, 2)):
        a_run(ran_on=day)
    check = selectors.month_check(scope=admin, county_code=f.COUNTY, benefit_year=f.YEAR, today=dt.date(2024, 11, 15))
    assert check["required"]["times"] == 2 and check["required"]["source"] == "default"
    months = [(m["month"], m["done"], m["runs"], m["status"]) for m in check["months"]]
    assert months == [
        (dt.date(2024, 9, 1), 2, 2, "ok"),
        (dt.date(2024, 10, 1), 1, 2, "short"),  # two runs on one day count once
        (dt.date(2024, 11, 1), 1, 1, "open"),
    ]
    assert check["short"] == 1
    assert check["months"][2]["status_label"] == "本月还需 1 次"
    # after the window, every month of it is judged; a run after the window is shown but not required
    a_run(ran_on=dt.date(2025, 2, 10))
    later = selectors.month_check(scope=admin, county_code=f.COUNTY, benefit_year=f.YEAR, today=dt.date(2025, 3, 1))
    assert [m["status"] for m in later["months"]] == ["ok", "short", "short", "short", "outside"]
    assert later["short"] == 3 and later["months"][-1]["required"] == 0


def test_month_check_takes_the_frequency_from_the_policy(admin, make_user, tmp_path, monkeypatch):
    shuozhou = enrollment_factories.campaign("140602", "shanxi-shuozhou-2024")
    required = selectors.required_per_month(shuozhou)
    assert required["times"] == 2 and required["source"] == "policy" and "每月至少核对两次" in required["reference"]
    text = (BUILTIN_DIR / "shanxi-shuozhou-2024.yaml").read_text(encoding="utf-8")
    text = text.replace("id: shanxi-shuozhou-2024", "id: shanxi-testcounty-2024").replace("reconcile_per_month: 2", "reconcile_per_month: 3")
    (tmp_path / "shanxi-testcounty-2024.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("YIBAO_POLICY_DIRS", str(tmp_path))
    campaign = enrollment_factories.campaign("140603", "shanxi-testcounty-2024")
    assert selectors.required_per_month(campaign)["times"] == 3
    scope = scope_for(make_user("sz", role="county_admin", region_code="140603"))
    for day in (2, 9):
        a_run(county="140603", ran_on=dt.date(2023, 9, day), year=2024)
    check = selectors.month_check(scope=scope, county_code="140603", benefit_year=2024, today=dt.date(2023, 10, 2))
    assert [(m["done"], m["status"]) for m in check["months"]] == [(2, "short"), (0, "open")]


def test_month_check_stays_in_the_users_county(admin):
    with pytest.raises(PermissionDenied):
        selectors.month_check(scope=admin, county_code="421223", benefit_year=f.YEAR)


def test_township_sees_its_own_mismatches_only(admin, township):
    run = a_run()
    mine = a_mismatch(run, f.VILLAGE, name="本镇")
    a_mismatch(run, f.VILLAGE_3, name="外镇")
    a_mismatch(run, "", kind="paid_not_booked", responsible="yibao", name="查无此人")
    assert {m.person_name for m in selectors.mismatch_list(scope=admin, run=run)} == {"本镇", "外镇", "查无此人"}
    assert list(selectors.mismatch_list(scope=township, run=run)) == [mine]
    counts = {c["kind"]: c["count"] for c in selectors.mismatch_counts(scope=township, run=run)}
    assert counts["booked_not_paid"] == 1 and counts["paid_not_booked"] == 0 and len(counts) == len(Mismatch.Kind.values)
    assert selectors.run_counts_in_scope(scope=township, runs=[run]) == {run.pk: 1}
    with pytest.raises(PermissionDenied):
        selectors.mismatch_list(scope=township, run=run, region=f.VILLAGE_3)


def test_mismatch_filters(admin):
    run = a_run()
    a_mismatch(run, f.VILLAGE, name="甲")
    a_mismatch(run, f.VILLAGE_2, kind="cash_short", name="乙")
    a_mismatch(run, f.VILLAGE_3, kind="amount_differs", responsible="tax", name="丙")
    names = lambda **kw: sorted(m.person_name for m in selectors.mismatch_list(scope=admin, run=run, **kw))  # noqa: E731
    assert names(kind="cash_short") == ["乙"]
    assert names(region=f.TOWN) == ["乙", "甲"]
    assert names(region=f.VILLAGE_3) == ["丙"]
    assert names(responsible="tax") == ["丙"]


def test_resolved_since_previous(admin):
    first = a_run()
    a_mismatch(first, f.VILLAGE, key="k1", name="已解决")
    a_mismatch(first, f.VILLAGE, key="k2", name="仍在")
    second = a_run(ran_on=dt.date(2024, 10, 20), previous=first)
    a_mismatch(second, f.VILLAGE, key="k2", name="仍在")
    assert [m.person_name for m in selectors.resolved_since_previous(scope=admin, run=second)] == ["已解决"]
    assert not selectors.resolved_since_previous(scope=admin, run=first).exists()


def test_run_get_refuses_another_county(make_user):
    run = a_run(county="421223")
    scope = scope_for(make_user("x", role="tax_officer", region_code=f.COUNTY))
    with pytest.raises(PermissionDenied):
        selectors.run_get(scope=scope, pk=run.pk)
    assert selectors.run_list(scope=scope).count() == 0


def test_cash_by_collector(admin, township, make_user):
    campaign = f.world()
    li = make_user("li", role="village_collector", region_code=f.VILLAGE, display_name="李征收")
    cash = {"source": "counter", "channel": "cash"}
    f.payment(campaign, f.person(), collector=li, collector_name="李征收", **cash)
    f.payment(campaign, f.person(), collector=li, collector_name="李征收", **cash)
    f.payment(campaign, f.person(), collector=li, collector_name="李征收", source="counter", channel="pos")  # not cash
    f.payment(campaign, f.person(village=f.VILLAGE_3), collector_name="河溜收款员", **cash)
    CashHandover.objects.create(
        county_code=f.COUNTY, township_code=f.TOWN, village_code=f.VILLAGE, benefit_year=f.YEAR, collector=li,
        collector_name="李征收", period_start=dt.date(2024, 10, 8), period_end=dt.date(2024, 10, 8),
        handed_on=dt.date(2024, 10, 9), amount=Decimal("500.00"), received_by_name="镇",
    )
    rows = {r["collector_name"]: r for r in selectors.cash_by_collector(scope=admin, benefit_year=f.YEAR)}
    assert (rows["李征收"]["taken"], rows["李征收"]["handed"], rows["李征收"]["outstanding"]) == (800, 500, 300)
    assert rows["河溜收款员"]["outstanding"] == 400
    assert set(r["collector_name"] for r in selectors.cash_by_collector(scope=township, benefit_year=f.YEAR)) == {"李征收"}
    choices = selectors.handover_collectors(scope=township, benefit_year=f.YEAR)
    assert (f"u{li.pk}", f"李征收（{f.VILLAGE}）", f.VILLAGE) in choices
    assert all("河溜" not in label for _v, label, _village in choices)
    assert any(v == "n河溜收款员" for v, _l, _v in selectors.handover_collectors(scope=admin, benefit_year=f.YEAR))
