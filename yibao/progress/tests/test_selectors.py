"""Reads of progress: the unit tree, pace, ranking, history, 催缴 list and the 12-10 comparison."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from yibao.accounts.scope import Scope
from yibao.enrollment.models import Enrollment
from yibao.progress import remind, selectors, services
from yibao.progress.models import RemindMark
from yibao.progress.tests import builders as b

pytestmark = pytest.mark.django_db
COUNTY_SCOPE = Scope(role="county_admin", region_code=b.COUNTY)
ON = dt.date(2024, 10, 31)  # half of 怀远's window (61/122 days)


def test_tree_sums_villages_into_townships_and_the_county(county):
    tree = selectors.progress_tree(county_code=b.COUNTY, benefit_year=2025, on=ON)
    dong, xi, nan, bei = (tree.get(c) for c in (b.DONGCUN, b.XICUN, b.NANCUN, b.BEICUN))
    assert (dong.target, dong.enrolled, dong.paid, dong.rate) == (4, 2, 1, Decimal("0.5000"))
    assert (xi.enrolled, xi.rate) == (2, Decimal("1.0000"))
    assert bei.target is None and bei.rate is None and bei.rank is None
    liucheng, county_unit = tree.get(b.LIUCHENG), tree.get(b.COUNTY)
    assert (liucheng.target, liucheng.enrolled, liucheng.rate) == (6, 4, Decimal("0.6667"))
    assert (county_unit.target, county_unit.enrolled, county_unit.paid) == (16, 5, 4)
    assert (dong.special_people, dong.special_enrolled, dong.special_rate) == (2, 1, Decimal("0.5000"))


def test_pace_and_on_pace_follow_the_elapsed_share(county):
    tree = selectors.progress_tree(county_code=b.COUNTY, benefit_year=2025, on=ON)
    assert tree.share == Decimal("0.5000") and tree.window.deadline == dt.date(2024, 12, 31)
    dong, nan = tree.get(b.DONGCUN), tree.get(b.NANCUN)
    assert (dong.expected, dong.on_pace, dong.gap) == (2, True, 2)
    assert (nan.expected, nan.on_pace, nan.gap) == (5, False, 9)


def test_siblings_are_ranked_by_rate(county):
    tree = selectors.progress_tree(county_code=b.COUNTY, benefit_year=2025, on=ON)
    assert [(tree.get(c).rank, tree.get(c).rank_of) for c in (b.XICUN, b.DONGCUN)] == [(1, 2), (2, 2)]
    assert tree.get(b.LIUCHENG).rank == 1 and tree.get(b.LONGKANG).rank == 2
    ranking = selectors.progress_ranking(scope=COUNTY_SCOPE, region_code=b.COUNTY, benefit_year=2025, level=12, on=ON)
    assert [u.code for u in ranking] == [b.XICUN, b.DONGCUN, b.NANCUN, b.BEICUN]
    assert [u.rank for u in ranking] == [1, 2, 3, None]


def test_history_is_cumulative_with_a_pace_line_to_the_deadline(county):
    rows = selectors.history_rows(county_code=b.COUNTY, benefit_year=2025, region_code=b.COUNTY, target=16,
                                  window=selectors.pace_window(b.COUNTY, 2025), until=ON)
    assert rows[0]["day"] == dt.date(2024, 9, 1) and rows[-1]["day"] == dt.date(2024, 12, 31)
    by_day = {r["day"]: r for r in rows}
    assert (by_day[dt.date(2024, 9, 2)]["new"], by_day[dt.date(2024, 9, 2)]["cumulative"]) == (2, 2)
    assert (by_day[dt.date(2024, 9, 3)]["paid"], by_day[dt.date(2024, 9, 3)]["exempt"]) == (1, 1)
    assert by_day[ON]["cumulative"] == 5 and by_day[ON]["expected"] == 8
    assert by_day[dt.date(2024, 11, 1)]["cumulative"] is None  # no line after today
    assert rows[-1]["expected"] == 16
    village = selectors.history_rows(county_code=b.COUNTY, benefit_year=2025, region_code=b.NANCUN, target=10,
                                     window=None)
    assert [(r["day"], r["cumulative"]) for r in village] == [(dt.date(2024, 10, 1), 1)]


def test_overview_stays_inside_the_scope(county):
    collector = Scope(role="village_collector", region_code=b.DONGCUN)
    overview = selectors.progress_overview(scope=collector, benefit_year=2025, on=ON)
    assert overview["unit"].code == b.DONGCUN and overview["children"] == []
    assert [u.code for u in overview["path"]] == [b.COUNTY, b.LIUCHENG, b.DONGCUN]
    with pytest.raises(PermissionDenied):
        selectors.progress_overview(scope=collector, region_code=b.XICUN, benefit_year=2025)
    township = Scope(role="township_officer", region_code=b.LIUCHENG)
    assert [u.code for u in selectors.progress_overview(scope=township, benefit_year=2025)["children"]] == [b.DONGCUN, b.XICUN]
    with pytest.raises(Http404):
        selectors.progress_overview(scope=COUNTY_SCOPE, region_code="12345")


def test_pace_window_uses_the_notice_deadline_and_open_days():
    window = selectors.pace_window("421223", 2024)  # 肖岭乡: no campaign, from the policy file
    assert (window.start, window.deadline) == (dt.date(2023, 9, 8), dt.date(2023, 12, 20))
    shuozhou = selectors.pace_window("140602", 2024)
    assert (shuozhou.first_day, shuozhou.last_day) == (1, 25)
    assert selectors.pace_window("999999", 2024) is None


def test_remind_list_has_last_years_enrollees_who_have_not_paid(county):
    rows = remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN, benefit_year=2025, on=ON)
    assert [r.resident.name for r in rows] == ["乙", "丁"]  # 甲 paid; 丙 was not enrolled last year
    yi, ding = rows
    assert (yi.household_number, yi.head_name) == ("H1", "甲")
    assert (yi.owed, yi.owed_basis, yi.owed_note) == (Decimal("60.00"), "测算", "dibao")  # 怀远 低保: 400 − 340
    assert (ding.owed, ding.resident.phone, ding.this_status) == (Decimal("400.00"), "13900000004", "未登记")
    b.assess(county["d"], payable="200.00", identity="monitored")
    ding = remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN, benefit_year=2025, on=ON)[1]
    assert (ding.owed, ding.owed_basis) == (Decimal("200.00"), "核定")


def test_remind_list_owes_what_the_counter_would_take_after_the_window_and_after_close(county, settings):
    """The 核定 holds in the window; after it the late rules decide, and a closed year owes only what
    the booking gate still lets in, as the counter says for the same person and day."""
    from yibao.collection import selectors as collection
    from yibao.enrollment.models import Campaign

    settings.YIBAO_TODAY = "2025-01-15"
    late = dt.date(2025, 1, 15)  # 怀远: after the window, late payment with a waiting period
    b.assess(county["d"], payable="200.00", identity="monitored")
    b.enroll(county["b"], 2025, status=Enrollment.Status.REGISTERED)
    campaign = Campaign.objects.get(county_code=b.COUNTY, benefit_year=2025)
    rows = {r.resident.name: r for r in remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN,
                                                              benefit_year=2025, on=late)}
    for name, key in (("乙", "b"), ("丁", "d")):
        counter = collection.due_quote(resident=county[key], campaign=campaign, paid_on=late)
        assert counter.accepted and rows[name].owed == counter.payable and rows[name].owed_basis == "测算"
    assert rows["丁"].owed == Decimal("400.00")  # the monitored 核定 of 200 no longer holds
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CLOSED)
    rows = {r.resident.name: r for r in remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN,
                                                              benefit_year=2025, on=late)}
    counter = collection.due_quote(resident=county["d"], campaign=campaign, paid_on=late)
    assert counter.rule == "late_enrollment_waiting_period"  # the counter registers him under the late rule
    assert (rows["丁"].owed, rows["丁"].owed_basis) == (counter.payable, "测算")
    assert rows["乙"].owed == Decimal("60.00")  # registered before the close: late rules still take him
    settings.YIBAO_TODAY = "2025-12-31"  # the year over: the policy's refusal comes first, as at the counter
    over = remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN, benefit_year=2025, on=dt.date(2025, 12, 31))
    ding = [r for r in over if r.resident.name == "丁"][0]
    counter = collection.due_quote(resident=county["d"], campaign=campaign, paid_on=dt.date(2025, 12, 31))
    assert not counter.accepted and (ding.owed_basis, ding.owed_note) == ("不予受理", counter.reason)
    assert "已晚于2025年度末" in ding.owed_note
    in_window = remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN, benefit_year=2025, on=ON)
    assert in_window[1].owed_basis == "不予受理" and "征缴已结束" in in_window[1].owed_note


def test_remind_list_separates_closed_people_and_masks_ids_for_auditors(county):
    services.remind_mark(actor="测试", resident=county["d"], benefit_year=2025, outcome="moved_away", note="迁往合肥")
    services.remind_mark(actor="测试", resident=county["b"], benefit_year=2025, outcome="contacted")
    open_rows = remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN, benefit_year=2025)
    closed = remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN, benefit_year=2025, state="closed")
    assert [r.resident.name for r in open_rows] == ["乙"] and open_rows[0].mark.outcome == RemindMark.Outcome.CONTACTED
    assert [r.resident.name for r in closed] == ["丁"]
    auditor = Scope(role="auditor", region_code=b.COUNTY)
    shown = remind.remind_rows(scope=auditor, village_code=b.DONGCUN, benefit_year=2025)[0].shown_id
    assert "*" in shown and shown != county["b"].id_number
    with pytest.raises(PermissionDenied):
        remind.remind_rows(scope=Scope(role="village_collector", region_code=b.XICUN), village_code=b.DONGCUN,
                              benefit_year=2025)
    with pytest.raises(Http404):
        remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.LIUCHENG, benefit_year=2025)


def test_renewal_summary_compares_with_last_year(county):
    services.remind_mark(actor="测试", resident=county["d"], benefit_year=2025, outcome="deceased", note="9月死亡")
    summary = remind.renewal_summary(scope=COUNTY_SCOPE, region_code=b.LIUCHENG, benefit_year=2025)
    rows = {r["unit"].code: r for r in summary["rows"]}
    dong = rows[b.DONGCUN]
    assert (dong["unit"].last_year, dong["unit"].renewed, dong["unit"].not_renewed) == (3, 1, 2)
    assert (dong["closed"], dong["open"]) == (1, 1)
    assert rows[b.XICUN]["unit"].renewal_rate == Decimal("1.0000")
    assert rows[b.XICUN]["unit"].new_enrolled == 1  # 己 paid without being enrolled last year
    assert (summary["total"]["unit"].last_year, summary["total"]["open"]) == (4, 1)


def test_benefit_year_defaults_to_the_open_campaign(county):
    assert selectors.benefit_year_default(b.COUNTY) == 2025
    assert selectors.benefit_year_default("421321") == 2023  # no campaign or targets: the policy file's year
    Enrollment.objects.all()  # keep the import used
