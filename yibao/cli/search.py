"""`yibao find Q`: the top bar's search from the command line (ID number or its last digits, name, 户号, 票据号, 缴费流水号)."""

from __future__ import annotations

import typer

from yibao.cli.common import cli_actor, django_setup, emit_json, fail


def find(
    q: str = typer.Argument(..., help="身份证号（完整或尾号4位以上）、姓名（完整或开头）、户号、票据号或缴费流水号"),
    region: str = typer.Option("", "--region", help="只在该区划（县6位、乡镇9位或村12位代码）内查找；默认全部"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="每类最多列出几条"),
    as_json: bool = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象"),
):
    """查找参保人、家庭户、票据和缴费（命令行显示完整身份证号码）。"""
    django_setup()
    from yibao.accounts.roles import Role
    from yibao.accounts.scope import LEVEL_FIELD, Scope
    from yibao.core.search import search_everything

    region = region.strip()
    if region and not (region.isdigit() and len(region) in LEVEL_FIELD):
        fail(f"区划代码“{region}”无效：应为6位（县）、9位（乡镇）或12位（村）数字。")
    if region:
        scope = Scope(role=Role.COUNTY_ADMIN, region_code=region, username=cli_actor())
    else:
        scope = Scope(role=Role.COUNTY_ADMIN, region_code="", superuser=True, username=cli_actor())
    result = search_everything(scope, q, limit=limit)
    if result.hint:
        fail(result.hint)
    best = result.best
    if as_json:
        emit_json({"q": result.q, "best": best.as_dict() if best else None, "results": [h.as_dict() for h in result.hits],
                   "truncated": result.truncated})
        return
    if not result.hits:
        typer.echo(f"没有找到“{result.q}”。")
        raise typer.Exit(1)
    for label, hits in result.groups():
        typer.echo(f"{label}：")
        for h in hits:
            mark = "（最佳匹配）" if h is best else ""
            typer.echo(f"  #{h.pk} {h.title}  {h.detail}  {h.village}  匹配：{h.matched}{mark}")
    if result.truncated:
        typer.echo(f"（结果较多，每类只列出前 {limit} 条）")


def register(app: typer.Typer) -> None:
    app.command("find")(find)
