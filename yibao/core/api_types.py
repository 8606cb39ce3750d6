"""Field types shared by API schemas: money, years, ids, dates and checked text, and the error bodies.

Money is a decimal string in both directions ("400.00"): exact, and the same in the schema and in every
answer. Inputs are bounded here so that no value a client can send reaches the database or the date
arithmetic out of range (see yibao.core.inputs for the same bounds on pages, imports and CLI).
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from yibao.core.inputs import MAX_AMOUNT, MAX_DATE, MAX_ID, MAX_YEAR, MIN_DATE, MIN_YEAR, check_amount, check_plain_text
from yibao.core.inputs import parse_date as _parse_date

MONEY_PATTERN = r"^-?\d+\.\d{2}$"


def _money_text(value: Decimal) -> str:
    """Yuan as a decimal string with two places: "400.00", "77.50"."""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return f"{value.quantize(Decimal('0.01'))}"


Money = Annotated[
    Decimal,
    PlainSerializer(_money_text, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "pattern": MONEY_PATTERN, "examples": ["400.00"]}, mode="serialization"),
]
"""Money in an answer: a decimal string with two places."""


def _money_in(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("金额应为数字")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, (int, str)):
        text = str(value).strip()
        if len(text) > 20:
            raise ValueError("金额过长")
        try:
            value = Decimal(text)
        except Exception:
            raise ValueError("金额应为数字（元，最多两位小数）") from None
    if isinstance(value, Decimal):
        return check_amount(value)
    raise ValueError("金额应为数字（元，最多两位小数）")


MoneyIn = Annotated[
    Decimal,
    BeforeValidator(_money_in),
    WithJsonSchema({"anyOf": [
        {"type": "string", "pattern": r"^\d{1,8}(\.\d{1,2})?$", "examples": ["400.00"]},
        {"type": "number", "minimum": 0, "maximum": float(MAX_AMOUNT)},
    ]}, mode="validation"),
]
"""Money sent by a client: a decimal string (a JSON number is accepted too), 0 to 99,999,999.99 yuan."""

Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]
"""A benefit year, 1990 to 2100."""

DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A database id: a positive whole number that fits 64 bits."""


def _iso_date(value: Any) -> Any:
    if isinstance(value, (dt.date, str)) and not isinstance(value, dt.datetime):
        return _parse_date(value)
    raise ValueError("日期格式应为 YYYY-MM-DD")


IsoDate = Annotated[
    dt.date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "minLength": 10, "maxLength": 10}, mode="validation"),
]
"""A date written YYYY-MM-DD, 1900-01-01 to 2100-12-31 (never a timestamp such as 0)."""


def PlainText(max_length: int, label: str = "文字"):  # noqa: N802 - reads as a type
    """Text a person typed: at most max_length characters, no control or direction-override characters."""

    def check(value: str) -> str:
        return check_plain_text(value, label=label, max_length=max_length)

    return Annotated[str, Field(max_length=max_length), AfterValidator(check)]


class FieldErrorOut(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """A refusal: 400 (bad input), 401 (not logged in), 403 (no right), 404 (not found or not yours)."""

    detail: str
    errors: dict[str, list[str]] = {}


class ValidationErrorOut(Schema):
    """422: the request did not match the schema; each error names its field in Chinese."""

    detail: str
    errors: list[FieldErrorOut] = []


__all__ = [
    "DbId", "ErrorOut", "IsoDate", "MAX_AMOUNT", "MAX_DATE", "MIN_DATE", "MIN_YEAR", "MAX_YEAR", "Money", "MoneyIn",
    "PlainText", "ValidationErrorOut", "Year",
]

PageNo = Annotated[int, Field(ge=1, le=1_000_000)]
"""A page number of a listing."""

PageSize = Annotated[int, Field(ge=1, le=500)]
"""Rows per page of a listing."""

Count = Annotated[int, Field(ge=0, le=100_000_000)]
"""A number of people (targets, totals)."""

RegionLevel = Annotated[int, Field(ge=2, le=12)]
"""A region level by code length: 2 province, 4 city, 6 county, 9 township, 12 village."""

Tier = Annotated[int, Field(ge=1, le=9)]
"""A contribution tier (一档, 二档, ...)."""