"""CLI commands of the registry area: `yibao import …`, `yibao demo`, `yibao demo-logins`."""

from __future__ import annotations

from pathlib import Path

import typer

from yibao.cli.common import cli_actor, django_setup, emit_json, fail, fail_unless_succeeded

import_app = typer.Typer(help="导入名单：行政区划、户籍名单、部门资助身份名单、职工医保名单、历年参保名单、参保群体名单",
                         no_args_is_help=True)

RESULT_KEYS = ("rows", "imported", "updated", "unchanged", "rejected", "warnings")


def _default_county() -> str:
    from yibao.regions.models import Region

    counties = list(Region.objects.filter(level=6).values_list("code", flat=True)[:2])
    if len(counties) == 1:
        return counties[0]
    if not counties:
        fail("数据库中还没有县级区划：请先执行 yibao import regions FILE。")
    fail("数据库中有多个县，请用 --county 指定县级区划代码。")


def _run_import(kind: str, file: Path, as_json: bool, quiet: bool, dry_run: bool = False, **params) -> None:
    django_setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from yibao.core.jobs import job_run
    from yibao.core.progress import RichProgress
    from yibao.imports.columns import KIND_LABELS
    from yibao.imports.services import import_job_create

    if not file.exists():
        fail(f"找不到文件：{file}")
    if not file.is_file():
        fail(f"不是文件：{file}")
    try:
        job = import_job_create(kind=kind, path=file, file_name=file.name, actor=cli_actor(), dry_run=dry_run, **params)
    except (ValidationError, PermissionDenied) as exc:
        fail("；".join(getattr(exc, "messages", [str(exc)])))
    with RichProgress(f"导入{KIND_LABELS[kind]}", enabled=not quiet) as bar:
        job = job_run(job, bar)
    fail_unless_succeeded(job, "导入")
    result = job.result
    if as_json:
        emit_json({**{k: result.get(k, 0) for k in RESULT_KEYS}, "report": result.get("report"),
                   **{k: result[k] for k in ("flagged", "households", "skipped", "campaigns", "years", "group", "review")
                      if k in result},
                   "job": job.pk, "dry_run": job.dry_run})
        return
    typer.echo(
        ("试导入，未写入任何数据。" if job.dry_run else "")
        + f"{KIND_LABELS[kind]}（任务 #{job.pk}）：共 {result['rows']} 行，新增 {result['imported']}，"
        f"更新 {result['updated']}，未变 {result['unchanged']}，拒绝 {result['rejected']}，警告 {result['warnings']}"
        + (f"，标记重复参保 {result['flagged']}" if result.get("flagged") else "")
        + (f"，跳过其他险种 {result['skipped']}" if result.get("skipped") else "")
        + (f"；年度 {'、'.join(map(str, result['years']))}" if result.get("years") else "")
        + (f"；核定改变、待复核 {result['review']} 人" if result.get("review") else "")
        + "。"
    )
    if result.get("report"):
        typer.echo(f"错误报告：{result['report']}")


FILE = typer.Argument(..., help="CSV（UTF-8 或 GBK）或 xlsx 文件", dir_okay=False)
JSON = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象")
QUIET = typer.Option(False, "--quiet", "-q", help="不显示进度条")
DRY_RUN = typer.Option(False, "--dry-run", help="试导入：同样校验和计数、生成错误报告，不写入任何数据")


@import_app.command("regions")
def import_regions(file: Path = FILE, as_json: bool = JSON, quiet: bool = QUIET, dry_run: bool = DRY_RUN):
    """导入行政区划（列：区划代码、名称；上级由代码推出）。"""
    _run_import("regions", file, as_json, quiet, dry_run=dry_run)


@import_app.command("residents")
def import_residents(
    file: Path = FILE,
    county: str = typer.Option(..., "--county", help="县级区划代码，如 340321"),
    as_json: bool = JSON,
    quiet: bool = QUIET,
    dry_run: bool = DRY_RUN,
):
    """导入户籍名单（家庭户、户主、成员及与户主关系）。"""
    _run_import("residents", file, as_json, quiet, dry_run=dry_run, county_code=county)


@import_app.command("identities")
def import_identities(
    file: Path = FILE,
    department: str = typer.Option(..., "--department", help="认定部门：民政、残联、卫健、乡村振兴、退役军人事务（或代码 minzheng 等）；医保 表示汇总名单"),
    county: str = typer.Option("", "--county", help="县级区划代码；库中只有一个县时可省略"),
    as_json: bool = JSON,
    quiet: bool = QUIET,
    dry_run: bool = DRY_RUN,
):
    """导入部门资助身份名单（一人多个身份全部保留）。"""
    django_setup()
    _run_import("identities", file, as_json, quiet, dry_run=dry_run, county_code=county or _default_county(), department=department)


@import_app.command("employees")
def import_employees(
    file: Path = FILE,
    county: str = typer.Option("", "--county", help="县级区划代码；库中只有一个县时可省略"),
    as_json: bool = JSON,
    quiet: bool = QUIET,
    dry_run: bool = DRY_RUN,
):
    """导入职工医保名单，并标记重复参保的居民。"""
    django_setup()
    _run_import("employees", file, as_json, quiet, dry_run=dry_run, county_code=county or _default_county())


@import_app.command("enrollments")
def import_enrollments(
    file: Path = FILE,
    county: str = typer.Option("", "--county", help="县级区划代码；库中只有一个县时可省略"),
    as_json: bool = JSON,
    quiet: bool = QUIET,
    dry_run: bool = DRY_RUN,
):
    """导入历年参保名单（国家医保信息平台导出的上年参保名单）：每个年度记为历史名单，用于续保、断保年数、跨县核查和催缴。"""
    django_setup()
    _run_import("enrollments", file, as_json, quiet, dry_run=dry_run, county_code=county or _default_county())


@import_app.command("groups")
def import_groups(
    file: Path = FILE,
    group: str = typer.Option(..., "--group", help="参保群体：新生儿、在校大学生、新生入学的大学生、大学毕业生、刑满释放人员、退役军人、"
                              "因工作原因职工转居民的务工人员、外出务工人员、退捕渔民（或代码 newborn 等）"),
    county: str = typer.Option("", "--county", help="县级区划代码；库中只有一个县时可省略"),
    as_json: bool = JSON,
    quiet: bool = QUIET,
    dry_run: bool = DRY_RUN,
):
    """导入参保群体名单（列：身份证号码、姓名、事件日期、学校/单位、终止日期）；群体有变化的人重新核定，
    应缴金额或待遇起始日因此改变的列入待复核名单。"""
    django_setup()
    _run_import("groups", file, as_json, quiet, dry_run=dry_run, county_code=county or _default_county(), group=group)


def demo(
    residents: int = typer.Option(3000, "--residents", min=1, max=2_000_000, help="演示县的居民人数"),
    if_empty: bool = typer.Option(False, "--if-empty", help="库中已有居民时什么也不做"),
    seed: int = typer.Option(2024, "--seed", help="随机种子（同一种子生成同样的数据，重复执行不会重复写入）"),
    register_only: bool = typer.Option(False, "--register-only", help="只生成户籍与名单，不开启征缴年度"),
    city: bool = typer.Option(True, "--city/--no-city",
                              help="同时生成演示市（蚌埠市）的第二个县五河县（人数为演示县的一半）与市、省账号"),
    as_json: bool = JSON,
    quiet: bool = QUIET,
):
    """生成演示县（怀远县 340321）：行政区划、户籍、各部门名单经真实导入流程写入，
    再走完2025年度：开启征缴、核定、目标任务、窗口与渠道缴费、逾期缴费、退费、先缴后补、对账。
    默认还生成同属蚌埠市的五河县（340322，演示政策沿用怀远县方案），供市、省账号查看汇总。"""
    django_setup()
    from yibao.core.progress import RichProgress
    from yibao.demo.build import demo_build
    from yibao.registry.models import Resident

    if if_empty and Resident.objects.exists():
        typer.echo("库中已有居民，跳过生成演示数据。", err=True)
        if as_json:
            emit_json({"skipped": True})
        return
    factory = None if quiet else (lambda label: RichProgress(label))
    try:
        summary = demo_build(residents=residents, seed=seed, progress_factory=factory)
    except RuntimeError as exc:
        fail(str(exc), code=1)
    if not register_only:
        from yibao.demo.year import demo_year

        summary["year"] = demo_year(seed=seed, progress_factory=factory)
    if city:
        from yibao.demo.city import demo_city

        try:
            summary["city"] = demo_city(residents=max(200, residents // 2), progress_factory=factory,
                                        with_year=not register_only)
        except RuntimeError as exc:
            fail(str(exc), code=1)
    if as_json:
        emit_json(summary)
        return
    res = summary["residents"]
    identities = sum(r["imported"] + r["updated"] + r["unchanged"] for r in summary["identities"].values())
    typer.echo(
        f"演示县 {summary['name']}（{summary['county']}，政策 {summary['policy']}）："
        f"区划 {summary['regions']['rows']} 个，居民 {res['rows']} 人（{res.get('households', 0)} 户新建），"
        f"资助身份 {identities} 条，职工医保名单 {summary['employees']['rows']} 人（标记 {summary['employees'].get('flagged', 0)} 人）。",
        err=True,
    )
    if not register_only:
        year = summary["year"]
        collected = year.get("collection", {})
        history = year.get("history")
        if history:
            typer.echo(f"{year['benefit_year'] - 1}年度参保名单（历史名单）导入 {history['imported']} 人。", err=True)
        typer.echo(
            f"{year['benefit_year']}年度：已核定 {year['assessment'].get('residents', 0)} 人；"
            f"窗口收款 {collected.get('counter_payments', 0)} 人，渠道明细入账 {collected.get('file', {}).get('booked', 0)} 人；"
            f"业务日期定为 {year['business_day']}（var/business_today，征缴期已过，可办理逾期缴费、退费、催缴与对账）。",
            err=True,
        )
    if city:
        second = summary["city"]
        typer.echo(
            f"演示市蚌埠市（3403）另有 {second['name']}（{second['county']}，演示政策 {second['policy']}）："
            f"居民 {second['residents']['rows']} 人。",
            err=True,
        )


def demo_logins(
    password: str = typer.Option("yibao-demo", "--password", help="演示账号的密码"),
    url: str = typer.Option("http://127.0.0.1:8000/", "--url", help="表头显示的登录地址"),
    as_json: bool = JSON,
):
    """创建（或重置）每个角色一个演示账号，并打印登录表。"""
    django_setup()
    from rich.console import Console
    from rich.table import Table

    from yibao.demo.build import demo_logins as make

    logins = make(password=password)
    if as_json:
        emit_json({"logins": logins})
        return
    table = Table(title=f"演示账号（{url}）")
    for column in ("角色", "用户名", "密码", "管辖范围"):
        table.add_column(column)
    for row in logins:
        table.add_row(row["role"], row["username"], row["password"], row["region"])
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.command("demo")(demo)
    app.command("demo-logins")(demo_logins)
