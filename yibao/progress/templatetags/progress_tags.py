"""Small filters for the progress pages."""

from decimal import Decimal

from django import template

from yibao.progress.pace import percent

register = template.Library()


@register.filter
def pct(value) -> str:
    """0.8123 → 81.23%; None → —."""
    return percent(Decimal(value) if value is not None else None)


@register.filter
def pct_value(value) -> str:
    """A rate as 0–100 for <progress max=100>."""
    if value is None:
        return "0"
    return f"{min(Decimal(value) * 100, Decimal(100)):.2f}"


@register.filter
def sub(value, other):
    try:
        return max(0, int(value) - int(other))
    except (TypeError, ValueError):
        return ""


@register.filter
def chart_height(count) -> int:
    """A horizontal bar chart tall enough for its bars, on a phone too."""
    return max(220, min(1400, 60 + int(count) * 28))


@register.filter
def colour(unit, share):
    """good / near / bad / none: a unit's rate against 序时进度 (pace.standing_colour)."""
    from yibao.progress.pace import standing_colour

    return standing_colour(unit.rate, share, unit.on_pace)
