"""`yibao progress rollup --region 4212`: a city's counties (a province's cities) ranked, as on the progress page."""

from __future__ import annotations

import typer

from yibao.cli.common import USER_HELP, cli_operator, django_setup, emit_json, fail, operator_scope, parse_date, year_option


def rollup_command(
    region: str = typer.Option(..., "--region", help="市（4位）或省（2位）区划代码"),
    year: int = typer.Option(None, "--year", callback=year_option, help="待遇年度；不填时取各县当前年度"),
    on: str = typer.Option(None, "--on", help="统计日期 YYYY-MM-DD（今天或以前）；不填为今日实时"),
    sort: str = typer.Option("rate", "--sort", help="rate 参保率、pace 差序时人数、remind 待催缴、reconcile 对账达标"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """市、省汇总：各县（市）的应参保、参保、已缴、金额、参保率、序时、待催缴、对账达标和排名；合计为各部分之和。"""
    django_setup()
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from yibao.cli.common import refusal_text
    from yibao.core.inputs import BadInput
    from yibao.progress import rollup
    from yibao.progress.pace import percent
    from yibao.progress.rollup_api import rollup_out
    from yibao.progress.rollup_views import ensure_counted

    if sort not in rollup.SORTS:
        fail(f"--sort 应为 {'、'.join(rollup.SORTS)} 之一，收到：{sort}")
    day = parse_date(on, "--on")
    actor = cli_operator(user)
    scope = operator_scope(actor)
    if not scope.can("progress.view"):
        fail(f"账号 {user} 无权查看征缴进度。")
    try:
        code = rollup.check_region(scope, region.strip())
        year = year or rollup.year_default(code)
        if not year:
            fail(f"{code} 下各县还没有征缴年度或目标任务，请用 --year 指定。")
        rollup.snapshots_check(day)
        ensure_counted(region_code=code, benefit_year=year, on=day, actor=actor)
        result = rollup.rollup(scope=scope, region_code=code, benefit_year=year, on=day, sort=sort)
    except BadInput as exc:
        fail(exc.message)
    except (Http404, PermissionDenied) as exc:
        fail(refusal_text(exc))
    if as_json:
        emit_json(rollup_out(result, sort))
        return
    t = result.total
    typer.echo(f"{result.name} {result.benefit_year}年度（{result.as_of_label}）：参保 {t.enrolled}/{t.target or '未设目标'}，"
               f"参保率 {percent(t.rate)}，已缴 {t.paid} 人 {t.amount:,.2f} 元，待催缴 {t.remind_open} 人，"
               f"对账 {t.reconcile_label}")
    for r in result.rows:
        pace = "—" if r.on_pace is None else ("已达序时" if r.on_pace else f"差序时 {r.behind} 人")
        typer.echo(f"{r.rank or '—':>3}  {r.code:<6}  {r.name:<10}  {r.enrolled}/{r.target if r.target is not None else '—'}  "
                   f"{percent(r.rate)}  {pace}  待催缴 {r.remind_open}  {r.reconcile_label}"
                   + (f"  [{'、'.join(r.marks)}]" if r.marks else ""))
