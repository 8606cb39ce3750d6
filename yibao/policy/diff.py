"""What changed between two policies (usually last year's and this year's), in Chinese:
amounts, windows, subsidies, waiting periods, refunds, targets, and rules added, removed or changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal

from pydantic import BaseModel

from yibao.policy.catalog import VALUE_NAMES
from yibao.policy.engine import Policy
from yibao.policy.fieldnames import field_label
from yibao.policy.schema import DayRange, MonthDays
from yibao.policy.vocabulary import group_name, identity_name

CITATION_KEYS = {"reference", "source", "note"}


@dataclass(frozen=True)
class Change:
    section: str
    what: str
    kind: str  # added, removed, changed
    before: str | None
    after: str | None
    text: str

    def as_json(self) -> dict:
        return asdict(self)


def show(value, key: str = "") -> str:
    """A value as a clerk reads it."""
    if value is None:
        return "（未写）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, dt.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, MonthDays):
        return f"{'、'.join(f'{m}月' for m in value.months)}{value.first}日至{value.last}日"
    if isinstance(value, DayRange):
        return f"每月{value.first}日至{value.last}日"
    if isinstance(value, BaseModel):
        parts = [f"{field_label(k, model=type(value).__name__)} {show(getattr(value, k), k)}"
                 for k in value.model_fields_set if k not in CITATION_KEYS and getattr(value, k) is not None]
        return "，".join(sorted(parts)) or "（空）"
    if isinstance(value, (list, tuple, set, frozenset)):
        joint = "；" if any(isinstance(v, DayRange) for v in value) else "、"
        return joint.join(show(v, key) for v in value) or "（空）"
    if isinstance(value, dict):
        return "，".join(f"{k} {show(v)}" for k, v in value.items()) or "（空）"
    text = str(value)
    if key in ("identities", "requires_any_of"):
        return identity_name(text)
    if key in ("groups", "exempt_groups"):
        return group_name(text)
    return VALUE_NAMES.get(key, {}).get(text, text)


def _a_year_later(before, after, years: int) -> bool:
    if isinstance(before, dt.date) and isinstance(after, dt.date) and years:
        try:
            return before.replace(year=before.year + years) == after
        except ValueError:
            return False
    return False


class _Collector:
    def __init__(self, years: int):
        self.changes: list[Change] = []
        self.years = years

    def add(self, section, what, kind, before=None, after=None, text=""):
        self.changes.append(Change(section, what, kind, before, after, text))

    def value(self, section: str, what: str, before, after, key: str = ""):
        if before == after:
            return
        if before is None:
            self.add(section, what, "added", None, show(after, key), f"新增{what}：{show(after, key)}")
        elif after is None:
            self.add(section, what, "removed", show(before, key), None, f"删去{what}（原为 {show(before, key)}）")
        else:
            shifted = f"（顺延{self.years}年）" if _a_year_later(before, after, self.years) else ""
            self.add(section, what, "changed", show(before, key), show(after, key),
                     f"{what}：{show(before, key)} → {show(after, key)}{shifted}")

    def models(self, section: str, what: str, before: BaseModel | None, after: BaseModel | None):
        """Field by field; a whole block added or removed is one change. Quotes are one line."""
        if before is None or after is None:
            if before is not after:
                self.value(section, what, before, after)
            return
        model = type(after).__name__
        for key in type(after).model_fields:
            if key in ("note", "source"):
                continue
            old, new = getattr(before, key, None), getattr(after, key, None)
            if key == "reference":
                if old != new:
                    self.add(section, f"{what}的引用原文", "changed", old, new, f"{what}的引用原文有改动")
                continue
            label = f"{what}的{field_label(key, model=model)}" if what else field_label(key, model=model)
            if isinstance(old, BaseModel) or isinstance(new, BaseModel):
                self.models(section, label, old, new)
            else:
                self.value(section, label, old, new, key)


def _by(items, key):
    return {key(i): i for i in items}


def policy_diff(before: Policy, after: Policy) -> list[Change]:
    a, b = before.data, after.data
    out = _Collector(b.benefit_year - a.benefit_year)
    for key in ("title", "benefit_year", "notice_year", "issued_by", "issued_on", "seed"):
        out.value("基本信息", field_label(key, model="PolicyFile"), getattr(a, key), getattr(b, key), key)

    old = _by(a.contribution.standards, lambda s: (s.tier, tuple(sorted(s.groups))))
    new = _by(b.contribution.standards, lambda s: (s.tier, tuple(sorted(s.groups))))
    for key in old.keys() | new.keys():
        s = new.get(key) or old.get(key)
        name = f"{s.label}（{'、'.join(group_name(g) for g in key[1]) or f'{key[0]}档'}）"
        out.value("缴费标准", f"{name}金额", old[key].amount if key in old else None,
                  new[key].amount if key in new else None)
    out.models("缴费标准", "财政补助", a.contribution.fiscal_subsidy, b.contribution.fiscal_subsidy)
    out.models("缴费标准", "筹资总额", a.contribution.total, b.contribution.total)

    old = _by(a.subsidies.items, lambda i: frozenset(i.identities))
    new = _by(b.subsidies.items, lambda i: frozenset(i.identities))
    for key in sorted(old.keys() | new.keys(), key=lambda k: sorted(k)):
        item = new.get(key) or old.get(key)
        if key not in old:
            out.add("资助", item.label, "added", None, item.label, f"新增资助：{item.label}（{show(item)}）")
        elif key not in new:
            out.add("资助", item.label, "removed", item.label, None, f"删去资助：{item.label}")
        else:
            out.models("资助", item.label, old[key], new[key])
    for key in ("age_reference", "deferred"):
        old_value, new_value = getattr(a.subsidies, key), getattr(b.subsidies, key)
        if isinstance(old_value, BaseModel) or isinstance(new_value, BaseModel):
            out.models("资助", field_label(key), old_value, new_value)
        else:
            out.value("资助", field_label(key), old_value, new_value, key)

    out.models("征缴期", "集中征缴期", a.collection.main_window, b.collection.main_window)
    out.models("征缴期", "逾期不予受理", a.collection.late_refusal, b.collection.late_refusal)

    old, new = _by(a.rules, lambda r: r.id), _by(b.rules, lambda r: r.id)
    for rule_id in [r.id for r in a.rules] + [r.id for r in b.rules if r.id not in old]:
        rule = new.get(rule_id) or old.get(rule_id)
        if rule_id not in old:
            out.add("规则", rule.label, "added", None, rule.label, f"新增规则 {rule_id}：{rule.label}")
        elif rule_id not in new:
            out.add("规则", rule.label, "removed", rule.label, None, f"删去规则 {rule_id}：{rule.label}")
        else:
            out.models("规则", f"规则 {rule_id}（{rule.label}）", old[rule_id], new[rule_id])
    if [r.id for r in a.rules if r.id in new] != [r.id for r in b.rules if r.id in old]:
        out.add("规则", "规则顺序", "changed", None, None, "规则的先后顺序改变（依次判断，先符合者适用）")

    for key, section in (("waiting_period", "等待期"), ("refunds", "退费"), ("targets", "目标任务"),
                         ("enrollees", "参保对象"), ("suspension", "暂停参保")):
        out.models(section, field_label(key), getattr(a, key), getattr(b, key))
    return out.changes


def diff_sections(changes: list[Change]) -> list[tuple[str, list[Change]]]:
    sections: dict[str, list[Change]] = {}
    for change in changes:
        sections.setdefault(change.section, []).append(change)
    return list(sections.items())
