"""{{ text|ids_for:current_scope }}: ID numbers inside a free text, masked for a scope without whole numbers."""

from django import template

from yibao.core.idnumber import mask_id_numbers_in

register = template.Library()


@register.filter
def ids_for(text, scope):
    if scope is not None and getattr(scope, "full_id", False):
        return text
    return mask_id_numbers_in(text)
