"""居民身份证号码 (GB 11643) checks on top of python-stdnum.

stdnum's birth-place check rejects area codes that no longer exist, but a number keeps the
code in force when it was issued, so an unknown area code is only a warning here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from functools import lru_cache

from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric


class InvalidIdNumber(ValueError):
    """A number that cannot be a 居民身份证号码; the message is Chinese and names the fault."""


@dataclass(frozen=True)
class IdNumber:
    number: str  # 18 characters, upper-case X
    birth_date: dt.date
    sex: str  # "M" or "F"
    area_code: str
    warnings: tuple[str, ...] = field(default=())


def check_character(body: str) -> str:
    """The MOD 11-2 check character of the first 17 digits.

    stdnum's calc_check_digit expects the whole number and ignores its last character.
    """
    return ric.calc_check_digit(body[:17] + "0")


def upgrade_15_to_18(number: str) -> str:
    """Old 15-digit numbers (GB 11643-1989) become 18: insert the century 19 and add a check."""
    body = number[:6] + "19" + number[6:]
    return body + check_character(body)


def normalize(raw) -> str:
    return "".join(str(raw or "").split()).upper()


# How Excel shows a number of 12 digits or more in a cell of General format, and how a CSV saved
# from it carries the number: 4.21223E+17, 4.21223198805101E+17.
EXCEL_NUMBER_PATTERN = r"^[0-9](\.[0-9]+)?E\+?[0-9]+$"
_EXCEL_NUMBER = re.compile(EXCEL_NUMBER_PATTERN)
STORED_AS_NUMBER = (
    "身份证号码在 Excel 中存成了数字（显示为 {shown}，是一个{digits}位的数）：Excel 的数字只保留15位有效数字，"
    "末几位已变为 0 或丢失，末位的 X 也无法存为数字。请把该列设为“文本”格式，重新填写完整的18位号码后再导入"
)
UPGRADED = "15位旧身份证号码 {old} 已按 GB 11643 升为18位：{new}（请核对，并在户籍信息中改用18位号码）"


def excel_number_message(number: str) -> str:
    exponent = int(number.split("E")[1].lstrip("+"))
    return STORED_AS_NUMBER.format(shown=number, digits=exponent + 1)


def check_id_number(raw) -> IdNumber:
    number = normalize(raw)
    if not number:
        raise InvalidIdNumber("身份证号码为空")
    if _EXCEL_NUMBER.match(number):
        raise InvalidIdNumber(excel_number_message(number))
    warnings = []
    if len(number) == 15:
        if not number.isdigit():
            raise InvalidIdNumber(f"15位身份证号码只能由数字组成：{number}")
        old, number = number, upgrade_15_to_18(number)
        warnings.append(UPGRADED.format(old=old, new=number))
    if len(number) != 18:
        raise InvalidIdNumber(f"身份证号码应为18位，实际为{len(number)}位：{number}")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidIdNumber(f"身份证号码含有非法字符：{number}")
    expected = check_character(number)
    if number[17] != expected:
        raise InvalidIdNumber(f"身份证号码校验位错误：{number}（末位应为 {expected}）")
    try:
        birth = ric.get_birth_date(number)
    except stdnum_errors.ValidationError:
        raise InvalidIdNumber(f"身份证号码中的出生日期无效：{number[6:14]}") from None
    if birth > dt.date.today():
        raise InvalidIdNumber(f"身份证号码中的出生日期晚于今天：{birth.isoformat()}")
    warning = area_code_warning(number[:6], birth.year)
    if warning:
        warnings.append(warning)
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number=number, birth_date=birth, sex=sex, area_code=number[:6], warnings=tuple(warnings))


@lru_cache(maxsize=20000)
def area_code_warning(area: str, year: int) -> str | None:
    """stdnum's birth-place data for one area code and birth year; a finding is only a warning.

    A number keeps the code in force when it was issued, so a retired code, or one that stdnum
    dates after the birth year, does not make the number invalid.
    """
    results = numdb.get("cn/loc").info(area)
    info = {k: v for _part, props in results for k, v in props.items()}
    if "county" not in info:
        return f"地址码 {area} 不在区划代码表中（可能是已撤销的旧代码），号码仍然有效"
    spans = []
    for county in info["county"].split(","):
        if not county.startswith("["):
            return None
        startend, name = county[1:].split("]")
        start, end = startend.split("-")
        if (not start or year >= int(start)) and (not end or year <= int(end)):
            return None
        spans.append(f"{name}（{start or '…'}—{end or '今'}）")
    return f"地址码 {area} 在出生年份 {year} 未启用：{'、'.join(spans)}；多为后来换发的号码，号码仍然有效"


def mask_id_number(number: str) -> str:
    """421223********1234: area code and last four stay, birth date and sequence are hidden."""
    number = number or ""
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


# an 18-digit number (last character may be X) or an old 15-digit one, not inside a longer run of digits
_ID_IN_TEXT = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9Xx])")


def mask_id_numbers_in(text):
    """Every ID number inside a free text (a reason, a search term, an error) masked as mask_id_number does."""
    if not isinstance(text, str) or not text:
        return text
    return _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)


def mask_id_numbers_deep(value):
    """mask_id_numbers_in applied to every string of a JSON-like value (dicts, lists), keys left alone."""
    if isinstance(value, str):
        return mask_id_numbers_in(value)
    if isinstance(value, dict):
        return {k: mask_id_numbers_deep(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_id_numbers_deep(v) for v in value]
    return value
