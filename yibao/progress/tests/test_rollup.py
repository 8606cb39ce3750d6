"""City and province roll-ups: every figure is the sum of its parts, a county row is the county page's own figure."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from yibao.accounts.scope import Scope
from yibao.enrollment.models import Campaign
from yibao.enrollment.tests import factories as f
from yibao.progress import rollup, services
from yibao.progress.models import DaySnapshot, Target, VillageProgress
from yibao.progress.selectors import progress_tree
from yibao.progress.tests import builders as b
from yibao.reconciliation.models import ReconciliationRun
from yibao.registry.tests.factories import add_region

pytestmark = pytest.mark.django_db

CITY, OTHER_CITY, PROVINCE = "4212", "4213", "42"
CHONGYANG, CHIBI, SUIXIAN = "421223", "421281", "421321"
SUMMED_FIELDS = ("paid", "enrolled", "amount", "special_people", "special_enrolled", "last_year", "renewed",
                 "remind_closed", "remind_refused", "remind_open", "counties", "counties_open", "counties_targeted",
                 "reconcile_ok", "reconcile_judged", "reconcile_runs", "mismatches")
MAYBE = ("target", "expected", "behind")  # None where no part has one


def hubei():
    add_region(PROVINCE, "湖北省")
    add_region(CITY, "咸宁市")
    add_region(OTHER_CITY, "随州市")
    for code, name in ((CHONGYANG, "崇阳县"), (CHIBI, "赤壁市"), (SUIXIAN, "随县")):
        add_region(code, name)
        add_region(code + "100", f"{name}一镇")
        add_region(code + "100201", f"{name}甲村")
        add_region(code + "100202", f"{name}乙村")


def scope(region=CITY, role="city_admin"):
    return Scope(role=role, region_code=region)


def figures(row, name):
    value = getattr(row, name)
    return value


def assert_sum(whole, parts):
    for name in SUMMED_FIELDS:
        assert figures(whole, name) == sum((figures(p, name) for p in parts),
                                           Decimal("0.00") if name == "amount" else 0), name
    for name in MAYBE:
        known = [figures(p, name) for p in parts if figures(p, name) is not None]
        assert figures(whole, name) == (sum(known) if known else None), name
    # the whole's 参保率 counts the people of the parts that have a target, over their targets
    targeted = sum(p.enrolled if p.level == 6 else p.enrolled_targeted for p in parts if p.target is not None)
    assert whole.enrolled_targeted == targeted
    assert whole.rate == (None if not whole.target else
                          (Decimal(targeted) / Decimal(whole.target)).quantize(Decimal("0.0001")))
    assert whole.gap == (None if whole.target is None else max(0, whole.target - targeted))


village_counts = st.fixed_dictionaries({
    "paid": st.integers(0, 500), "extra": st.integers(0, 100), "special_people": st.integers(0, 50),
    "last_year": st.integers(0, 600), "cents": st.integers(0, 10_000_000),
})


@hsettings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(villages=st.lists(village_counts, min_size=6, max_size=6),
       targets=st.lists(st.one_of(st.none(), st.integers(0, 2000)), min_size=3, max_size=3),
       opened=st.lists(st.booleans(), min_size=3, max_size=3))
def test_every_figure_of_a_city_and_a_province_is_the_sum_of_its_parts(db, settings, villages, targets, opened):
    settings.YIBAO_TODAY = "2024-11-15"  # live figures (the rollup) of today
    VillageProgress.objects.all().delete()
    Target.objects.all().delete()
    Campaign.objects.all().delete()
    ReconciliationRun.objects.all().delete()
    hubei()
    counties = (CHONGYANG, CHIBI, SUIXIAN)
    for i, county in enumerate(counties):
        if opened[i]:
            f.campaign(county=county)
        if targets[i] is not None:
            Target.objects.create(county_code=county, region_code=county, level=6, benefit_year=2025,
                                  total=targets[i], source="manual")
        for j, suffix in enumerate(("100201", "100202")):
            v = villages[i * 2 + j]
            VillageProgress.objects.create(
                county_code=county, township_code=county + "100", village_code=county + suffix, benefit_year=2025,
                paid=v["paid"], enrolled=v["paid"] + v["extra"], special_people=v["special_people"],
                special_enrolled=min(v["special_people"], v["paid"]), last_year=v["last_year"],
                renewed=min(v["last_year"], v["paid"]), amount=Decimal(v["cents"]) / 100)
    if opened[0]:
        ReconciliationRun.objects.create(
            county_code=CHONGYANG, benefit_year=2025, as_of=dt.date(2024, 10, 1), ran_on=dt.date(2024, 10, 1),
            started_at=b.timezone.now(), tax_file_name="t.csv", tax_file_sha256="0" * 64, mismatch_total=3)
    on = dt.date(2024, 11, 15)
    city = rollup.rollup(scope=scope(), region_code=CITY, benefit_year=2025, on=on)
    other = rollup.rollup(scope=scope(OTHER_CITY), region_code=OTHER_CITY, benefit_year=2025, on=on)
    province = rollup.rollup(scope=scope(PROVINCE, "province_viewer"), region_code=PROVINCE, benefit_year=2025, on=on)
    assert sorted(r.code for r in city.rows) == [CHONGYANG, CHIBI]
    assert [r.code for r in other.rows] == [SUIXIAN]
    assert_sum(city.total, city.rows)
    assert_sum(other.total, other.rows)
    assert sorted(r.code for r in province.rows) == [CITY, OTHER_CITY]
    assert_sum(province.total, province.rows)
    assert_sum(province.total, list(province.counties.values()))  # Σ cities = Σ counties
    by_code = {r.code: r for r in province.rows}
    for name in SUMMED_FIELDS + MAYBE:
        assert figures(by_code[CITY], name) == figures(city.total, name), name
    for i, county in enumerate(counties):  # a county row is its own figure: villages summed, its own target
        row = province.counties[county]
        assert row.enrolled == sum(villages[i * 2 + j]["paid"] + villages[i * 2 + j]["extra"] for j in (0, 1))
        assert row.target == targets[i]
        assert ("未下达目标" in row.marks) == (targets[i] is None)
        assert ("未开征" in row.marks) == (not opened[i])
        assert (row.expected is None) == (targets[i] is None or not opened[i])
    ranked = [r for r in city.rows if r.rank]
    assert sorted(r.rank for r in ranked) == list(range(1, len(ranked) + 1))
    assert all(r.rank is None for r in city.rows if r.target in (None, 0))


def test_a_county_row_is_the_county_pages_figure_with_remind_marks(county):
    add_region("34", "安徽省")
    add_region("3403", "蚌埠市")
    services.remind_mark(actor="测试", resident=county["b"], benefit_year=2025, outcome="refused", note="不愿参保")
    services.remind_mark(actor="测试", resident=county["d"], benefit_year=2025, outcome="moved_away", note="迁往合肥市")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    on = None
    city = rollup.rollup(scope=scope("3403"), region_code="3403", benefit_year=2025, on=on)
    tree = progress_tree(county_code=b.COUNTY, benefit_year=2025, on=on)
    unit, row = tree.get(b.COUNTY), city.rows[0]
    assert row.code == b.COUNTY and row.name == "怀远县"
    for name in ("target", "paid", "enrolled", "amount", "special_people", "special_enrolled", "last_year", "renewed",
                 "remind_closed", "remind_refused", "remind_open", "expected", "behind", "on_pace", "rate"):
        assert getattr(row, name) == getattr(unit, name), name
    assert row.remind_refused == 1 and row.remind_closed == 1
    assert city.total.remind_open == unit.remind_open
    assert row.reconcile_label == "未对账"


def test_a_past_day_reads_the_snapshot_of_that_day(county):
    add_region("3403", "蚌埠市")
    day = dt.date(2024, 10, 31)
    services.progress_ensure(county_code=b.COUNTY, benefit_year=2025, on=day)
    city = rollup.rollup(scope=scope("3403"), region_code="3403", benefit_year=2025, on=day)
    tree = progress_tree(county_code=b.COUNTY, benefit_year=2025, on=day)
    assert city.past and city.rows[0].enrolled == tree.get(b.COUNTY).enrolled
    assert city.rows[0].expected == tree.get(b.COUNTY).expected
    assert DaySnapshot.objects.filter(region_code=b.COUNTY, day=day).exists()


def test_scope_limits_the_roll_up():
    with pytest.raises(PermissionDenied):
        rollup.check_region(scope(CITY), OTHER_CITY)
    with pytest.raises(PermissionDenied):
        rollup.check_region(scope(CITY), PROVINCE)
    with pytest.raises(Http404):
        rollup.check_region(scope(CITY), "421223")
    assert rollup.check_region(scope(PROVINCE, "province_viewer"), CITY) == CITY


def test_a_county_without_campaign_or_target_still_appears_marked(db):
    hubei()
    Target.objects.create(county_code=CHONGYANG, region_code=CHONGYANG, level=6, benefit_year=2025, total=100,
                          source="manual")
    city = rollup.rollup(scope=scope(), region_code=CITY, benefit_year=2025)
    chibi = next(r for r in city.rows if r.code == CHIBI)
    assert chibi.marks == ["未开征", "未下达目标"] and chibi.rank is None and chibi.reconcile_label == "未开征"
    assert city.total.target == 100 and city.total.counties == 2 and city.total.counties_targeted == 1


def test_a_county_without_a_target_does_not_lift_the_citys_rate(db, settings):
    """崇阳县 90 of its 100; 赤壁市, without a target, 500 people: the city is at 90%, 10 short, not 590%."""
    settings.YIBAO_TODAY = "2024-11-15"
    hubei()
    Target.objects.create(county_code=CHONGYANG, region_code=CHONGYANG, level=6, benefit_year=2025, total=100,
                          source="manual")
    for county, enrolled in ((CHONGYANG, 90), (CHIBI, 500)):
        VillageProgress.objects.create(county_code=county, township_code=county + "100", village_code=county + "100201",
                                       benefit_year=2025, paid=enrolled, enrolled=enrolled)
    total = rollup.rollup(scope=scope(), region_code=CITY, benefit_year=2025).total
    assert total.enrolled == 590 and total.enrolled_targeted == 90
    assert total.rate == Decimal("0.9000") and total.gap == 10
    province = rollup.rollup(scope=scope(PROVINCE, "province_viewer"), region_code=PROVINCE, benefit_year=2025).total
    assert province.rate == Decimal("0.9000") and province.gap == 10


def test_reconciliation_is_judged_against_the_policys_runs_a_month(db, settings):
    settings.YIBAO_TODAY = "2024-11-20"
    hubei()
    f.campaign(county=CHONGYANG)  # 怀远's dates: 2024-09-01 .. 2024-12-31; 2 a month by default
    for day in (dt.date(2024, 9, 10), dt.date(2024, 9, 25), dt.date(2024, 10, 5)):
        ReconciliationRun.objects.create(
            county_code=CHONGYANG, benefit_year=2025, as_of=day, ran_on=day, started_at=b.timezone.make_aware(
                dt.datetime.combine(day, dt.time(9))), tax_file_name="t.csv", tax_file_sha256="0" * 64, mismatch_total=2)
    october = rollup.rollup(scope=scope(), region_code=CITY, benefit_year=2025, on=dt.date(2024, 10, 20))
    row = next(r for r in october.rows if r.code == CHONGYANG)
    assert row.reconcile_label == "达标" and row.last_run == dt.date(2024, 10, 5) and row.mismatches == 2
    november = rollup.rollup(scope=scope(), region_code=CITY, benefit_year=2025, on=dt.date(2024, 11, 20))
    row = next(r for r in november.rows if r.code == CHONGYANG)
    assert row.reconcile_status == "short" and row.reconcile_short == 1  # October had one
    assert november.total.reconcile_label == "0/1 个县达标"
    assert rollup.sort_rows(november.rows, "reconcile")[0].code == CHONGYANG
