"""`yibao quote` and `yibao policy list|show|check|install`: the policy engine from the shell."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from yibao.cli.common import emit_json, fail, gap_years_option, parse_date, to_jsonable

policy_app = typer.Typer(help="缴费政策：列出、查看、校验、安装、比较政策文件，词汇表与新年度起始文件", no_args_is_help=True)


def _money(value) -> str:
    value = to_jsonable(value)
    return f"{value}元"


def quote_command(
    policy: str = typer.Option(..., "--policy", help="政策编号，如 anhui-huaiyuan-2025"),
    birth_date: str = typer.Option(..., "--birth-date", help="出生日期 YYYY-MM-DD"),
    paid_on: str = typer.Option(..., "--paid-on", help="缴费日期 YYYY-MM-DD"),
    identity: Optional[list[str]] = typer.Option(None, "--identity", help="资助身份代码或名称，可重复"),
    group: Optional[str] = typer.Option(None, "--group", help="参保群体代码，如 newborn、migrant_worker"),
    event_date: Optional[str] = typer.Option(None, "--event-date", help="事件日期（刑满释放、退役、职工医保停保、毕业）"),
    tier: int = typer.Option(1, "--tier", min=1, max=9, help="缴费档次 1 或 2"),
    gap_years: int = typer.Option(0, "--gap-years", callback=gap_years_option, help="参保前连续断保年数（国办发〔2024〕38号等待期）"),
    backpaid_years: int = typer.Option(0, "--backpaid-years", callback=gap_years_option, help="补缴的断保年数"),
    first_time: bool = typer.Option(False, "--first-time", help="首次参保（此前从未在本县参保），不是续保"),
    role: Optional[str] = typer.Option(None, "--role", help="家庭角色：child（子女）或 parent（父母）"),
    employee_months: Optional[int] = typer.Option(
        None, "--employee-months", min=0, max=12, help="政策所问年度的职工医保缴费月数（0至12）"),
    household_enrolled: Optional[bool] = typer.Option(
        None, "--household-enrolled/--no-household-enrolled", help="同户其他家庭成员已（未）参加本年度居民医保"),
    identity_since: Optional[list[str]] = typer.Option(
        None, "--identity-since", help="资助身份的认定日期：身份=YYYY-MM-DD，如 低保对象=2026-02-01，可重复"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """测算个人缴费、资助、先缴后补退补和待遇享受期，并说明依据。"""
    from yibao.policy.engine import PolicyInputError
    from yibao.policy.loader import PolicyFileError, PolicyNotFound
    from yibao.policy.selectors import quote_for, quote_json
    from yibao.policy.vocabulary import UnknownTerm

    since = {}
    for item in identity_since or []:
        name, sep, day = item.partition("=")
        if not sep or not name.strip():
            fail(f"--identity-since 应写成 身份=YYYY-MM-DD，收到：{item}")
        since[name.strip()] = parse_date(day.strip(), "--identity-since")
    try:
        result = quote_for(
            policy_id=policy,
            birth_date=parse_date(birth_date, "--birth-date"),
            paid_on=parse_date(paid_on, "--paid-on"),
            identities=identity or [],
            group=group,
            event_date=parse_date(event_date, "--event-date"),
            tier=tier,
            gap_years=gap_years,
            backpaid_years=backpaid_years,
            household_role=role,
            first_time=first_time,
            employee_months=employee_months,
            household_enrolled=household_enrolled,
            identity_since=since,
        )
    except (PolicyNotFound, PolicyFileError, UnknownTerm, PolicyInputError) as exc:
        fail(str(exc).strip("'\""))
    if as_json:
        emit_json(quote_json(result))
        return
    typer.echo(f"政策：{result.policy_id}（版本 {result.policy_version}）")
    if result.accepted:
        typer.echo("结果：受理")
    else:
        typer.echo(f"结果：不予受理。{result.reason}")
    typer.echo(f"个人缴费标准：{_money(result.standard)}")
    if result.subsidy_identity:
        typer.echo(f"资助身份：{result.subsidy_identity}，资助 {_money(result.subsidy)}")
    typer.echo(f"本次应缴：{_money(result.payable)}")
    if result.refund_later:
        typer.echo(f"先缴后补，日后退补：{_money(result.refund_later)}")
    if result.benefit_start:
        typer.echo(f"待遇享受期：{result.benefit_start} 至 {result.benefit_end}")
    typer.echo("说明：")
    for line in result.explanation:
        typer.echo(f"  · {line}")


@policy_app.command("list")
def policy_list_command(as_json: bool = typer.Option(False, "--json", help="输出 JSON")):
    """列出已载入的政策。"""
    from yibao.policy.selectors import policy_list

    rows = policy_list()
    if as_json:
        emit_json({"policies": rows})
        return
    for row in rows:
        days = f"，{row['days_of_month']}" if row["days_of_month"] else ""
        typer.echo(
            f"{row['id']}\t{row['locality']}\t{row['benefit_year']}年度\t"
            f"征缴期 {row['collection_start']} 至 {row['collection_end']}{days}\t版本 {row['version']}"
        )


@policy_app.command("show")
def policy_show_command(
    policy_id: str = typer.Argument(..., help="政策编号"),
    as_json: bool = typer.Option(False, "--json", help="输出完整政策内容（JSON）"),
):
    """查看一项政策：缴费标准、资助、征缴期、规则及其依据。"""
    from yibao.policy.loader import PolicyNotFound, load_policy
    from yibao.policy.vocabulary import identity_name

    try:
        policy = load_policy(policy_id)
    except PolicyNotFound as exc:
        fail(str(exc).strip("'\""))
    data = policy.data
    if as_json:
        emit_json({"version": policy.version, **data.model_dump(mode="json")})
        return
    typer.echo(f"{data.title}")
    typer.echo(f"编号 {data.id}，{data.benefit_year}年度，版本 {policy.version}")
    typer.echo("缴费标准：")
    for s in data.contribution.standards:
        who = f"（{'、'.join(s.groups)}）" if s.groups else ""
        typer.echo(f"  {s.label}{who}：{_money(s.amount)}")
    if data.contribution.fiscal_subsidy:
        typer.echo(f"  财政补助：{_money(data.contribution.fiscal_subsidy.amount)}")
    typer.echo("资助（就高不就低，不重复资助）：")
    for item in data.subsidies.items:
        names = "、".join(identity_name(c) for c in item.identities)
        if item.kind == "full":
            how = "全额"
        elif item.kind == "fixed":
            how = f"定额 {_money(item.amount)}"
        else:
            how = f"{to_jsonable(item.percent)}%" + (f"（基数 {_money(item.base)}）" if item.base else "")
        later = "，先缴后补" if item.timing == "refund_later" else ""
        typer.echo(f"  {names}：{how}{later}")
    if not data.subsidies.items and data.subsidies.deferred:
        typer.echo(f"  {data.subsidies.deferred.reference}")
    window = data.collection.main_window
    days = f"，{window.days_text()}" if window.days_text() else ""
    typer.echo(f"征缴期：{window.start} 至 {window.end}{days}")
    typer.echo("规则（依次判断，先符合者适用）：")
    for rule in data.rules:
        outcome = "不予受理" if rule.outcome == "refuse" else "受理"
        typer.echo(f"  {rule.id}：{rule.label}（{outcome}）")


@policy_app.command("check")
def policy_check_command(
    file: Path = typer.Argument(..., help="政策文件 <政策编号>.yaml；同目录下须有 <政策编号>.cases.yaml"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
):
    """校验一份新的政策文件，并运行它旁边的用例。"""
    from yibao.policy.services import policy_check

    report = policy_check(path=file)
    if as_json:
        emit_json({
            "policy": report.policy.id if report.policy else None,
            "version": report.policy.version if report.policy else None,
            "valid": report.policy is not None,
            "error": report.error,
            "issues": [i.as_json() for i in report.issues],
            "warnings": [w.as_json() for w in report.warnings],
            "cases": len(report.results),
            "failed": [{"name": r.name, "failures": r.failures} for r in report.failed],
        })
    else:
        if report.error:
            typer.echo(f"错误：{report.error}", err=True)
        else:
            policy = report.policy
            typer.echo(
                f"{policy.id}：文件校验通过（版本 {policy.version}），用例 {len(report.results)} 个，"
                f"失败 {len(report.failed)} 个。"
            )
            for r in report.failed:
                typer.echo(f"  ✗ {r.name}")
                for line in r.failures:
                    typer.echo(f"      {line}")
        for warning in report.warnings:
            typer.echo(f"提醒：{warning}", err=True)
    if not report.ok:
        raise typer.Exit(1)


@policy_app.command("install")
def policy_install_command(
    file: Path = typer.Argument(..., help="已校验的政策文件"),
    replace: bool = typer.Option(False, "--replace", help="覆盖已安装的同名政策"),
    user: Optional[str] = typer.Option(None, "--user", help="以该账号安装：政策的适用区划（region_prefix）须在其管辖范围内"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
):
    """校验通过后把政策文件及其用例安装到本机政策目录（var/policies）。全市适用的政策（4位区划）由市医保局安装。"""
    from yibao.cli.common import cli_operator, django_setup, refusal_text

    django_setup()
    from django.core.exceptions import PermissionDenied

    from yibao.policy.services import PolicyInstallError, policy_install

    try:
        policy = policy_install(path=file, replace=replace, actor=cli_operator(user))
    except (PolicyInstallError, PermissionDenied) as exc:
        fail(refusal_text(exc), code=1)
    if as_json:
        emit_json({"policy": policy.id, "version": policy.version, "region_prefix": policy.data.locality.region_prefix})
        return
    typer.echo(f"已安装政策 {policy.id}（版本 {policy.version}）。")


def register(app: typer.Typer) -> None:
    from yibao.cli.policy_authoring import register_authoring

    register_authoring(policy_app)
    app.command("quote")(quote_command)
    app.add_typer(policy_app, name="policy")
