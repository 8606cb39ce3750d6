"""Writes of progress: target import, adjustment, roll-up and derivation; the rollup refresh; 催缴 marks."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yibao.core.models import Event
from yibao.enrollment.models import Enrollment
from yibao.progress import services
from yibao.progress.models import ProgressRefresh, RemindMark, Target, VillageDay, VillageProgress
from yibao.progress.tests import builders as b
from yibao.registry.models import Flag, Resident
from yibao.registry.tests.factories import seed_regions

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent / "data"


def import_file(name, **kwargs):
    path = DATA / name
    return services.targets_import(actor="测试", content=path.read_bytes(), filename=path.name, **kwargs)


def totals(code, year):
    t = Target.objects.get(region_code=code, benefit_year=year)
    return t.total, t.special, t.others, t.population, t.supplementary


# ---------------------------------------------------------------- targets


@pytest.mark.parametrize("name", ["xiaoling_2024_tasks.xlsx", "xiaoling_2024_tasks.csv"])
def test_xiaoling_table_imports_with_the_printed_totals(name):
    seed_regions()
    result = import_file(name, county_code="421223", benefit_year=2024)
    assert result["rows"] == 10 and result["imported"] == 10 and result["warnings"] == []
    assert result["sums"] == {"total": 31053, "population": 39140, "supplementary": 7997}
    assert totals("421223200201", 2024) == (3731, None, None, 4702, 961)  # 白马
    # 肖岭乡 rolls up from its villages, exactly as the 合计 row prints it
    assert totals("421223200", 2024) == (31053, None, None, 39140, 7997)
    township = Target.objects.get(region_code="421223200", benefit_year=2024)
    assert township.source == Target.Source.ROLLUP and township.supplementary_label == "咸惠宝应参保人数"
    event = Event.objects.get(entity="targets", action="import")
    assert event.after["rows"] == 10 and event.after["sums"]["total"] == 31053


def test_county_year_and_township_are_read_from_the_table_when_not_given():
    seed_regions()
    result = import_file("xiaoling_2024_tasks.xlsx")
    assert (result["county_code"], result["benefit_year"], result["parent_code"]) == ("421223", 2024, "421223200")


@pytest.mark.parametrize("name", ["suixian_2023_targets.xlsx", "suixian_2023_targets.csv"])
def test_suixian_table_imports_every_town_by_its_printed_name(name):
    seed_regions()
    result = import_file(name, county_code="421321", benefit_year=2023)
    assert result["rows"] == 18
    assert totals("421321100", 2023)[:3] == (59813, 1658, 58155)  # 厉山镇（含经济开发区）
    assert totals("421321400", 2023)[:3] == (18357, 476, 17881)  # 万福店农场
    assert totals("421321", 2023)[:3] == (643118, 23113, 620005)


def test_importing_the_same_table_again_changes_nothing():
    seed_regions()
    import_file("suixian_2023_targets.csv")
    again = import_file("suixian_2023_targets.xlsx")
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, 18)


def test_an_unknown_name_refuses_the_whole_file():
    seed_regions()
    content = "村名,应参保人数\n白马,10\n白马村委员会X,20\n合计,30\n".encode()
    with pytest.raises(ValidationError) as exc:
        services.targets_import(actor="测试", content=content, filename="t.csv", county_code="421223",
                                township_code="421223200", benefit_year=2024)
    assert any("第3行" in m and "白马村委员会X" in m and "找不到" in m for m in exc.value.messages)
    assert not Target.objects.exists()


def test_a_village_suffix_still_matches_when_unique():
    seed_regions()
    content = "村名,应参保人数\n白马村,10\n锁石村,20\n合计,30\n".encode()
    result = services.targets_import(actor="测试", content=content, filename="t.csv", county_code="421223",
                                     benefit_year=2024)
    assert [u["code"] for u in result["units"]] == ["421223200201", "421223200202"]


def test_a_total_row_mismatch_is_refused_unless_accepted():
    seed_regions()
    content = "村名,应参保人数\n白马,10\n锁石,20\n合计,31\n".encode()
    with pytest.raises(ValidationError) as exc:
        services.targets_import(actor="测试", content=content, filename="t.csv", county_code="421223", benefit_year=2024)
    assert any("合计行印为 31" in m and "各行相加为 30" in m for m in exc.value.messages)
    assert not Target.objects.exists()
    result = services.targets_import(actor="测试", content=content, filename="t.csv", county_code="421223",
                                     benefit_year=2024, accept_total_mismatch=True)
    assert any("合计行印为 31" in w for w in result["warnings"])
    assert totals("421223200", 2024)[0] == 30


def test_a_year_is_needed_when_the_table_does_not_say_it():
    seed_regions()
    with pytest.raises(ValidationError, match="待遇年度"):
        services.targets_import(actor="测试", content="村名,应参保人数\n白马,10\n".encode(), filename="t.csv",
                                county_code="421223")


def test_a_user_may_import_only_within_their_county(make_user):
    seed_regions()
    officer = make_user("officer", role="county_admin", region_code="421223")
    path = DATA / "suixian_2023_targets.csv"
    with pytest.raises(PermissionDenied):
        services.targets_import(actor=officer, content=path.read_bytes(), filename=path.name, county_code="421321")
    collector = make_user("collector", role="village_collector", region_code="421223200201")
    with pytest.raises(PermissionDenied):
        import_file_as = services.targets_import
        import_file_as(actor=collector, content=b"", filename="t.csv")


def test_manual_adjustment_writes_an_event_and_the_township_follows():
    seed_regions()
    import_file("xiaoling_2024_tasks.csv")
    services.target_set(actor="测试", region_code="421223200201", benefit_year=2024, total=3800, reason="县政府调整")
    t = Target.objects.get(region_code="421223200201", benefit_year=2024)
    assert t.total == 3800 and t.source == Target.Source.MANUAL
    assert totals("421223200", 2024)[0] == 31053 + 69
    event = Event.objects.get(entity="target", action="adjust")
    assert event.before["total"] == 3731 and event.after["total"] == 3800 and event.reason == "县政府调整"


def test_manual_adjustment_checks_its_numbers_and_needs_a_reason():
    seed_regions()
    with pytest.raises(ValidationError) as exc:
        services.target_set(actor="测试", region_code="421321101", benefit_year=2023, total=100, special=30, others=60,
                            reason="")
    assert set(exc.value.message_dict) == {"special", "reason"}
    target = services.target_set(actor="测试", region_code="421321101", benefit_year=2023, total=100, special=30,
                                 reason="补录")
    assert (target.special, target.others) == (30, 70)


def test_manual_adjustment_refuses_a_count_no_column_can_hold():
    seed_regions()
    with pytest.raises(ValidationError) as exc:
        services.target_set(actor="测试", region_code="421321101", benefit_year=2023, total=str(2**70), reason="调整")
    assert "超出范围" in exc.value.message_dict["total"][0]


def test_a_hand_set_township_is_kept_and_the_difference_reported():
    seed_regions()
    services.target_set(actor="测试", region_code="421223200", benefit_year=2024, total=30000, reason="乡里定的")
    result = import_file("xiaoling_2024_tasks.csv")
    assert totals("421223200", 2024)[0] == 30000
    assert any("肖岭乡的目标任务 30000 与下级之和 31053 不一致" in w for w in result["warnings"])


def test_derive_from_last_year_keeps_imported_villages_and_adds_growth():
    b.huaiyuan_tree()
    for i in range(4):
        b.enroll(b.person(b.DONGCUN, f"东{i}"), 2024)
    for i in range(2):
        b.enroll(b.person(b.XICUN, f"西{i}", identities=["dibao"]), 2024)
    b.enroll(b.person(b.XICUN, "西暂停"), 2024, Enrollment.Status.SUSPENDED)
    b.enroll(b.person(b.XICUN, "西终止"), 2024, Enrollment.Status.TERMINATED)
    Target.objects.create(county_code=b.COUNTY, region_code=b.NANCUN, level=12, benefit_year=2025, total=9, source="import")
    result = services.targets_derive(actor="测试", county_code=b.COUNTY, benefit_year=2025, growth_percent="50")
    assert result["villages"] == 2 and result["kept"] == 1
    assert totals(b.DONGCUN, 2025)[:3] == (6, 0, 6)
    assert totals(b.XICUN, 2025)[:3] == (5, 2, 3)  # (2 + 1) * 1.5 = 4.5 → 5; the two 低保 are special
    assert totals(b.NANCUN, 2025)[0] == 9
    assert totals(b.COUNTY, 2025)[0] == 6 + 5 + 9


def test_demo_targets_come_from_the_register_and_are_counted():
    b.huaiyuan_tree()
    b.campaign()
    for i in range(3):
        b.person(b.DONGCUN, f"东{i}")
    b.person(b.NANCUN, "南一", identities=["tekun"])
    result = services.targets_load_demo()
    assert result["benefit_year"] == 2025 and result["villages"] == 2
    assert totals(b.DONGCUN, 2025)[0] == 3 and totals(b.NANCUN, 2025)[:3] == (1, 1, 0)
    assert VillageProgress.objects.filter(county_code=b.COUNTY, benefit_year=2025).count() == 4


# ---------------------------------------------------------------- the rollup


@pytest.fixture
def county():
    """东村: 3 paid (one 低保 assessed, one exempt 特困 without payment), 1 registered; 西村: 1 paid last year only."""
    b.huaiyuan_tree()
    b.campaign(2024)
    b.campaign(2025)
    people = {}
    people["a"] = b.person(b.DONGCUN, "甲", phone="13900000001")
    people["b"] = b.person(b.DONGCUN, "乙", identities=["dibao"])
    people["c"] = b.person(b.DONGCUN, "丙", identities=["tekun"])
    people["d"] = b.person(b.DONGCUN, "丁")
    people["e"] = b.person(b.XICUN, "戊")
    for key in ("a", "b", "d", "e"):
        b.enroll(people[key], 2024)
    b.pay(people["a"], dt.date(2024, 9, 3))
    b.pay(people["b"], dt.date(2024, 9, 3), "60.00")
    b.enroll(people["c"], 2025, at=b.timezone.make_aware(dt.datetime(2024, 9, 5, 9)))  # 免缴: 正常参保 without payment
    b.enroll(people["d"], 2025, Enrollment.Status.REGISTERED)
    return people


def test_refresh_counts_paid_enrolled_special_and_renewals(county):
    result = services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    assert result["villages"] == 4 and not result["partial"]
    dong = VillageProgress.objects.get(village_code=b.DONGCUN, benefit_year=2025)
    assert (dong.paid, dong.enrolled, dong.registered) == (2, 3, 1)
    assert (dong.special_people, dong.special_enrolled) == (2, 2)  # 乙 (低保), 丙 (特困) by their identities
    assert (dong.last_year, dong.renewed) == (3, 2)  # 甲、乙、丁 last year; 甲、乙 renewed
    xi = VillageProgress.objects.get(village_code=b.XICUN, benefit_year=2025)
    assert (xi.paid, xi.enrolled, xi.last_year, xi.renewed) == (0, 0, 1, 0)
    days = {(d.day, d.paid, d.exempt, d.amount) for d in VillageDay.objects.filter(village_code=b.DONGCUN)}
    assert days == {(dt.date(2024, 9, 3), 2, 0, Decimal("460.00")), (dt.date(2024, 9, 5), 0, 1, Decimal("0.00"))}
    assert ProgressRefresh.objects.get(county_code=b.COUNTY, benefit_year=2025).villages == 4


def test_the_daily_curve_counts_an_unbilled_enrollment_on_the_business_day_it_was_registered(settings):
    """A demo with YIBAO_TODAY: a 正常参保 without a payment falls on the business day of its 登记, inside
    the window, not on the wall-clock day its row was last written."""
    from yibao.enrollment.services import enrollment_mark_paid, enrollment_register

    settings.YIBAO_TODAY = "2024-10-08"
    assert b.timezone.localdate() != dt.date(2024, 10, 8)
    b.huaiyuan_tree()
    campaign = b.campaign(2025)
    person = b.person(b.DONGCUN, "免缴甲", identities=["tekun"])
    enrollment = enrollment_register(resident=person, campaign=campaign, actor="测试")
    enrollment_mark_paid(enrollment=enrollment, benefit_start=dt.date(2025, 1, 1), benefit_end=dt.date(2025, 12, 31),
                         actor="测试", reason="免缴")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    days = {(d.day, d.paid, d.exempt) for d in VillageDay.objects.filter(village_code=b.DONGCUN, benefit_year=2025)}
    assert days == {(dt.date(2024, 10, 8), 0, 1)}


def test_an_assessment_decides_special_membership_over_identities(county):
    b.assess(county["b"], payable="400.00", identity="")  # assessed: no subsidy applied this year
    b.assess(county["a"], payable="60.00", identity="dibao")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    dong = VillageProgress.objects.get(village_code=b.DONGCUN, benefit_year=2025)
    assert dong.special_people == 2  # 甲 (assessed 低保) and 丙 (not assessed, holds 特困); not 乙
    assert dong.special_enrolled == 2


def test_a_village_refresh_counts_exactly_as_the_county_refresh(county):
    b.assess(county["b"], payable="400.00", identity="")
    b.assess(county["a"], payable="60.00", identity="dibao")
    b.assess(county["e"], payable="0.00", identity="tekun")
    fields = ("village_code", "paid", "enrolled", "registered", "special_people", "special_enrolled", "last_year", "renewed")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    whole = list(VillageProgress.objects.order_by("village_code").values_list(*fields))
    whole_days = list(VillageDay.objects.order_by("village_code", "day").values_list("village_code", "day", "paid", "exempt"))
    for village in (b.DONGCUN, b.XICUN, b.NANCUN, b.BEICUN):
        services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[village])
    assert list(VillageProgress.objects.order_by("village_code").values_list(*fields)) == whole
    assert list(VillageDay.objects.order_by("village_code", "day").values_list("village_code", "day", "paid", "exempt")) == whole_days
    assert whole[0][4:6] == (2, 2)  # 东村: 甲 (assessed 低保) and 丙 (not assessed, holds 特困)


def test_refreshing_one_village_leaves_the_others_and_the_county_stamp(county):
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    stamp = ProgressRefresh.objects.get(county_code=b.COUNTY).refreshed_at
    b.pay(county["e"], dt.date(2024, 10, 1))
    VillageProgress.objects.filter(village_code=b.DONGCUN).update(paid=99)
    result = services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[b.XICUN])
    assert result["partial"] and result["villages"] == 1
    assert VillageProgress.objects.get(village_code=b.XICUN).paid == 1
    assert VillageProgress.objects.get(village_code=b.DONGCUN).paid == 99
    assert ProgressRefresh.objects.get(county_code=b.COUNTY).refreshed_at == stamp


def test_township_and_county_curves_follow_full_and_partial_refreshes(county):
    from yibao.progress.models import AreaDay

    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)

    def curve(code):
        return {(d.day, d.paid, d.exempt) for d in AreaDay.objects.filter(region_code=code, benefit_year=2025)}

    expected = {(dt.date(2024, 9, 3), 2, 0), (dt.date(2024, 9, 5), 0, 1)}
    assert curve(b.LIUCHENG) == curve(b.COUNTY) == expected
    assert curve(b.LONGKANG) == set()
    b.pay(county["e"], dt.date(2024, 9, 3))
    nan = b.person(b.NANCUN, "南")
    b.pay(nan, dt.date(2024, 10, 1))
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[b.XICUN, b.NANCUN])
    assert curve(b.LIUCHENG) == {(dt.date(2024, 9, 3), 3, 0), (dt.date(2024, 9, 5), 0, 1)}
    assert curve(b.LONGKANG) == {(dt.date(2024, 10, 1), 1, 0)}
    assert curve(b.COUNTY) == {(dt.date(2024, 9, 3), 3, 0), (dt.date(2024, 9, 5), 0, 1), (dt.date(2024, 10, 1), 1, 0)}
    assert AreaDay.objects.get(region_code=b.COUNTY, day=dt.date(2024, 9, 3)).amount == Decimal("860.00")


def test_a_refunded_payment_drops_out(county):
    from yibao.collection.models import Payment

    Payment.objects.filter(resident=county["a"]).update(status="refunded")
    Enrollment.objects.filter(resident=county["a"], benefit_year=2025).update(status="terminated")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    dong = VillageProgress.objects.get(village_code=b.DONGCUN, benefit_year=2025)
    assert (dong.paid, dong.enrolled, dong.renewed) == (1, 2, 1)


def test_stale_after_a_new_event_and_a_minute(county):
    assert services.progress_is_stale(county_code=b.COUNTY, benefit_year=2025) is None
    assert services.progress_ensure(county_code=b.COUNTY, benefit_year=2025) == "refreshed"
    assert services.progress_is_stale(county_code=b.COUNTY, benefit_year=2025) is False
    ProgressRefresh.objects.update(refreshed_at=b.timezone.now() - dt.timedelta(minutes=5))
    assert services.progress_is_stale(county_code=b.COUNTY, benefit_year=2025) is False  # nothing happened since
    from yibao.core.services import event_record

    event_record(county_code=b.COUNTY, entity="payment", entity_id=1, action="booked", actor="测试")
    assert services.progress_is_stale(county_code=b.COUNTY, benefit_year=2025) is True
    assert services.progress_ensure(county_code=b.COUNTY, benefit_year=2025) == "queued"  # runs inline in tests
    assert services.progress_is_stale(county_code=b.COUNTY, benefit_year=2025) is False


def test_a_stale_recount_opened_by_an_auditor_is_the_systems_job(county, db):
    from yibao.accounts.models import User
    from yibao.core.models import Job
    from yibao.core.services import event_record

    auditor = User.objects.create_user(username="aud", password="pass-1234", role="auditor", region_code=b.COUNTY)
    services.progress_ensure(county_code=b.COUNTY, benefit_year=2025, actor=auditor)
    ProgressRefresh.objects.update(refreshed_at=b.timezone.now() - dt.timedelta(minutes=5))
    event_record(county_code=b.COUNTY, entity="payment", entity_id=1, action="booked", actor="测试")
    assert services.progress_ensure(county_code=b.COUNTY, benefit_year=2025, actor=auditor) == "queued"
    job = Job.objects.get(kind="progress_refresh")
    assert job.created_by_id is None and job.created_by_name == services.AUTO_RECOUNT


def test_refresh_job_runs_through_the_job_runner(county):
    from yibao.core.jobs import job_run
    from yibao.core.models import Job
    from yibao.core.services import job_create

    job = job_run(job_create(kind="progress_refresh", county_code=b.COUNTY, params={"benefit_year": 2025}))
    assert job.status == Job.Status.SUCCEEDED and job.result["villages"] == 4


# ---------------------------------------------------------------- 催缴 marks


def test_contacted_only_writes_the_mark_and_an_event(county):
    mark = services.remind_mark(actor="测试", resident=county["d"], benefit_year=2025, outcome="contacted", note="答应月底缴")
    assert mark.outcome == "contacted" and not mark.effects
    event = Event.objects.get(entity="remind", entity_id=str(county["d"].pk))
    assert event.action == "contacted" and event.after["note"] == "答应月底缴"
    assert Enrollment.objects.get(resident=county["d"], benefit_year=2024).status == "paid"


def test_moved_away_suspends_both_years_and_updates_the_register(county):
    this = Enrollment.objects.get(resident=county["d"], benefit_year=2025)
    from yibao.enrollment.models import EnrollmentClaim

    EnrollmentClaim.objects.create(id_number=county["d"].id_number, benefit_year=2025, county_code=b.COUNTY, enrollment_id=this.pk)
    mark = services.remind_mark(actor="测试", resident=county["d"], benefit_year=2025, outcome="moved_away",
                                note="2024年10月迁往合肥市")
    assert Enrollment.objects.get(resident=county["d"], benefit_year=2024).status == "suspended"
    assert Enrollment.objects.get(pk=this.pk).status == "suspended"
    assert EnrollmentClaim.objects.get(enrollment_id=this.pk).released_at is not None
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.MOVED_AWAY
    assert len(mark.effects) == 3
    assert Event.objects.filter(entity="enrollment", action="suspended").count() == 2
    assert Event.objects.filter(entity="resident", action="status").count() == 1
    assert VillageProgress.objects.get(village_code=b.DONGCUN).registered == 0  # the village was recounted


def test_joined_employee_insurance_suspends_and_flags(county):
    services.remind_mark(actor="测试", resident=county["e"], benefit_year=2025, outcome="employee_insurance",
                         note="在县人民医院参加职工医保")
    assert Enrollment.objects.get(resident=county["e"], benefit_year=2024).status == "suspended"
    flag = Flag.objects.get(resident=county["e"])
    assert flag.kind == Flag.Kind.EMPLOYEE_INSURANCE and flag.resolved_at is None
    assert Resident.objects.get(pk=county["e"].pk).status == Resident.Status.ACTIVE


def test_death_terminates_and_records_the_death(county):
    services.remind_mark(actor="测试", resident=county["d"], benefit_year=2025, outcome="deceased", note="2024年9月20日死亡")
    assert Enrollment.objects.get(resident=county["d"], benefit_year=2024).status == "terminated"
    assert Enrollment.objects.get(resident=county["d"], benefit_year=2025).status == "terminated"
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.DECEASED


@pytest.mark.parametrize(("outcome", "status"), [("deceased", "deceased"), ("moved_away", "moved_away")])
def test_a_mark_changes_the_status_through_the_one_status_service(county, outcome, status):
    # The one status service records where the change came from (催缴核实), not 户籍维护.
    services.remind_mark(actor="测试", resident=county["d"], benefit_year=2025, outcome=outcome, note="2024年9月核实")
    event = Event.objects.get(entity="resident", entity_id=str(county["d"].pk), action="status")
    assert event.after == {"status": status, "source": "remind"}
    assert event.reason.startswith("催缴核实：")


def test_marks_are_refused_for_those_who_paid_or_were_not_enrolled_last_year(county):
    with pytest.raises(ValidationError, match="已缴纳2025年度参保费"):
        services.remind_mark(actor="测试", resident=county["a"], benefit_year=2025, outcome="moved_away", note="x")
    with pytest.raises(ValidationError, match="上年度（2024年度）未在本县参保"):
        services.remind_mark(actor="测试", resident=county["c"], benefit_year=2025, outcome="contacted")
    with pytest.raises(ValidationError) as exc:
        services.remind_mark(actor="测试", resident=county["d"], benefit_year=2025, outcome="deceased", note="")
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.remind_mark(actor="测试", resident=county["d"], benefit_year=2025, outcome="gone")
    assert not RemindMark.objects.exists()


def test_a_collector_marks_only_in_their_village(county, make_user):
    mine = make_user("mine", role="village_collector", region_code=b.DONGCUN)
    other = make_user("other", role="village_collector", region_code=b.XICUN)
    tax = make_user("tax", role="tax_officer", region_code=b.COUNTY)
    services.remind_mark(actor=mine, resident=county["d"], benefit_year=2025, outcome="contacted")
    with pytest.raises(PermissionDenied):
        services.remind_mark(actor=other, resident=county["d"], benefit_year=2025, outcome="contacted")
    with pytest.raises(PermissionDenied):
        services.remind_mark(actor=tax, resident=county["d"], benefit_year=2025, outcome="contacted")
    assert RemindMark.objects.get().marked_by == mine
