"""新生儿 by the birth date: the one facts builder says so, and every path (quote, counter, 核定, ingest) agrees."""

import datetime as dt

import polars as pl
import pytest

from yibao.policy.engine import quote
from yibao.policy.facts import newborn_by_birth, one_person
from yibao.policy.loader import load_policy
from yibao.policy.selectors import quote_for

SAYS = "按出生日期认定为新生儿"


@pytest.mark.parametrize("birth, on, year, expected", [
    (dt.date(2023, 3, 10), dt.date(2023, 6, 8), 2023, True),    # born in the benefit year
    (dt.date(2024, 2, 1), dt.date(2025, 1, 1), 2025, True),     # under one year old on the day
    (dt.date(2024, 1, 1), dt.date(2025, 1, 1), 2025, False),    # one full year that day
    (dt.date(2024, 2, 29), dt.date(2025, 2, 28), 2025, True),   # 29 Feb turns one on 1 Mar (engine.age_on)
    (dt.date(2021, 12, 31), dt.date(2023, 2, 1), 2023, False),  # over one and born before the year
    (dt.date(2023, 5, 1), dt.date(2023, 4, 1), 2023, False),    # not born yet
])
def test_newborn_by_birth_window(birth, on, year, expected):
    assert newborn_by_birth(birth, on, year) is expected
    person = one_person(resident_id=1, birth_date=birth, relation="子", on=on, benefit_year=year, identities=[],
                        groups=[], covered_years=[])
    assert ("newborn" in person.groups) is expected and person.newborn_by_birth is expected


def test_a_registered_newborn_is_not_said_to_be_derived_and_an_ended_group_no_longer_counts():
    day = dt.date(2023, 6, 8)
    tagged = one_person(resident_id=1, birth_date=dt.date(2023, 3, 10), relation="子", on=day, benefit_year=2023,
                        identities=[], groups=[("newborn", dt.date(2023, 3, 10), None)], covered_years=[])
    assert tagged.groups == frozenset({"newborn"}) and not tagged.newborn_by_birth
    ended = one_person(resident_id=1, birth_date=dt.date(1990, 1, 1), relation="户主", on=day, benefit_year=2023,
                       identities=[], groups=[("graduate", dt.date(2022, 7, 1), dt.date(2023, 1, 31))], covered_years=[])
    assert ended.groups == frozenset()
    running = one_person(resident_id=1, birth_date=dt.date(1990, 1, 1), relation="户主", on=day, benefit_year=2023,
                         identities=[], groups=[("graduate", dt.date(2022, 7, 1), dt.date(2023, 12, 31))],
                         covered_years=[])
    assert running.groups == frozenset({"graduate"})


def test_quote_for_and_the_engine_explain_a_newborn_found_by_birth_date():
    said = quote_for(policy_id="hubei-suixian-2023", birth_date=dt.date(2023, 3, 10), paid_on=dt.date(2023, 6, 8))
    assert said.rule == "newborn_within_90_days" and said.benefit_start == dt.date(2023, 3, 10)
    assert any(SAYS in line for line in said.explanation)
    tagged = quote_for(policy_id="hubei-suixian-2023", birth_date=dt.date(2023, 3, 10), paid_on=dt.date(2023, 6, 8),
                       group="新生儿")
    assert tagged.rule == said.rule and not any(SAYS in line for line in tagged.explanation)


@pytest.mark.django_db
def test_counter_assessment_and_ingest_treat_the_baby_alike():
    from yibao.collection.ingest.decide import _attach_facts
    from yibao.collection.selectors import due_quote
    from yibao.enrollment.assessment import assess_frame, persons_frame
    from yibao.enrollment.selectors import person_for
    from yibao.enrollment.tests import factories as ef

    policy = load_policy("hubei-suixian-2023")
    village = "421321100001"
    baby = ef.resident(village=village, birth=dt.date(2023, 3, 10), name="小宝", relation="儿子")
    campaign = ef.campaign(county=village[:6], policy_id=policy.id)
    paid_on = dt.date(2023, 6, 8)

    person = person_for(resident=baby, on=paid_on, benefit_year=2023)
    answer = quote(policy, person, paid_on)
    assert answer.rule == "newborn_within_90_days" and any(SAYS in line for line in answer.explanation)
    assert due_quote(resident=baby, campaign=campaign, paid_on=paid_on).rule == "newborn_within_90_days"

    frame = assess_frame(policy, persons_frame(county_code=baby.county_code, benefit_year=2023, on=paid_on,
                                               resident_ids=[baby.pk]), paid_on)
    assert frame.row(0, named=True)["rule"] == "newborn_within_90_days"

    rows = pl.DataFrame({"_row": [2], "resident_id": [baby.pk], "paid_on": [paid_on], "year": [2023],
                         "relation_to_head": ["儿子"], "birth_date": [baby.birth_date]})
    empty = {
        "identities": pl.DataFrame(schema={"resident_id": pl.Int64, "code": pl.String, "valid_from": pl.Date,
                                           "valid_to": pl.Date}),
        "groups": pl.DataFrame(schema={"resident_id": pl.Int64, "group": pl.String, "event_date": pl.Date,
                                       "end_date": pl.Date}),
        "enrollments": pl.DataFrame(schema={"enrollment_id": pl.Int64, "resident_id": pl.Int64,
                                            "benefit_year": pl.Int32, "enrollment_status": pl.String,
                                            "tier": pl.Int64, "status_reason": pl.String}),
    }
    attached = _attach_facts(rows, empty).row(0, named=True)
    assert attached["groups"] == ["newborn"] and attached["newborn_by_birth"]
