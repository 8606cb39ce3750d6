"""Money as people read it: figures with thousands separators (1,234.50) and 人民币大写."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")


def yuan(value) -> str:
    """1234.5 → '1,234.50'; None or a non-number → ''."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(value).quantize(CENT):,.2f}"
    except (InvalidOperation, ValueError, TypeError):
        return ""


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ("", "拾", "佰", "仟")
_BIG = ("", "万", "亿", "万亿")


def _four(group: int) -> str:
    text, zero = "", False
    for position in (3, 2, 1, 0):
        digit = group // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += _DIGITS[digit] + _SMALL[position]
    return text


def rmb_upper(amount: Decimal) -> str:
    """人民币大写: 400 → 肆佰元整, 1070 → 壹仟零柒拾元整, 77.5 → 柒拾柒元伍角整."""
    cents = int((Decimal(amount).copy_abs() * 100).quantize(Decimal("1")))
    prefix = "负" if Decimal(amount) < 0 else ""
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    text = ""
    if yuan:
        groups = []
        rest = yuan
        while rest:
            groups.append(rest % 10000)
            rest //= 10000
        gap = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                gap = bool(text)
                continue
            if text and (gap or group < 1000):
                text += "零"
            text += _four(group) + _BIG[index]
            gap = False
        text += "元"
    if jiao == 0 and fen == 0:
        return prefix + text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return prefix + text
