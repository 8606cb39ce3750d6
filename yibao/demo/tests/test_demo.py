import json
import statistics
from collections import Counter

from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.idnumber import check_id_number
from yibao.core.models import Job
from yibao.demo.build import demo_build
from yibao.demo.county import TOWNSHIPS, township_codes
from yibao.regions.models import Region
from yibao.registry.models import EmployeeInsuranceRecord, Flag, Household, Identity, Resident

runner = CliRunner()


def test_township_codes_follow_the_national_rule():
    codes = dict((name, code) for code, name in township_codes())
    assert list(codes) == list(TOWNSHIPS) and len(codes) == 22
    for name, code in codes.items():
        kind = code[6]
        expected = "0" if name.endswith("街道") else "4" if name.endswith("农场") else "2" if name.endswith("乡") else "1"
        assert kind == expected, (name, code)
    assert len(set(codes.values())) == 22


def test_demo_county_through_the_import_jobs(db):
    summary = demo_build(residents=600, seed=7)
    assert summary["residents"]["imported"] == 600 and summary["residents"]["rejected"] == 0
    assert Region.objects.filter(county_code="340321", level=9).count() == 22
    villages = Region.objects.filter(county_code="340321", level=12).count()
    assert 22 * 3 <= villages <= 22 * 7
    people = list(Resident.objects.all())
    for person in people:
        checked = check_id_number(person.id_number)
        assert (checked.birth_date, checked.sex) == (person.birth_date, person.sex)
    sizes = Counter(Resident.objects.values_list("household_id", flat=True))
    assert 2.2 <= statistics.mean(sizes.values()) <= 3.8 and max(sizes.values()) <= 6
    assert Household.objects.filter(head__isnull=True).count() == 0
    codes = Counter(Identity.objects.values_list("code", flat=True))
    assert codes["dibao"] >= 10 and codes["tekun"] >= 3 and codes["monitored"] >= 5
    assert codes["disabled_severe"] >= 3 and codes["entitled_group"] >= 1
    per_person = Counter(Identity.objects.values_list("resident_id", flat=True))
    assert any(n >= 2 for n in per_person.values())  # some people hold two identities
    assert 0.05 <= len(per_person) / len(people) <= 0.35
    assert EmployeeInsuranceRecord.objects.count() > 0
    assert Flag.objects.filter(kind=Flag.Kind.EMPLOYEE_INSURANCE).count() == summary["employees"]["flagged"] > 0
    assert Job.objects.filter(status="succeeded").count() == 8  # regions, register, five lists, employees

    again = demo_build(residents=600, seed=7)
    assert again["residents"]["unchanged"] == 600 and again["employees"]["flagged"] == 0


def test_demo_cli_if_empty_and_logins(db):
    result = runner.invoke(app, ["demo", "--residents", "200", "--no-city", "--json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["residents"]["imported"] == 200
    skipped = runner.invoke(app, ["demo", "--residents", "200", "--if-empty", "--json"])
    assert json.loads(skipped.stdout) == {"skipped": True} and Resident.objects.count() == 200

    first = runner.invoke(app, ["demo-logins", "--json"])
    logins = json.loads(first.stdout)["logins"]
    # the county's six, and above it the city, its tax bureau and the province (蚌埠市 and 安徽省 are loaded);
    # 五河县's administrator only once 五河县 is (not with --no-city)
    assert len(logins) == 9 and {l["password"] for l in logins} == {"yibao-demo"}
    assert {l["username"] for l in logins} >= {"shi_yibao", "shi_shuiwu", "sheng"} and "wuhe_admin" not in str(logins)
    second = runner.invoke(app, ["demo-logins", "--url", "http://127.0.0.1:8031/"])
    assert second.exit_code == 0 and "村（社区）征收员" in second.stdout and "cunji" in second.stdout
    assert "http://127.0.0.1:8031/" in second.stdout
    from yibao.accounts.models import User

    assert User.objects.count() == 9
    collector = User.objects.get(username="cunji")
    assert Resident.objects.filter(village_code=collector.region_code).exists()
    assert collector.check_password("yibao-demo")
    assert User.objects.get(username="minzheng").department == "minzheng"


def test_demo_year_starts_from_last_years_roster(db):
    """The 2025 year of the demo runs on top of the imported 2024 roster: payments of last year's
    enrollees register as renewals, and those who have not paid are on the 催缴 list."""
    from yibao.collection.models import Payment
    from yibao.demo.year import demo_year
    from yibao.enrollment.models import Campaign, Enrollment
    from yibao.progress.remind import remind_base

    demo_build(residents=500, seed=11)
    summary = demo_year(seed=11)
    assert summary["history"]["imported"] > 0 and summary["history"]["rejected"] == 0
    assert Campaign.objects.get(county_code="340321", benefit_year=2024).imported
    kinds = Counter(Enrollment.objects.filter(benefit_year=2025).values_list("kind", flat=True))
    assert kinds["renewal"] > kinds["first"] > 0
    assert Payment.objects.filter(benefit_year=2025, status=Payment.Status.BOOKED).exists()
    assert remind_base(county_code="340321", benefit_year=2025).exists()

    again = demo_year(seed=11)  # the year is there: nothing is imported or collected twice
    assert "history" not in again and "collection" not in again and "reconciliation" not in again
    assert "groups" not in again and "household_part" not in again and "transfer" not in again


def test_demo_year_takes_the_less_common_paths(db):
    """Group lists (births, a school roll, a release list), a payment for part of a household, a
    transfer and a 周报 for last Friday, all through the real jobs and services."""
    import datetime as dt
    from pathlib import Path

    from yibao.collection.models import Receipt
    from yibao.core.models import Event
    from yibao.enrollment.models import Enrollment
    from yibao.demo.extras import last_friday
    from yibao.demo.year import DEMO_DAY, demo_year
    from yibao.registry.models import GroupFact

    demo_build(residents=400, seed=3)
    summary = demo_year(seed=3)
    groups = summary["groups"]
    assert set(groups) == {"newborn", "university_student", "released_prisoner"}
    assert all(g["imported"] > 0 and g["rejected"] == 0 for g in groups.values())
    held = Counter(GroupFact.objects.values_list("group", flat=True))
    assert held["newborn"] == groups["newborn"]["rows"] and held["released_prisoner"] == 2

    part = summary["household_part"]
    assert part["paid"] == 2 < part["members"]
    receipt = Receipt.objects.get(receipt_no=part["receipt_no"])
    assert receipt.lines.count() == 2 and receipt.household.number == part["household"]

    moved = summary["transfer"]
    assert moved["from"] != moved["to"] and moved["from"][:9] == moved["to"][:9]
    enrollment = Enrollment.objects.get(pk=moved["enrollment"])
    assert enrollment.village_code == enrollment.resident.village_code == moved["to"]
    assert Event.objects.filter(entity="resident", entity_id=str(enrollment.resident_id), action="move").exists()

    weekly = summary["past_weekly"]
    assert weekly["on"] == last_friday(DEMO_DAY) == dt.date(2025, 3, 14) and weekly["rows"] > 0
    assert Path(weekly["file"]).stat().st_size > 0 and "20250314" in weekly["file"]


def test_demo_year_reconciles_twice_a_month_on_the_business_days(db):
    """The demo county meets the notices' 每月至少两次 in every month of its window, each run dated on
    its own business day, and the last run is on the demo's business day."""
    import datetime as dt

    from yibao.accounts.scope import Scope
    from yibao.core.clock import business_today
    from yibao.demo.year import DEMO_DAY, demo_year
    from yibao.reconciliation.models import ReconciliationRun
    from yibao.reconciliation.selectors import month_check

    demo_build(residents=300, seed=5)
    summary = demo_year(seed=5)
    runs = list(ReconciliationRun.objects.filter(benefit_year=2025).order_by("pk"))
    assert [r.ran_on for r in runs] == [r.as_of for r in runs] and runs[-1].ran_on == DEMO_DAY
    assert summary["reconciliation"] == runs[-1].pk and business_today() == DEMO_DAY
    assert all(later.previous_id == earlier.pk for earlier, later in zip(runs, runs[1:]))
    assert runs[0].ran_on == dt.date(2024, 9, 15) and dt.date(2024, 12, 31) in [r.ran_on for r in runs]
    months = month_check(scope=Scope(role="county_admin", region_code="340321"), county_code="340321",
                         benefit_year=2025)["months"]
    window = [m for m in months if m["status"] != "outside"]
    assert len(window) == 4 and {m["status"] for m in window} == {"ok"}


def test_demo_city_has_a_second_county_and_accounts_above_the_county(db):
    """`yibao demo` (without --no-city) also builds 五河县 under the demo city 蚌埠市, runs its year under a
    demo policy installed through the real install path, and logs in the city, city tax and province."""
    from yibao.accounts.models import User
    from yibao.accounts.scope import scope_for
    from yibao.enrollment.models import Campaign
    from yibao.policy.loader import installed_dir, load_policy
    from yibao.regions.models import Region

    result = runner.invoke(app, ["demo", "--residents", "200", "--register-only", "--json", "--quiet"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["city"]["county"] == "340322" and summary["city"]["residents"]["imported"] == 200
    # the tree: 安徽省 → 蚌埠市 → 怀远县, 五河县
    assert Region.objects.get(code="3403").parent_id == "34"
    assert set(Region.objects.filter(parent_id="3403").values_list("code", flat=True)) == {"340321", "340322"}
    assert Resident.objects.filter(county_code="340322").count() == 200
    assert Resident.objects.filter(county_code="340321").count() == 200
    # the demo policy says it is one, was installed (not built in) and applies to 五河县 only
    policy = load_policy("anhui-wuhe-2025")
    assert "演示" in policy.data.title and policy.data.locality.region_prefix == "340322"
    assert (installed_dir() / "anhui-wuhe-2025.yaml").read_text(encoding="utf-8").startswith("# 演示用政策")
    assert not Campaign.objects.exists()  # --register-only opens no year

    logins = {l["username"]: l for l in json.loads(runner.invoke(app, ["demo-logins", "--json"]).stdout)["logins"]}
    assert {"shi_yibao", "shi_shuiwu", "sheng", "wuhe_admin"} <= set(logins)
    assert logins["shi_yibao"]["region"] == "蚌埠市（3403）"
    city = scope_for(User.objects.get(username="shi_yibao"))
    assert city.above_county and city.contains("340321") and city.contains("340322") and not city.contains("421223")
    assert city.filter(Resident.objects.all()).count() == 400
    assert scope_for(User.objects.get(username="wuhe_admin")).filter(Resident.objects.all()).count() == 200
    assert scope_for(User.objects.get(username="sheng")).filter(Resident.objects.all()).count() == 400


def test_demo_city_runs_the_second_countys_year(db):
    """五河县's year runs like 怀远县's: its own campaign, receipts series and reconciliation."""
    from yibao.collection.models import Payment
    from yibao.demo.city import demo_city
    from yibao.enrollment.models import Campaign
    from yibao.reconciliation.models import ReconciliationRun

    demo_build(residents=300, seed=9)
    summary = demo_city(residents=300, seed=10)
    campaign = Campaign.objects.get(county_code="340322", benefit_year=2025)
    assert campaign.policy_id == "anhui-wuhe-2025" and campaign.benefit_year == 2025
    assert summary["year"]["assessment"]["residents"] > 0
    assert Payment.objects.filter(county_code="340322").exists()
    assert ReconciliationRun.objects.filter(county_code="340322").exists()
    assert not Campaign.objects.filter(county_code="340321", benefit_year=2025).exists()  # 怀远县's year is its own
