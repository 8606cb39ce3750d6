"""CLI commands of the campaign area: `yibao campaign open|close|list` and `yibao assess`."""

from __future__ import annotations

from decimal import Decimal

import typer

from yibao.cli.common import USER_HELP, cli_actor, django_setup, emit_json, fail, fail_unless_succeeded, parse_date, year_option

campaign_app = typer.Typer(help="征缴年度：开启、结束、查看", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象")
COUNTY = typer.Option(..., "--county", help="县级区划代码，如 340321")


def _campaign_out(campaign) -> dict:
    return {
        "id": campaign.pk, "county_code": campaign.county_code, "benefit_year": campaign.benefit_year,
        "policy_id": campaign.policy_id, "policy_version": campaign.policy_version,
        "collection_start": campaign.collection_start, "collection_end": campaign.collection_end,
        "status": campaign.status, "last_assessed_on": campaign.last_assessed_on,
        "imported": campaign.imported,
    }


def _get_campaign(county: str, year: int):
    from yibao.enrollment.selectors import campaign_get
    from yibao.regions.selectors import county_label

    campaign = campaign_get(county_code=county, benefit_year=year)
    if campaign is None:
        fail(f"{county_label(county)}还没有开启{year}年度征缴：请先执行 yibao campaign open --county {county} --policy 政策编号。")
    return campaign


def _city_open(city: str, policy: str, start, end, user, as_json: bool, dry_run: bool) -> None:
    from django.core.exceptions import PermissionDenied

    from yibao.cli.common import cli_operator, refusal_text
    from yibao.enrollment.city import campaign_city_plan, campaign_open_city
    from yibao.enrollment.services import EnrollmentError

    try:
        if dry_run:
            plan = campaign_city_plan(city_code=city, policy_id=policy, actor=cli_operator(user))
        else:
            plan = campaign_open_city(city_code=city, policy_id=policy, actor=cli_operator(user),
                                      collection_start=start, collection_end=end)
    except (EnrollmentError, PermissionDenied) as exc:
        fail(refusal_text(exc))
    if as_json:
        emit_json(plan.as_dict() | {"dry_run": dry_run})
        return
    head = "将为" if dry_run else "已为"
    typer.echo(f"{head}{plan.city_name}（{plan.city_code}）开启{plan.benefit_year}年度征缴（政策 {plan.policy_id}）：")
    for c in plan.counties:
        typer.echo(f"  {c.county_code} {c.name}：{c.outcome_label}。{c.note}")
    typer.echo(f"共 {len(plan.to_open)} 个县{'待开启' if dry_run else '开启'}，{len(plan.skipped)} 个县跳过。")


@campaign_app.command("open")
def campaign_open_command(
    county: str = typer.Option(None, "--county", help="县级区划代码，如 340321"),
    city: str = typer.Option(None, "--city", help="市级区划代码（4位，如 1406）：为全市已导入的每个县开启，全部成功或全部不开启"),
    policy: str = typer.Option(..., "--policy", help="政策编号，如 anhui-huaiyuan-2025（yibao policy list）"),
    start: str = typer.Option(None, "--start", help="集中征缴期起（YYYY-MM-DD），默认按政策"),
    end: str = typer.Option(None, "--end", help="集中征缴期止（YYYY-MM-DD），默认按政策"),
    user: str = typer.Option(None, "--user", help=USER_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="只列出各县将开启或跳过，不写入（仅 --city）"),
    as_json: bool = JSON,
):
    """开启一个县的征缴年度（每县每年度一次）；--city 为全市各县一次开启，已开启的县跳过。"""
    django_setup()
    from django.core.exceptions import PermissionDenied

    from yibao.cli.common import cli_operator, refusal_text
    from yibao.enrollment.services import EnrollmentError, campaign_open
    from yibao.regions.selectors import county_label

    if bool(county) == bool(city):
        fail("请指定 --county（一个县）或 --city（全市各县）其中之一。")
    start_day, end_day = parse_date(start, "--start"), parse_date(end, "--end")
    if city:
        _city_open(city, policy, start_day, end_day, user, as_json, dry_run)
        return
    try:
        campaign = campaign_open(
            county_code=county, policy_id=policy, actor=cli_operator(user),
            collection_start=start_day, collection_end=end_day,
        )
    except (EnrollmentError, PermissionDenied) as exc:
        fail(refusal_text(exc))
    if as_json:
        emit_json(_campaign_out(campaign))
        return
    typer.echo(
        f"已开启{county_label(campaign.county_code)}{campaign.benefit_year}年度征缴（#{campaign.pk}）：政策 {campaign.policy_id}"
        f"（版本 {campaign.policy_version}），集中征缴期 {campaign.collection_start} 至 {campaign.collection_end}。"
    )


@campaign_app.command("close")
def campaign_close_command(
    county: str = COUNTY,
    year: int = typer.Option(..., "--year", callback=year_option, help="待遇年度"),
    reason: str = typer.Option("", "--reason", help="原因"),
    as_json: bool = JSON,
):
    """结束一个县的征缴年度：此后不再核定，只为政策按征缴期外规定受理的人登记、入账。"""
    django_setup()
    from yibao.enrollment.services import EnrollmentError, campaign_close
    from yibao.regions.selectors import county_label

    try:
        campaign = campaign_close(campaign=_get_campaign(county, year), actor=cli_actor(), reason=reason)
    except EnrollmentError as exc:
        fail(str(exc))
    if as_json:
        emit_json(_campaign_out(campaign))
        return
    typer.echo(f"已结束{county_label(county)}{year}年度征缴。")


@campaign_app.command("list")
def campaign_list_command(county: str = typer.Option(None, "--county", help="只列出这个县"),
                          city: str = typer.Option(None, "--city", help="只列出这个市（4位）的各县"), as_json: bool = JSON):
    """列出征缴年度。"""
    django_setup()
    from yibao.enrollment.models import Campaign

    campaigns = Campaign.objects.all().order_by("county_code", "-benefit_year")
    if county:
        campaigns = campaigns.filter(county_code=county)
    if city:
        campaigns = campaigns.filter(county_code__startswith=city)
    rows = [_campaign_out(c) for c in campaigns]
    if as_json:
        emit_json({"campaigns": rows})
        return
    if not rows:
        typer.echo("还没有开启任何征缴年度。")
    for c in campaigns:
        if c.imported:
            typer.echo(f"#{c.pk} {c.county_code} {c.benefit_year}年度 历史名单（导入，不核定、不收款）")
            continue
        typer.echo(f"#{c.pk} {c.county_code} {c.benefit_year}年度 {c.policy_id} {c.get_status_display()}"
                   f" 征缴期 {c.collection_start}～{c.collection_end}"
                   + (f" 最近核定 {c.last_assessed_on}" if c.last_assessed_on else ""))


ASSESS_KEYS = ("residents", "assessed", "unchanged", "removed", "not_accepted", "payable_total", "refund_later_total",
               "policy_version", "assessed_on", "seconds")


def assess(
    county: str = COUNTY,
    year: int = typer.Option(..., "--year", callback=year_option, help="待遇年度"),
    on: str = typer.Option(None, "--on", help="核定日期（YYYY-MM-DD）；默认：征缴期前取首日，期内取当天，期后取末日"),
    as_json: bool = JSON,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="不显示进度条"),
):
    """核定：按政策测算全县每位参保人本年度的应缴金额（只重算有变化的人）。"""
    django_setup()
    from yibao.core.jobs import job_run
    from yibao.core.progress import RichProgress
    from yibao.enrollment.tasks import assessment_job_create

    campaign = _get_campaign(county, year)
    job = assessment_job_create(campaign=campaign, actor=cli_actor(), on=parse_date(on, "--on"))
    with RichProgress(f"{county} 县{year}年度核定", enabled=not quiet) as bar:
        job = job_run(job, bar)
    fail_unless_succeeded(job, "核定")
    result = {k: job.result.get(k) for k in ASSESS_KEYS}
    result["payable_total"] = Decimal(result["payable_total"])
    result["refund_later_total"] = Decimal(result["refund_later_total"])
    if as_json:
        emit_json(result | {"county_code": county, "benefit_year": year, "job": job.pk})
        return
    typer.echo(
        f"{county} 县{year}年度核定（核定日期 {result['assessed_on']}，政策版本 {result['policy_version']}）："
        f"参保人 {result['residents']}，本次核定 {result['assessed']}，未变 {result['unchanged']}，"
        f"移除 {result['removed']}，不予受理 {result['not_accepted']}；应缴合计 {result['payable_total']} 元，"
        f"先缴后补合计 {result['refund_later_total']} 元；用时 {result['seconds']} 秒。"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(campaign_app, name="campaign")
    app.command("assess")(assess)
