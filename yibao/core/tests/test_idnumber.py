import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from yibao.core.idnumber import InvalidIdNumber, check_character, check_id_number, mask_id_number, upgrade_15_to_18


def make_id(area="421223", birth=dt.date(1980, 5, 17), seq="123"):
    body = f"{area}{birth:%Y%m%d}{seq}"
    return body + check_character(body)


def test_stdnum_documented_number_is_valid():
    # the example in stdnum.cn.ric's docstring; ISO 7064 MOD 11-2 over all 17 digits
    assert ric.is_valid("360426199101010071")
    assert check_id_number("360426199101010071").number == "360426199101010071"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    body = "11010519491231002"
    assert check_character(body) == "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11] == "X"


def test_valid_number_gives_birth_date_and_sex():
    result = check_id_number(make_id(area="110105", seq="123"))
    assert result.birth_date == dt.date(1980, 5, 17)
    assert result.sex == "M"  # 17th digit 3 is odd
    assert result.warnings == ()


def test_even_sequence_digit_is_female():
    assert check_id_number(make_id(seq="124")).sex == "F"


def test_wrong_check_digit_names_the_expected_one():
    good = make_id()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(InvalidIdNumber, match=f"末位应为 {good[-1]}"):
        check_id_number(bad)


def test_impossible_birth_date_is_rejected():
    body = "42122319801332123"
    with pytest.raises(InvalidIdNumber, match="出生日期无效"):
        check_id_number(body + check_character(body))


def test_unknown_area_code_is_only_a_warning():
    result = check_id_number(make_id(area="999999"))
    assert result.warnings and "999999" in result.warnings[0]


def test_unknown_county_of_a_known_province_is_only_a_warning():
    result = check_id_number(make_id(area="349999"))
    assert result.warnings and "349999" in result.warnings[0]


def test_code_assigned_after_the_birth_year_is_only_a_warning():
    # stdnum dates 崇阳县 421223 from 1998; a person born in 1980 may still carry it
    result = check_id_number(make_id(area="421223", birth=dt.date(1980, 5, 17)))
    assert result.birth_date == dt.date(1980, 5, 17)
    assert result.warnings


def test_fifteen_digit_number_becomes_eighteen():
    old = "421223800517123"
    upgraded = upgrade_15_to_18(old)
    assert upgraded == make_id(seq="123")
    assert check_id_number(old).number == upgraded


def test_lower_case_x_and_spaces_are_normalised():
    for seq in range(100, 200):
        number = make_id(seq=str(seq))
        if number.endswith("X"):
            break
    assert check_id_number(" " + number.lower() + " ").number == number


@pytest.mark.parametrize("raw,fragment", [("", "为空"), ("12345", "18位"), ("42122319800517A23X", "非法字符")])
def test_malformed_numbers_say_what_is_wrong(raw, fragment):
    with pytest.raises(InvalidIdNumber, match=fragment):
        check_id_number(raw)


def test_mask_keeps_area_code_and_last_four():
    assert mask_id_number("421223198005171234") == "421223********1234"


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)), st.integers(0, 999))
def test_every_generated_number_validates(birth, seq):
    number = make_id(birth=birth, seq=f"{seq:03d}")
    assert check_id_number(number).birth_date == birth
