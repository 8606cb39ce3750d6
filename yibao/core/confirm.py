"""The confirmation sheet of a money action (收款、补缴、退费、作废/换开、先缴后补发放).

A money form posts first without `confirmed`: the view answers with the sheet the server computed
with the same checks the booking makes, carrying the form's values as hidden fields, `confirmed=1`
and a one-time token. Only that second POST books. The token is spent on booking: the same sheet
submitted again (double tap, back button) books nothing and leads to what the first one made.
Without JavaScript the sheet is a page; app.js shows it in a <dialog> (bottom sheet on a phone).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.shortcuts import render

from yibao.core.money import rmb_upper, yuan

SESSION_KEY = "confirm_tokens"
KEEP = 30  # tokens remembered per session, pending and spent each
SHEET_HEADER = "X-Confirm-Sheet"


@dataclass
class Sheet:
    title: str
    action: str
    cancel_url: str
    confirm_label: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    people: list[dict] = field(default_factory=list)
    more: int = 0
    total: Decimal | None = None
    total_label: str = "金额"
    changes: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    cash: bool = False
    received: Decimal | None = None
    received_text: str = ""
    received_error: str = ""
    danger: bool = False
    error: str = ""
    token: str = ""

    @property
    def total_text(self) -> str:
        return yuan(self.total)

    @property
    def total_upper(self) -> str:
        return rmb_upper(self.total) if self.total is not None else ""

    @property
    def change(self) -> Decimal | None:
        if self.received is None or self.total is None or self.received < self.total:
            return None
        return self.received - self.total

    @property
    def change_text(self) -> str:
        return f"找零 {yuan(self.change)} 元" if self.change is not None else ""


def confirmed(request) -> bool:
    """The POST is the sheet's own (a 确认 of the figures shown), not the first form's."""
    return request.method == "POST" and request.POST.get("confirmed") == "1" and not request.POST.get("recalc")


def _store(request) -> dict:
    store = request.session.get(SESSION_KEY) or {}
    return {"pending": list(store.get("pending") or []), "done": dict(store.get("done") or {})}


def _save(request, store: dict) -> None:
    store["pending"] = store["pending"][-KEEP:]
    store["done"] = dict(list(store["done"].items())[-KEEP:])
    request.session[SESSION_KEY] = store


def token_issue(request) -> str:
    """A fresh token for a sheet; a recalculated sheet keeps its own while it is unspent."""
    posted = request.POST.get("confirm_token", "") if request.method == "POST" else ""
    store = _store(request)
    if posted and posted in store["pending"]:
        return posted
    token = secrets.token_urlsafe(16)
    store["pending"].append(token)
    _save(request, store)
    return token


def token_state(request) -> tuple[str, str]:
    """('pending', ''), ('done', url of what it made) or ('unknown', '') for the posted token."""
    token = request.POST.get("confirm_token", "")
    store = _store(request)
    if token and token in store["done"]:
        return "done", store["done"][token]
    if token and token in store["pending"]:
        return "pending", ""
    return "unknown", ""


def token_spend(request, url: str = "") -> None:
    """The posted token has booked (url: where its result is) or failed (url empty): it never books again."""
    token = request.POST.get("confirm_token", "")
    store = _store(request)
    if token in store["pending"]:
        store["pending"].remove(token)
    if url:
        store["done"][token] = url
    _save(request, store)


def sheet_render(request, sheet: Sheet, *, status: int = 200):
    """The sheet as a page, or alone for app.js's dialog (it asks with the X-Confirm-Sheet header)."""
    if not sheet.error:
        sheet.token = token_issue(request)
    partial = request.headers.get(SHEET_HEADER) == "1"
    template = "core/_confirm_sheet.html" if partial else "core/confirm.html"
    response = render(request, template, {"sheet": sheet}, status=200 if partial else status)
    if partial:
        response[SHEET_HEADER] = "1"
    return response


def wants_sheet(request) -> bool:
    return request.headers.get(SHEET_HEADER) == "1"


def ask(request, build, *, refused):
    """The two steps of a money action, before it books. Without `confirmed=1`: the sheet `build()` makes,
    or, when the sheet refuses and no sheet is wanted (no JS), `refused` — a URL to go back to with the
    reason, or a callable given the reason. With it: `guard`. None means the POST may book now."""
    if not confirmed(request):
        sheet = build()
        if sheet.error and not wants_sheet(request):
            if callable(refused):
                return refused(sheet.error)
            from django.contrib import messages
            from django.shortcuts import redirect

            messages.error(request, sheet.error)
            return redirect(refused)
        return sheet_render(request, sheet)
    return guard(request, build)


def guard(request, build):
    """Before a confirmed POST books: None when its token may book now. Otherwise the answer, which
    books nothing: what the token already made (a second tap), or the sheet again (an unknown token)."""
    from django.contrib import messages
    from django.shortcuts import redirect

    state, url = token_state(request)
    if state == "done":
        messages.info(request, "这张确认单已经办理过，没有重复办理。")
        return redirect(url)
    if state == "unknown":
        sheet = build()
        sheet.changes.insert(0, "确认单已失效或已使用，请核对后再确认一次。")
        return sheet_render(request, sheet)
    return None


def done(request, url: str):
    """The booking succeeded: spend the token (remembering where its result is) and go there."""
    from django.shortcuts import redirect

    token_spend(request, url)
    return redirect(url)


def safe_next(request, default: str) -> str:
    """The posted `next` when it is a path on this site, else `default`."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default
