"""{% back_link 'collection:payments' '缴费记录' %}: a "← 缴费记录" link, only when the user may open the page."""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from yibao.core.navigation import can_open

register = template.Library()


def _scope(context):
    request = context.get("request")
    scope = getattr(request, "scope", None) or context.get("current_scope")
    if scope is None and request is not None and request.user.is_authenticated:
        from yibao.accounts.scope import scope_for

        scope = scope_for(request.user)
    return scope


@register.simple_tag(takes_context=True)
def back_link(context, url_name, label, *args, **params):
    """Keyword arguments become the query (`year=run.benefit_year`, empty ones left out); nothing is shown
    when the target would answer 403."""
    scope = _scope(context)
    try:
        url = reverse(url_name, args=args)
    except NoReverseMatch:
        return ""
    if scope is None or not can_open(scope, url):
        return ""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    if query:
        url = f"{url}?{query}"
    return format_html('<p class="back"><a href="{}">← {}</a></p>', url, label)


@register.filter
def may_open(context_scope, url_name):
    """{% if current_scope|may_open:'registry:residents' %}…{% endif %}"""
    return context_scope is not None and can_open(context_scope, url_name)
