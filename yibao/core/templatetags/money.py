"""{{ amount|yuan }}: money with thousands separators and two decimals (1,234.00), as the receipt PDF prints it."""

from django import template

from yibao.core import money

register = template.Library()


@register.filter
def yuan(value):
    """1234.5 → "1,234.50"; None or "" → ""; a text that is not a number is shown as given."""
    shown = money.yuan(value)
    return shown if shown or value is None else value
