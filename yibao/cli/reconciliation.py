"""`yibao reconcile`, `yibao reconcile-calendar` and `yibao handover`: 对账 from the shell."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Optional

import typer

from yibao.cli.common import cli_actor, django_setup, emit_json, fail, parse_date, year_option


def _cli_scope(county_code: str):
    from yibao.accounts.roles import Role
    from yibao.accounts.scope import Scope

    return Scope(role=Role.COUNTY_ADMIN, region_code=county_code, username="cli")


def reconcile_command(
    county: str = typer.Option(..., "--county", help="县级区划代码（6位）"),
    year: int = typer.Option(..., "--year", callback=year_option, help="待遇年度"),
    tax_file: Path = typer.Option(..., "--tax-file", help="税务缴费记录（CSV 或 xlsx）"),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="对账截止日 YYYY-MM-DD（默认今天）"),
    cash_grace_days: int = typer.Option(1, "--cash-grace-days", help="现金交款宽限天数"),
    report: Optional[Path] = typer.Option(None, "--report", help="差异明细 xlsx 的保存路径（默认 var/reports/ 下）"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
    quiet: bool = typer.Option(False, "--quiet", help="不显示进度条"),
):
    """对账：税务缴费记录 × 医保入账 × 票据 × 征收员现金交款，列出每条差异及整改责任人。"""
    django_setup()
    from django.conf import settings
    from django.core.exceptions import PermissionDenied, ValidationError

    from yibao.core.progress import RichProgress
    from yibao.reconciliation import exports, selectors, services

    if not tax_file.exists():
        fail(f"找不到税务缴费记录文件：{tax_file}")
    try:
        with RichProgress("对账", enabled=not quiet) as bar:
            job, run = services.run_now(
                county_code=county, benefit_year=year, tax_file=tax_file.resolve(), as_of=parse_date(as_of, "--as-of"),
                cash_grace_days=cash_grace_days, actor=cli_actor(), progress=bar,
            )
    except ValidationError as exc:
        fail("；".join(exc.messages))
    except PermissionDenied as exc:
        fail(str(exc))
    if run is None:
        fail(job.message or "对账失败", code=1)
    scope = _cli_scope(county)
    if report is None:
        folder = Path(settings.VAR_DIR) / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        from yibao.core.downloads import region_file_name

        report = folder / region_file_name(county, "对账差异", year, extra=f"{run.ran_on:%Y%m%d}第{run.pk}次")
    report.parent.mkdir(parents=True, exist_ok=True)
    exports.mismatches_xlsx(scope=scope, run=run, target=str(report))
    counts = {c["kind"]: c["count"] for c in selectors.mismatch_counts(scope=scope, run=run)}
    body = {
        "run_id": run.pk, "job_id": job.pk, "county_code": county, "benefit_year": year,
        "as_of": run.as_of, "ran_on": run.ran_on, "mismatches": run.mismatch_total, "counts": counts,
        "totals": {k: Decimal(v) for k, v in run.totals.items()},
        "tax_rows": run.inputs["tax"]["rows"], "tax_rows_used": run.inputs["tax"]["used"],
        "tax_rows_rejected": run.inputs["tax"]["rejected"], "bookings": run.inputs["bookings"]["rows"],
        "changes": {k: run.changes.get(k) for k in ("previous", "new", "resolved", "persisting")},
        "report": str(report), "error_report": run.error_report_path or None,
        "seconds": run.inputs.get("seconds", {}),
    }
    if as_json:
        emit_json(body)
        return
    labels = {c["kind"]: c["label"] for c in selectors.mismatch_counts(scope=scope, run=run)}
    typer.echo(f"对账第{run.pk}次：{county} {year}年度，截止 {run.as_of}")
    typer.echo(f"税务记录 {body['tax_rows']} 行（参与对账 {body['tax_rows_used']}，有错误 {body['tax_rows_rejected']}），医保入账 {body['bookings']} 笔")
    typer.echo(f"税务合计 {run.totals['tax']}元，医保入账合计 {run.totals['booked']}元，核对一致 {run.totals['matched']}元")
    for kind, n in counts.items():
        typer.echo(f"  {labels[kind]}：{n}")
    if run.changes.get("previous"):
        typer.echo(f"与上次相比：新增 {run.changes['new']}，已解决 {run.changes['resolved']}")
    typer.echo(f"差异明细：{report}")
    if run.error_report_path:
        typer.echo(f"税务文件错误行：{run.error_report_path}")


def calendar_command(
    county: str = typer.Option(..., "--county", help="县级区划代码（6位）"),
    year: int = typer.Option(..., "--year", callback=year_option, help="待遇年度"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """每月对账次数是否达到要求（政策 targets.reconcile_per_month，未规定时每月 2 次）。"""
    django_setup()
    from yibao.reconciliation import selectors

    check = selectors.month_check(scope=_cli_scope(county), county_code=county, benefit_year=year)
    months = [{"month": m["month"].strftime("%Y-%m"), "done": m["done"], "runs": m["runs"], "required": m["required"],
               "status": m["status"], "days": [d.isoformat() for d in m["days"]]} for m in check["months"]]
    if as_json:
        emit_json({"county_code": county, "benefit_year": year, "required": check["required"]["times"],
                   "required_source": check["required"]["source"], "short_months": check["short"], "months": months})
        return
    if check["required"]["source"] == "history":
        typer.echo(f"{check['required']['reference']}，没有在本系统征缴，不要求对账。")
        return
    typer.echo(f"要求每月对账 {check['required']['times']} 次（{'政策规定' if check['required']['source'] == 'policy' else '默认'}）")
    for m in check["months"]:
        typer.echo(f"  {m['label']}：{m['done']}/{m['required']} {m['status_label']}")
    if check["short"]:
        raise typer.Exit(1)


def handover_command(
    village: str = typer.Option(..., "--village", help="村（社区）区划代码（12位）"),
    year: int = typer.Option(..., "--year", callback=year_option, help="待遇年度"),
    collector: str = typer.Option(..., "--collector", help="交款的征收员：账号名，或本县唯一一个账号的姓名"),
    period_from: str = typer.Option(..., "--from", help="收款期间起 YYYY-MM-DD"),
    period_to: str = typer.Option(..., "--to", help="收款期间止 YYYY-MM-DD"),
    handed_on: str = typer.Option(..., "--on", help="交款日期 YYYY-MM-DD"),
    amount: str = typer.Option(..., "--amount", help="交款金额（元）"),
    note: str = typer.Option("", "--note", help="备注"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """登记征收员现金交款。"""
    django_setup()
    from django.core.exceptions import ValidationError

    from yibao.reconciliation import services

    try:
        handover = services.handover_record(
            actor=cli_actor(), village_code=village, benefit_year=year,
            collector_name=collector, period_start=parse_date(period_from, "--from"),
            period_end=parse_date(period_to, "--to"), handed_on=parse_date(handed_on, "--on"), amount=amount, note=note,
        )
    except ValidationError as exc:
        fail("；".join(exc.messages))
    if as_json:
        emit_json({"id": handover.pk, "collector_name": handover.collector_name, "village_code": handover.village_code,
                   "amount": handover.amount, "period_start": handover.period_start, "period_end": handover.period_end,
                   "handed_on": handover.handed_on})
        return
    typer.echo(f"已登记 {handover.collector_name} 交款 {handover.amount} 元（{handover.period_start} 至 {handover.period_end}）。")


def rectify_command(
    mismatch_id: int = typer.Argument(..., help="对账差异的编号（页面和 API 中的 id）"),
    note: str = typer.Option("", "--note", help="整改说明"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """已整改：标记一条对账差异已整改（下次对账复核）。"""
    django_setup()
    from django.core.exceptions import ValidationError

    from yibao.reconciliation.models import Mismatch
    from yibao.reconciliation.rectify import mismatch_rectify

    mismatch = Mismatch.objects.filter(pk=mismatch_id).first()
    if mismatch is None:
        fail(f"对账差异 {mismatch_id} 不存在。")
    try:
        mismatch = mismatch_rectify(mismatch=mismatch, actor=cli_actor(), note=note)
    except ValidationError as exc:
        fail("；".join(exc.messages))
    body = {"id": mismatch.pk, "run_id": mismatch.run_id, "kind": mismatch.kind, "kind_label": mismatch.get_kind_display(),
            "person_name": mismatch.person_name, "difference": str(mismatch.difference), "rectified": True,
            "rectified_at": mismatch.rectified_at, "rectified_by": mismatch.rectified_by_name,
            "rectified_note": mismatch.rectified_note}
    if as_json:
        emit_json(body)
        return
    typer.echo(f"已将对账差异 {mismatch.pk}（{body['kind_label']} {mismatch.person_name}）标记为已整改。")


def register(app: typer.Typer) -> None:
    app.command("reconcile")(reconcile_command)
    app.command("reconcile-rectify")(rectify_command)
    app.command("reconcile-calendar")(calendar_command)
    app.command("handover")(handover_command)
