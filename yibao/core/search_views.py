"""The top bar's search: suggestions as the user types (htmx), and Enter (the results page or the one match)."""

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from yibao.accounts.decorators import scoped_view
from yibao.core.search import HINT, search_everything

SUGGESTIONS = 8
PAGE_CAP = 200  # per kind on the results page
PAGE_SIZE = 50


@require_safe
@scoped_view("registry.view")
def search(request):
    """Enter in the box: the one clear match opens directly; otherwise every match, a page at a time."""
    raw = request.GET.get("q", "")
    result = search_everything(request.scope, raw, limit=PAGE_CAP)
    best = result.best
    if best and request.GET.get("all") != "1":
        return redirect(best.url)
    page = Paginator(result.hits, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/search.html", {
        "q": result.q, "search_q": result.q, "hint": result.hint, "page": page,
        "groups": result.groups(list(page)), "truncated": result.truncated, "cap": PAGE_CAP, "default_hint": HINT,
    })


@require_safe
@scoped_view("registry.view")
def search_suggest(request):
    """The suggestions under the box (htmx partial): up to eight matches, grouped by kind."""
    raw = request.GET.get("q", "")
    if not raw.strip():
        return HttpResponse("")
    result = search_everything(request.scope, raw, limit=SUGGESTIONS)
    hits = result.first(SUGGESTIONS)
    return render(request, "core/_search_results.html", {
        "q": result.q, "hint": result.hint, "groups": result.groups(hits), "default_hint": HINT,
        "more": result.truncated or len(hits) < len(result.hits),
    })
