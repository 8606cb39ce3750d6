import datetime as dt
from decimal import Decimal

import pytest

from yibao.policy.engine import Person, PolicyInputError, add_months, age_on, quote, waiting_months
from yibao.policy.loader import load_policy


@pytest.fixture(scope="module")
def huaiyuan():
    return load_policy("anhui-huaiyuan-2025")


def test_add_months_keeps_the_day_or_clamps_to_month_end():
    assert add_months(dt.date(2025, 1, 16), 3) == dt.date(2025, 4, 16)
    assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)


def test_age_counts_full_years_and_leap_day_births():
    assert age_on(dt.date(1963, 9, 8), dt.date(2023, 9, 8)) == 60
    assert age_on(dt.date(1963, 9, 9), dt.date(2023, 9, 8)) == 59
    assert age_on(dt.date(2004, 2, 29), dt.date(2022, 2, 28)) == 17
    assert age_on(dt.date(2004, 2, 29), dt.date(2022, 3, 1)) == 18


@pytest.mark.parametrize(
    "gap,backpaid,months",
    [(0, 0, 3), (1, 0, 3), (2, 0, 4), (4, 0, 6), (4, 3, 6), (3, 2, 3), (10, 0, 12), (10, 9, 6)],
)
def test_national_waiting_period(huaiyuan, gap, backpaid, months):
    person = Person(birth_date=dt.date(1980, 1, 1), gap_years=gap, backpaid_years=backpaid)
    assert waiting_months(huaiyuan, person) == months


def test_every_explanation_line_names_its_rule(huaiyuan):
    result = quote(huaiyuan, Person(birth_date=dt.date(1980, 1, 1), identities=frozenset({"dibao"})), dt.date(2024, 10, 1))
    assert result.explanation
    for line in result.explanation:
        assert line.startswith("【") and "】" in line
        assert "依据" in line


def test_money_is_exact_decimal(huaiyuan):
    result = quote(huaiyuan, Person(birth_date=dt.date(1980, 1, 1), identities=frozenset({"dibao"})), dt.date(2024, 10, 1))
    assert isinstance(result.payable, Decimal)
    assert result.payable == Decimal("60.00")
    assert result.standard - (result.subsidy - result.refund_later) == result.payable


def test_quote_carries_the_policy_version(huaiyuan):
    result = quote(huaiyuan, Person(birth_date=dt.date(1980, 1, 1)), dt.date(2024, 10, 1))
    assert result.policy_version == huaiyuan.version and len(result.policy_version) == 16


@pytest.mark.parametrize(
    "person,message",
    [
        (Person(birth_date=dt.date(1980, 1, 1), tier=2), "没有2档"),
        (Person(birth_date=dt.date(1980, 1, 1), identities=frozenset({"pinkun"})), "未知的资助身份代码"),
        (Person(birth_date=dt.date(1980, 1, 1), groups=frozenset({"astronaut"})), "未知的参保群体代码"),
        (Person(birth_date=dt.date(2025, 1, 1)), "晚于缴费日期"),
        (Person(birth_date=dt.date(1980, 1, 1), gap_years=1, backpaid_years=2), "不能多于断保年数"),
        (Person(birth_date=dt.date(1980, 1, 1), household_role="uncle"), "家庭角色"),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message(huaiyuan, person, message):
    with pytest.raises(PolicyInputError, match=message):
        quote(huaiyuan, person, dt.date(2024, 10, 1))


def test_refused_quote_owes_nothing_and_has_no_benefit_period(huaiyuan):
    result = quote(huaiyuan, Person(birth_date=dt.date(1980, 1, 1)), dt.date(2026, 3, 1))
    assert not result.accepted and result.reason
    assert result.payable == 0 and result.benefit_start is None and result.benefit_end is None
