"""The menu: an item shows when its page exists and the user's role can use it, in groups.

A menu item is what a role works with, which is narrower than what it may open: a village collector
may open the 参保核定 page from a link on 参保登记, but it is the county's work, so it is not in her menu.
`can_open` answers the other question (may this user open this URL at all), for back links.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from yibao.accounts.roles import CAPABILITIES

GROUPS = ["名单", "核定", "收款", "对账", "进度", "系统"]
# A menu longer than this shows its group headings.
GROUPED_FROM = 8

IMPORT_CAPABILITIES = tuple(c for c in CAPABILITIES if c.endswith(".import"))


def _county(scope) -> bool:
    """County level (or a superuser over every county)."""
    return scope.level in (None, 6)


def _above_village(scope) -> bool:
    return scope.level in (None, 6, 9)


def _county_or_above(scope) -> bool:
    """County level, a city or province (issue 14), or a superuser."""
    return _county(scope) or scope.above_county


def _any(scope, *capabilities: str) -> bool:
    return any(scope.can(c) for c in capabilities)


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    group: str
    capability: str  # what the page itself requires
    uses: Callable | None = None  # a narrower rule: whether the role works with this page

    def visible(self, scope) -> bool:
        if not scope.can(self.capability):
            return False
        return self.uses(scope) if self.uses else True


NAV_ITEMS: list[NavItem] = [
    NavItem("户籍与参保人", "registry:residents", "名单", "registry.view"),
    NavItem("多重身份", "registry:identity_review", "名单", "identities.view"),
    NavItem("重复参保", "registry:flags", "名单", "registry.resolve_flags"),
    # the import records hold whole county files: county accounts that import, and the auditor who reads them
    NavItem("名单导入", "imports:jobs", "名单", "jobs.view",
            lambda s: _county(s) and (_any(s, *IMPORT_CAPABILITIES) or s.read_only)),
    NavItem("参保核定", "enrollment:campaigns", "核定", "enrollment.view",
            lambda s: s.can("campaign.manage") or _county(s)),
    NavItem("参保登记", "enrollment:enrollments", "核定", "enrollment.view"),
    NavItem("缴费测算", "policy:quote", "核定", "policy.view"),
    NavItem("缴费政策", "policy:list", "核定", "policy.view"),
    NavItem("收款", "collection:counter", "收款", "payments.collect"),
    NavItem("缴费记录", "collection:payments", "收款", "payments.view"),
    NavItem("导入缴费明细", "collection:ingest", "收款", "payments.ingest"),
    NavItem("退费", "collection:refunds", "收款", "payments.view"),
    NavItem("先缴后补", "collection:subsidy_refunds", "收款", "subsidy_refunds.view"),
    NavItem("对账", "reconciliation:runs", "对账", "reconcile.view"),
    NavItem("现金交款", "reconciliation:handovers", "对账", "payments.view"),
    NavItem("征缴进度", "progress:dashboard", "进度", "progress.view"),
    NavItem("催缴", "progress:remind", "进度", "remind.view"),
    NavItem("目标任务", "progress:targets", "进度", "progress.view",
            lambda s: (_above_village(s) or s.above_county) and _any(s, "targets.manage", "reports.export")),
    NavItem("行政区划", "regions:tree", "系统", "regions.view", _county_or_above),
    NavItem("账号管理", "accounts:users", "系统", "accounts.manage"),
    NavItem("变更记录", "core:events", "系统", "audit.view"),
]


def nav_for(scope) -> list[dict]:
    """The user's menu items, in menu order, each with its group."""
    items = []
    for item in NAV_ITEMS:
        if not item.visible(scope):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": item.label, "url": url, "name": item.url_name, "group": item.group})
    return items


def nav_groups(items: list[dict]) -> list[dict]:
    """The menu in groups with headings, or one group without a heading when the menu is short."""
    if len(items) < GROUPED_FROM:
        return [{"heading": "", "items": items}] if items else []
    groups = []
    for name in GROUPS:
        members = [i for i in items if i["group"] == name]
        if members:
            groups.append({"heading": name, "items": members})
    return groups


# ---- may this user open a URL ---------------------------------------------------------------


def view_capability(func) -> str | None:
    """The capability a view's @scoped_view demands, read from the decorator's closure (None: any login)."""
    seen = 0
    while func is not None and seen < 10:
        seen += 1
        try:
            captured = inspect.getclosurevars(func).nonlocals
        except TypeError:
            captured = {}
        capability = captured.get("capability")
        if isinstance(capability, str):
            return capability
        func = getattr(func, "__wrapped__", None)
    return None


def can_open(scope, url_name_or_path: str, *args) -> bool:
    """Whether the page answers this user with anything but 403, by what its view's decorator demands.
    An unknown URL is not a page one may open."""
    try:
        path = url_name_or_path if url_name_or_path.startswith("/") else reverse(url_name_or_path, args=args)
        match = resolve(path.split("?", 1)[0])
    except (NoReverseMatch, Resolver404):
        return False
    capability = view_capability(match.func)
    return capability is None or scope.can(capability)
