"""`yibao remind mark`: the 催缴 outcome of one person, or of the file a village sends back
(身份证号码、标记、说明), through the same service as the 催缴 page, recorded for undo."""

from __future__ import annotations

from pathlib import Path

import typer

from yibao.cli.common import (USER_HELP, cli_operator, django_setup, emit_json, fail, operator_scope, refusal_text,
                              year_option)
from yibao.cli.progress import remind_app

KEY = "身份证号码"
FIELDS = {"outcome": "标记", "note": "说明"}


class RowError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _mark(text: str) -> str:
    """The outcome code of a 标记 cell: the code or the label (已 may be left off)."""
    from yibao.progress.models import RemindMark

    value = (text or "").strip()
    for code, label in RemindMark.Outcome.choices:
        if value in (code, label, label.removeprefix("已")):
            return code
    raise RowError("标记", f"标记应为 已联系、拒缴、已迁出、已死亡 或 已参加职工医保，收到：{value or '（空）'}")


def _one(person: str, mark: str, note: str, *, actor, scope, year: int | None) -> dict:
    from django.core.exceptions import PermissionDenied, ValidationError

    from yibao.cli.people import PersonNotFound, find_resident
    from yibao.progress import services
    from yibao.progress.models import RemindMark
    from yibao.progress.selectors import benefit_year_default
    from yibao.registry.undo import status_change_apply

    try:
        resident = find_resident(person, scope=scope)
    except PersonNotFound as exc:
        raise RowError(KEY, str(exc)) from None
    outcome = _mark(mark)
    note = (note or "").strip()
    year = year or benefit_year_default(resident.county_code)
    if not year:
        raise RowError("", f"{resident.county_code} 还没有征缴年度，请用 --year 指定")
    label = RemindMark.Outcome(outcome).label
    out = {"resident_id": resident.pk, "name": resident.name, "id_number": scope.show_id(resident.id_number),
           "benefit_year": year, "outcome": outcome, "note": note, "undo_change_id": None}
    last = RemindMark.objects.filter(resident=resident, benefit_year=year).order_by("-marked_at", "-pk").first()
    # a record (已联系、拒缴) with another 说明 is a new record; a closing mark once made stays as it is
    if last is not None and last.outcome == outcome and (outcome not in RemindMark.RECORDS or last.note == note):
        return out | {"result": "unchanged", "message": f"已是{label}", "effects": []}
    try:
        mark_row, change = status_change_apply(
            actor=actor, resident=resident, kind="remind_mark", capability="remind.mark",
            title=f"{resident.name} 已标记为{label}",
            do=lambda: services.remind_mark(actor=actor, resident=resident, benefit_year=year, outcome=outcome,
                                            note=note))
    except ValidationError as exc:
        keys = list(getattr(exc, "error_dict", {}) or {})
        raise RowError(FIELDS.get(keys[0], "") if keys else "", refusal_text(exc)) from None
    except PermissionDenied as exc:
        raise RowError("", refusal_text(exc)) from None
    return out | {"result": "changed", "message": f"已标记为{label}", "effects": list(mark_row.effects),
                  "undo_change_id": change.pk}


@remind_app.command("mark")
def remind_mark_command(
    person: str = typer.Argument(None, help="身份证号码或居民编号；与 --file 二选一"),
    mark: str = typer.Option("", "--mark", help="contacted 已联系、refused 拒缴、moved_away 已迁出、deceased 已死亡、"
                                                 "employee_insurance 已参加职工医保（也可写中文）"),
    note: str = typer.Option("", "--note", help="说明（除已联系外必填，拒缴须写明情况；300字以内）"),
    file: Path = typer.Option(None, "--file", help="村里交回的名单（xlsx 或 csv），列：身份证号码、标记、说明"),
    year: int = typer.Option(None, "--year", callback=year_option, help="待遇年度；不填时取该县当前年度"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象"),
):
    """标记催缴结果：已联系、拒缴只作记录（仍待催缴）；已迁出、已死亡、已参加职工医保同时暂停或终止参保、变更户籍；
    同一标记再次提交时不变。"""
    django_setup()
    from yibao.cli.sheets import read_rows

    if bool(person) == bool(file):
        fail("请指定一个人（身份证号码或居民编号），或用 --file 指定村里交回的名单，二者选一。")
    if person and not mark:
        fail("请用 --mark 指定标记。")
    actor = cli_operator(user)
    scope = operator_scope(actor)
    if file:
        orders = [(r.number, r.get(KEY), r.get("标记"), r.get("说明")) for r in read_rows(file, key=KEY, required=("标记",))]
    else:
        orders = [(None, person, mark, note)]
    rows = []
    for number, who, what, text in orders:
        try:
            rows.append({"row": number, **_one(who, what, text, actor=actor, scope=scope, year=year)})
        except RowError as exc:
            where = f"第{number}行" if number else ""
            field = f"“{exc.field}”" if exc.field else ""
            rows.append({"row": number, "result": "error", "field": exc.field,
                         "message": f"{where}{field}{'：' if where or field else ''}{exc.message}"})
    counts = {k: sum(1 for r in rows if r["result"] == k) for k in ("changed", "unchanged", "error")}
    if as_json:
        emit_json({**counts, "rows": rows})
    else:
        for r in rows:
            if r["result"] == "error":
                typer.echo(f"错误：{r['message']}", err=True)
                continue
            effects = f"（{'；'.join(r['effects'])}）" if r["effects"] else ""
            undo = f"（撤销：yibao undo {r['undo_change_id']}）" if r["undo_change_id"] else ""
            head = "已标记" if r["result"] == "changed" else "未变"
            typer.echo(f"{head}：{r['name']} {r['id_number']} {r['message']}{effects}{undo}")
        if file:
            typer.echo(f"共 {len(rows)} 行：已标记 {counts['changed']}，未变 {counts['unchanged']}，有误 {counts['error']}",
                       err=True)
    if counts["error"]:
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """The command hangs on `yibao remind` (cli/progress.py registers the group)."""
