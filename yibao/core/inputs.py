"""Parsing and checking what comes in from outside (query strings, forms, API bodies, imports, CLI).

One place for the bounds every input path shares: a benefit year, a date, a database id, an amount of
money and a line of text. Each parser returns the value or raises BadInput with a Chinese message that
names the field; pages answer it with HTTP 400 (yibao.core.middleware) and the API with 400 too.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

MIN_YEAR, MAX_YEAR = 1990, 2100
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
MAX_ID = 2**63 - 1  # the largest id a bigint / SQLite INTEGER column holds
MAX_AMOUNT = Decimal("99999999.99")  # money columns are decimal(12, 2)
MAX_GAP_YEARS = 120  # years without cover before enrolling: never more than a lifetime
MAX_TEXT = 10_000  # any free text longer than this is refused even where the column has no limit

CONTROL_CHARACTERS = r"[\p{Cf}\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]"
"""The characters check_plain_text refuses, as a regex for polars (imports): Unicode Cf and Cc but tab, LF, CR."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


class BadInput(ValueError):
    """An input value outside what Yibao accepts; str() is the Chinese message for the user."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field


def _text(raw) -> str:
    return "" if raw is None else str(raw).strip()


def _shown(raw: str) -> str:
    raw = "".join(ch if not is_control(ch) else "?" for ch in raw)
    return raw if len(raw) <= 40 else raw[:40] + "…"


def parse_year(raw, *, label: str = "待遇年度", field: str = "year") -> int | None:
    """A benefit year between 1990 and 2100, or None when empty."""
    text = _text(raw)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 4:
        raise BadInput(f"{label}应为 {MIN_YEAR}–{MAX_YEAR} 之间的年份，收到：{_shown(text)}", field)
    year = int(text)
    check_year(year, label=label, field=field)
    return year


def check_year(year: int, *, label: str = "待遇年度", field: str = "year") -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise BadInput(f"{label}应为 {MIN_YEAR}–{MAX_YEAR} 之间的年份，收到：{year}", field)
    return year


def parse_date(raw, *, label: str = "日期", field: str = "on") -> dt.date | None:
    """A date written YYYY-MM-DD between 1900-01-01 and 2100-12-31, or None when empty."""
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, dt.date):
        value = raw
    else:
        text = _text(raw)
        if not text:
            return None
        if not _ISO_DATE.fullmatch(text):
            raise BadInput(f"{label}格式应为 YYYY-MM-DD，收到：{_shown(text)}", field)
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise BadInput(f"{label}格式应为 YYYY-MM-DD，且须是有效日期，收到：{_shown(text)}", field) from None
    if not MIN_DATE <= value <= MAX_DATE:
        raise BadInput(f"{label}应在 {MIN_DATE.isoformat()} 至 {MAX_DATE.isoformat()} 之间，收到：{value.isoformat()}", field)
    return value


def parse_id(raw, *, label: str = "编号", field: str = "id") -> int | None:
    """A database id (a positive whole number that fits 64 bits), or None when empty."""
    text = _text(raw)
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or not 1 <= int(text) <= MAX_ID:
        raise BadInput(f"{label}应为正整数编号，收到：{_shown(text)}", field)
    return int(text)


def parse_ids(values, *, label: str = "编号", field: str = "ids") -> list[int]:
    return [i for i in (parse_id(v, label=label, field=field) for v in values) if i is not None]


def parse_amount(raw, *, label: str = "金额", field: str = "amount") -> Decimal | None:
    """Yuan with at most two decimals, 0 to 99,999,999.99, or None when empty. Refuses 1e400, NaN, Infinity."""
    text = _text(raw)
    if not text:
        return None
    if len(text) > 20 or not re.fullmatch(r"\d+(\.\d+)?", text):
        raise BadInput(f"{label}应为金额（元，最多两位小数），收到：{_shown(text)}", field)
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only plain numbers
        raise BadInput(f"{label}应为金额，收到：{_shown(text)}", field) from None
    return check_amount(value, label=label, field=field)


def check_amount(value: Decimal, *, label: str = "金额", field: str = "amount") -> Decimal:
    if not value.is_finite():
        raise BadInput(f"{label}应为有限的数字，收到：{value}", field)
    if value < 0 or value > MAX_AMOUNT:
        raise BadInput(f"{label}应在 0 至 {MAX_AMOUNT} 元之间", field)
    if value != value.quantize(Decimal("0.01")):
        raise BadInput(f"{label}最多两位小数，收到：{value}", field)
    return value.quantize(Decimal("0.01"))


def is_control(ch: str) -> bool:
    """A control or format character (Unicode Cc/Cf such as U+202E), other than tab and line breaks."""
    return ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) in ("Cc", "Cf")


def check_plain_text(value: str, *, label: str = "文字", field: str = "", max_length: int | None = None) -> str:
    """Text a person typed that is printed or shown again: no control or direction-override characters.

    Used for person names, payer names, household heads, reasons and notes (API, pages and imports).
    """
    if value is None:
        return value
    bad = next((ch for ch in value if is_control(ch)), None)
    if bad is not None:
        raise BadInput(f"{label}含有不可见的控制字符（U+{ord(bad):04X}），请删除后重新输入", field)
    if max_length is not None and len(value) > max_length:
        raise BadInput(f"{label}过长：最多 {max_length} 个字，收到 {len(value)} 个", field)
    return value


def validate_plain_text(value: str) -> None:
    """Django form validator: the check_plain_text rule, as a field error."""
    from django.core.exceptions import ValidationError

    try:
        check_plain_text(value, label="此项")
    except BadInput as exc:
        raise ValidationError(exc.message, code="control_character") from None


def validate_date_range(value) -> None:
    """Django form validator: a date between 1900-01-01 and 2100-12-31."""
    from django.core.exceptions import ValidationError

    if value is not None and not MIN_DATE <= value <= MAX_DATE:
        raise ValidationError(f"日期应在 {MIN_DATE.isoformat()} 至 {MAX_DATE.isoformat()} 之间", code="date_range")


def guard_form_fields(*form_classes) -> None:
    """Adds the shared input rules to the given forms: validate_plain_text on every text field
    (passwords excepted), validate_date_range on every date field."""
    from django import forms

    for form_class in form_classes:
        for field in form_class.base_fields.values():
            if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
                rule = validate_plain_text
            elif isinstance(field, forms.DateField):
                rule = validate_date_range
            else:
                continue
            if rule not in field.validators:
                field.validators.append(rule)


def posted_text(data, key: str, *, label: str, max_length: int) -> str:
    """A text field read straight from request.POST (pages without a form): stripped and checked."""
    return check_plain_text((data.get(key) or "").strip(), label=label, field=key, max_length=max_length)
