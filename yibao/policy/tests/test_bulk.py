"""The bulk form answers exactly as the scalar engine, row for row."""

import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yibao.policy.bulk import quote_frame
from yibao.policy.engine import Person, PolicyInputError, quote
from yibao.policy.loader import list_policies
from yibao.policy.vocabulary import GROUPS, IDENTITY_BY_CODE

POLICIES = {p.id: p for p in list_policies()}
IDENTITY_CODES = sorted(IDENTITY_BY_CODE)
GROUP_CODES = sorted(GROUPS)


@st.composite
def person_rows(draw, policy):
    year = policy.data.benefit_year
    window = policy.data.collection.main_window
    paid_on = draw(st.dates(min_value=window.start - dt.timedelta(days=20), max_value=dt.date(year, 12, 31) + dt.timedelta(days=10)))
    birth = draw(
        st.one_of(
            st.dates(min_value=dt.date(1925, 1, 1), max_value=paid_on),
            st.dates(min_value=max(dt.date(1925, 1, 1), paid_on - dt.timedelta(days=400)), max_value=paid_on),
        )
    )
    event = draw(st.one_of(st.none(), st.dates(min_value=paid_on - dt.timedelta(days=200), max_value=paid_on)))
    gap = draw(st.integers(0, 6))
    return {
        "birth_date": birth,
        "identities": draw(st.lists(st.sampled_from(IDENTITY_CODES), max_size=3)),
        "group": draw(st.one_of(st.none(), st.sampled_from(GROUP_CODES))),
        "event_date": event,
        "tier": draw(st.sampled_from(sorted(policy.data.contribution.tiers()))),
        "gap_years": gap,
        "backpaid_years": draw(st.integers(0, gap)),
        "household_role": draw(st.sampled_from([None, "child", "parent"])),
        "paid_on": paid_on,
    }


def scalar(policy, row):
    person = Person(
        birth_date=row["birth_date"],
        identities=frozenset(row["identities"]),
        groups=frozenset({row["group"]} if row["group"] else ()),
        event_date=row["event_date"],
        tier=row["tier"],
        gap_years=row["gap_years"],
        backpaid_years=row["backpaid_years"],
        household_role=row["household_role"],
    )
    return quote(policy, person, row["paid_on"])


@pytest.mark.parametrize("policy_id", sorted(POLICIES))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bulk_and_scalar_agree_on_random_persons_and_dates(policy_id, data):
    policy = POLICIES[policy_id]
    rows = data.draw(st.lists(person_rows(policy), min_size=1, max_size=40))
    frame = pl.DataFrame(rows, schema={
        "birth_date": pl.Date, "identities": pl.List(pl.String), "group": pl.String, "event_date": pl.Date,
        "tier": pl.Int64, "gap_years": pl.Int64, "backpaid_years": pl.Int64, "household_role": pl.String,
        "paid_on": pl.Date,
    }).with_row_index("row")
    out = quote_frame(policy, frame).sort("row")
    assert out.height == len(rows)
    for row, got in zip(rows, out.iter_rows(named=True)):
        expected = scalar(policy, row)
        for name in ("accepted", "reason", "standard", "subsidy", "payable", "refund_later", "subsidy_identity",
                     "benefit_start", "benefit_end", "rule", "waiting_months"):
            assert got[name] == getattr(expected, name), (name, row)
        assert tuple(got["explanation"]) == expected.explanation
        assert got["policy_version"] == policy.version


def test_many_rows_share_few_evaluations_and_keep_other_columns():
    policy = POLICIES["anhui-huaiyuan-2025"]
    frame = pl.DataFrame({
        "resident_id": list(range(1000)),
        "birth_date": [dt.date(1960 + i % 50, 1 + i % 12, 1 + i % 28) for i in range(1000)],
        "identities": [["dibao"] if i % 10 == 0 else [] for i in range(1000)],
    })
    out = quote_frame(policy, frame, dt.date(2024, 10, 1), explain=False)
    assert out["resident_id"].to_list() == list(range(1000))
    assert "explanation" not in out.columns
    assert out.filter(pl.col("identities").list.len() > 0)["payable"].unique().to_list() == [pl.Series([60]).cast(pl.Decimal(12, 2))[0]]
    assert out.filter(pl.col("identities").list.len() == 0)["payable"].unique().len() == 1


def test_bad_input_in_bulk_raises_like_the_scalar_form():
    policy = POLICIES["anhui-huaiyuan-2025"]
    frame = pl.DataFrame({"birth_date": [dt.date(1980, 1, 1)], "tier": [2]})
    with pytest.raises(PolicyInputError, match="没有2档"):
        quote_frame(policy, frame, dt.date(2024, 10, 1))
