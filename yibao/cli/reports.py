"""`yibao report weekly|biweekly`: the 周报 (每周进度公布表) and the 两周通报 that go up to the city,
as xlsx or PDF, the same files as the progress page's download buttons (and the same export event)."""

from __future__ import annotations

from pathlib import Path

import typer

from yibao.cli.common import (USER_HELP, cli_operator, django_setup, emit_json, fail, operator_scope, parse_date,
                              refusal_text, year_option)

KINDS = {"weekly": "周报（各村参保缴费进度公布表）", "biweekly": "两周通报（各乡镇参保缴费进度通报）"}


def report_command(
    kind: str = typer.Argument(..., help="weekly 周报（各村进度公布表）或 biweekly 两周通报（各乡镇）"),
    county: str = typer.Option(None, "--county", help="县级区划代码（6位）"),
    township: str = typer.Option(None, "--township", help="乡镇区划代码（9位）"),
    region: str = typer.Option(None, "--region", help="市（4位）或省（2位）区划代码：市（省）周报，各县（市）并列"),
    on: str = typer.Option(None, "--on", help="统计截至日 YYYY-MM-DD，默认今天"),
    year: int = typer.Option(None, "--year", callback=year_option, help="待遇年度；不填时取该县当前年度"),
    out: Path = typer.Option(None, "--out", help="写入的文件；不填时按报表名写在当前目录"),
    fmt: str = typer.Option(None, "--format", help="xlsx 或 pdf；不填时按 --out 的扩展名，默认 xlsx"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象"),
):
    """生成报送上级的进度报表（xlsx 或 PDF），与进度页面的下载相同。"""
    django_setup()
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from yibao.core.services import event_record
    from yibao.progress import reports, services
    from yibao.progress.selectors import benefit_year_default

    if kind not in KINDS:
        fail(f"报表应为 weekly（周报）或 biweekly（两周通报），收到：{kind}")
    given = [c for c in (county, township, region) if c]
    if len(given) != 1:
        fail("请只指定 --county、--township、--region 中的一个。")
    if region:
        _rollup_report(kind=kind, region=region.strip(), on=on, year=year, out=out, fmt=fmt, user=user, as_json=as_json)
        return
    code = given[0].strip()
    expected = 6 if county else 9
    if not (code.isdigit() and len(code) == expected):
        fail(f"区划代码应为{expected}位数字，收到：{code}")
    fmt = _format(out, fmt)
    day = parse_date(on, "--on")
    actor, scope = _exporter(user)
    year = year or benefit_year_default(code[:6])
    if not year:
        fail(f"{code[:6]} 还没有征缴年度或目标任务，请用 --year 指定。")
    build = reports.weekly_report if kind == "weekly" else reports.biweekly_report
    try:
        scope.require_region(code)
        services.progress_ensure(county_code=code[:6], benefit_year=year, actor=actor)
        result = build(scope=scope, region_code=code, benefit_year=year, on=day)
    except (Http404, PermissionDenied) as exc:
        fail(refusal_text(exc))
    content = reports.report_xlsx(result) if fmt == "xlsx" else reports.report_pdf(result)
    path = out or Path(f"{result.filename}.{fmt}")
    try:
        path.write_bytes(content)
    except OSError as exc:
        fail(f"无法写入 {path}：{exc.strerror or exc}")
    event_record(
        county_code=code[:6], entity="export", entity_id=f"progress_{kind}", action="export", actor=actor,
        after={"region": code, "benefit_year": year, "format": fmt, "rows": len(result.rows)},
        reason=f"导出{result.title}",
    )
    if as_json:
        emit_json({"kind": kind, "region_code": code, "benefit_year": year, "format": fmt, "title": result.title,
                   "subtitle": result.subtitle, "rows": len(result.rows), "file": str(path)})
        return
    typer.echo(f"已生成{KINDS[kind]}：{result.title}（{result.subtitle}），{len(result.rows)} 行 → {path}", err=True)


def _format(out, fmt) -> str:
    """xlsx or pdf: as asked, else from the output file's suffix, else xlsx."""
    suffix = out.suffix.lower().lstrip(".") if out else ""
    fmt = (fmt or (suffix if suffix in ("xlsx", "pdf") else "xlsx")).lower()
    if fmt not in ("xlsx", "pdf"):
        fail(f"--format 应为 xlsx 或 pdf，收到：{fmt}")
    return fmt


def _exporter(user):
    """The operator and its scope, refused unless it may export reports."""
    actor = cli_operator(user)
    scope = operator_scope(actor)
    if not scope.can("reports.export"):
        fail(f"账号 {user} 无权导出报表。")
    return actor, scope


def _rollup_report(*, kind: str, region: str, on, year, out, fmt, user, as_json) -> None:
    """市（省）周报: the counties' (cities') figures side by side."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from yibao.core.inputs import BadInput
    from yibao.progress import rollup, rollup_reports
    from yibao.progress.rollup_views import ensure_counted

    if kind != "weekly":
        fail("市、省只有周报（weekly）：各县（市）进度并列。")
    if not (region.isdigit() and len(region) in (2, 4)):
        fail(f"--region 应为市（4位）或省（2位）区划代码，收到：{region}")
    fmt = _format(out, fmt)
    day = parse_date(on, "--on")
    actor, scope = _exporter(user)
    try:
        code = rollup.check_region(scope, region)
        year = year or rollup.year_default(code)
        if not year:
            fail(f"{code} 下各县还没有征缴年度或目标任务，请用 --year 指定。")
        rollup.snapshots_check(day)
        ensure_counted(region_code=code, benefit_year=year, on=day, actor=actor)
        result = rollup_reports.rollup_weekly(scope=scope, region_code=code, benefit_year=year, on=day)
    except BadInput as exc:
        fail(exc.message)
    except (Http404, PermissionDenied) as exc:
        fail(refusal_text(exc))
    content = rollup_reports.render(result, fmt)
    path = out or Path(f"{result.filename}.{fmt}")
    try:
        path.write_bytes(content)
    except OSError as exc:
        fail(f"无法写入 {path}：{exc.strerror or exc}")
    rollup_reports.record_export(code=code, year=year, fmt=fmt, report=result, actor=actor)
    if as_json:
        emit_json({"kind": kind, "region_code": code, "benefit_year": year, "format": fmt, "title": result.title,
                   "subtitle": result.subtitle, "rows": len(result.rows), "file": str(path)})
        return
    typer.echo(f"已生成周报：{result.title}（{result.subtitle}），{len(result.rows)} 行 → {path}", err=True)


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
