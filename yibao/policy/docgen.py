"""The generated part of docs/policy.md: every key of a policy file and the vocabulary, read from
the schema (schema.py), the names (fieldnames.py) and the words (vocabulary.py).

    python -m yibao.policy.docgen          # rewrite the part between the markers
    python -m yibao.policy.docgen --check  # exit 1 when docs/policy.md is out of date

`yibao policy reference` does the same. A test fails when the file is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from yibao.policy import catalog
from yibao.policy.fieldnames import FIELD_HELP

DOC = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
BEGIN = "<!-- 以下由 python -m yibao.policy.docgen 生成，不要手改 -->"
END = "<!-- 生成部分结束 -->"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def reference_markdown() -> str:
    out = ["### 字段参考", "",
           "政策文件的每一个键。路径中的 `[]` 表示列表的每一项。“必填”为空的可以不写，不写时取“默认”。", ""]
    section = None
    rows = list(catalog.schema_fields())
    nested = {r.path.split(".")[0].split("[")[0] for r in rows if "." in r.path}
    rows.sort(key=lambda r: r.path.split(".")[0].split("[")[0] in nested)  # the file head first (stable)
    for row in rows:
        top = row.path.split(".")[0].split("[")[0]
        heading = top if top in nested else ""
        if heading != section:
            section = heading
            title = f"{row.label}（`{top}`）" if heading else "文件头"
            out += ["", f"#### {title}", "",
                    "| 键 | 中文名 | 类型 | 必填 | 默认 | 说明 |", "|---|---|---|---|---|---|"]
        description = row.description or FIELD_HELP.get(f"{row.model}.{row.key}") or FIELD_HELP.get(row.key, "")
        out.append(f"| `{row.path}` | {_cell(row.label)} | {_cell(row.type_text)} | {'是' if row.required else ''} "
                   f"| {_cell(row.default)} | {_cell(description)} |")
    out += ["", "#### 用例文件（`<政策编号>.cases.yaml`）", "",
            "用例文件的每一个键；括号里是 `yibao quote` 的同义选项。`expect` 只核对写出的键。", "",
            "| 键 | 中文名 | 类型 | 必填 | 默认 | 说明 |", "|---|---|---|---|---|---|"]
    for row in catalog.case_fields():
        description = row.description or FIELD_HELP.get(f"{row.model}.{row.key}") or FIELD_HELP.get(row.key, "")
        out.append(f"| `{row.path}` | {_cell(row.label)} | {_cell(row.type_text)} | {'是' if row.required else ''} "
                   f"| {_cell(row.default)} | {_cell(description)} |")
    out += ["", "### 词汇表", "", "`yibao policy vocabulary`（`--json`）和页面“缴费政策 → 词汇表”列出同样的内容。", ""]
    out += ["#### 资助身份（`identities`、`requires_any_of`）", "", "| 代码 | 名称 | 别名 | 名单来源 | 例 |", "|---|---|---|---|---|"]
    for i in catalog.identities():
        kind_of = f"（属 {i['kind_of']}）" if i["kind_of"] else ""
        out.append(f"| `{i['code']}` | {i['name']}{kind_of} | {_cell('、'.join(i['aliases']))} | {i['department']} "
                   f"| `{i['example']}` |")
    out += ["", "#### 参保群体（`groups`、`exempt_groups`）", "", "| 代码 | 名称 | 别名 | 例 |", "|---|---|---|---|"]
    for g in catalog.groups():
        out.append(f"| `{g['code']}` | {g['name']} | {_cell('、'.join(g['aliases']))} | `{g['example']}` |")
    out += ["", "#### 条件（规则的 `when`）", "", "写出的各项同时成立；`any_of` 中任一成立。", "",
            "| 键 | 名称 | 类型 | 例 |", "|---|---|---|---|"]
    for c in catalog.conditions():
        out.append(f"| `{c['key']}` | {_cell(c['name'])} | {_cell(c['type'])} | `{_cell(c['example'])}` |")
    out += ["", "#### 起算点（规则的 `start.anchor`）", "", "| 代码 | 含义 | 例 |", "|---|---|---|"]
    for a in catalog.anchors():
        out.append(f"| `{a['code']}` | {_cell(a['name'])} | `{a['example']}` |")
    out += ["", "#### 取值固定的设置", "", "| 键 | 名称 | 取值 | 写在 | 例 |", "|---|---|---|---|---|"]
    for s in catalog.settings():
        values = "；".join(f"`{v['code']}` {v['name']}" for v in s["values"])
        where = "、".join(f"`{w}`" for w in s["where"][:3]) + ("等" if len(s["where"]) > 3 else "")
        out.append(f"| `{s['key']}` | {_cell(s['name'])} | {_cell(values)} | {where} | `{_cell(s['example'])}` |")
    out += ["", "#### 通知清单（`checklist`）", "", "| 代码 | 清单项 |", "|---|---|"]
    for item in catalog.checklist_items():
        out.append(f"| `{item['code']}` | {item['name']} |")
    return "\n".join(out) + "\n"


def updated(text: str) -> str:
    if BEGIN not in text or END not in text:
        raise SystemExit(f"docs/policy.md 中缺少标记：{BEGIN} … {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{reference_markdown()}\n{END}{tail}"


def write(path: Path = DOC) -> bool:
    """Rewrite the generated part; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    new = updated(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def is_current(path: Path = DOC) -> bool:
    text = path.read_text(encoding="utf-8")
    return updated(text) == text


def main(argv: list[str]) -> int:
    if "--check" in argv:
        if is_current():
            return 0
        print("docs/policy.md 的字段参考已过期：运行 python -m yibao.policy.docgen", file=sys.stderr)
        return 1
    print("已更新 docs/policy.md" if write() else "docs/policy.md 已是最新")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
