"""Issue 15, what the language could not say: event-date limits and months since the event, waiting
periods in days, a benefit start on a fixed date, when an identity was recognised, months paid into
职工医保, and the household's enrollment. A test-only policy (fixtures/hunan-shiyan-2026) quotes
a test notice made of the sentences real notices use."""

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from yibao.cli import app
from yibao.policy.bulk import quote_frame
from yibao.policy.cases import load_cases, run_case
from yibao.policy.engine import Person, identity_since_text, parse_identity_since, quote
from yibao.policy.facts import EMPLOYEE_SCHEMA, GROUP_SCHEMA, HOUSEHOLD_SCHEMA, IDENTITY_SCHEMA, KEY_SCHEMA, person_facts
from yibao.policy.loader import PolicyFileError, load_policy_file

FIXTURES = Path(__file__).parent / "fixtures"
SOURCE = FIXTURES / "hunan-shiyan-2026.yaml"
CASES = FIXTURES / "hunan-shiyan-2026.cases.yaml"


@pytest.fixture(scope="module")
def shiyan():
    return load_policy_file(SOURCE)


@pytest.fixture
def installed(monkeypatch):
    """The test policy where quote_for, the API and the CLI look policies up by id."""
    monkeypatch.setenv("YIBAO_POLICY_DIRS", str(FIXTURES))


@pytest.mark.parametrize("case", load_cases(CASES).cases, ids=lambda c: c.name)
def test_case(shiyan, case):
    result = run_case(shiyan, case)
    assert result.passed, "\n".join(result.failures)


def edited(tmp_path, change):
    document = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    change(document)
    (tmp_path / "notices").mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "notices" / "shiyan-2026.txt", tmp_path / "notices")
    path = tmp_path / SOURCE.name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def rule(doc, rule_id):
    return next(r for r in doc["rules"] if r["id"] == rule_id)


@pytest.mark.parametrize("change,message", [
    (lambda d: rule(d, "freshman")["start"].pop("date"), "anchor: date 需要写固定起始日 date"),
    (lambda d: rule(d, "freshman")["start"].update(days=1), "anchor: date 是固定日期，不能再加 days 或 months"),
    (lambda d: rule(d, "main_window")["start"].update(date="2026-01-01"), "只有 anchor: date 才写 date"),
    (lambda d: d["waiting_period"].update(fixed_months=3), "fixed_months（月）或 fixed_days（天）之一"),
    (lambda d: d["waiting_period"].pop("fixed_days"), "fixed_months（月）或 fixed_days（天）之一"),
    (lambda d: d["waiting_period"].update(max_months=6), "按天计算时，不能再设按月的下限 floor 或上限 max_months"),
    (lambda d: rule(d, "employee_gap_within_3_months")["when"].update(employee_months={"year": 2025}),
     "职工医保缴费月数条件至少要有 min 或 max"),
    (lambda d: rule(d, "employee_gap_within_3_months")["when"].update(employee_months={"year": 2025, "min": 4, "max": 3}),
     "职工医保缴费月数 min 4 大于 max 3"),
    (lambda d: rule(d, "main_window")["when"].update(employee_months={"year": 2024, "min": 1}),
     "职工医保缴费月数条件只能针对一个年度，文件写了2024、2025年"),
    (lambda d: rule(d, "employee_gap_within_3_months")["when"].update(event_from="2026-01-01"),
     "事件日期条件 event_from 2026-01-01 晚于 event_to 2025-12-31"),
    (lambda d: d["subsidies"]["items"][0].update(recognised_from="2026-01-01"),
     "recognised_from 2026-01-01 晚于 recognised_to 2025-12-31"),
])
def test_new_constructs_refuse_contradictions_in_chinese(tmp_path, change, message):
    with pytest.raises(PolicyFileError) as error:
        load_policy_file(edited(tmp_path, change))
    assert message in str(error.value)


def test_the_test_policy_loads_and_says_what_it_asks_for(shiyan):
    assert shiyan.data.employee_months_year() == 2025
    assert shiyan.data.uses_recognition_dates() is True
    assert shiyan.data.waiting_period.fixed_days == 90 and shiyan.data.waiting_period.fixed_months is None


# ---------------------------------------------------------------- the engine


def test_event_from_limits_the_event_date(tmp_path):
    def change(doc):
        rule(doc, "employee_gap_within_3_months")["when"].update(event_to=None, within_months_of_event=None,
                                                                employee_months=None)
        doc["rules"].insert(0, doc["rules"].pop(4))  # before the window rule
    policy = load_policy_file(edited(tmp_path, change))
    person = dict(birth_date=dt.date(1985, 1, 1), groups=frozenset({"employee_to_resident"}))
    assert quote(policy, Person(**person, event_date=dt.date(2025, 10, 1)), dt.date(2025, 11, 1)).rule == \
        "employee_gap_within_3_months"
    assert quote(policy, Person(**person, event_date=dt.date(2025, 9, 30)), dt.date(2025, 11, 1)).rule == "main_window"
    assert quote(policy, Person(**person), dt.date(2025, 11, 1)).rule == "main_window"


def test_months_since_the_event_count_calendar_months_and_clamp_to_month_end(tmp_path, shiyan):
    person = dict(birth_date=dt.date(1985, 1, 1), groups=frozenset({"employee_to_resident"}), employee_months=3)
    event = dt.date(2025, 11, 30)  # three months on is 28 February 2026
    assert quote(shiyan, Person(**person, event_date=event), dt.date(2026, 2, 28)).rule == "employee_gap_within_3_months"
    late = quote(shiyan, Person(**person, event_date=event), dt.date(2026, 3, 1))
    assert late.rule == "late_waiting"
    assert any("事件后3个月为2026年2月28日，缴费日2026年3月1日已超过3个月" in line for line in late.explanation)

    def after(doc):
        rule(doc, "employee_gap_within_3_months")["when"].update(within_months_of_event=None, after_months_of_event=3)
    beyond = load_policy_file(edited(tmp_path, after))
    assert quote(beyond, Person(**person, event_date=event), dt.date(2026, 3, 1)).rule == "employee_gap_within_3_months"
    assert quote(beyond, Person(**person, event_date=event), dt.date(2026, 2, 28)).rule == "late_waiting"


def test_waiting_in_months_still_says_months(shiyan, tmp_path):
    def months(doc):
        doc["waiting_period"].update(fixed_days=None, fixed_months=3)
    policy = load_policy_file(edited(tmp_path, months))
    result = quote(policy, Person(birth_date=dt.date(1980, 1, 1)), dt.date(2026, 3, 10))
    assert (result.waiting_months, result.waiting_days, result.benefit_start) == (3, 0, dt.date(2026, 6, 11))
    assert any("【待遇等待期】设待遇等待期3个月。" in line for line in result.explanation)
    in_days = quote(shiyan, Person(birth_date=dt.date(1980, 1, 1)), dt.date(2026, 3, 10))
    assert (in_days.waiting_months, in_days.waiting_days, in_days.benefit_start) == (0, 90, dt.date(2026, 6, 9))
    assert not any("0个月" in line for line in in_days.explanation)


def test_a_fixed_start_date_may_precede_the_benefit_year(shiyan):
    result = quote(shiyan, Person(birth_date=dt.date(2007, 3, 1), groups=frozenset({"university_freshman"})),
                   dt.date(2025, 12, 31))
    assert (result.benefit_start, result.benefit_end) == (dt.date(2025, 9, 1), dt.date(2026, 12, 31))


def test_recognition_dates_pick_the_identity_recognised_in_time(shiyan):
    both = Person(birth_date=dt.date(1970, 1, 1), identities=frozenset({"dibao", "tekun"}),
                  identity_since=(("dibao", dt.date(2026, 2, 1)), ("tekun", dt.date(2025, 3, 1))))
    result = quote(shiyan, both, dt.date(2026, 3, 1))
    assert result.subsidy == 400 and result.subsidy_identity == "tekun"


def test_identity_since_text_round_trips():
    pairs = (("tekun", dt.date(2025, 3, 1)), ("dibao", dt.date(2026, 2, 1)))
    text = identity_since_text(pairs)
    assert text == "dibao:2026-02-01,tekun:2025-03-01"
    assert parse_identity_since(text) == tuple(sorted(pairs))
    assert parse_identity_since(None) == () and identity_since_text([]) is None


def test_employee_months_outside_0_to_12_is_an_input_error(shiyan):
    from yibao.policy.engine import PolicyInputError

    with pytest.raises(PolicyInputError, match="职工医保缴费月数应为0至12"):
        quote(shiyan, Person(birth_date=dt.date(1980, 1, 1), employee_months=13), dt.date(2026, 1, 5))


# ---------------------------------------------------------------- facts and the bulk form


def _frames(**rows):
    return {name: pl.DataFrame(rows.get(name, []), schema=schema, orient="row") for name, schema in (
        ("identities", IDENTITY_SCHEMA), ("groups", GROUP_SCHEMA), ("covered", {"resident_id": pl.Int64, "benefit_year": pl.Int64}),
        ("employees", EMPLOYEE_SCHEMA), ("household", HOUSEHOLD_SCHEMA))}


def test_person_facts_supply_identity_dates_employee_months_and_household():
    on = dt.date(2026, 2, 10)
    keys = pl.DataFrame([(i, i, on, 2026, "户主", dt.date(1980, 1, 1)) for i in (1, 2, 3, 4)], schema=KEY_SCHEMA,
                        orient="row")
    frames = _frames(
        identities=[(1, "dibao", dt.date(2025, 3, 1), None), (1, "tekun", None, None), (2, "dibao", dt.date(2026, 3, 1), None)],
        employees=[(1, 6, 2025), (2, 4, 2024), (3, None, None)],
        household=[(1, 2026), (2, 2025)],
    )
    facts = person_facts(keys, frames["identities"], frames["groups"], frames["covered"],
                         employees=frames["employees"], employee_year=2025, household=frames["household"])
    rows = {r["resident_id"]: r for r in facts.iter_rows(named=True)}
    assert rows[1]["identity_since"] == "dibao:2025-03-01" and rows[1]["identities"] == ["dibao", "tekun"]
    assert rows[2]["identities"] == [] and rows[2]["identity_since"] is None  # not yet held on the day
    assert [rows[i]["employee_months"] for i in (1, 2, 3, 4)] == [6, None, None, 0]
    assert [rows[i]["household_enrolled"] for i in (1, 2, 3, 4)] == [True, False, False, False]
    plain = person_facts(keys, frames["identities"], frames["groups"], frames["covered"])
    assert plain["employee_months"].is_null().all() and plain["household_enrolled"].is_null().all()
    by_year = person_facts(keys, frames["identities"], frames["groups"], frames["covered"],
                           employees=frames["employees"], employee_year={2026: 2025})
    assert by_year.filter(pl.col("resident_id") == 1)["employee_months"].item() == 6


def test_bulk_form_agrees_with_the_engine_on_the_new_facts(shiyan):
    rows = []
    for months in (None, 2, 6):
        for household in (None, False, True):
            for since in (None, "dibao:2025-06-01", "dibao:2026-02-01"):
                for birth, group, event in ((dt.date(1985, 1, 1), "employee_to_resident", dt.date(2025, 11, 15)),
                                            (dt.date(2026, 1, 20), "newborn", None)):
                    rows.append({"birth_date": birth, "group": group, "event_date": event, "identities": ["dibao"],
                                 "identity_since": since, "employee_months": months, "household_enrolled": household})
    frame = pl.DataFrame(rows)
    answers = quote_frame(shiyan, frame, dt.date(2026, 2, 10))
    for row in answers.iter_rows(named=True):
        person = Person(birth_date=row["birth_date"], groups=frozenset({row["group"]}), event_date=row["event_date"],
                        identities=frozenset(row["identities"]), identity_since=parse_identity_since(row["identity_since"]),
                        employee_months=row["employee_months"], household_enrolled=row["household_enrolled"])
        expected = quote(shiyan, person, dt.date(2026, 2, 10))
        assert (row["rule"], row["payable"], row["benefit_start"], row["waiting_days"]) == (
            expected.rule, expected.payable, expected.benefit_start, expected.waiting_days)
        assert row["explanation"] == list(expected.explanation)


# ---------------------------------------------------------------- the quote: selector, API, CLI


def test_quote_for_takes_the_registry_facts_as_options(installed):
    from yibao.policy.engine import PolicyInputError
    from yibao.policy.selectors import quote_for

    common = dict(policy_id="hunan-shiyan-2026", birth_date=dt.date(1970, 1, 1), paid_on=dt.date(2026, 3, 1))
    late = quote_for(**common, identities=["低保对象"], identity_since={"低保对象": dt.date(2026, 2, 1)})
    assert late.subsidy == 0 and any("自2026年2月1日起认定" in line for line in late.explanation)
    assert quote_for(**common, identities=["低保对象"]).subsidy == 400
    with pytest.raises(PolicyInputError, match="没有选择该资助身份"):
        quote_for(**common, identity_since={"低保对象": dt.date(2026, 2, 1)})
    with pytest.raises(PolicyInputError, match="晚于缴费日期"):
        quote_for(**common, identities=["dibao"], identity_since={"dibao": dt.date(2026, 3, 2)})


@pytest.mark.django_db
def test_api_quote_takes_employee_months_household_and_identity_dates(client, installed):
    body = {"policy": "hunan-shiyan-2026", "birth_date": "1985-01-01", "paid_on": "2026-02-10",
            "group": "employee_to_resident", "event_date": "2025-11-15", "employee_months": 6}
    data = client.post("/api/quote", body, content_type="application/json").json()
    assert data["rule"] == "employee_gap_within_3_months" and data["benefit_start"] == "2026-01-01"
    assert any("参保人2025年职工医保缴费6个月" in line for line in data["explanation"])
    late = client.post("/api/quote", body | {"employee_months": 2}, content_type="application/json").json()
    assert late["rule"] == "late_waiting" and late["waiting_days"] == 90
    bad = client.post("/api/quote", body | {"employee_months": 13}, content_type="application/json")
    assert bad.status_code == 422 and "职工医保缴费月数" in bad.json()["detail"]
    newborn = {"policy": "hubei-chongyang-xiaoling-2024", "birth_date": "2024-02-01", "paid_on": "2024-03-01",
               "group": "newborn", "household_enrolled": True}
    answer = client.post("/api/quote", newborn, content_type="application/json").json()
    assert answer["rule"] == "newborn_household_enrolled"
    since = {"policy": "hunan-shiyan-2026", "birth_date": "1970-01-01", "paid_on": "2026-03-01",
             "identities": ["dibao"], "identity_since": {"dibao": "2026-02-01"}}
    assert client.post("/api/quote", since, content_type="application/json").json()["subsidy"] == "0.00"


def test_cli_quote_options(installed):
    runner = CliRunner()
    base = ["quote", "--policy", "hunan-shiyan-2026", "--birth-date", "1985-01-01", "--paid-on", "2026-02-10",
            "--group", "employee_to_resident", "--event-date", "2025-11-15", "--json"]
    data = json.loads(runner.invoke(app, base + ["--employee-months", "6"]).stdout)
    assert data["rule"] == "employee_gap_within_3_months" and data["waiting_days"] == 0
    result = runner.invoke(app, ["quote", "--policy", "hunan-shiyan-2026", "--birth-date", "2026-03-01",
                                 "--paid-on", "2026-04-15", "--group", "newborn", "--household-enrolled", "--json"])
    assert json.loads(result.stdout)["rule"] == "newborn_parent_enrolled"
    result = runner.invoke(app, ["quote", "--policy", "hunan-shiyan-2026", "--birth-date", "1970-01-01",
                                 "--paid-on", "2026-03-01", "--identity", "低保对象",
                                 "--identity-since", "低保对象=2026-02-01", "--json"])
    assert float(json.loads(result.stdout)["subsidy"]) == 0
    wrong = runner.invoke(app, base + ["--identity-since", "2026-02-01"])
    assert wrong.exit_code != 0 and "身份=YYYY-MM-DD" in wrong.output


def test_the_counter_confirmation_names_a_waiting_period_in_days(shiyan):
    from yibao.collection.confirm import benefit_notice, benefit_periods

    in_days = quote(shiyan, Person(birth_date=dt.date(1980, 1, 1), gap_years=2), dt.date(2026, 3, 10))
    assert benefit_notice("张三", in_days) == "张三：待遇自 2026年7月9日 起享受（等待期 90 天 另加 1 个月）"
    assert benefit_periods([in_days]) == []
    ordinary = quote(shiyan, Person(birth_date=dt.date(1980, 1, 1)), dt.date(2025, 10, 1))
    assert benefit_notice("李四", ordinary) == ""
