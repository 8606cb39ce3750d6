"""CLI commands of the progress area: `yibao targets import`, `yibao progress`, `yibao remind`."""

from __future__ import annotations

from pathlib import Path

import typer

from yibao.cli.common import USER_HELP, cli_actor, cli_operator, django_setup, emit_json, fail, parse_date, year_option

targets_app = typer.Typer(help="目标任务：导入任务表（肖岭乡、随县格式）、查看", no_args_is_help=True)


def _errors(exc) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(m for ms in exc.message_dict.values() for m in ms)
    return "；".join(getattr(exc, "messages", [str(exc)]))


def _cli_scope():
    from yibao.accounts.scope import Scope

    return Scope(role="county_admin", region_code="", superuser=True, username=cli_actor())


@targets_app.command("import")
def targets_import(
    file: Path = typer.Argument(..., help="任务表文件（xlsx 或 csv），列与通知附表相同"),
    county: str = typer.Option(None, "--county", help="县级区划代码（6位）；不填时按表中名称确定"),
    year: int = typer.Option(None, "--year", callback=year_option, help="待遇年度；不填时取表头中的年度"),
    township: str = typer.Option(None, "--township", help="乡镇区划代码（9位）；按村分解的表，不填时按表头中的乡镇名称确定"),
    accept_total_mismatch: bool = typer.Option(False, "--accept-total-mismatch", help="合计行与各行之和不符时仍导入（以各行为准）"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """导入目标任务表：按名称对应区划，核对合计行；整表导入，有错则不写入任何一行。"""
    django_setup()
    from django.core.exceptions import ValidationError

    from yibao.progress.services import targets_import as run

    if not file.exists():
        fail(f"找不到文件：{file}")
    try:
        result = run(
            actor=cli_actor(), content=file.read_bytes(), filename=file.name, county_code=county, benefit_year=year,
            township_code=township, accept_total_mismatch=accept_total_mismatch,
        )
    except ValidationError as exc:
        fail(_errors(exc))
    if as_json:
        emit_json(result)
        return
    sums = result["sums"]
    typer.echo(
        f"{result['county_code']} {result['benefit_year']}年度：导入 {result['rows']} 行（新增 {result['imported']}，"
        f"更新 {result['updated']}，未变 {result['unchanged']}），应参保人数合计 {sums['total']}",
        err=True,
    )
    for warning in result["warnings"]:
        typer.echo(f"提示：{warning}", err=True)


@targets_app.command("show")
def targets_show(
    county: str = typer.Option(..., "--county", help="县级区划代码"),
    year: int = typer.Option(..., "--year", callback=year_option, help="待遇年度"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """列出一个县某年度的目标任务。"""
    django_setup()
    from yibao.progress.selectors import target_list
    from yibao.regions.selectors import region_labels

    rows = target_list(scope=_cli_scope(), benefit_year=year, region=county)
    labels = region_labels(t.region_code for t in rows)
    items = [
        {"code": t.region_code, "name": labels.get(t.region_code, t.region_code), "level": t.level, "total": t.total,
         "special": t.special, "others": t.others, "population": t.population, "supplementary": t.supplementary,
         "source": t.source}
        for t in rows
    ]
    if as_json:
        emit_json({"county_code": county, "benefit_year": year, "targets": items})
        return
    for item in items:
        typer.echo(f"{item['code']:<12}  {item['name']:<20}  {item['total']}")


@targets_app.command("set")
def targets_set(
    region: str = typer.Option(..., "--region", help="区划代码：县（6位）、乡镇（9位）或村（12位）"),
    year: int = typer.Option(..., "--year", callback=year_option, help="待遇年度"),
    total: int = typer.Option(..., "--total", help="应参保人数"),
    special: int = typer.Option(None, "--special", help="特群免缴人数"),
    others: int = typer.Option(None, "--others", help="其他居民人数"),
    population: int = typer.Option(None, "--population", help="总人口"),
    reason: str = typer.Option(..., "--reason", help="调整原因（记入变更记录）"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """设定或调整一个单位的目标任务（手工调整）；市医保局账号可设定本市各县的目标任务。"""
    django_setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from yibao.progress.services import target_set

    try:
        target = target_set(actor=cli_operator(user), region_code=region, benefit_year=year, total=total, special=special,
                            others=others, population=population, reason=reason)
    except ValidationError as exc:
        fail(_errors(exc))
    except PermissionDenied as exc:
        fail(str(exc))
    out = {"region_code": target.region_code, "benefit_year": target.benefit_year, "total": target.total,
           "special": target.special, "others": target.others, "population": target.population, "source": target.source}
    if as_json:
        emit_json(out)
        return
    typer.echo(f"{target.region_code} {year}年度目标任务：应参保人数 {target.total}。")


@targets_app.command("city")
def targets_city(
    city: str = typer.Option(..., "--city", help="市级区划代码（4位）"),
    year: int = typer.Option(..., "--year", callback=year_option, help="待遇年度"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """列出一个市各县（市、区）某年度的目标任务；全市目标为各县之和。"""
    django_setup()
    from django.core.exceptions import ValidationError

    from yibao.progress.city import city_target_rows

    try:
        data = city_target_rows(scope=_cli_scope(), city_code=city, benefit_year=year)
    except ValidationError as exc:
        fail(_errors(exc))
    if as_json:
        emit_json(data)
        return
    for row in data["counties"]:
        typer.echo(f"{row['county_code']}  {row['name']:<10}  {row['total'] if row['total'] is not None else '未设定'}")
    typer.echo(f"{data['city_name']}合计 {data['total']}" + (f"（{data['counties_without_target']} 个县未设定）"
                                                             if data["counties_without_target"] else ""))


@targets_app.command("import-city")
def targets_import_city(
    file: Path = typer.Argument(..., help="全市任务表（xlsx 或 csv）：每行一个县（市、区），列为 县（市、区）、应参保人数"),
    city: str = typer.Option(None, "--city", help="市级区划代码（4位）；以市医保局账号办理时可不填"),
    year: int = typer.Option(None, "--year", callback=year_option, help="待遇年度；不填时取表头中的年度"),
    accept_total_mismatch: bool = typer.Option(False, "--accept-total-mismatch", help="合计行与各行之和不符时仍导入（以各行为准）"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """导入全市任务表（各县目标任务）：整表导入，有错则不写入任何一行，并逐行说明。"""
    django_setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from yibao.progress.city import city_targets_import

    if not file.exists():
        fail(f"找不到文件：{file}")
    try:
        result = city_targets_import(actor=cli_operator(user), content=file.read_bytes(), filename=file.name,
                                     city_code=city, benefit_year=year, accept_total_mismatch=accept_total_mismatch)
    except ValidationError as exc:
        fail(_errors(exc))
    except PermissionDenied as exc:
        fail(str(exc))
    if as_json:
        emit_json(result)
        return
    typer.echo(f"{result['city_name']} {result['benefit_year']}年度：导入 {result['rows']} 个县（新增 {result['imported']}，"
               f"更新 {result['updated']}，未变 {result['unchanged']}），应参保人数合计 {result['sums']['total']}", err=True)
    for warning in result["warnings"]:
        typer.echo(f"提示：{warning}", err=True)


progress_app = typer.Typer(help="征缴进度：一个县（--county），或市、省汇总（progress rollup --region）",
                           invoke_without_command=True)


@progress_app.callback()
def progress_command(
    ctx: typer.Context,
    county: str = typer.Option(None, "--county", help="县级区划代码"),
    year: int = typer.Option(None, "--year", callback=year_option, help="待遇年度"),
    refresh: bool = typer.Option(True, "--refresh/--no-refresh", help="先重新统计（默认），或直接读上次统计结果"),
    on: str = typer.Option(None, "--on", help="统计日期 YYYY-MM-DD（今天或以前）：给出该日结束时的数字；不填为今日实时"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """全县征缴进度：各乡镇、各村的目标、已缴、参保人数、金额、参保率、序时进度、待催缴和排名；--on 为某日日终的数字。"""
    if ctx.invoked_subcommand:
        return
    if not county or not year:
        fail("请指定 --county 县级区划代码和 --year 待遇年度；市、省汇总用 yibao progress rollup --region。")
    django_setup()
    from yibao.core.clock import business_time
    from yibao.core.inputs import BadInput
    from yibao.core.progress import RichProgress
    from yibao.progress import snapshots
    from yibao.progress.models import ProgressRefresh
    from yibao.progress.pace import percent
    from yibao.progress.selectors import progress_tree
    from yibao.progress.services import progress_refresh

    if not (county.isdigit() and len(county) == 6):
        fail(f"县级区划代码应为6位数字，收到：{county}")
    day = parse_date(on, "--on")
    try:
        snapshots.check_day(day)
    except BadInput as exc:
        fail(exc.message)
    past = snapshots.is_past(day)
    counted = ProgressRefresh.objects.filter(county_code=county, benefit_year=year).exists()
    if (refresh and not past) or not counted:  # a past day reads its own figures; the rollup must exist once
        with RichProgress("统计征缴进度", enabled=not as_json) as bar:
            progress_refresh(county_code=county, benefit_year=year, progress=bar)
    if past:
        snapshots.snapshot_ensure(county_code=county, benefit_year=year, day=day)
    tree = progress_tree(county_code=county, benefit_year=year, on=day)

    def out(u):
        return {
            "code": u.code, "name": u.name, "target": u.target, "special_target": u.special_target,
            "paid": u.paid, "enrolled": u.enrolled, "amount": f"{u.amount:.2f}", "rate": u.rate, "expected": u.expected,
            "on_pace": u.on_pace, "special_people": u.special_people, "special_enrolled": u.special_enrolled,
            "special_rate": u.special_rate, "last_year": u.last_year, "renewed": u.renewed,
            "remind_closed": u.remind_closed, "remind_open": u.remind_open, "remind_refused": u.remind_refused,
            "rank": u.rank, "rank_of": u.rank_of,
        }

    county_unit = tree.get(county)
    townships = [out(u) for u in tree.descendants(county, 9)]
    villages = [out(u) | {"township_code": u.code[:9]} for u in tree.descendants(county, 12)]
    if as_json:
        emit_json({
            "county_code": county, "benefit_year": year, "on": tree.on, "as_of": tree.as_of_label, "source": tree.source,
            "notice": tree.notice, "pace_share": tree.share,
            "deadline": tree.window.deadline if tree.window else None, "refreshed_at": business_time(tree.refreshed_at),
            "county": out(county_unit), "townships": townships, "villages": villages,
        })
        return
    pace = f"，序时进度 {percent(tree.share)}" if tree.share is not None else ""
    typer.echo(f"{county_unit.name} {year}年度（{tree.as_of_label}）：参保 {county_unit.enrolled}/{county_unit.target or '未设目标'}，"
               f"参保率 {percent(county_unit.rate)}{pace}，已缴金额 {county_unit.amount:,.2f} 元，待催缴 {county_unit.remind_open} 人"
               + (f"（其中拒缴 {county_unit.remind_refused} 人）" if county_unit.remind_refused else ""))
    if tree.notice:
        typer.echo(tree.notice, err=True)
    for u in tree.descendants(county, 9):
        mark = "" if u.on_pace is None else ("  达到序时" if u.on_pace else "  未达序时")
        typer.echo(f"  {u.name:<16} {u.enrolled:>8}/{u.target if u.target is not None else '—':<8} {percent(u.rate):>8}{mark}")


remind_app = typer.Typer(help="催缴名单：一个村查看或导出；remind export 导出乡镇、县的工作簿（每村一个工作表）",
                         invoke_without_command=True)


@remind_app.callback()
def remind_command(
    ctx: typer.Context,
    village: str = typer.Option(None, "--village", help="村（社区）区划代码（12位）"),
    year: int = typer.Option(None, "--year", callback=year_option, help="待遇年度"),
    xlsx: Path = typer.Option(None, "--xlsx", help="导出催缴名单到 xlsx 文件"),
    state: str = typer.Option("open", "--state", help="open 待催缴（默认）/ refused 其中拒缴 / closed 已核实 / all 全部"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """催缴名单：上年参保、本年尚未缴费的居民，含户号、电话和应缴金额。"""
    if ctx.invoked_subcommand is not None:
        return
    if not village or not year:
        fail("请指定 --village（12位村级代码）和 --year；导出乡镇或全县的工作簿用 yibao remind export。")
    django_setup()
    from django.http import Http404

    from yibao.progress.reports import remind_json, write_remind_xlsx
    from yibao.progress.remind import remind_rows

    if state not in ("open", "refused", "closed", "all"):
        fail(f"--state 应为 open、refused、closed 或 all，收到：{state}")
    try:
        rows = remind_rows(scope=_cli_scope(), village_code=village, benefit_year=year, state=state)
    except Http404 as exc:
        fail(str(exc))
    if xlsx:
        xlsx.write_bytes(write_remind_xlsx(rows, village_code=village, benefit_year=year))
        typer.echo(f"已导出 {len(rows)} 人到 {xlsx}", err=True)
    if as_json:
        emit_json({"village_code": village, "benefit_year": year, "state": state, "count": len(rows),
                   "people": remind_json(rows)})
        return
    if not xlsx:
        for r in rows:
            owed = f"{r.owed}元（{r.owed_basis}）" if r.owed is not None else (r.owed_note or "—")
            typer.echo(f"{r.resident.name}\t{r.shown_id}\t户号{r.household_number or '—'}\t{r.resident.phone or '—'}\t{owed}")
        refused = sum(1 for r in rows if r.refused)
        typer.echo(f"共 {len(rows)} 人" + (f"，其中拒缴 {refused} 人" if refused else ""), err=True)


@remind_app.command("export")
def remind_export_command(
    county: str = typer.Option(None, "--county", help="县级区划代码（6位）：全县一个工作簿"),
    township: str = typer.Option(None, "--township", help="乡镇区划代码（9位）：全乡镇一个工作簿"),
    village: str = typer.Option(None, "--village", help="村（社区）区划代码（12位）：一个村"),
    out: Path = typer.Option(None, "--out", help="xlsx 文件；不填时按“名称-代码-催缴名单-年度.xlsx”写在当前目录"),
    year: int = typer.Option(None, "--year", callback=year_option, help="待遇年度；不填时取该县当前年度"),
    state: str = typer.Option("open", "--state", help="open 待催缴（默认）/ refused 其中拒缴 / closed 已核实 / all 全部"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """导出催缴名单工作簿：每村一个工作表（以村名命名），另有汇总表；身份证号码按权限打码。"""
    django_setup()
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from yibao.progress.remindbook import remind_export
    from yibao.progress.selectors import benefit_year_default

    given = [c for c in (county, township, village) if c]
    if len(given) != 1:
        fail("请只指定 --county、--township、--village 中的一个。")
    code = given[0].strip()
    expected = 6 if county else 9 if township else 12
    if not (code.isdigit() and len(code) == expected):
        fail(f"区划代码应为{expected}位数字，收到：{code}")
    if state not in ("open", "refused", "closed", "all"):
        fail(f"--state 应为 open、refused、closed 或 all，收到：{state}")
    year = year or benefit_year_default(code[:6])
    if not year:
        fail(f"{code[:6]} 还没有征缴年度，请用 --year 指定。")
    try:
        content, people, filename = remind_export(scope=_cli_scope(), code=code, year=year, state=state)
    except (Http404, PermissionDenied) as exc:
        fail(str(exc))
    path = out or Path(filename)
    path.write_bytes(content)
    if as_json:
        emit_json({"region_code": code, "benefit_year": year, "state": state, "people": people, "file": str(path)})
        return
    typer.echo(f"已导出 {people} 人到 {path}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(targets_app, name="targets")
    from yibao.cli.rollup import rollup_command

    progress_app.command("rollup")(rollup_command)
    app.add_typer(progress_app, name="progress")
    app.add_typer(remind_app, name="remind")
