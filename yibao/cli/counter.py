"""`yibao pay` (one person, or chosen members of a household: one payment each, one receipt) and
`yibao top-up` (补缴差额 of a 少缴 payment): the counter's services, with the booking gate."""

from __future__ import annotations

import datetime as dt
from typing import Optional

import typer

from yibao.cli.collection import _channel, _money
from yibao.cli.common import (USER_HELP, cli_operator, django_setup, emit_json, fail, operator_scope, refusal_text,
                              year_option)

JSON = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象")
USER = typer.Option(None, "--user", help=USER_HELP)


def _paid_at(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    from django.utils import timezone

    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        fail(f"--paid-at 时间格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM，收到：{text}")
    if value.tzinfo is None:
        value = timezone.make_aware(value)
    return value


def _household(text: str, *, scope, county: str | None):
    from yibao.registry.models import Household

    text = (text or "").strip()
    found = scope.filter(Household.objects.all())
    if county:
        found = found.filter(county_code=county)
    matches = list(found.filter(number=text)[:3])
    if not matches and text.isdigit():
        matches = list(found.filter(pk=int(text)))
    if not matches:
        fail(f"--household 未找到户号（或户编号）{text}，或不在当前账号的管辖范围内。")
    if len(matches) > 1:
        fail(f"户号 {text} 在多个县登记，请用 --county 指定。")
    return matches[0]


def _members(text: str, *, household, scope) -> list:
    from yibao.cli.people import PersonNotFound, find_resident

    items = [t.strip() for t in (text or "").replace("，", ",").split(",") if t.strip()]
    if not items:
        fail("--members 请列出缴费成员的身份证号码或居民编号，以逗号分隔。")
    people = []
    for item in items:
        try:
            resident = find_resident(item, scope=scope, county=household.county_code, label="--members 身份证号码")
        except PersonNotFound as exc:
            fail(str(exc))
        if resident.household_id != household.pk:
            fail(f"{resident.name}（{scope.show_id(resident.id_number)}）不是户号 {household.number} 的成员。")
        people.append(resident)
    return people


def pay_command(
    id_number: Optional[str] = typer.Option(None, "--id-number", help="缴费人身份证号码（一人）"),
    household: Optional[str] = typer.Option(None, "--household", help="户号（或户编号）：为该户选定成员一并缴费"),
    members: Optional[str] = typer.Option(None, "--members", help="与 --household 同用：成员身份证号码或居民编号，逗号分隔"),
    year: int = typer.Option(..., "--year", callback=year_option, help="待遇年度，如 2025"),
    amount: Optional[str] = typer.Option(None, "--amount", help="实收金额（元），须等于应缴金额（一人时必填；一户时可核对合计）"),
    channel: str = typer.Option(..., "--channel", help="收款方式：cash 现金、pos、wechat 微信、alipay 支付宝"),
    county: Optional[str] = typer.Option(None, "--county", help="县级区划代码（同一身份证号码或户号在多个县登记时）"),
    paid_at: Optional[str] = typer.Option(None, "--paid-at", help="缴费时间（补录），默认现在"),
    user: Optional[str] = USER,
    as_json: bool = JSON,
):
    """窗口收款：按政策测算应缴金额，登记参保、入账，一次收款开具一张票据（一人，或一户的选定成员）。"""
    django_setup()
    from django.core.exceptions import PermissionDenied

    from yibao.cli.people import PersonNotFound, find_resident
    from yibao.collection.services import PaymentError, payment_collect

    if bool(id_number) == bool(household):
        fail("请用 --id-number 指定一人，或用 --household 和 --members 指定一户的成员，二者选一。")
    if household and not members:
        fail("--household 须与 --members 同用：列出本次缴费的成员。")
    if id_number and amount is None:
        fail("一人缴费请用 --amount 填写实收金额。")
    money = _money(amount, "--amount") if amount is not None else None
    code = _channel(channel)
    actor = cli_operator(user)
    scope = operator_scope(actor)
    home = None
    if household:
        home = _household(household, scope=scope, county=county)
        residents = _members(members, household=home, scope=scope)
    else:
        try:
            residents = [find_resident(id_number, scope=scope, county=county, label="--id-number 身份证号码")]
        except PersonNotFound as exc:
            fail(str(exc))
    try:
        result = payment_collect(residents=residents, channel=code, actor=actor, benefit_year=year,
                                 paid_at=_paid_at(paid_at), amount=money, household=home)
    except (PaymentError, PermissionDenied) as exc:
        fail(refusal_text(exc))
    out = result.as_dict()
    for line in out["payments"]:
        line["id_number"] = scope.show_id(line["id_number"])
    if as_json:
        emit_json(out)
        return
    for p in out["payments"]:
        later = f"，先缴后补：日后退补 {p['refund_later']}元" if p["refund_later"] else ""
        typer.echo(f"已收款入账：{p['name']} {year}年度 {p['amount']}元，待遇享受期 {p['benefit_start']} 至 "
                   f"{p['benefit_end']}{later}")
    typer.echo(f"票据号 {out['receipt_no']}，合计 {out['total']}元（{result.receipt.get_channel_display()}）")


def top_up_command(
    payment: str = typer.Argument(..., help="少缴的缴费记录编号，或其缴费流水号"),
    channel: str = typer.Option(..., "--channel", help="收款方式：cash 现金、pos、wechat 微信、alipay 支付宝"),
    amount: Optional[str] = typer.Option(None, "--amount", help="实收差额（元）：填写时须等于今日应补差额"),
    county: Optional[str] = typer.Option(None, "--county", help="县级区划代码（流水号在多个县出现时）"),
    user: Optional[str] = USER,
    as_json: bool = JSON,
):
    """补缴差额：少缴的渠道缴费按今日政策补足差额，开具票据，原缴费随之入账。"""
    django_setup()
    from django.core.exceptions import PermissionDenied

    from yibao.collection.models import Payment
    from yibao.collection.services import PaymentError, payment_top_up

    money = _money(amount, "--amount") if amount is not None else None
    code = _channel(channel)
    actor = cli_operator(user)
    scope = operator_scope(actor)
    found = scope.filter(Payment.objects.all())
    if county:
        found = found.filter(county_code=county)
    text = payment.strip()
    matches = list(found.filter(external_id=text)[:3])
    if not matches and text.isdigit():
        matches = list(found.filter(pk=int(text)))
    if not matches:
        fail(f"未找到缴费记录（编号或流水号）{text}，或不在当前账号的管辖范围内。")
    if len(matches) > 1:
        fail(f"流水号 {text} 在多个县出现，请用 --county 指定。")
    try:
        result = payment_top_up(payment=matches[0], channel=code, actor=actor, amount=money)
    except (PaymentError, PermissionDenied) as exc:
        fail(refusal_text(exc))
    out = result.as_dict()
    for line in out["payments"]:
        line["id_number"] = scope.show_id(line["id_number"])
    if as_json:
        emit_json(out)
        return
    typer.echo(f"已补缴差额 {out['total']}元，票据号 {out['receipt_no']}，原缴费（流水号 {matches[0].external_id}）已入账。")


def register(app: typer.Typer) -> None:
    app.command("pay")(pay_command)
    app.command("top-up")(top_up_command)
