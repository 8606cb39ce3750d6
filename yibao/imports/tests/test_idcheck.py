"""The vectorised ID check agrees with python-stdnum (through core.idnumber) on every input."""

import datetime as dt
import re

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import exceptions as stdnum_errors
from stdnum.cn import ric

from yibao.core.idnumber import InvalidIdNumber, check_id_number, normalize
from yibao.imports.idcheck import area_code_warning, id_columns

TODAY = dt.date.today()
AREAS = ["340321", "110105", "421223", "999999", "349999", "340300", "110000", "000000"]


def vectorised(values: list[str]) -> list[dict]:
    df = id_columns(pl.DataFrame({"raw": values}, schema={"raw": pl.String}), "raw", "v_", TODAY)
    return df.select("v_number", "v_error", "v_birth", "v_sex", "v_warning").to_dicts()


def stdnum_verdict(raw: str):
    """python-stdnum's own checks (length, digits, MOD 11-2, birth date) after the 15→18 upgrade."""
    number = normalize(raw)
    if len(number) == 15 and number.isdigit():
        body = number[:6] + "19" + number[6:]
        number = body + ric.calc_check_digit(body + "0")
    try:
        if len(number) != 18:
            raise stdnum_errors.InvalidLength()
        if not number[:17].isdigit():
            raise stdnum_errors.InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise stdnum_errors.InvalidChecksum()
        birth = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        return None
    return None if birth > TODAY else number


def category(message: str) -> str:
    return re.split("[：（]", message)[0]


def assert_agrees(raw: str, got: dict):
    try:
        expected = check_id_number(raw)
    except InvalidIdNumber as exc:
        assert got["v_error"] is not None, raw
        assert category(got["v_error"]) == category(str(exc)), (raw, got["v_error"], str(exc))
        assert stdnum_verdict(raw) is None, raw
        return
    assert got["v_error"] is None, (raw, got["v_error"])
    assert got["v_number"] == expected.number == stdnum_verdict(raw)
    assert got["v_birth"] == expected.birth_date
    assert got["v_sex"] == expected.sex
    year = expected.birth_date.year
    area = [w for w in expected.warnings if not w.startswith("15位旧身份证号码")]
    assert (area_code_warning(expected.area_code, year) is not None) == bool(area), raw
    upgraded = len(normalize(raw)) == 15
    assert (got["v_warning"] is not None) == upgraded == (len(expected.warnings) > len(area)), raw
    if upgraded:
        assert got["v_warning"] == expected.warnings[0]


noise = st.text(alphabet="0123456789Xx \u3000\t-A中", max_size=21)


@st.composite
def near_valid(draw):
    """Numbers built like real ones, with a right or wrong check character, sometimes 15 digits long."""
    area = draw(st.sampled_from(AREAS))
    year = draw(st.integers(0, 2100))
    month = draw(st.integers(0, 13))
    day = draw(st.integers(0, 32))
    seq = draw(st.integers(0, 999))
    body = f"{area}{year:04d}{month:02d}{day:02d}{seq:03d}"
    check = ric.calc_check_digit(body + "0")
    kind = draw(st.sampled_from(["right", "wrong", "fifteen", "lower", "spaced"]))
    if kind == "wrong":
        return body + draw(st.sampled_from([c for c in "0123456789X" if c != check]))
    if kind == "fifteen":
        return f"{area}{year % 100:02d}{month:02d}{day:02d}{seq:03d}"
    number = body + check
    if kind == "lower":
        return number.lower()
    if kind == "spaced":
        return f" {number[:6]} {number[6:14]}\u3000{number[14:]} "
    return number


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(near_valid(), noise), min_size=1, max_size=40))
def test_vectorised_check_agrees_with_stdnum(values):
    for raw, got in zip(values, vectorised(values)):
        assert_agrees(raw, got)


def test_known_numbers():
    rows = vectorised(["360426199101010071", "11010519491231002X", "11010519491231002x", "110105491231002",
                       "360426199101010072", "", "3604261991010100", "36042619910230007X"])
    assert rows[0]["v_number"] == "360426199101010071" and rows[0]["v_sex"] == "M"
    assert rows[1]["v_number"] == rows[2]["v_number"] == "11010519491231002X" and rows[1]["v_sex"] == "F"
    assert rows[3]["v_number"] == "11010519491231002X"  # the old 15-digit form
    assert rows[4]["v_error"] == "身份证号码校验位错误（末位应为 1）"
    assert rows[5]["v_error"] == "身份证号码为空"
    assert rows[6]["v_error"] == "身份证号码应为18位，实际为16位"
    assert rows[7]["v_error"].startswith("身份证号码中的出生日期无效") or "校验位" in rows[7]["v_error"]


def test_area_warning_is_checked_once_per_area_and_year():
    area_code_warning.cache_clear()
    values = [f"340321{1990 + i % 3}0101{i:03d}" for i in range(300)]
    from yibao.core.idnumber import check_character

    numbers = [v + check_character(v) for v in values]
    df = id_columns(pl.DataFrame({"raw": numbers}), "raw", "v_", TODAY)
    from yibao.imports.idcheck import area_warnings

    area_warnings(df, "v_number")
    assert area_code_warning.cache_info().misses == 3


def test_area_code_before_its_start_year_is_a_warning_not_an_error():
    assert "1983" in area_code_warning("340321", 1970)
    assert area_code_warning("340321", 1990) is None
    assert "不在区划代码表中" in area_code_warning("349999", 1990)


def test_numbers_as_excel_shows_them_agree_too():
    values = ["4.21223198805101E+17", "4.21223E+17", "4.2e17", "3.40321198001E+16", "1E+5", " 4.21223E+17 "]
    for raw, got in zip(values, vectorised(values)):
        assert_agrees(raw, got)
        assert got["v_error"].startswith("身份证号码在 Excel 中存成了数字（显示为 ")
