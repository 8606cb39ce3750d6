"""`yibao enrollment suspend|terminate|transfer`: one person, or a file of people (row by row).

The same services as the enrollment page and API, through `status_change_apply`, so each change is
recorded for undo (`yibao undo ID`). A second run of the same file changes nothing (未变).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from yibao.cli.common import (USER_HELP, cli_operator, django_setup, emit_json, fail, operator_scope, refusal_text,
                              year_option)

enrollment_app = typer.Typer(help="参保登记：暂停、终止、县内迁移（一人，或按文件逐行办理）", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象")
PERSON = typer.Argument(None, help="身份证号码或居民编号；与 --file 二选一")
YEAR = typer.Option(..., "--year", callback=year_option, help="待遇年度，如 2025")
FILE = typer.Option(None, "--file", help="名单文件（xlsx 或 csv），每行一人")
COUNTY = typer.Option(None, "--county", help="县级区划代码（同一身份证号码在多个县登记时）")
USER = typer.Option(None, "--user", help=USER_HELP)
KEY = "身份证号码"
DONE = {"suspend": "已暂停", "terminate": "已终止", "transfer": "已迁移"}
CAUSE_WORDS = {"死亡": "death", "已死亡": "death", "参加职工医保": "employee_insurance", "职工医保": "employee_insurance",
               "已参加职工医保": "employee_insurance", "迁出本县": "moved_away", "迁出": "moved_away", "已迁出": "moved_away"}


class RowError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class Order:
    """One person's change: from the command's options or one row of the file."""
    person: str
    reason: str = ""
    cause: str = ""
    effective_on: str = ""
    to_village: str = ""
    row: int | None = None


def _cause(text: str) -> str:
    from yibao.enrollment.services import TERMINATION_CAUSES

    value = (text or "").strip()
    if value in TERMINATION_CAUSES:
        return value
    if value in CAUSE_WORDS:
        return CAUSE_WORDS[value]
    raise RowError("终止原因", f"终止原因应为 死亡、参加职工医保 或 迁出本县，收到：{value or '（空）'}")


def _enrollment(resident, year: int):
    from yibao.enrollment.models import Enrollment

    found = Enrollment.objects.filter(county_code=resident.county_code, resident=resident, benefit_year=year)
    enrollment = found.select_related("resident", "campaign").first()
    if enrollment is None:
        raise RowError(KEY, f"{resident.name} 没有{year}年度的参保登记")
    return enrollment


def _run(action: str, order: Order, *, actor, scope, year: int, county: str | None) -> dict:
    """Apply one order; returns its outcome row. Raises RowError (a field and a Chinese message)."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from yibao.cli.people import PersonNotFound, find_resident
    from yibao.core.inputs import BadInput, parse_date
    from yibao.enrollment import services
    from yibao.enrollment.api import UNDO_TITLES
    from yibao.enrollment.models import Enrollment
    from yibao.registry.undo import status_change_apply

    try:
        resident = find_resident(order.person, scope=scope, county=county)
    except PersonNotFound as exc:
        raise RowError(KEY, str(exc)) from None
    enrollment = _enrollment(resident, year)
    out = {"resident_id": resident.pk, "name": resident.name, "id_number": scope.show_id(resident.id_number),
           "enrollment_id": enrollment.pk, "benefit_year": year, "undo_change_id": None}
    reason = order.reason.strip()
    if action == "suspend":
        if enrollment.status == Enrollment.Status.SUSPENDED:
            return out | {"result": "unchanged", "message": "已是参保暂停"}
        if not reason:
            raise RowError("原因", "请填写暂停原因（如：迁往外地、在外地参保）")

        def do():
            return services.enrollment_suspend(enrollment=enrollment, actor=actor, reason=reason)
    elif action == "terminate":
        cause = _cause(order.cause)
        try:
            effective_on = parse_date(order.effective_on, label="生效日期", field="生效日期")
        except BadInput as exc:
            raise RowError("生效日期", exc.message) from None
        if enrollment.status == Enrollment.Status.TERMINATED:
            return out | {"result": "unchanged", "message": "参保关系已终止"}

        def do():
            return services.enrollment_terminate(enrollment=enrollment, cause=cause, actor=actor, reason=reason,
                                                 effective_on=effective_on)
    else:
        to_village = order.to_village.strip()
        if not (to_village.isdigit() and len(to_village) == 12):
            raise RowError("迁入村代码", f"迁入村代码应为12位村（社区）区划代码，收到：{to_village or '（空）'}")
        if resident.village_code == to_village and enrollment.village_code == to_village:
            return out | {"result": "unchanged", "message": "已在迁入村"}
        if not reason:
            raise RowError("原因", "请填写迁移原因（如：婚迁、购房迁入）")

        def do():
            return services.enrollment_transfer(enrollment=enrollment, to_village_code=to_village, actor=actor,
                                                reason=reason)
    try:
        _, change = status_change_apply(
            actor=actor, resident=resident, kind=f"enrollment_{action}", capability="enrollment.edit",
            title=f"{resident.name} {year}年度{UNDO_TITLES[f'enrollment_{action}']}", do=do)
    except (services.EnrollmentError, ValidationError, PermissionDenied) as exc:
        raise RowError("", refusal_text(exc)) from None
    enrollment.refresh_from_db()
    return out | {"result": "changed", "message": f"{DONE[action]}（{enrollment.get_status_display()}）",
                  "undo_change_id": change.pk}


def _orders(action: str, file: Path, defaults: Order) -> list[Order]:
    from yibao.cli.sheets import read_rows

    required = {"transfer": ("迁入村代码",), "terminate": (), "suspend": ()}[action]
    orders = []
    for row in read_rows(file, key=KEY, required=required):
        orders.append(Order(
            person=row.get(KEY), reason=row.get("原因") or row.get("终止原因说明") or defaults.reason,
            cause=row.get("终止原因") or defaults.cause, effective_on=row.get("生效日期") or defaults.effective_on,
            to_village=row.get("迁入村代码") or defaults.to_village, row=row.number,
        ))
    return orders


def _handle(action: str, person, file, defaults: Order, *, year: int, county, user, as_json: bool) -> None:
    django_setup()
    if bool(person) == bool(file):
        fail("请指定一个人（身份证号码或居民编号），或用 --file 指定名单文件，二者选一。")
    actor = cli_operator(user)
    scope = operator_scope(actor)
    orders = _orders(action, file, defaults) if file else [Order(**{**defaults.__dict__, "person": person})]
    rows = []
    for order in orders:
        try:
            rows.append({"row": order.row, **_run(action, order, actor=actor, scope=scope, year=year, county=county)})
        except RowError as exc:
            where = f"第{order.row}行" if order.row else ""
            field = f"“{exc.field}”" if exc.field else ""
            text = f"{where}{field}{'：' if where or field else ''}{exc.message}"
            rows.append({"row": order.row, "person": order.person and scope.show_id(order.person), "result": "error",
                         "field": exc.field, "message": text})
    counts = {k: sum(1 for r in rows if r["result"] == k) for k in ("changed", "unchanged", "error")}
    if as_json:
        emit_json({"action": action, "benefit_year": year, **counts, "rows": rows})
    else:
        for r in rows:
            if r["result"] == "error":
                typer.echo(f"错误：{r['message']}", err=True)
                continue
            undo = f"（撤销：yibao undo {r['undo_change_id']}）" if r["undo_change_id"] else ""
            label = DONE[action] if r["result"] == "changed" else "未变"
            typer.echo(f"{label}：{r['name']} {r['id_number']} {year}年度 {r['message']}{undo}")
        if file:
            typer.echo(f"共 {len(rows)} 行：{DONE[action]} {counts['changed']}，未变 {counts['unchanged']}，"
                       f"有误 {counts['error']}", err=True)
    if counts["error"]:
        raise typer.Exit(2)


@enrollment_app.command("suspend")
def suspend_command(
    person: str = PERSON, year: int = YEAR,
    reason: str = typer.Option("", "--reason", help="暂停原因；文件中“原因”列为空时用它"),
    file: Path = FILE, county: str = COUNTY, user: str = USER, as_json: bool = JSON,
):
    """参保暂停（迁往外地等）：已缴费的保留本年度待遇至年底，未缴费的释放本年度参保资格。文件列：身份证号码、原因。"""
    _handle("suspend", person, file, Order(person="", reason=reason), year=year, county=county, user=user,
            as_json=as_json)


@enrollment_app.command("terminate")
def terminate_command(
    person: str = PERSON, year: int = YEAR,
    cause: str = typer.Option("", "--cause", help="终止原因：death 死亡、employee_insurance 参加职工医保、moved_away 迁出本县"),
    effective_on: str = typer.Option("", "--effective-on", help="生效日期 YYYY-MM-DD（待遇截止）；不填时按原待遇期"),
    reason: str = typer.Option("", "--reason", help="说明"), file: Path = FILE, county: str = COUNTY, user: str = USER,
    as_json: bool = JSON,
):
    """参保终止（死亡、参加职工医保、迁出本县），户籍随之变更。文件列：身份证号码、终止原因、生效日期、原因。"""
    _handle("terminate", person, file, Order(person="", reason=reason, cause=cause, effective_on=effective_on),
            year=year, county=county, user=user, as_json=as_json)


@enrollment_app.command("transfer")
def transfer_command(
    person: str = PERSON, year: int = YEAR,
    to_village: str = typer.Option("", "--to-village", help="迁入村（社区）12位区划代码"),
    reason: str = typer.Option("", "--reason", help="迁移原因（如：婚迁、购房迁入）"), file: Path = FILE,
    county: str = COUNTY, user: str = USER, as_json: bool = JSON,
):
    """县内迁移到其他村（社区）：本年度及以后的参保随人迁移。文件列：身份证号码、迁入村代码、原因。"""
    _handle("transfer", person, file, Order(person="", reason=reason, to_village=to_village), year=year,
            county=county, user=user, as_json=as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(enrollment_app, name="enrollment")
