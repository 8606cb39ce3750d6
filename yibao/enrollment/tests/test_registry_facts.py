"""The registry facts the policy language can ask about (issue 15) reach the engine the same way on
every path: 核定 (persons_frame, in bulk) and the counter (person_for): identity start dates, the
职工医保 list's months, and a household member's enrollment this year."""

import datetime as dt
from pathlib import Path

import pytest

from yibao.collection.selectors import due_quote
from yibao.enrollment.assessment import assess_frame, persons_frame
from yibao.enrollment.models import Enrollment
from yibao.enrollment.selectors import person_for
from yibao.enrollment.tests import factories as f
from yibao.policy.engine import quote
from yibao.policy.loader import load_policy, load_policy_file
from yibao.registry.models import EmployeeInsuranceRecord, GroupFact, Identity

pytestmark = pytest.mark.django_db

XIAOLING_VILLAGE = "421223100001"
SHIYAN = Path(__file__).resolve().parents[2] / "policy" / "tests" / "fixtures" / "hunan-shiyan-2026.yaml"


def _paid(person, campaign, year):
    return Enrollment.objects.create(
        county_code=person.county_code, township_code=person.township_code, village_code=person.village_code,
        campaign=campaign, benefit_year=year, resident=person, id_number=person.id_number, kind="first",
        status=Enrollment.Status.PAID)


def test_a_newborn_is_exempt_when_a_household_member_is_paid_up_on_every_path():
    policy = load_policy("hubei-chongyang-xiaoling-2024")
    campaign = f.campaign(county="421223", policy_id=policy.id)
    home = f.household(village=XIAOLING_VILLAGE, number="X1")
    mother = f.resident(village=XIAOLING_VILLAGE, household=home, name="母亲", relation="户主", sex="F")
    baby = f.resident(village=XIAOLING_VILLAGE, household=home, name="婴儿", relation="女", birth=dt.date(2024, 2, 1))
    alone = f.resident(village=XIAOLING_VILLAGE, name="另一婴儿", relation="女", birth=dt.date(2024, 2, 1))
    on = dt.date(2024, 3, 1)

    def answers():
        frame = persons_frame(county_code="421223", benefit_year=2024, on=on, household=True)
        bulk = {r["resident_id"]: r for r in assess_frame(policy, frame, on).iter_rows(named=True)}
        return bulk, {p.pk: due_quote(resident=p, campaign=campaign, paid_on=on) for p in (baby, alone)}

    bulk, counter = answers()
    assert bulk[baby.pk]["rule"] == counter[baby.pk].rule == "newborn_within_90_days"  # nobody paid yet
    _paid(mother, campaign, 2024)
    bulk, counter = answers()
    assert bulk[baby.pk]["rule"] == counter[baby.pk].rule == "newborn_household_enrolled"
    assert any("同户有其他家庭成员已参加2024年度城乡居民医保" in line for line in counter[baby.pk].explanation)
    assert bulk[alone.pk]["rule"] == counter[alone.pk].rule == "newborn_within_90_days"
    assert bulk[mother.pk]["household_enrolled"] is False  # her own enrollment is not another member's


def test_employee_months_and_identity_start_dates_come_from_the_registry():
    policy = load_policy_file(SHIYAN)
    village = "439901100001"
    worker = f.resident(village=village, name="职工", birth=dt.date(1985, 1, 1))
    GroupFact.objects.create(county_code="439901", resident=worker, group="employee_to_resident",
                             event_date=dt.date(2025, 11, 15))
    other_year = f.resident(village=village, name="另一职工", birth=dt.date(1985, 1, 1))
    GroupFact.objects.create(county_code="439901", resident=other_year, group="employee_to_resident",
                             event_date=dt.date(2025, 11, 15))
    EmployeeInsuranceRecord.objects.create(county_code="439901", id_number=worker.id_number, months_paid=6, months_year=2025)
    EmployeeInsuranceRecord.objects.create(county_code="439901", id_number=other_year.id_number, months_paid=6,
                                           months_year=2024)
    newly_poor = f.resident(village=village, name="新增低保", identities=["dibao"], birth=dt.date(1970, 1, 1))
    Identity.objects.filter(resident=newly_poor).update(valid_from=dt.date(2026, 2, 1))
    on = dt.date(2026, 2, 10)
    frame = persons_frame(county_code="439901", benefit_year=2026, on=on, employee_year=2025)
    rows = {r["resident_id"]: r for r in frame.iter_rows(named=True)}
    assert (rows[worker.pk]["employee_months"], rows[other_year.pk]["employee_months"]) == (6, None)
    assert rows[newly_poor.pk]["employee_months"] == 0 and rows[newly_poor.pk]["identity_since"] == "dibao:2026-02-01"
    bulk = {r["resident_id"]: r for r in assess_frame(policy, frame, on).iter_rows(named=True)}
    for person in (worker, other_year, newly_poor):
        scalar = quote(policy, person_for(resident=person, on=on, benefit_year=2026, policy=policy), on)
        assert (bulk[person.pk]["rule"], bulk[person.pk]["payable"], bulk[person.pk]["benefit_start"]) == (
            scalar.rule, scalar.payable, scalar.benefit_start)
    assert bulk[worker.pk]["rule"] == "employee_gap_within_3_months"
    assert bulk[other_year.pk]["rule"] == "late_waiting"
    assert bulk[newly_poor.pk]["subsidy"] == 0 and bulk[newly_poor.pk]["payable"] == 400


def test_channel_ingest_reads_employee_months_from_the_registry(tmp_path, monkeypatch):
    from yibao.collection.ingest import payments_ingest
    from yibao.collection.models import Payment
    from yibao.collection.tests.test_ingest import line, write_csv

    monkeypatch.setenv("YIBAO_POLICY_DIRS", str(SHIYAN.parent))
    village = "439901100001"
    f.region_tree("439901", "439901100", village)
    f.campaign(county="439901", policy_id="hunan-shiyan-2026")
    policy = load_policy("hunan-shiyan-2026")
    people = []
    for name, year in (("职工甲", 2025), ("职工乙", 2024)):
        person = f.resident(village=village, name=name, birth=dt.date(1985, 1, 1))
        GroupFact.objects.create(county_code="439901", resident=person, group="employee_to_resident",
                                 event_date=dt.date(2025, 11, 15))
        EmployeeInsuranceRecord.objects.create(county_code="439901", id_number=person.id_number, months_paid=6,
                                               months_year=year)
        people.append(person)
    path = write_csv(tmp_path, [line(f"E{i}", p, "400", when="2026-02-10 09:30:00", year="2026")
                                for i, p in enumerate(people)])
    result = payments_ingest(path=path, actor="县税务局", county_code="439901")
    assert result["booked"] == 2, result
    rules = {}
    for payment in Payment.objects.filter(source="file").select_related("resident"):
        expected = quote(policy, person_for(resident=payment.resident, on=payment.paid_on, benefit_year=2026,
                                            policy=policy), payment.paid_on)
        assert (payment.rule, payment.benefit_start) == (expected.rule, expected.benefit_start)
        rules[payment.resident.name] = payment.rule
    assert rules == {"职工甲": "employee_gap_within_3_months", "职工乙": "late_waiting"}


def test_the_remind_list_estimate_reads_household_enrollment_like_the_counter(monkeypatch):
    from yibao.progress.remind import _owed_quotes

    monkeypatch.setenv("YIBAO_POLICY_DIRS", str(SHIYAN.parent))
    village = "439901100001"
    campaign = f.campaign(county="439901", policy_id="hunan-shiyan-2026")
    home = f.household(village=village, number="S1")
    mother = f.resident(village=village, household=home, name="母亲", relation="户主", sex="F")
    baby = f.resident(village=village, household=home, name="婴儿", relation="女", birth=dt.date(2026, 3, 1))
    alone = f.resident(village=village, name="另一婴儿", relation="女", birth=dt.date(2026, 3, 1))
    _paid(mother, campaign, 2026)
    on = dt.date(2026, 4, 15)  # after the window: a live quote, as the counter gives
    owed = _owed_quotes([baby, alone], "439901", 2026, on)
    for person, payable in ((baby, 0), (alone, 400)):
        assert owed[person.pk][0] == due_quote(resident=person, campaign=campaign, paid_on=on).payable == payable
