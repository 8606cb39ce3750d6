"""`yibao flags resolve FLAG_ID`: resolve a 重复参保 or 职工医保 flag, as the flags page does."""

from __future__ import annotations

import typer

from yibao.cli.common import USER_HELP, cli_operator, django_setup, emit_json, fail, operator_scope, refusal_text

flags_app = typer.Typer(help="重复参保、职工医保标记：处理", no_args_is_help=True)
OUTCOME_WORDS = {"核实无重复": "cleared", "无重复": "cleared", "可以参保": "cleared", "确认重复": "confirmed", "重复": "confirmed"}


def _outcome(text: str) -> str:
    from yibao.registry.models import Flag

    value = (text or "").strip()
    for code, label in Flag.Outcome.choices:
        if value in (code, label):
            return code
    if value in OUTCOME_WORDS:
        return OUTCOME_WORDS[value]
    fail(f"--outcome 应为 cleared（核实无重复，可以参保）或 confirmed（确认重复），收到：{value or '（空）'}")


def _out(scope, flag) -> dict:
    return {"id": flag.pk, "kind": flag.kind, "kind_label": flag.get_kind_display(), "resident_id": flag.resident_id,
            "name": flag.resident.name, "id_number": scope.show_id(flag.resident.id_number), "outcome": flag.outcome,
            "outcome_label": flag.get_outcome_display(), "resolution": flag.resolution, "resolved_at": flag.resolved_at,
            "resolved_by": flag.resolved_by_name}


@flags_app.command("resolve")
def flags_resolve_command(
    flag_id: int = typer.Argument(..., help="标记编号（标记页面、API 的 id）"),
    outcome: str = typer.Option(..., "--outcome", help="cleared 核实无重复（解除限制），confirmed 确认重复（保持限制）"),
    reason: str = typer.Option(..., "--reason", help="处理依据（如：已核实职工医保于2023年6月停保），300字以内"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象"),
):
    """处理重复参保（其他县已登记）或已参加职工医保的标记：核实无重复则解除参保限制。再次处理同一结论时不变。"""
    django_setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from yibao.registry.models import Flag
    from yibao.registry.services import flag_resolve

    code = _outcome(outcome)
    actor = cli_operator(user)
    scope = operator_scope(actor)
    if not scope.can("registry.resolve_flags"):
        fail(f"账号 {user} 无权处理重复参保标记。")
    flag = scope.filter(Flag.objects.select_related("resident"), prefix="resident__").filter(pk=flag_id).first()
    if flag is None:
        fail(f"未找到标记 #{flag_id}，或不在当前账号的管辖范围内。")
    changed = flag.resolved_at is None
    if not changed and flag.outcome != code:
        fail(f"标记 #{flag_id} 已由{flag.resolved_by_name}处理为“{flag.get_outcome_display()}”，不能改为另一结论。")
    if changed:
        try:
            flag = flag_resolve(actor=actor, flag=flag, outcome=code, resolution=reason)
        except (ValidationError, PermissionDenied) as exc:
            fail(refusal_text(exc))
    if as_json:
        emit_json({**_out(scope, flag), "changed": changed})
        return
    head = "已处理" if changed else "未变（此前已处理）"
    typer.echo(f"{head}：#{flag.pk} {flag.resident.name} {flag.get_kind_display()} → {flag.get_outcome_display()}")


def register(app: typer.Typer) -> None:
    app.add_typer(flags_app, name="flags")
