"""The bulk assessment (核定) agrees with person_for + quote for every resident, and is incremental."""

import datetime as dt

import polars as pl
import pytest

from yibao.enrollment.assessment import default_assessment_date, persons_frame
from yibao.enrollment.models import Assessment, Campaign, Enrollment
from yibao.enrollment.selectors import person_for
from yibao.enrollment.services import ASSESSMENT_COLUMNS, assessment_run, campaign_open
from yibao.enrollment.tests import factories as f
from yibao.enrollment.tests.county import add_this_year, generate_county
from yibao.policy.engine import PolicyInputError, quote
from yibao.policy.loader import load_policy
from yibao.registry.models import Flag, GroupFact, Identity, Resident
from yibao.registry.selectors import resident_enrollment_block

pytestmark = pytest.mark.django_db

# (policy, county, dates to assess on: window start and end, inside, after the window)
CASES = [
    ("anhui-huaiyuan-2025", "340321", [dt.date(2024, 9, 1), dt.date(2024, 12, 31), dt.date(2025, 1, 15),
                                        dt.date(2025, 3, 1), dt.date(2025, 11, 20)]),
    ("chongqing-dianjiang-xinmin-2024", "500231", [dt.date(2023, 10, 11), dt.date(2023, 12, 31), dt.date(2024, 2, 1),
                                                    dt.date(2024, 7, 15), dt.date(2024, 10, 1)]),
    ("hubei-suixian-2023", "421321", [dt.date(2022, 9, 1), dt.date(2022, 12, 31), dt.date(2023, 2, 28),
                                       dt.date(2023, 6, 1)]),
    ("hubei-chongyang-xiaoling-2024", "421223", [dt.date(2023, 9, 8), dt.date(2023, 11, 30), dt.date(2024, 3, 1)]),
    ("shanxi-shuozhou-2024", "140602", [dt.date(2023, 9, 1), dt.date(2023, 10, 25), dt.date(2023, 10, 26),
                                         dt.date(2024, 5, 5)]),
]

ANSWER_FIELDS = ("accepted", "standard", "subsidy", "payable", "refund_later", "benefit_start", "benefit_end")


def expected_row(policy, campaign, resident, on):
    """What the scalar path says: registry block first, then an ended enrollment, then the quote."""
    block = resident_enrollment_block(resident)
    this_year = Enrollment.objects.filter(county_code=resident.county_code, resident=resident,
                                          benefit_year=campaign.benefit_year).first()
    if block:
        return {"accepted": False, "reason": f"暂不能参保：{block}", "rule": "blocked", "payable": 0, "subsidy": 0,
                "refund_later": 0, "benefit_start": None, "benefit_end": None}
    if this_year is not None and this_year.status == Enrollment.Status.TERMINATED:
        return {"accepted": False, "rule": "terminated", "payable": 0, "refund_later": 0,
                "reason": f"{campaign.benefit_year}年度参保关系已终止（{this_year.status_reason}），不能再缴费。"}
    tier = this_year.tier if this_year is not None else 1
    person = person_for(resident=resident, on=on, benefit_year=campaign.benefit_year, tier=tier)
    try:
        result = quote(policy, person, on)
    except PolicyInputError as exc:
        return {"accepted": False, "reason": f"无法核定：{exc}", "rule": "input_error", "payable": 0}
    return {name: getattr(result, name) for name in ANSWER_FIELDS} | {
        "reason": result.reason or "", "rule": result.rule or "", "subsidy_identity": result.subsidy_identity or "",
        "tier": tier,
    }


@pytest.mark.parametrize("policy_id,county,dates", CASES, ids=[c[0] for c in CASES])
def test_bulk_assessment_agrees_with_person_for_and_quote_for_every_resident(policy_id, county, dates):
    policy = load_policy(policy_id)
    tiers = sorted(policy.data.contribution.tiers())
    people = generate_county(county=county, benefit_year=policy.data.benefit_year, on_dates=dates, size=120,
                             seed=len(policy_id))
    campaign = campaign_open(county_code=county, policy_id=policy_id, actor="测试")
    add_this_year(campaign=campaign, people=people, tiers=tiers)
    seen_rules, seen_blocked, seen_errors = set(), 0, 0
    for on in dates:
        counts = assessment_run(campaign=campaign, actor="测试", on=on)
        stored = {a.resident_id: a for a in Assessment.objects.filter(campaign=campaign)}
        active = list(Resident.objects.filter(county_code=county, status=Resident.Status.ACTIVE))
        assert set(stored) == {r.pk for r in active} and counts["residents"] == len(active)
        for resident in active:
            row = stored[resident.pk]
            expected = expected_row(policy, campaign, resident, on)
            got = {name: getattr(row, name) for name in expected}
            assert got == expected, f"{policy_id} {on} {resident.name}"
            assert row.policy_version == policy.version
            seen_rules.add(row.rule)
            seen_blocked += row.rule == "blocked"
            seen_errors += row.rule == "input_error"
    # the generated county really exercised the paths
    assert seen_blocked and seen_errors and len(seen_rules) >= 4


def test_persons_frame_takes_identities_groups_role_tier_and_gap_years():
    on = dt.date(2024, 10, 8)
    person = f.resident(identities=["dibao", "tekun"], relation="女儿", birth=dt.date(2010, 1, 1))
    Identity.objects.filter(resident=person, code="tekun").update(valid_to=dt.date(2024, 10, 7))
    GroupFact.objects.create(county_code="340321", resident=person, group="migrant_worker", event_date=dt.date(2024, 1, 1))
    GroupFact.objects.create(county_code="340321", resident=person, group="veteran", event_date=dt.date(2024, 12, 1))
    campaign = f.campaign()
    for year, status in ((2021, "paid"), (2022, "suspended"), (2023, "terminated")):
        Enrollment.objects.create(county_code="340321", township_code=person.township_code,
                                  village_code=person.village_code, campaign=campaign, benefit_year=year,
                                  resident=person, id_number=person.id_number, kind="first", status=status)
    Enrollment.objects.create(county_code="340321", township_code=person.township_code, village_code=person.village_code,
                              campaign=campaign, benefit_year=2025, resident=person, id_number=person.id_number,
                              kind="first", tier=2)
    row = persons_frame(county_code="340321", benefit_year=2025, on=on).row(0, named=True)
    assert row["identities"] == ["dibao"]
    assert row["groups"] == ["migrant_worker", "veteran"] and row["event_date"] == dt.date(2024, 1, 1)
    assert row["household_role"] == "child" and row["tier"] == 2
    assert row["gap_years"] == 2 and row["block"] is None  # last covered 2022 (suspended counts), 2023 and 2024 broken
    scalar = person_for(resident=person, on=on, benefit_year=2025, tier=2)
    assert (scalar.gap_years, scalar.event_date, scalar.household_role) == (2, dt.date(2024, 1, 1), "child")


def test_block_text_is_the_registrys_for_open_and_confirmed_flags_and_cleared_ones_dont_block():
    open_flag = f.resident(name="甲")
    Flag.objects.create(county_code="340321", resident=open_flag, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="某厂")
    Flag.objects.create(county_code="340321", resident=open_flag, kind=Flag.Kind.OTHER_COUNTY, detail="")
    confirmed = f.resident(name="乙")
    Flag.objects.create(county_code="340321", resident=confirmed, kind=Flag.Kind.OTHER_COUNTY, detail="随县",
                        resolved_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), outcome="confirmed", resolution="已核实")
    cleared = f.resident(name="丙")
    Flag.objects.create(county_code="340321", resident=cleared, kind=Flag.Kind.OTHER_COUNTY,
                        resolved_at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), outcome="cleared", resolution="无重复")
    frame = persons_frame(county_code="340321", benefit_year=2025, on=dt.date(2024, 10, 8))
    blocks = dict(zip(frame["resident_id"], frame["block"]))
    for person in (open_flag, confirmed):
        assert blocks[person.pk] == f"暂不能参保：{resident_enrollment_block(person)}"
    assert blocks[cleared.pk] is None and resident_enrollment_block(cleared) is None


def _state(campaign):
    return {a.resident_id: (a.pk, a.input_hash, a.assessed_at, a.payable)
            for a in Assessment.objects.filter(campaign=campaign)}


def test_a_second_run_rewrites_only_what_changed():
    campaign = f.campaign()
    people = [f.resident(name=f"人{i}") for i in range(6)]
    first = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    assert (first["assessed"], first["unchanged"], first["removed"]) == (6, 0, 0)
    before = _state(campaign)

    again = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 11, 8))  # another day, same answers
    assert (again["assessed"], again["unchanged"]) == (0, 6)
    assert _state(campaign) == before

    Identity.objects.create(county_code="340321", resident=people[0], code="dibao", department="民政")
    people[1].status = Resident.Status.DECEASED
    people[1].save()
    newcomer = f.resident(name="新来")
    third = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 11, 8))
    assert (third["assessed"], third["unchanged"], third["removed"], third["residents"]) == (2, 4, 1, 6)
    after = _state(campaign)
    assert after[people[0].pk][0] == before[people[0].pk][0]  # updated in place: same row
    assert after[people[0].pk][3] == 60 and after[people[0].pk][1] != before[people[0].pk][1]
    assert people[1].pk not in after and newcomer.pk in after
    for untouched in people[2:]:
        assert after[untouched.pk] == before[untouched.pk]


def test_a_new_policy_version_or_a_move_rewrites_the_rows():
    campaign = f.campaign()
    person = f.resident()
    f.resident(name="邻居")
    assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    f.region_tree(village="340321100002")
    Resident.objects.filter(pk=person.pk).update(village_code="340321100002")
    moved = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    assert moved["assessed"] == 1
    assert Assessment.objects.get(resident=person).village_code == "340321100002"

    import yibao.enrollment.services.assessment as services

    real = services._campaign_policy_checked

    def new_version(c):
        policy = real(c)
        return type(policy)(data=policy.data, version="0123456789abcdef", path=policy.path)

    services._campaign_policy_checked = new_version
    try:
        counts = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    finally:
        services._campaign_policy_checked = real
    assert counts["assessed"] == 2 and counts["policy_version"] == "0123456789abcdef"
    assert set(Assessment.objects.values_list("policy_version", flat=True)) == {"0123456789abcdef"}


def test_totals_count_only_accepted_rows_and_not_accepted_has_reasons():
    campaign = f.campaign()
    f.resident(identities=["dibao"])
    f.resident(identities=["entitled_group"])
    blocked = f.resident(name="受限")
    Flag.objects.create(county_code="340321", resident=blocked, kind=Flag.Kind.EMPLOYEE_INSURANCE)
    counts = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    assert counts["not_accepted"] == 1
    assert counts["payable_total"] == 60 + 400 and counts["refund_later_total"] == 400
    row = Assessment.objects.get(resident=blocked)
    assert not row.accepted and row.payable == 0 and "待县医保局核实处理" in row.reason


def test_the_column_list_covers_every_field_of_the_table():
    columns = {f.column for f in Assessment._meta.concrete_fields if f.column != "id"}
    assert columns == set(ASSESSMENT_COLUMNS)


def test_assessment_refuses_a_closed_campaign():
    campaign = f.campaign()
    campaign.status = Campaign.Status.CLOSED
    campaign.save()
    from yibao.enrollment.services import CampaignError

    with pytest.raises(CampaignError, match="已结束"):
        assessment_run(campaign=campaign, actor="测试")


@pytest.mark.parametrize("today,expected", [
    (dt.date(2024, 6, 1), dt.date(2024, 9, 1)),
    (dt.date(2024, 10, 8), dt.date(2024, 10, 8)),
    (dt.date(2025, 3, 1), dt.date(2024, 12, 31)),
])
def test_default_date_is_window_start_today_or_window_end(today, expected):
    policy = load_policy("anhui-huaiyuan-2025")
    assert default_assessment_date(policy=policy, start=dt.date(2024, 9, 1), end=dt.date(2024, 12, 31), today=today) == expected


def test_default_date_skips_the_days_a_policy_takes_no_payments():
    policy = load_policy("shanxi-shuozhou-2024")  # 1-25 of each month, window to 25 December
    window = {"start": dt.date(2023, 9, 1), "end": dt.date(2023, 12, 25)}
    assert default_assessment_date(policy=policy, today=dt.date(2023, 10, 27), **window) == dt.date(2023, 11, 1)
    assert default_assessment_date(policy=policy, today=dt.date(2023, 10, 25), **window) == dt.date(2023, 10, 25)
    result = quote(policy, person_for_adult(), default_assessment_date(policy=policy, today=dt.date(2023, 10, 27), **window))
    assert result.accepted


def person_for_adult():
    from yibao.policy.engine import Person

    return Person(birth_date=dt.date(1980, 1, 1))


def test_assessment_of_an_empty_county_writes_nothing():
    campaign = f.campaign()
    f.region_tree()
    counts = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    assert counts["residents"] == 0 and counts["assessed"] == 0 and counts["payable_total"] == 0
    assert not Assessment.objects.exists()


def test_frame_output_is_a_polars_frame_sorted_by_resident():
    f.resident(name="一")
    f.resident(name="二")
    frame = persons_frame(county_code="340321", benefit_year=2025, on=dt.date(2024, 10, 8))
    assert isinstance(frame, pl.DataFrame) and frame["resident_id"].is_sorted()
