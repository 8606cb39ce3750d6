"""The checklist of what a notice usually says, and the warnings `yibao policy check` gives.

Each item of vocabulary.CHECKLIST_ITEMS is "said" when the file holds what answers it; an item the
notice really does not cover is acknowledged under `checklist:` with a reason. Entries under
`review:` (written by `yibao policy new`) are warnings until the author removes them.
"""

from __future__ import annotations

from collections.abc import Iterator

from yibao.policy.engine import Policy
from yibao.policy.errors import Issue
from yibao.policy.schema import Condition, PolicyFile
from yibao.policy.vocabulary import CHECKLIST_ITEMS

STUDENT_GROUPS = {"university_student", "university_freshman"}
MID_YEAR_GROUPS = {"graduate", "released_prisoner", "veteran", "employee_to_resident", "retired_fisher"}


def _conditions(condition: Condition) -> Iterator[Condition]:
    yield condition
    for sub in condition.any_of or ():
        yield from _conditions(sub)


def _set_fields(condition: Condition) -> set[str]:
    return {name for c in _conditions(condition) for name in c.model_fields_set if getattr(c, name) is not None}


def _is_late_rule(data: PolicyFile, condition: Condition) -> bool:
    """A rule for anyone (no group, identity) that takes payments after the main window."""
    if condition.all_groups() or any(c.identities for c in _conditions(condition)):
        return False
    if condition.paid_in_main_window:
        return False
    end = data.collection.main_window.end
    return condition.paid_to is None or condition.paid_to > end


def said(data: PolicyFile) -> dict[str, bool]:
    """For each checklist item, whether the file says something about it."""
    groups = set().union(*(r.when.all_groups() for r in data.rules))
    groups |= {g for s in data.contribution.standards for g in s.groups}
    fields = set().union(*(_set_fields(r.when) for r in data.rules))
    kinds = {k.kind for k in data.enrollees.kinds} if data.enrollees else set()
    return {
        "standard": bool(data.contribution.standards),
        "subsidies": bool(data.subsidies.items) or data.subsidies.deferred is not None,
        "windows": data.collection.main_window is not None,
        "late_rules": any(_is_late_rule(data, r.when) for r in data.rules),
        "newborns": "newborn" in groups or bool(fields & {"born_in_benefit_year", "days_since_birth"}),
        "students": bool(groups & STUDENT_GROUPS) or "student" in kinds,
        "mid_year_groups": bool(groups & MID_YEAR_GROUPS) or bool(fields & {"has_event_date", "days_since_event"}),
        "waiting_periods": data.waiting_period is not None,
        "refunds": data.refunds is not None,
        "targets": data.targets is not None,
    }


def checklist_rows(data: PolicyFile) -> list[dict]:
    """Each item with its state: said (已写), skipped with a reason (不适用) or missing (未写)."""
    skipped = {s.item: s.reason for s in data.checklist}
    rows = []
    for code, is_said in said(data).items():
        state = "said" if is_said else ("skipped" if code in skipped else "missing")
        rows.append({"item": code, "name": CHECKLIST_ITEMS[code], "state": state, "reason": skipped.get(code)})
    return rows


def policy_warnings(policy: Policy) -> list[Issue]:
    """Warnings (not errors) of `yibao policy check`: unsaid checklist items and review marks."""
    from yibao.policy.errors import compose, line_of

    data = policy.data
    node = compose(open(policy.path, "rb").read()) if policy.path else None
    warnings = [
        Issue(None, "清单", f"文件没有写“{row['name']}”（{row['item']}）。通知确实没有涉及的，"
                            f"在 checklist: 下写 - {{item: {row['item']}, reason: 理由}}")
        for row in checklist_rows(data) if row["state"] == "missing"
    ]
    states = {row["item"]: row["state"] for row in checklist_rows(data)}
    for i, skip in enumerate(data.checklist):
        if states.get(skip.item) == "said":
            warnings.append(Issue(line_of(node, ("checklist", i)), "清单",
                                  f"checklist 写“{CHECKLIST_ITEMS[skip.item]}”（{skip.item}）通知未涉及，但文件已经写了；"
                                  "请删去这一条，或删去文件中相应的内容"))
    for i, text in enumerate(data.review):
        warnings.append(Issue(line_of(node, ("review", i)), "待复核", f"{text}（核对后从 review: 中删去）"))
    return warnings
