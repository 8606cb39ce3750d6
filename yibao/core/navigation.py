"""The menu: an item shows when its page exists and the user's role may open it."""

from django.urls import NoReverseMatch, reverse

NAV_ITEMS = [
    ("征缴进度", "progress:dashboard", "progress.view"),
    ("收款", "collection:counter", "payments.collect"),
    ("缴费测算", "policy:quote", "policy.view"),
    ("户籍与参保人", "registry:residents", "registry.view"),
    ("多重身份", "registry:identity_review", "identities.view"),
    ("重复参保", "registry:flags", "registry.resolve_flags"),
    ("名单导入", "imports:jobs", "jobs.view"),
    ("参保核定", "enrollment:campaigns", "enrollment.view"),
    ("参保登记", "enrollment:enrollments", "enrollment.view"),
    ("缴费记录", "collection:payments", "payments.view"),
    ("导入缴费明细", "collection:ingest", "payments.ingest"),
    ("退费", "collection:refunds", "payments.view"),
    ("先缴后补", "collection:subsidy_refunds", "subsidy_refunds.view"),
    ("催缴", "progress:remind", "remind.view"),
    ("对账", "reconciliation:runs", "reconcile.view"),
    ("现金交款", "reconciliation:handovers", "payments.view"),
    ("目标任务", "progress:targets", "progress.view"),
    ("缴费政策", "policy:list", "policy.view"),
    ("行政区划", "regions:tree", "regions.view"),
    ("账号管理", "accounts:users", "accounts.manage"),
    ("变更记录", "core:events", "audit.view"),
]


def nav_for(scope) -> list[dict]:
    items = []
    for label, url_name, capability in NAV_ITEMS:
        if not scope.can(capability):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url, "name": url_name})
    return items
