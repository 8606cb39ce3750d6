"""催缴 and the 12-10 comparison in a county's first year: last year's enrollees come from the imported roster."""

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from yibao.accounts.scope import Scope
from yibao.cli import app
from yibao.core.models import Job
from yibao.enrollment.models import Campaign
from yibao.imports.tests.roster import paid, roster_import
from yibao.progress import remind, selectors, services
from yibao.progress.models import VillageProgress
from yibao.progress.tests import builders as b

COUNTY_SCOPE = Scope(role="county_admin", region_code=b.COUNTY)
ON = dt.date(2024, 10, 31)


@pytest.fixture
def first_year(db, tmp_path):
    """怀远县's first year on Yibao: 2025 opened here, 2024 only as the national roster.

    东村: 甲 (head) and 乙 正常 in 2024, 甲 paid 2025; 丁 终止 in 2024 without cover. 西村: 丙 暂停 in 2024.
    南村: 戊 was not on the roster and paid 2025 (new)."""
    b.huaiyuan_tree()
    household = b.Household.objects.create(county_code=b.COUNTY, township_code=b.LIUCHENG, village_code=b.DONGCUN,
                                           number="H1")
    people = {
        "a": b.person(b.DONGCUN, "甲", household=household, phone="13900000001"),
        "b": b.person(b.DONGCUN, "乙", household=household, relation="子", birth=dt.date(1990, 3, 3), phone="13900000002"),
        "c": b.person(b.XICUN, "丙"),
        "d": b.person(b.DONGCUN, "丁"),
        "e": b.person(b.NANCUN, "戊"),
    }
    household.head = people["a"]
    household.save(update_fields=["head"])
    b.campaign(2025)
    c, d = people["c"], people["d"]
    result = roster_import(tmp_path, [
        paid(people["a"]), paid(people["b"]),
        [c.id_number, c.name, 2024, "暂停参保", "", "", "380", "390"],
        [d.id_number, d.name, 2024, "终止参保", "", "", "", "390"],
    ])
    assert result["imported"] == 4
    b.pay(people["a"], dt.date(2024, 9, 2))
    b.pay(people["e"], dt.date(2024, 9, 5))
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    return people


def test_remind_list_has_last_years_imported_enrollees_who_have_not_paid(first_year):
    rows = remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN, benefit_year=2025, on=ON)
    assert [r.resident.name for r in rows] == ["乙"]  # 甲 paid; 丁's 2024 ended before any cover
    yi = rows[0]
    assert (yi.household_number, yi.head_name, yi.last_status, yi.this_status) == ("H1", "甲", "正常参保", "未登记")
    assert yi.owed is not None and yi.owed_basis == "测算"  # quoted with the 2025 policy, no gap
    west = remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.XICUN, benefit_year=2025, on=ON)
    assert [(r.resident.name, r.last_status) for r in west] == [("丙", "参保暂停")]


def test_12_10_comparison_counts_the_imported_year(first_year):
    summary = remind.renewal_summary(scope=COUNTY_SCOPE, region_code=b.LIUCHENG, benefit_year=2025)
    rows = {r["unit"].code: r for r in summary["rows"]}
    dong, xi = rows[b.DONGCUN]["unit"], rows[b.XICUN]["unit"]
    assert (dong.last_year, dong.renewed, dong.not_renewed) == (2, 1, 1)
    assert (xi.last_year, xi.renewed) == (1, 0)
    county = remind.renewal_summary(scope=COUNTY_SCOPE, benefit_year=2025)["total"]["unit"]
    assert (county.last_year, county.renewed, county.new_enrolled) == (3, 1, 1)  # 戊 is new


def test_the_import_queues_next_years_recount(db, tmp_path):
    b.huaiyuan_tree()
    person = b.person(b.DONGCUN, "甲")
    roster_import(tmp_path, [paid(person)])
    job = Job.objects.get(kind="progress_refresh")
    assert job.params == {"benefit_year": 2025} and job.status == Job.Status.SUCCEEDED  # inline in tests
    assert VillageProgress.objects.get(village_code=b.DONGCUN, benefit_year=2025).last_year == 1
    roster_import(tmp_path, [paid(person)], name="again.csv")  # nothing changed: nothing to recount
    assert Job.objects.filter(kind="progress_refresh").count() == 1


def test_targets_can_be_derived_from_the_imported_year(first_year):
    services.targets_derive(actor="测试", county_code=b.COUNTY, benefit_year=2025, basis="last_year")
    targets = {t.region_code: t.total for t in selectors.target_list(scope=COUNTY_SCOPE, benefit_year=2025)}
    assert (targets[b.DONGCUN], targets[b.XICUN]) == (2, 1)


def test_remind_pages_api_and_cli(client, login, first_year):
    login("village_collector", b.DONGCUN)
    html = client.get("/progress/remind/", {"year": 2025, "on": "2024-10-31"}).content.decode()
    assert "乙" in html and "13900000002" in html and 'data-field="count">1<' in html
    data = client.get("/api/remind", {"village": b.DONGCUN, "year": 2025}).json()
    assert [p["name"] for p in data["people"]] == ["乙"]
    login()
    county = client.get("/progress/remind/", {"year": 2025}).content.decode()
    assert 'data-field="last_year">3<' in county and 'data-field="renewed">1<' in county
    renewal = client.get("/api/progress/renewal", {"year": 2025}).json()
    assert (renewal["total"]["last_year"], renewal["total"]["renewed"], renewal["total"]["open"]) == (3, 1, 2)
    result = CliRunner().invoke(app, ["remind", "--village", b.DONGCUN, "--year", "2025", "--json"])
    assert result.exit_code == 0 and [p["name"] for p in json.loads(result.stdout)["people"]] == ["乙"]


def test_the_history_year_itself_shows_without_a_policy(client, login, first_year):
    """Progress and 催缴 of the imported year: counted from the roster, no pace, no quotes."""
    assert Campaign.objects.get(benefit_year=2024).imported
    assert selectors.pace_window(b.COUNTY, 2024) is None
    assert selectors.policy_for(b.COUNTY, 2024, Campaign.objects.get(benefit_year=2024)) is None
    login()
    page = client.get("/progress/", {"year": 2024})
    assert page.status_code == 200
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2024)
    unit = selectors.progress_tree(county_code=b.COUNTY, benefit_year=2024).units[b.DONGCUN]
    assert unit.enrolled == 2  # 甲, 乙 正常参保 in 2024
    api = client.get("/api/progress", {"year": 2024})
    assert api.status_code == 200
    login("village_collector", b.DONGCUN)
    assert client.get("/progress/remind/", {"year": 2024}).status_code == 200


def test_owed_for_a_history_year_says_why_there_is_no_amount(first_year, tmp_path):
    """A 2024 催缴 list (2023 enrollees, also imported) has nothing to quote with: the note says so."""
    roster_import(tmp_path, [paid(first_year["d"], 2023)], name="2023.csv")
    rows = remind.remind_rows(scope=COUNTY_SCOPE, village_code=b.DONGCUN, benefit_year=2024, on=ON)
    ding = next(r for r in rows if r.resident.name == "丁")
    assert ding.owed is None and ding.owed_note == "2024年度为导入的历史名单，没有缴费政策，无法测算"
