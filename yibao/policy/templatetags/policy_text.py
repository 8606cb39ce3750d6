"""{{ note.used_by|section_names }}: a policy file's "（见 refunds）" read as "（见“退费”）"."""

import re

from django import template

register = template.Library()

# The headings of policy/detail.html for the sections a policy file may point to by key.
SECTION_NAMES = {
    "contribution": "缴费标准", "subsidies": "资助参保", "collection": "征缴期", "rules": "参保与待遇规则",
    "waiting_period": "待遇等待期", "enrollees": "参保对象", "suspension": "暂停或终止参保关系", "refunds": "退费",
    "notes": "其他规定",
}


@register.filter
def section_names(text):
    if not text:
        return text
    return re.sub(r"见\s*([a-z_]+)", lambda m: f"见“{SECTION_NAMES[m.group(1)]}”" if m.group(1) in SECTION_NAMES
                  else m.group(0), str(text))


@register.inclusion_tag("policy/_source.html")
def policy_source(version, policy_id=""):
    """'依据政策：<title>' with the version hash folded away (校验码, for audit) instead of shown as the name."""
    from yibao.policy.loader import list_policies
    from yibao.policy.selectors import policy_title

    title = policy_title(policy_id) if policy_id else ""
    if not title and version:
        try:
            title = next((p.data.title for p in list_policies() if p.version == version), "")
        except Exception:  # a broken policy file must not break the page that cites it
            title = ""
    return {"title": title, "version": version or ""}
