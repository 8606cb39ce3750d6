"""Pages of status changes that ask once (确认) and can be undone (撤销) for 10 minutes.

`confirm_or_apply` is what a status view calls: without `confirmed=1` it renders the sheet saying
what will change (nothing is written); with it, the change is made and recorded for undo.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yibao.accounts.decorators import scoped_view
from yibao.registry import undo

SKIP = {"csrfmiddlewaretoken", "confirmed"}


def confirmed(request) -> bool:
    return request.POST.get("confirmed") == "1"


def confirm_context(request, *, headline: str, lines: list[str], cancel_url: str, button: str = "确认办理",
                    danger: bool = False, hx_target: str = "") -> dict:
    fields = [(k, v) for k, values in request.POST.lists() if k not in SKIP for v in values]
    return {"confirm": {
        "headline": headline, "lines": lines, "action": request.path, "fields": fields, "cancel_url": cancel_url,
        "button": button, "danger": danger, "hx_target": hx_target,
    }}


def confirm_page(request, **kwargs) -> HttpResponse:
    """The whole page (no JS): the sheet alone under the site's frame."""
    return render(request, "core/status_confirm.html", confirm_context(request, **kwargs))


def confirm_fragment(request, **kwargs) -> HttpResponse:
    """The sheet for htmx, swapped into the row the user acted on."""
    return HttpResponse(render_to_string("core/_status_confirm.html", confirm_context(request, **kwargs), request))


def with_undo(url: str, change) -> str:
    """The page to go back to, asking it to offer the undo of `change`."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'undo': change.pk})}"


def undo_banner(request) -> dict:
    """Context for `core/_status_undo.html`: the change named by ?undo= if this user may still undo it."""
    change_id = request.GET.get("undo")
    if not change_id:
        return {"undo_change": None}
    change = undo.status_change_for_banner(change_id=change_id, actor=request.user)
    params = QueryDict(mutable=True)
    params.update(request.GET)
    params.pop("undo", None)
    back = request.path + (f"?{params.urlencode()}" if params else "")
    return {"undo_change": change, "undo_next": back}


def undo_fragment(request, change, next_url: str = "", hx_target: str = "") -> str:
    return render_to_string("core/_status_undo.html", {"undo_change": change, "undo_next": next_url,
                                                       "undo_hx_target": hx_target}, request)


@require_POST
@scoped_view
def status_undo(request, pk: int):
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        next_url = ""
    try:
        change = undo.status_change_undo(change_id=pk, actor=request.user)
    except undo.UndoError as exc:
        text, ok = str(exc), False
    except PermissionDenied:
        raise
    else:
        text, ok = f"已撤销：{change.title}。", True
        if not next_url:
            next_url = f"/registry/residents/{change.resident_id}/"
    if request.headers.get("HX-Request"):
        from django.utils.html import escape

        role, css = ("status", "ok") if ok else ("alert", "error")
        return HttpResponse(f'<p class="{css}" role="{role}" data-testid="undo-result">{escape(text)}</p>')
    (messages.success if ok else messages.error)(request, text)
    return redirect(next_url or "/")
