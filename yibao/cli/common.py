"""Helpers for the thin CLI: Django setup, JSON output, Chinese errors."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import sys
from decimal import Decimal
from typing import NoReturn

import typer


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    import django

    django.setup()


def cli_actor() -> str:
    """The actor name written into event rows for work done from the command line."""
    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    return f"命令行:{user}"


def to_jsonable(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def emit_json(obj) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), ensure_ascii=False) + "\n")


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


def parse_date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    from yibao.core.inputs import BadInput
    from yibao.core.inputs import parse_date as parse_input_date

    try:
        return parse_input_date(value, label=f"{option} 日期", field=option)
    except BadInput as exc:
        fail(exc.message)


def year_option(value: int | None) -> int | None:
    """typer callback for --year: a benefit year between 1990 and 2100, else a Chinese error (exit 2)."""
    from yibao.core.inputs import BadInput, check_year

    if value is None:
        return None
    try:
        return check_year(value, label="--year 待遇年度", field="--year")
    except BadInput as exc:
        fail(exc.message)


def gap_years_option(value: int) -> int:
    """typer callback for --gap-years / --backpaid-years: 0 to 120 (the age check comes with the birth date)."""
    from yibao.core.inputs import MAX_GAP_YEARS

    if not 0 <= value <= MAX_GAP_YEARS:
        fail(f"断保年数和补缴年数应在 0 至 {MAX_GAP_YEARS} 之间，收到：{value}")
    return value


def fail_unless_succeeded(job, what: str) -> None:
    """Exit unless the job succeeded: 1 when it failed (nothing written), 3 when its data is in but its
    report is not (已写入，报告未生成: `yibao jobs report ID` makes it)."""
    if job.status == job.Status.SUCCEEDED:
        return
    if job.status == job.Status.WRITTEN:
        fail(f"{what}已写入，报告未生成（任务 #{job.pk}）：数据已提交，计数见 yibao jobs show {job.pk}；"
             f"执行 yibao jobs report {job.pk} 重新生成报告。", code=3)
    fail(f"{what}失败（任务 #{job.pk}）：{job.error.splitlines()[0] if job.error else job.message}", code=1)


# ---------------------------------------------------------------- the operator account (--user)

USER_HELP = "以该账号办理：检查其权限和管辖区划（与页面相同），变更记录记在其名下；不填时为命令行（不受限）"


def cli_operator(username: str | None):
    """The actor of a command: the named active account (checked like the page), else the command line."""
    if not username:
        return cli_actor()
    from yibao.accounts.models import User

    user = User.objects.filter(username=username.strip()).first()
    if user is None or not user.is_active:
        fail(f"--user 没有可用的账号：{username}")
    return user


def operator_scope(actor):
    """The region scope of an actor: the account's own, or the whole country for the command line."""
    from yibao.accounts.scope import Scope, actor_scope

    return actor_scope(actor) or Scope(role="county_admin", region_code="", superuser=True, username=str(actor))


def refusal_text(exc) -> str:
    """One Chinese line from a service refusal (ValidationError, PermissionDenied, a ValueError subclass)."""
    messages = getattr(exc, "messages", None)
    if messages:
        return "；".join(str(m) for m in messages)
    return str(exc) or exc.__class__.__name__
