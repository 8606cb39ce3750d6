"""The shared input parsers: bounds and Chinese messages for years, dates, ids, amounts and text."""

import datetime as dt
from decimal import Decimal

import pytest

from yibao.core.inputs import BadInput, check_plain_text, parse_amount, parse_date, parse_id, parse_year


@pytest.mark.parametrize("raw", ["99999", "0", "1989", "2101", "-2025", "２０２５", "abc", "2025.0"])
def test_year_outside_1990_2100_or_not_a_year_is_refused(raw):
    with pytest.raises(BadInput, match="待遇年度"):
        parse_year(raw)


def test_year_empty_is_none_and_valid_year_is_int():
    assert parse_year("") is None
    assert parse_year(" 2025 ") == 2025


@pytest.mark.parametrize("raw", ["0", "20250101", "2025-1-1", "2025-02-30", "0001-01-01", "9999-12-31", "1e5"])
def test_date_must_be_iso_within_range(raw):
    with pytest.raises(BadInput, match="日期"):
        parse_date(raw)


def test_date_iso_is_read():
    assert parse_date("2025-03-01") == dt.date(2025, 3, 1)


@pytest.mark.parametrize("raw", ["abc", "0", "-3", str(2**70), str(2**63), "1.5"])
def test_id_must_fit_64_bits(raw):
    with pytest.raises(BadInput, match="编号"):
        parse_id(raw)


def test_id_largest_bigint_is_accepted():
    assert parse_id(str(2**63 - 1)) == 2**63 - 1


@pytest.mark.parametrize("raw", ["1e400", "NaN", "Infinity", "-1", "1.234", "100000000", "abc", "1e2"])
def test_amount_refuses_exponents_nan_and_out_of_range(raw):
    with pytest.raises(BadInput, match="金额"):
        parse_amount(raw)


def test_amount_reads_yuan():
    assert parse_amount("400") == Decimal("400.00")
    assert parse_amount("77.5") == Decimal("77.50")


@pytest.mark.parametrize("text", ["张\u202e三", "李\u200b四", "王\x00五", "赵\x1b六", "\ufeff孙"])
def test_control_and_format_characters_are_refused(text):
    with pytest.raises(BadInput, match="控制字符"):
        check_plain_text(text, label="姓名")


def test_plain_text_with_ordinary_whitespace_and_middle_dot_passes():
    assert check_plain_text("阿依古丽·买买提", label="姓名") == "阿依古丽·买买提"
    assert check_plain_text("第一行\n第二行\t备注", label="备注") == "第一行\n第二行\t备注"
