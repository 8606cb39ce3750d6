"""{{ stamp|business|date:"Y-m-d H:i" }}: a real-clock stamp shown on the business clock."""

from django import template

from yibao.core.clock import business_time

register = template.Library()


@register.filter
def business(moment):
    return business_time(moment)
