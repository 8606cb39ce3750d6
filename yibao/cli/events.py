"""CLI of the change log: `yibao events list`, `yibao events export --out FILE` (the page's filters)."""

from __future__ import annotations

from typing import Optional

import typer

from yibao.cli.common import django_setup, emit_json, fail

events_app = typer.Typer(help="变更记录：按参保人、操作人、动作、日期查看或导出（审计）", no_args_is_help=True)

PERSON = typer.Option(None, "--person", help="参保人：姓名、身份证号码或参保人编号")
USER = typer.Option(None, "--user", help="操作人：姓名或用户名")
ACTION = typer.Option(None, "--action", help="动作，如 payment.booked（yibao events actions 列出全部）")
FROM = typer.Option(None, "--from", help="起始日期 YYYY-MM-DD")
TO = typer.Option(None, "--to", help="截止日期 YYYY-MM-DD（含当天）")
COUNTY = typer.Option(None, "--county", help="只看这个县（县级区划代码）；不指定时为全部县")


def _scope(county: str | None):
    from yibao.accounts.scope import Scope

    if county and not (county.isdigit() and len(county) == 6):
        fail(f"--county 应为6位县级区划代码，收到：{county}")
    # the command line reads as the county administrator of the county (or of every county)
    return Scope(role="county_admin", region_code=county or "", username="cli", superuser=not county)


def _filtered(person, user, action, date_from, date_to, county):
    from yibao.core.eventlog import event_filters
    from yibao.core.inputs import BadInput
    from yibao.core.selectors import event_list

    scope = _scope(county)
    try:
        filters = event_filters({"person": person, "user": user, "action": action, "from": date_from, "to": date_to})
    except BadInput as exc:
        fail(exc.message)
    return scope, event_list(scope=scope, **filters)


@events_app.command("list")
def events_list(person: Optional[str] = PERSON, user: Optional[str] = USER, action: Optional[str] = ACTION,
                date_from: Optional[str] = FROM, date_to: Optional[str] = TO, county: Optional[str] = COUNTY,
                limit: int = typer.Option(50, "--limit", help="最多列出多少条（最新的在前）"),
                as_json: bool = typer.Option(False, "--json", help="在标准输出打印 JSON")):
    """变更记录（中文句子，身份证号码脱敏）。"""
    django_setup()
    from django.utils import timezone

    from yibao.core.eventtext import event_rows

    _scope_, events = _filtered(person, user, action, date_from, date_to, county)
    rows = event_rows(events[:max(1, min(limit, 10_000))])
    if as_json:
        emit_json({"count": len(rows), "items": [
            {"id": r["event"].pk, "at": r["at"], "actor": r["actor"], "role": r["role"], "region": r["region"],
             "action": f"{r['event'].entity}.{r['event'].action}", "action_label": r["action"],
             "sentence": r["sentence"], "reason": r["reason"], "request_id": r["request_id"]} for r in rows]})
        return
    for r in rows:
        reason = f"（原因：{r['reason']}）" if r["reason"] else ""
        typer.echo(f"{timezone.localtime(r['at']):%Y-%m-%d %H:%M} {r['sentence']}{reason}")
    if not rows:
        typer.echo("没有符合条件的变更记录。", err=True)


@events_app.command("export")
def events_export_command(out: str = typer.Option(..., "--out", help="写入的 xlsx 文件"),
                          person: Optional[str] = PERSON, user: Optional[str] = USER, action: Optional[str] = ACTION,
                          date_from: Optional[str] = FROM, date_to: Optional[str] = TO,
                          county: Optional[str] = COUNTY,
                          as_json: bool = typer.Option(False, "--json", help="在标准输出打印 JSON")):
    """把变更记录导出为审计用 xlsx（时间、操作人、角色、区划、动作、变更内容、原因、请求编号）。"""
    django_setup()
    from yibao.cli.common import cli_actor
    from yibao.core.eventlog import county_title, events_export
    from yibao.core.services import event_record

    _scope_, events = _filtered(person, user, action, date_from, date_to, county)
    try:
        count = events_export(events=events, path=out, title=f"变更记录 {county_title(county or '')}")
    except OSError as exc:
        fail(f"无法写入 {out}：{exc.strerror or exc}")
    event_record(county_code=county or "", entity="export", entity_id="events", action="export", actor=cli_actor(),
                 after={"rows": count, "file": out}, reason="导出变更记录")
    if as_json:
        emit_json({"rows": count, "file": out})
    else:
        typer.echo(f"已导出 {count} 条变更记录到 {out}")


@events_app.command("actions")
def events_actions(as_json: bool = typer.Option(False, "--json", help="在标准输出打印 JSON")):
    """可筛选的动作及其中文名称。"""
    from yibao.core.eventtext import ACTION_LABELS

    if as_json:
        emit_json(ACTION_LABELS)
        return
    for key, label in ACTION_LABELS.items():
        typer.echo(f"{key}\t{label}")


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")
