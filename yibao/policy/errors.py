"""Validation errors a clerk can act on: Chinese, with the YAML line and the path as a person counts.

pydantic reports `rules.2.when` and "Extra inputs are not permitted"; this turns each error into
"第12行，第3条规则的“条件”（when）：未知的字段“gruops”……最接近的是“groups”". Lines come from the
YAML node marks (PyYAML compose), the names from fieldnames.py, the valid choices from the schema.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from dataclasses import dataclass

import yaml
from pydantic import BaseModel, ValidationError

from yibao.policy.fieldnames import FIELD_LABELS, ITEM_NOUNS, field_label


@dataclass(frozen=True)
class Issue:
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = [f"第{self.line}行"] if self.line else []
        if self.path:
            where.append(self.path)
        return f"{'，'.join(where)}：{self.message}" if where else self.message

    def as_json(self) -> dict:
        return {"line": self.line, "path": self.path, "message": self.message}


def nearest(word: str, choices: typing.Iterable[str]) -> str | None:
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.5)
    return found[0] if found else None


def choices_text(choices: list[str], word: str | None = None, names: dict[str, str] | None = None) -> str:
    """"可写：a、b、c；最接近的是“b”" — the valid values and, when one is close, the nearest."""
    shown = [f"{c}（{names[c]}）" if names and c in names else c for c in choices]
    text = "可写：" + "、".join(shown)
    close = nearest(word, choices) if word is not None else None
    if close:
        text += f"；最接近的是“{close}”"
    return text


class YamlLoader(yaml.SafeLoader):
    """SafeLoader that keeps an impossible date (2025-02-30) as text, so validation names it."""


def _timestamp_or_text(loader: YamlLoader, node: yaml.Node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


YamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def load_yaml(text: str | bytes):
    return yaml.load(text, Loader=YamlLoader)  # noqa: S506 - a SafeLoader subclass


# ---- where: YAML lines -------------------------------------------------------------------------

def compose(text: str | bytes) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None


def line_of(node: yaml.Node | None, loc: tuple) -> int | None:
    """The 1-based line of the deepest node `loc` reaches (a key's own line when it is the last part)."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                continue  # a union tag or a missing key: stay on the mapping
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


# ---- what: models along the path ---------------------------------------------------------------

def _inner_model(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found:
                return found
    return None


def model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model that holds the last key of `loc` (list indexes and union tags are stepped over)."""
    model = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        if field is None:
            continue
        model = _inner_model(field.annotation)
    return model


def describe_loc(loc: tuple, root: type[BaseModel] | None = None) -> str:
    """('rules', 2, 'when', 'groups') → 第3条规则的“条件”的“参保群体”（rules[3].when.groups）."""
    words: list[str] = []
    keys: list[str] = []
    previous = None
    for i, part in enumerate(loc):
        if isinstance(part, int):
            keys[-1:] = [f"{keys[-1]}[{part + 1}]"] if keys else [f"[{part + 1}]"]
            noun = ITEM_NOUNS.get(previous)
            if noun and words:
                words[-1] = f"第{part + 1}{noun}"
            else:
                words.append(f"第{part + 1}项")
            previous = part
            continue
        if not _is_key(str(part)):
            continue
        holder = model_at(root, loc[:i]) if root is not None else None
        field = holder.model_fields.get(part) if holder else None
        if holder is not None and field is None and i < len(loc) - 1:
            continue  # a union member's tag ('int', 'date'), not a key of the file
        keys.append(str(part))
        label = field_label(str(part), field.description if field else None, holder.__name__ if holder else None)
        words.append(f"“{label}”")
        previous = part
    if not words:
        return ""
    return f"{'的'.join(words)}（{'.'.join(keys)}）"


def _is_key(part: str) -> bool:
    """False for the union tags pydantic puts into a path (e.g. 'list[Condition]')."""
    return "[" not in part and not part.startswith("function-")


# ---- what went wrong ---------------------------------------------------------------------------

_QUOTED = re.compile(r"'([^']*)'")
_PATTERN_HINTS = {
    "region_prefix": "应为4位（市）或6位（县）区划代码数字，并加引号，如 \"340321\"",
    "id": "只能用小写字母、数字和下划线，如 main_window",
}


def _value_text(value) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "…"


def translate(error: dict, root: type[BaseModel]) -> str:
    kind, loc, ctx = error["type"], tuple(error["loc"]), error.get("ctx") or {}
    value = error.get("input")
    key = next((p for p in reversed(loc) if isinstance(p, str)), "")
    if kind == "extra_forbidden":
        holder = model_at(root, loc[:-1])
        allowed = list(holder.model_fields) if holder else []
        labelled = {FIELD_LABELS.get(k, k): k for k in allowed}
        if key in labelled:
            return f"未知的字段“{key}”：字段名要写英文键“{labelled[key]}”"
        return f"未知的字段“{key}”。这里{choices_text(allowed, key)}"
    if kind == "missing":
        return f"缺少必填字段“{key}”（{field_label(key)}）"
    if kind == "literal_error":
        expected = _QUOTED.findall(ctx.get("expected", ""))
        return f"“{_value_text(value)}”不是可用的取值。{choices_text(expected, str(value))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"应为整数，实际写的是“{_value_text(value)}”"
    if kind in ("decimal_parsing", "decimal_type", "decimal_max_digits", "decimal_max_places", "float_parsing"):
        return f"应为数字（金额写阿拉伯数字，如 400 或 12.5），实际写的是“{_value_text(value)}”"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"应为日期，写作 2025-01-01，实际写的是“{_value_text(value)}”"
    if kind in ("bool_parsing", "bool_type"):
        return f"应为 true 或 false，实际写的是“{_value_text(value)}”"
    if kind in ("string_type",):
        return f"应为一段文字，实际写的是“{_value_text(value)}”"
    if kind == "list_type":
        return "应为列表（每项另起一行以“- ”开头，或写成 [a, b]）"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "应为键值对（每行“键: 值”，下一级缩进两格）"
    if kind == "greater_than":
        return f"应大于 {ctx.get('gt')}，实际为 {_value_text(value)}"
    if kind == "greater_than_equal":
        return f"应不小于 {ctx.get('ge')}，实际为 {_value_text(value)}"
    if kind == "less_than":
        return f"应小于 {ctx.get('lt')}，实际为 {_value_text(value)}"
    if kind == "less_than_equal":
        return f"应不大于 {ctx.get('le')}，实际为 {_value_text(value)}"
    if kind == "too_short":
        return f"至少要有 {ctx.get('min_length')} 项"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind == "string_too_short":
        return f"至少要写 {ctx.get('min_length')} 个字"
    if kind == "string_too_long":
        return f"最多 {ctx.get('max_length')} 个字"
    if kind == "string_pattern_mismatch":
        return f"“{_value_text(value)}”格式不对：{_PATTERN_HINTS.get(key, '格式为 ' + str(ctx.get('pattern')))}"
    if kind in ("value_error", "assertion_error"):
        return error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"取值“{_value_text(value)}”不合法（{kind}）"


def _scalars(node: yaml.Node | None):
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            yield from _scalars(child)
    elif isinstance(node, yaml.MappingNode):
        for _key, value in node.value:
            yield from _scalars(value)


def _line_of_named_value(node: yaml.Node | None, message: str) -> int | None:
    """For a check of the whole file: the line of the value its message names (a label, an id)."""
    head = message.split("：")[0]
    named = [s for s in _scalars(node) if len(s.value) >= 2 and (s.value == head or
                                                                 (len(s.value) >= 4 and s.value in message))]
    if not named:
        return None
    # the most specific value; among equals the last (a repeated id is reported where it repeats)
    best = max(enumerate(named), key=lambda pair: (pair[1].value == head, len(pair[1].value), pair[0]))[1]
    return best.start_mark.line + 1


def issues_from(exc: ValidationError, root: type[BaseModel], node: yaml.Node | None) -> list[Issue]:
    issues = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        message = translate(e, root)
        line = line_of(node, loc) if loc else _line_of_named_value(node, message)
        issues.append(Issue(line=line, path=describe_loc(loc, root), message=message))
    return issues


_YAML_PROBLEMS = {
    "mapping values are not allowed here": "这里不能出现“键: 值”：多半是冒号后少了空格、缩进不齐，或文字中的冒号要用引号括起",
    "could not find expected ':'": "缺少冒号“:”（每行写作“键: 值”）",
    "found character '\\t' that cannot start any token": "不能用 Tab 缩进，请用空格",
    "did not find expected key": "缩进不齐：同一层的键要对齐",
    "did not find expected '-' indicator": "列表的缩进不齐：每项的“- ”要对齐",
    "found undefined alias": "用到了未定义的锚点（&名称）",
    "found duplicate anchor": "锚点（&名称）重复",
    "while scanning a quoted scalar": "引号没有配对",
    "found unexpected end of stream": "文件意外结束：引号或括号没有配对",
    "expected ',' or ']'": "方括号列表没有闭合，或项之间少了逗号",
    "expected ',' or '}'": "花括号没有闭合，或项之间少了逗号",
}


def yaml_error_issue(exc: yaml.YAMLError) -> Issue:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or ""
    context = getattr(exc, "context", None) or ""
    message = next((text for english, text in _YAML_PROBLEMS.items() if english in problem or english in context),
                   "YAML 格式错误（检查缩进、冒号后的空格和引号）")
    return Issue(line=mark.line + 1 if mark else None, path="", message=message)


def format_issues(issues: list[Issue]) -> str:
    return "\n".join(f"  {issue}" for issue in issues)
