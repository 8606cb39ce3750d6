"""The vocabulary of the policy language, read from the schema and vocabulary.py: identities,
groups, conditions, anchors and every other setting with a fixed set of values.

Nothing here is a second copy of the schema: a condition, anchor or setting added to schema.py
appears in `yibao policy vocabulary`, its page and docs/policy.md by itself (with an example
made from its type when none is written below).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from yibao.policy.fieldnames import field_label
from yibao.policy.schema import ENROLLEE_KINDS, SUSPENSION_REASONS, BenefitStart, Condition, PolicyFile
from yibao.policy.vocabulary import CHECKLIST_ITEMS, GROUP_ALIASES, GROUPS, IDENTITIES

# Chinese meaning of a fixed value, by the key it is written under
VALUE_NAMES: dict[str, dict[str, str]] = {
    "anchor": {
        "year_start": "待遇年度首日（1月1日）", "paid_on": "缴费之日", "birth_date": "出生之日",
        "event_date": "事件之日（刑满释放、退役、停保、毕业等）", "next_month_first": "缴费次月1日",
        "date": "固定日期（写在 date 中；可早于年度首日，不能再加 days、months）",
    },
    "source": {"notice": "本地通知（默认）", "national": "国家规定（notices/national.txt）",
               "interpretation": "本系统的理解（须在 note 中说明理由）"},
    "kind": {"full": "全额资助", "fixed": "定额资助（amount）", "percent": "按比例资助（percent，可加 base）",
             **ENROLLEE_KINDS},
    "timing": {"now": "缴费时直接减免", "refund_later": "先缴后补，日后退补"},
    "age_reference": {"paid_on": "按缴费之日算周岁", "year_start": "按待遇年度首日算周岁"},
    "age_applies_to_role": {"child": "子女"},
    "outcome": {"accept": "受理", "refuse": "不予受理（写 refuse_reason）"},
    "charge": {"standard": "按个人缴费标准", "exempt": "免缴", "standard_plus_fiscal": "个人缴费加财政补助"},
    "waiting_period": {"none": "不设等待期", "always": "一律设等待期",
                       "if_gap": "上年断保的才设等待期（首次参保、续保不设）"},
    "allowed_reasons": {"death": "死亡", "duplicate_payment": "重复缴费", "joined_employee_insurance": "参加职工医保",
                        "joined_other_city_insurance": "参加其他地市居民医保"},
    "reasons": SUSPENSION_REASONS,
    "item": CHECKLIST_ITEMS,
}

# a written example per condition; others get one made from their type
CONDITION_EXAMPLES: dict[str, str] = {
    "paid_from": "when: {paid_from: 2026-01-01}",
    "paid_to": "when: {paid_to: 2026-02-28}",
    "paid_in_main_window": "when: {paid_in_main_window: true}",
    "groups": "when: {groups: [newborn]}",
    "identities": "when: {identities: [tekun, dibao]}",
    "born_in_benefit_year": "when: {groups: [newborn], born_in_benefit_year: true}",
    "days_since_birth": "when: {groups: [newborn], days_since_birth: {max: 90}}",
    "age_below_years": "when: {groups: [newborn], age_below_years: 1}",
    "has_event_date": "when: {groups: [veteran], has_event_date: true}",
    "days_since_event": "when: {groups: [released_prisoner], days_since_event: {max: 90}}",
    "gap_years": "when: {gap_years: {min: 1}}",
    "renewing": "when: {groups: [migrant_worker], renewing: true}",
    "any_of": "when: {any_of: [{identities: [dibao]}, {groups: [veteran]}]}",
    "event_from": "when: {groups: [employee_to_resident], event_from: 2025-10-01}",
    "event_to": "when: {groups: [employee_to_resident], event_to: 2025-12-31}",
    "within_months_of_event": "when: {groups: [employee_to_resident], within_months_of_event: 3}",
    "after_months_of_event": "when: {groups: [employee_to_resident], after_months_of_event: 3}",
    "employee_months": "when: {employee_months: {year: 2025, min: 3}}",
    "household_enrolled": "when: {groups: [newborn], household_enrolled: true}",
}

# a written example per anchor; others get `start: {anchor: X}`
ANCHOR_EXAMPLES: dict[str, str] = {
    "paid_on": "start: {anchor: paid_on, days: 1}",
    "date": "start: {anchor: date, date: 2025-09-01}",
}


@dataclass(frozen=True)
class FieldRow:
    path: str  # rules[].when.groups
    key: str
    label: str
    type_text: str
    required: bool
    default: str
    description: str
    model: str


def _unwrap(annotation):
    """(inner annotation, optional?) for `X | None`."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def literal_values(annotation) -> list[str] | None:
    annotation, _ = _unwrap(annotation)
    if typing.get_origin(annotation) is list:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    return None


def type_text(annotation) -> str:
    annotation, optional = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "取值之一：" + "、".join(str(v) for v in typing.get_args(annotation))
    if origin is list:
        return f"列表，每项为{type_text(typing.get_args(annotation)[0])}"
    if origin is dict:
        return f"键值对（键: {type_text(typing.get_args(annotation)[1])}）"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"键值对（{annotation.__name__}）"
    return {str: "文字", int: "整数", bool: "true 或 false", Decimal: "数字",
            dt.date: "日期（YYYY-MM-DD）"}.get(annotation, str(annotation))


def _model_of(annotation) -> type[BaseModel] | None:
    annotation, _ = _unwrap(annotation)
    if typing.get_origin(annotation) is list:
        annotation, _ = _unwrap(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _default_text(info: FieldInfo) -> str:
    if info.is_required():
        return ""
    default = info.get_default(call_default_factory=True)
    if default is None:
        return "不写"
    if isinstance(default, bool):
        return "true" if default else "false"
    if default == [] or default == {}:
        return "空"
    return str(default)


def schema_fields(model: type[BaseModel] = PolicyFile, prefix: str = "", seen=None) -> Iterator[FieldRow]:
    """Every key of a policy file, depth first, each model's keys once (Condition under any_of is not repeated)."""
    seen = set() if seen is None else seen
    seen.add(model)
    for key, info in model.model_fields.items():
        path = f"{prefix}{key}"
        child = _model_of(info.annotation)
        is_list = typing.get_origin(_unwrap(info.annotation)[0]) is list
        yield FieldRow(
            path=path, key=key, label=field_label(key, info.description, model.__name__),
            type_text=type_text(info.annotation), required=info.is_required(), default=_default_text(info),
            description=info.description or "", model=model.__name__,
        )
        if child is not None and child not in seen:
            yield from schema_fields(child, f"{path}{'[]' if is_list else ''}.", seen)


def case_fields() -> Iterator[FieldRow]:
    """Every key of a cases file (<policy-id>.cases.yaml)."""
    from yibao.policy.cases import CaseFile

    return schema_fields(CaseFile)


def _example_value(annotation) -> str:
    annotation, _ = _unwrap(annotation)
    values = literal_values(annotation)
    if typing.get_origin(annotation) is list:
        inner = typing.get_args(annotation)[0]
        return f"[{_example_value(inner)}]"
    if values:
        return values[0]
    model = _model_of(annotation)
    if model is not None:
        keys = [k for k in model.model_fields][:2]
        return "{" + ", ".join(f"{k}: {_example_value(model.model_fields[k].annotation)}" for k in keys) + "}"
    return {str: "文字", int: "3", bool: "true", Decimal: "100", dt.date: "2026-01-01"}.get(annotation, "…")


def conditions() -> list[dict]:
    rows = []
    for key, info in Condition.model_fields.items():
        rows.append({
            "key": key, "name": field_label(key, info.description, "Condition"), "type": type_text(info.annotation),
            "description": info.description or "", "example": CONDITION_EXAMPLES.get(
                key, f"when: {{{key}: {_example_value(info.annotation)}}}"),
        })
    return rows


def anchors() -> list[dict]:
    names = VALUE_NAMES["anchor"]
    return [{"code": code, "name": names.get(code, code),
             "example": ANCHOR_EXAMPLES.get(code, f"start: {{anchor: {code}}}")}
            for code in literal_values(BenefitStart.model_fields["anchor"].annotation)]


def settings() -> list[dict]:
    """Every key with a fixed set of values (other than anchor), the places it is written, and its values."""
    rows: dict[tuple, dict] = {}
    for row in schema_fields():
        info = _field_info(row)
        values = literal_values(info.annotation) if info else None
        if not values or row.key == "anchor":
            continue
        found = rows.get((row.key, tuple(values)))
        if found:
            found["where"].append(row.path)
            continue
        names = VALUE_NAMES.get(row.key, {})
        is_list = typing.get_origin(_unwrap(info.annotation)[0]) is list
        rows[(row.key, tuple(values))] = {
            "key": row.key, "name": row.label, "where": [row.path],
            "values": [{"code": v, "name": names.get(v, v)} for v in values],
            "example": f"{row.key}: [{values[0]}]" if is_list else f"{row.key}: {values[0]}",
        }
    return list(rows.values())


def _field_info(row: FieldRow) -> FieldInfo | None:
    from yibao.policy import schema

    model = getattr(schema, row.model, None)
    return model.model_fields.get(row.key) if model else None


def identities() -> list[dict]:
    return [{"code": i.code, "name": i.name, "aliases": [a for a in i.aliases if a != i.name],
             "department": i.department, "kind_of": i.kind_of,
             "example": f"identities: [{i.code}]"} for i in IDENTITIES]


def groups() -> list[dict]:
    return [{"code": code, "name": name,
             "aliases": [a for a, target in GROUP_ALIASES.items() if target == code and a != name],
             "example": f"when: {{groups: [{code}]}}"} for code, name in GROUPS.items()]


def checklist_items() -> list[dict]:
    return [{"code": code, "name": name, "example": f"checklist: [{{item: {code}, reason: 通知未涉及}}]"}
            for code, name in CHECKLIST_ITEMS.items()]


def vocabulary() -> dict:
    return {"identities": identities(), "groups": groups(), "conditions": conditions(), "anchors": anchors(),
            "settings": settings(), "checklist": checklist_items()}
