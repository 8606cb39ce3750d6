"""CLI of status changes that may be undone: `yibao status show ID`, `yibao status undo ID` (alias `yibao undo ID`).

The command line is one actor (命令行:<login>), or the account named by --user: it undoes the changes it
made itself, within 10 minutes.
"""

from __future__ import annotations

import typer

from yibao.cli.common import USER_HELP, cli_operator, django_setup, emit_json, fail

status_app = typer.Typer(help="状态变更（暂停、终止、迁移、催缴标记）：查看与撤销", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象")
CHANGE = typer.Argument(..., help="状态变更编号（页面撤销按钮、API 的 undo_change_id）")


def _print(change) -> None:
    from django.utils.timezone import localtime

    state = f"已于 {localtime(change.undone_at):%Y-%m-%d %H:%M} 由 {change.undone_by_name} 撤销" if change.undone_at \
        else f"由 {change.actor_name} 办理，{localtime(change.undo_until):%H:%M} 前可由其本人撤销"
    typer.echo(f"#{change.pk} {change.title}（{state}）")
    for line in change.lines:
        typer.echo(f"  - {line}")


@status_app.command("show")
def status_show(change_id: int = CHANGE, as_json: bool = JSON):
    """查看一项状态变更：改了什么、谁办的、能否撤销。"""
    django_setup()
    from yibao.registry import undo

    try:
        change = undo.status_change_get(change_id=change_id)
    except undo.UndoError as exc:
        fail(str(exc))
    if as_json:
        emit_json(undo.change_out(change))
        return
    _print(change)


@status_app.command("undo")
def status_undo(change_id: int = CHANGE, user: str = typer.Option(None, "--user", help=USER_HELP),
                as_json: bool = JSON):
    """撤销命令行（或 --user 账号）自己办理的状态变更（办理后 10 分钟内，且之后该参保人的记录未再变更）。"""
    django_setup()
    from django.core.exceptions import PermissionDenied

    from yibao.registry import undo

    try:
        change = undo.status_change_undo(change_id=change_id, actor=cli_operator(user))
    except (undo.UndoError, PermissionDenied) as exc:
        fail(str(exc))
    if as_json:
        emit_json(undo.change_out(change))
        return
    typer.echo(f"已撤销：{change.title}。")


def register(app: typer.Typer) -> None:
    app.add_typer(status_app, name="status")
    app.command("undo", help="撤销状态变更（同 yibao status undo）")(status_undo)
