"""{% if user|can_search %}: whether the top bar shows the search box (roles that view residents)."""

from django import template

from yibao.accounts.scope import scope_for

register = template.Library()


@register.filter
def can_search(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return scope_for(user).can("registry.view")
