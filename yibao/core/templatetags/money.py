"""{{ amount|yuan }}: money with thousands separators and two decimals (1,234.00), as the receipt PDF prints it."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(value):
    """1234.5 → "1,234.50"; None or "" → ""; a text that is not a number is shown as given."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except (InvalidOperation, ValueError):
        return value
