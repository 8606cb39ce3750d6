"""`yibao policy vocabulary|reference|new|diff`: writing next year's policy file from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from yibao.cli.common import emit_json, fail


def vocabulary_command(as_json: bool = typer.Option(False, "--json", help="输出 JSON")):
    """列出政策文件可用的身份、群体、条件、起算点和设置，附中文名、别名和例子。"""
    from yibao.policy.catalog import vocabulary

    data = vocabulary()
    if as_json:
        emit_json(data)
        return
    typer.echo("资助身份（identities）：")
    for i in data["identities"]:
        aliases = f"；别名 {'、'.join(i['aliases'])}" if i["aliases"] else ""
        typer.echo(f"  {i['code']}\t{i['name']}（{i['department']}{aliases}）\t例：{i['example']}")
    typer.echo("参保群体（groups）：")
    for g in data["groups"]:
        aliases = f"（别名 {'、'.join(g['aliases'])}）" if g["aliases"] else ""
        typer.echo(f"  {g['code']}\t{g['name']}{aliases}\t例：{g['example']}")
    typer.echo("条件（规则的 when，各项同时成立）：")
    for c in data["conditions"]:
        typer.echo(f"  {c['key']}\t{c['name']}（{c['type']}）\t例：{c['example']}")
    typer.echo("起算点（规则的 start.anchor）：")
    for a in data["anchors"]:
        typer.echo(f"  {a['code']}\t{a['name']}\t例：{a['example']}")
    typer.echo("取值固定的设置：")
    for s in data["settings"]:
        values = "；".join(f"{v['code']} {v['name']}" for v in s["values"])
        typer.echo(f"  {s['key']}\t{s['name']}：{values}\t例：{s['example']}")
    typer.echo("通知清单（checklist）：")
    for item in data["checklist"]:
        typer.echo(f"  {item['code']}\t{item['name']}")


def reference_command(
    check: bool = typer.Option(False, "--check", help="只检查 docs/policy.md 是否最新，过期时退出码 1"),
):
    """由政策文件的结构生成 docs/policy.md 中的字段参考与词汇表。"""
    from yibao.policy import docgen

    if check:
        if not docgen.is_current():
            fail("docs/policy.md 的字段参考已过期：运行 yibao policy reference", code=1)
        typer.echo("docs/policy.md 的字段参考是最新的。")
        return
    typer.echo("已更新 docs/policy.md" if docgen.write() else "docs/policy.md 已是最新")


def new_command(
    source: str = typer.Option(..., "--from", help="上一年的政策编号，如 anhui-huaiyuan-2025"),
    new_id: str = typer.Option(..., "--id", help="新政策编号，如 anhui-huaiyuan-2026"),
    year: Optional[int] = typer.Option(None, "--year", help="新的待遇年度，默认上一年加1"),
    out: Path = typer.Option(Path("."), "--out", help="写入的目录，默认当前目录"),
    force: bool = typer.Option(False, "--force", help="覆盖已存在的同名文件"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
):
    """从上一年的政策文件和用例生成新年度的起始文件：日期顺延、标为待复核。"""
    from yibao.policy.loader import PolicyNotFound, cases_path_for
    from yibao.policy.yearnew import PolicyNewError, policy_new

    try:
        path = policy_new(source_id=source, new_id=new_id, year=year, folder=out, overwrite=force)
    except (PolicyNotFound, PolicyNewError) as exc:
        fail(str(exc).strip("'\""))
    cases = cases_path_for(path)
    if as_json:
        emit_json({"policy_file": str(path), "cases_file": str(cases) if cases.exists() else None})
        return
    typer.echo(f"已写入 {path}" + (f" 和 {cases}" if cases.exists() else ""))
    typer.echo("日期已顺延、金额沿用上年，行尾标“# 待复核”；文件末尾的 review: 列出要核对的事项，")
    typer.echo(f"逐条核对新通知后删去，再运行 yibao policy check {path}")


def diff_command(
    before: str = typer.Argument(..., help="原政策：政策编号或文件路径"),
    after: str = typer.Argument(..., help="新政策：政策编号或文件路径"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
):
    """比较两项政策（如上一年与今年）：金额、征缴期、资助、规则的增删改。"""
    from yibao.policy.diff import diff_sections, policy_diff
    from yibao.policy.loader import PolicyFileError, PolicyNotFound, load_policy, load_policy_file

    def load(text: str):
        return load_policy_file(text) if Path(text).is_file() else load_policy(text)

    try:
        a, b = load(before), load(after)
    except (PolicyNotFound, PolicyFileError) as exc:
        fail(str(exc).strip("'\""))
    changes = policy_diff(a, b)
    if as_json:
        emit_json({"before": a.id, "after": b.id, "changes": [c.as_json() for c in changes]})
        return
    typer.echo(f"{a.id} → {b.id}：{len(changes)} 处不同")
    for section, items in diff_sections(changes):
        typer.echo(f"{section}：")
        for change in items:
            typer.echo(f"  · {change.text}")


def register_authoring(policy_app: typer.Typer) -> None:
    policy_app.command("vocabulary")(vocabulary_command)
    policy_app.command("reference")(reference_command)
    policy_app.command("new")(new_command)
    policy_app.command("diff")(diff_command)
