"""Campaigns and the enrollment lifecycle; no one is enrolled twice for a year, whatever the path."""

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, connections

from yibao.core.models import Event
from yibao.enrollment.models import Assessment, Campaign, Enrollment, EnrollmentClaim
from yibao.enrollment.services import (
    CampaignError,
    EnrollmentError,
    assessment_refresh,
    assessment_run,
    campaign_close,
    campaign_open,
    campaign_reopen,
    enrollment_choose_tier,
    enrollment_end,
    enrollment_mark_paid,
    enrollment_register,
    enrollment_register_checked,
    enrollment_resume,
    enrollment_suspend,
    enrollment_terminate,
    enrollment_transfer,
)
from yibao.enrollment.tests import factories as f
from yibao.regions.models import Region
from yibao.registry.models import Flag, Resident

pytestmark = pytest.mark.django_db

Y2025 = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def events(entity_id, action=None, entity="enrollment"):
    rows = Event.objects.filter(entity=entity, entity_id=str(entity_id))
    return rows.filter(action=action) if action else rows


def assert_enrolled_once(id_number: str, year: int):
    """The invariant: at most one live enrollment (registered, paid, or suspended while keeping the
    year's benefits) per ID number and year, across counties, and it holds the only live claim."""
    claims = list(EnrollmentClaim.objects.filter(id_number=id_number, benefit_year=year, released_at__isnull=True))
    claimed = {c.enrollment_id for c in claims}
    live = [
        e for e in Enrollment.objects.filter(id_number=id_number, benefit_year=year)
        if e.status in ("registered", "paid") or (e.status == "suspended" and e.pk in claimed)
    ]
    assert len(live) <= 1, live
    assert len(claims) <= 1, claims
    if live:
        assert claimed == {live[0].pk}
    return live[0] if live else None


def twin_in(county: str, person: Resident) -> Resident:
    """The same person (same ID number) on another county's register."""
    village = f"{county}100001"
    f.region_tree(county, village[:9], village)
    return Resident.objects.create(
        county_code=county, township_code=village[:9], village_code=village, id_number=person.id_number,
        name=person.name, sex=person.sex, birth_date=person.birth_date,
    )


# ---------------------------------------------------------------- campaigns


def test_campaign_open_takes_the_policy_window_and_version_and_writes_an_event():
    f.region_tree()
    campaign = campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor="测试")
    assert (campaign.benefit_year, campaign.collection_start, campaign.collection_end) == (
        2025, dt.date(2024, 9, 1), dt.date(2024, 12, 31))
    from yibao.policy.loader import load_policy

    assert campaign.policy_version == load_policy("anhui-huaiyuan-2025").version
    assert campaign.opened_by_name == "测试" and campaign.status == "open"
    event = events(campaign.pk, "opened", entity="campaign").get()
    assert event.after["policy_id"] == "anhui-huaiyuan-2025" and event.county_code == "340321"


def test_campaign_open_with_its_own_window():
    f.region_tree()
    campaign = campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor="测试",
                             collection_start=dt.date(2024, 9, 15), collection_end=dt.date(2025, 2, 28))
    assert (campaign.collection_start, campaign.collection_end) == (dt.date(2024, 9, 15), dt.date(2025, 2, 28))


@pytest.mark.parametrize("county,policy,kwargs,message", [
    ("340321", "hubei-suixian-2023", {}, "不适用于"),
    ("340321", "no-such-policy", {}, "未找到政策"),
    ("34032", "anhui-huaiyuan-2025", {}, "6位数字"),
    ("340399", "anhui-huaiyuan-2025", {}, "未找到县级区划"),
    ("340321", "anhui-huaiyuan-2025", {"collection_start": dt.date(2024, 12, 1), "collection_end": dt.date(2024, 11, 1)},
     "晚于止"),
    ("340321", "anhui-huaiyuan-2025", {"collection_end": dt.date(2026, 1, 1)}, "年度末"),
    ("340321", "anhui-huaiyuan-2025", {"collection_start": dt.date(2020, 1, 1)}, "过早"),
])
def test_campaign_open_refuses_with_a_chinese_reason(county, policy, kwargs, message):
    f.region_tree()
    with pytest.raises(CampaignError, match=message):
        campaign_open(county_code=county, policy_id=policy, actor="测试", **kwargs)
    assert not Campaign.objects.exists()


def test_one_campaign_per_county_and_year():
    f.region_tree()
    campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor="测试")
    with pytest.raises(CampaignError, match="只能开启一次"):
        campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor="测试")


def test_a_city_wide_policy_covers_each_of_its_counties():
    f.region_tree("140602", "140602100", "140602100001")
    assert campaign_open(county_code="140602", policy_id="shanxi-shuozhou-2024", actor="测试").benefit_year == 2024


def test_only_a_county_admin_of_that_county_opens_a_campaign(make_user):
    f.region_tree()
    collector = make_user("c", role="village_collector", region_code="340321100001")
    other_admin = make_user("a", role="county_admin", region_code="421223")
    for actor in (collector, other_admin):
        with pytest.raises(PermissionDenied):
            campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor=actor)
    admin = make_user("b", role="county_admin", region_code="340321")
    assert campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor=admin).opened_by_name


def test_close_and_reopen_with_events():
    campaign = f.campaign()
    campaign_close(campaign=campaign, actor="测试", reason="年度结束")
    campaign.refresh_from_db()
    assert campaign.status == "closed" and campaign.closed_at and campaign.closed_by_name == "测试"
    with pytest.raises(CampaignError, match="已结束"):
        campaign_close(campaign=campaign, actor="测试")
    with pytest.raises(EnrollmentError, match="征缴已结束"):
        enrollment_register(resident=f.resident(), campaign=campaign, actor="测试")
    with pytest.raises(CampaignError, match="原因"):
        campaign_reopen(campaign=campaign, actor="测试", reason=" ")
    campaign_reopen(campaign=campaign, actor="测试", reason="补录")
    campaign.refresh_from_db()
    assert campaign.status == "open" and campaign.closed_at is None
    assert [e.action for e in events(campaign.pk, entity="campaign").order_by("id")] == ["closed", "reopened"]


def test_assessment_run_writes_one_event_with_the_counts():
    campaign = f.campaign()
    f.resident(identities=["dibao"])
    counts = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    event = events(campaign.pk, "assessed", entity="campaign").get()
    assert event.after["assessed"] == 1 and event.after["payable_total"] == "60.00"
    campaign.refresh_from_db()
    assert campaign.last_assessed_on == dt.date(2024, 10, 8) and counts["policy_version"] == campaign.policy_version


# ---------------------------------------------------------------- the lifecycle


def test_suspend_a_paid_enrollment_keeps_the_years_benefits_and_its_claim():
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_mark_paid(enrollment=e, benefit_start=Y2025[0], benefit_end=Y2025[1], actor="测试")
    e = enrollment_suspend(enrollment=e, actor="测试", reason="迁往外省")
    assert e.status == "suspended" and (e.benefit_start, e.benefit_end) == Y2025
    assert "迁往外省" in e.status_reason and events(e.pk, "suspended").exists()
    assert assert_enrolled_once(person.id_number, 2025) == e
    with pytest.raises(EnrollmentError, match="不能暂停"):
        enrollment_suspend(enrollment=e, actor="测试", reason="再来一次")
    with pytest.raises(EnrollmentError, match="暂停原因"):
        enrollment_suspend(enrollment=enrollment_register(resident=f.resident(name="乙"), campaign=e.campaign,
                                                          actor="测试"), actor="测试", reason="")


def test_resume_a_suspension():
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_mark_paid(enrollment=e, benefit_start=Y2025[0], benefit_end=Y2025[1], actor="测试")
    enrollment_suspend(enrollment=e, actor="测试", reason="外出")
    e = enrollment_resume(enrollment=e, actor="测试", reason="未迁走")
    assert e.status == "paid" and events(e.pk, "resumed").exists()
    with pytest.raises(EnrollmentError, match="只有参保暂停的"):
        enrollment_resume(enrollment=e, actor="测试", reason="再恢复")


def test_terminate_on_death_ends_benefits_on_the_day_and_marks_the_register():
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_mark_paid(enrollment=e, benefit_start=Y2025[0], benefit_end=Y2025[1], actor="测试")
    e = enrollment_terminate(enrollment=e, cause="death", actor="测试", reason="病故", effective_on=dt.date(2025, 5, 3))
    assert e.status == "terminated" and e.benefit_end == dt.date(2025, 5, 3) and "死亡：病故" in e.status_reason
    person.refresh_from_db()
    assert person.status == "deceased"
    status = events(person.pk, "status", entity="resident").get()
    assert status.after == {"status": "deceased", "source": "enrollment"} and status.reason == "参保终止：死亡：病故"
    event = events(e.pk, "terminated").get()
    assert event.after["benefit_end"] == "2025-05-03" and event.before["status"] == "paid"
    assert assert_enrolled_once(person.id_number, 2025) is None  # terminated: no live enrollment
    with pytest.raises(EnrollmentError, match="已终止"):
        enrollment_terminate(enrollment=e, cause="death", actor="测试")


def test_terminate_on_joining_employee_insurance_flags_the_resident():
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_terminate(enrollment=e, cause="employee_insurance", actor="测试", reason="某公司")
    flag = Flag.objects.get(resident=person)
    assert flag.kind == "employee_insurance" and flag.resolved_at is None and "某公司" in flag.detail
    person.refresh_from_db()
    assert person.status == "active"


def test_terminate_unpaid_on_moving_away_frees_the_year_for_the_new_place():
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_terminate(enrollment=e, cause="moved_away", actor="测试", reason="迁往随县")
    person.refresh_from_db()
    assert person.status == "moved_away"
    twin = twin_in("421321", person)
    other = f.campaign(county="421321", policy_id="anhui-huaiyuan-2025")
    assert enrollment_register(resident=twin, campaign=other, actor="测试").county_code == "421321"
    assert assert_enrolled_once(person.id_number, 2025).county_code == "421321"


def test_the_register_saying_deceased_terminates_the_live_enrollments(settings):
    """户籍维护 → 已死亡: the enrollment follows, as a 参保终止 on death would have ended it."""
    from yibao.registry.services import resident_update

    settings.YIBAO_TODAY = "2025-05-03"
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_mark_paid(enrollment=e, benefit_start=Y2025[0], benefit_end=Y2025[1], actor="测试")
    resident_update(actor="测试", resident=person, status="deceased", reason="2025年5月3日病故")
    e.refresh_from_db()
    assert e.status == "terminated" and e.benefit_end == dt.date(2025, 5, 3)
    assert "户籍状态变更：2025年5月3日病故" in e.status_reason
    assert events(e.pk, "terminated").get().before["status"] == "paid"
    status = events(person.pk, "status", entity="resident").get()  # one status event, from the register
    assert status.after == {"status": "deceased", "source": "registry"}
    assert assert_enrolled_once(person.id_number, 2025) is None


def test_the_register_saying_moved_away_suspends_the_enrollments(settings):
    from yibao.registry.services import resident_status_change

    settings.YIBAO_TODAY = "2025-05-03"
    campaign = f.campaign()
    paid, unpaid = f.resident(name="甲"), f.resident(name="乙", birth=dt.date(1981, 6, 1))
    e_paid = enrollment_register(resident=paid, campaign=campaign, actor="测试")
    enrollment_mark_paid(enrollment=e_paid, benefit_start=Y2025[0], benefit_end=Y2025[1], actor="测试")
    e_unpaid = enrollment_register(resident=unpaid, campaign=campaign, actor="测试")
    for person in (paid, unpaid):
        resident_status_change(actor="测试", resident=person, status="moved_away", reason="迁往随县")
    e_paid.refresh_from_db(), e_unpaid.refresh_from_db()
    assert (e_paid.status, e_paid.benefit_end) == ("suspended", Y2025[1])  # paid: benefits kept to the end
    assert "户籍状态变更：已迁出（迁往随县）" in e_paid.status_reason
    assert assert_enrolled_once(paid.id_number, 2025).pk == e_paid.pk  # and the year stays here
    assert e_unpaid.status == "suspended" and assert_enrolled_once(unpaid.id_number, 2025) is None  # freed
    twin = twin_in("421321", unpaid)
    other = f.campaign(county="421321", policy_id="anhui-huaiyuan-2025")
    assert enrollment_register(resident=twin, campaign=other, actor="测试").county_code == "421321"
    resident_status_change(actor="测试", resident=paid, status="active", reason="未迁出，登记有误")
    assert enrollment_resume(enrollment=e_paid, actor="测试", reason="未迁出").status == "paid"  # undone


def test_other_paths_end_the_enrollment_once_and_tell_the_register(settings):
    """参保终止 sets the register through the same service; the register does not end it twice."""
    settings.YIBAO_TODAY = "2025-05-03"
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_terminate(enrollment=e, cause="death", actor="测试", reason="病故")
    assert events(e.pk, "terminated").count() == 1
    person.refresh_from_db()
    assert person.status == "deceased"


def test_terminate_refuses_an_unknown_cause():
    e = enrollment_register(resident=f.resident(), campaign=f.campaign(), actor="测试")
    with pytest.raises(EnrollmentError, match="未知的终止原因"):
        enrollment_terminate(enrollment=e, cause="bored", actor="测试")


def test_transfer_moves_the_resident_and_carries_the_enrollment_and_assessment():
    person = f.resident()
    f.region_tree(village="340321200001")
    campaign = f.campaign()
    e = enrollment_register(resident=person, campaign=campaign, actor="测试")
    assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    e = enrollment_transfer(enrollment=e, to_village_code="340321200001", actor="测试", reason="婚迁")
    person.refresh_from_db()
    assert person.village_code == "340321200001" and person.township_code == "340321200"
    assert (e.village_code, e.township_code) == ("340321200001", "340321200")
    assert Assessment.objects.get(resident=person).village_code == "340321200001"
    event = events(e.pk, "transferred").get()
    assert event.before["village_code"] == "340321100001" and event.after["village_code"] == "340321200001"
    assert Event.objects.filter(entity="resident", entity_id=str(person.pk), action="move").exists()
    # the next run leaves the carried row as it is, apart from its digest
    assert assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))["removed"] == 0


def test_transfer_refuses_other_counties_and_bad_input():
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    f.region_tree("421321", "421321100", "421321100001")
    with pytest.raises(EnrollmentError, match="不能跨县"):
        enrollment_transfer(enrollment=e, to_village_code="421321100001", actor="测试", reason="迁")
    with pytest.raises(EnrollmentError, match="迁移原因"):
        enrollment_transfer(enrollment=e, to_village_code="340321100001", actor="测试", reason="")


def test_transfer_needs_both_villages_in_the_actors_scope(make_user):
    person = f.resident()
    f.region_tree(village="340321200001")
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    collector = make_user("c", role="village_collector", region_code="340321100001")
    with pytest.raises(PermissionDenied):
        enrollment_transfer(enrollment=e, to_village_code="340321200001", actor=collector, reason="婚迁")
    person.refresh_from_db()
    assert person.village_code == "340321100001"


def test_tier_choice_for_a_two_tier_policy_reassesses_the_resident():
    f.region_tree("500231", "500231100", "500231100001")
    person = f.resident(village="500231100001")
    campaign = f.campaign(county="500231", policy_id="chongqing-dianjiang-xinmin-2024")
    e = enrollment_register(resident=person, campaign=campaign, actor="测试")
    assessment_run(campaign=campaign, actor="测试", on=dt.date(2023, 11, 1))
    one = Assessment.objects.get(resident=person).payable
    e = enrollment_choose_tier(enrollment=e, tier=2, actor="测试")
    assert e.tier == 2 and events(e.pk, "tier").get().after == {"tier": 2}
    two = Assessment.objects.get(resident=person)
    assert two.tier == 2 and two.payable > one
    with pytest.raises(EnrollmentError, match="没有3档"):
        enrollment_choose_tier(enrollment=e, tier=3, actor="测试")
    enrollment_mark_paid(enrollment=e, benefit_start=dt.date(2024, 1, 1), benefit_end=dt.date(2024, 12, 31), actor="测试")
    with pytest.raises(EnrollmentError, match="缴费后不能变更档次"):
        enrollment_choose_tier(enrollment=e, tier=1, actor="测试")


def test_a_one_tier_policy_refuses_tier_two_at_registration():
    with pytest.raises(EnrollmentError, match="没有2档"):
        enrollment_register(resident=f.resident(), campaign=f.campaign(), actor="测试", tier=2)


def test_register_checked_needs_enrollment_edit_in_the_village(make_user):
    person = f.resident()
    campaign = f.campaign()
    tax = make_user("t", role="tax_officer", region_code="340321")
    with pytest.raises(PermissionDenied):
        enrollment_register_checked(resident=person, campaign=campaign, actor=tax)
    elsewhere = make_user("v", role="village_collector", region_code="340321100002")
    with pytest.raises(PermissionDenied):
        enrollment_register_checked(resident=person, campaign=campaign, actor=elsewhere)
    own = make_user("o", role="village_collector", region_code="340321100001")
    assert enrollment_register_checked(resident=person, campaign=campaign, actor=own).kind == "first"


def test_assessment_refresh_of_one_resident_leaves_the_others():
    campaign = f.campaign()
    a, b = f.resident(name="甲"), f.resident(name="乙")
    assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    before = Assessment.objects.get(resident=b)
    from yibao.registry.models import Identity

    Identity.objects.create(county_code="340321", resident=a, code="dibao", department="民政")
    Identity.objects.create(county_code="340321", resident=b, code="dibao", department="民政")
    assert assessment_refresh(campaign=campaign, resident=a, on=dt.date(2024, 10, 9)).payable == 60
    assert Assessment.objects.get(resident=b).input_hash == before.input_hash


# ---------------------------------------------------------------- never enrolled twice


def test_path_register_twice():
    person = f.resident()
    campaign = f.campaign()
    first = enrollment_register(resident=person, campaign=campaign, actor="甲")
    second = enrollment_register(resident=person, campaign=campaign, actor="乙")
    assert first.pk == second.pk and events(first.pk, "registered").count() == 1
    assert assert_enrolled_once(person.id_number, 2025) == first


def test_path_register_in_another_county():
    person = f.resident()
    enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    twin = twin_in("421321", person)
    with pytest.raises(EnrollmentError, match="不得重复参保"):
        enrollment_register(resident=twin, campaign=f.campaign(county="421321"), actor="测试")
    assert assert_enrolled_once(person.id_number, 2025).county_code == "340321"


def test_path_register_in_another_county_bypassing_the_friendly_check():
    """Even with the lookup of other counties fooled (a paid enrollment marked suspended), the claim holds."""
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    Enrollment.objects.filter(pk=e.pk).update(status="suspended")
    twin = twin_in("421321", person)
    with pytest.raises(EnrollmentError, match="已存在"):
        enrollment_register(resident=twin, campaign=f.campaign(county="421321"), actor="测试")
    assert not Enrollment.objects.filter(county_code="421321").exists()


def test_path_with_a_campaign_of_another_county():
    person = f.resident()
    with pytest.raises(EnrollmentError, match="不属于"):
        enrollment_register(resident=person, campaign=f.campaign(county="421321"), actor="测试")


def test_path_transfer_then_register():
    person = f.resident()
    f.region_tree(village="340321200001")
    campaign = f.campaign()
    e = enrollment_register(resident=person, campaign=campaign, actor="测试")
    enrollment_transfer(enrollment=e, to_village_code="340321200001", actor="测试", reason="婚迁")
    person.refresh_from_db()
    again = enrollment_register(resident=person, campaign=campaign, actor="测试")
    assert again.pk == e.pk and again.village_code == "340321200001"
    assert Enrollment.objects.filter(resident=person).count() == 1
    assert assert_enrolled_once(person.id_number, 2025) == again


def test_path_suspend_then_register_again_here_returns_the_same_enrollment():
    person = f.resident()
    campaign = f.campaign()
    e = enrollment_register(resident=person, campaign=campaign, actor="测试")
    enrollment_mark_paid(enrollment=e, benefit_start=Y2025[0], benefit_end=Y2025[1], actor="测试")
    enrollment_suspend(enrollment=e, actor="测试", reason="外出")
    assert enrollment_register(resident=person, campaign=campaign, actor="测试").pk == e.pk
    assert assert_enrolled_once(person.id_number, 2025) == Enrollment.objects.get(pk=e.pk)


def test_path_paid_suspend_then_register_elsewhere_this_year_is_refused_next_year_allowed():
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_mark_paid(enrollment=e, benefit_start=Y2025[0], benefit_end=Y2025[1], actor="测试")
    enrollment_suspend(enrollment=e, actor="测试", reason="迁往随县")
    twin = twin_in("421321", person)
    with pytest.raises(EnrollmentError):
        enrollment_register(resident=twin, campaign=f.campaign(county="421321"), actor="测试")
    assert assert_enrolled_once(person.id_number, 2025).county_code == "340321"
    next_year = Campaign.objects.create(
        county_code="421321", benefit_year=2026, policy_id="anhui-huaiyuan-2025", policy_version="x",
        collection_start=dt.date(2025, 9, 1), collection_end=dt.date(2025, 12, 31),
    )
    assert enrollment_register(resident=twin, campaign=next_year, actor="测试").benefit_year == 2026


def test_path_unpaid_suspend_then_register_elsewhere_then_resume_here_is_refused():
    person = f.resident()
    e = enrollment_register(resident=person, campaign=f.campaign(), actor="测试")
    enrollment_suspend(enrollment=e, actor="测试", reason="迁往随县")
    twin = twin_in("421321", person)
    there = enrollment_register(resident=twin, campaign=f.campaign(county="421321"), actor="测试")
    assert assert_enrolled_once(person.id_number, 2025) == there
    Region.objects.filter(code="421321").update(name="随县")
    with pytest.raises(EnrollmentError, match="已在随县登记"):
        enrollment_resume(enrollment=e, actor="测试", reason="又回来了")
    assert assert_enrolled_once(person.id_number, 2025) == there


def test_path_without_suspension_last_year_elsewhere_is_refused():
    person = f.resident()
    twin = twin_in("421321", person)
    last_year = Campaign.objects.create(
        county_code="421321", benefit_year=2024, policy_id="x", policy_version="x",
        collection_start=dt.date(2023, 9, 1), collection_end=dt.date(2023, 12, 31),
    )
    old = enrollment_register(resident=twin, campaign=last_year, actor="测试")
    enrollment_mark_paid(enrollment=old, benefit_start=dt.date(2024, 1, 1), benefit_end=dt.date(2024, 12, 31), actor="测试")
    here = f.campaign()
    with pytest.raises(EnrollmentError, match="参保暂停"):
        enrollment_register(resident=person, campaign=here, actor="测试")
    enrollment_suspend(enrollment=old, actor="测试", reason="迁往怀远")
    assert enrollment_register(resident=person, campaign=here, actor="测试").kind == "first"


def test_path_terminated_with_refund_then_register_here_is_refused():
    person = f.resident()
    campaign = f.campaign()
    e = enrollment_register(resident=person, campaign=campaign, actor="测试")
    enrollment_end(enrollment=e, action="terminate", reason="重复缴费退费", actor="测试", release_claim=True)
    with pytest.raises(EnrollmentError, match="已终止"):
        enrollment_register(resident=person, campaign=campaign, actor="测试")
    assert assert_enrolled_once(person.id_number, 2025) is None


# ---------------------------------------------------------------- concurrency (PostgreSQL)


def race(jobs):
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), [None] * len(jobs)

    def run(i, job):
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # the test inspects what the loser got
            errors[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_registration_makes_exactly_one_enrollment_and_one_claim():
    if connection.vendor != "postgresql":
        pytest.skip("并发测试需要 PostgreSQL")
    campaign = f.campaign()
    people = [f.resident(name=f"并发{i}") for i in range(4)]
    for person in people:  # several rounds: the interleaving differs each time
        register = lambda who, p=person: lambda: enrollment_register(  # noqa: E731
            resident=Resident.objects.get(pk=p.pk), campaign=Campaign.objects.get(pk=campaign.pk), actor=who)
        results, errors = race([register("甲"), register("乙")])
        assert errors == [None, None], errors
        assert results[0].pk == results[1].pk
        assert Enrollment.objects.filter(resident=person, benefit_year=2025).count() == 1
        assert EnrollmentClaim.objects.filter(id_number=person.id_number, benefit_year=2025).count() == 1
        assert events(results[0].pk, "registered").count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_registration_in_two_counties_lets_exactly_one_win():
    if connection.vendor != "postgresql":
        pytest.skip("并发测试需要 PostgreSQL")
    here, there = f.campaign(), f.campaign(county="421321")
    for n in range(3):
        person = f.resident(name=f"两地{n}")
        twin = twin_in("421321", person)
        results, errors = race([
            lambda: enrollment_register(resident=person, campaign=here, actor="甲"),
            lambda: enrollment_register(resident=twin, campaign=there, actor="乙"),
        ])
        assert sum(r is not None for r in results) == 1
        assert all(isinstance(e, EnrollmentError) for e in errors if e is not None)
        assert Enrollment.objects.filter(id_number=person.id_number).count() == 1
        assert_enrolled_once(person.id_number, 2025)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_assessment_runs_at_once_write_each_row_once():
    if connection.vendor != "postgresql":
        pytest.skip("并发测试需要 PostgreSQL")
    campaign = f.campaign()
    for i in range(30):
        f.resident(name=f"核定{i}", identities=["dibao"] if i % 3 == 0 else ())
    run = lambda: assessment_run(campaign=Campaign.objects.get(pk=campaign.pk), actor="测试",  # noqa: E731
                                 on=dt.date(2024, 10, 8))
    results, errors = race([run, run])
    assert errors == [None, None], errors
    assert sorted(r["assessed"] for r in results) == [0, 30]
    assert Assessment.objects.filter(campaign=campaign).count() == 30
