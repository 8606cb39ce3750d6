"""CLI commands of regions and accounts: `yibao regions …`, `yibao users …` (thin shells over services)."""

from __future__ import annotations

import typer

from yibao.cli.common import cli_actor, django_setup, emit_json, fail

regions_app = typer.Typer(help="行政区划：载入种子区划、查看区划树", no_args_is_help=True)
users_app = typer.Typer(help="账号：新建、列出、重置密码、停用、解锁、重置二次验证", no_args_is_help=True)


def _errors(exc) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(m for ms in exc.message_dict.values() for m in ms)
    return "；".join(getattr(exc, "messages", [str(exc)]))


@regions_app.command("load-seed")
def regions_load_seed(as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象")):
    """载入种子通知中的区划：崇阳县肖岭乡及其10个村、随县及其18个镇（场）。重复执行不会重复写入。"""
    django_setup()
    from yibao.regions.services import RegionDataError, regions_load_seed as load

    try:
        result = load(actor=cli_actor())
    except RegionDataError as exc:
        fail(str(exc))
    if as_json:
        emit_json(result)
    else:
        typer.echo(
            f"区划 {result['rows']} 条：新增 {result['created']}，改名 {result['renamed']}，未变 {result['unchanged']}。"
            "（乡镇、村代码为按国家编码规则构造的代码）",
            err=True,
        )


@regions_app.command("show")
def regions_show(
    code: str = typer.Argument("", help="区划代码；留空列出全部县"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """列出一个区划的下级及在册人数。"""
    django_setup()
    from yibao.accounts.scope import Scope
    from yibao.regions import selectors
    from yibao.regions.models import Region

    scope = Scope(role="county_admin", region_code="", superuser=True, username=cli_actor())
    if not code:
        rows = [{"code": r.code, "name": r.name} for r in Region.objects.filter(level=6)]
        if as_json:
            emit_json({"regions": rows})
        else:
            for r in rows:
                typer.echo(f"{r['code']}  {r['name']}")
        return
    try:
        region = selectors.region_get(scope=scope, code=code)
    except Exception as exc:  # Http404
        fail(str(exc))
    children = selectors.region_children(scope=scope, code=code)
    counts = selectors.region_counts(code=code)
    if as_json:
        emit_json({
            "code": region.code, "name": region.name, "level": region.level, **counts,
            "children": [{"code": c["region"].code, "name": c["region"].name, "residents": c["residents"],
                          "households": c["households"]} for c in children],
        })
        return
    typer.echo(f"{region.name}（{region.code}）在册 {counts['residents']} 人，{counts['households']} 户")
    for c in children:
        typer.echo(f"  {c['region'].code}  {c['region'].name}  在册 {c['residents']} 人，{c['households']} 户")


@users_app.command("create")
def users_create(
    username: str = typer.Argument(..., help="用户名"),
    role: str = typer.Option(..., "--role", help="county_admin / tax_officer / township_officer / village_collector / department_clerk / auditor / city_admin / city_tax / province_viewer"),
    region: str = typer.Option(..., "--region", help="所属区划代码（省2位、市4位、县6位、乡镇9位、村12位）"),
    department: str = typer.Option("", "--department", help="部门名单报送员的部门：minzheng / canlian / weijian / xiangcun / tuiyi …"),
    name: str = typer.Option("", "--name", help="姓名"),
    phone: str = typer.Option("", "--phone", help="联系电话"),
    password: str = typer.Option("", "--password", help="初始密码；留空则自动生成并打印"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """新建账号。"""
    django_setup()
    from django.core.exceptions import ValidationError

    from yibao.accounts import services

    secret = password or services.generate_password()
    try:
        user = services.user_create(
            actor=cli_actor(), username=username, password=secret, role=role, region_code=region,
            department=department, display_name=name, phone=phone,
        )
    except ValidationError as exc:
        fail(_errors(exc))
    out = {"id": user.pk, "username": user.username, "role": user.role, "region_code": user.region_code,
           "department": user.department, "password": None if password else secret}
    if as_json:
        emit_json(out)
    else:
        typer.echo(f"已创建账号 {user.username}（{user.get_role_display()}）", err=True)
        if not password:
            typer.echo(f"初始密码：{secret}", err=True)


@users_app.command("list")
def users_list(
    region: str = typer.Option("", "--region", help="只列出该区划内的账号"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """列出账号。"""
    django_setup()
    from yibao.accounts.models import User

    users = User.objects.order_by("region_code", "role", "username")
    if region:
        users = users.filter(region_code__startswith=region)
    rows = [{"username": u.username, "name": u.display_name, "role": u.role, "region_code": u.region_code,
             "department": u.department, "active": u.is_active} for u in users]
    if as_json:
        emit_json({"users": rows})
        return
    for r in rows:
        state = "" if r["active"] else "（已停用）"
        typer.echo(f"{r['username']:<20} {r['role']:<18} {r['region_code']:<12} {r['department']:<10} {r['name']}{state}")


def _get_user(username: str):
    from yibao.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        fail(f"没有用户名为 {username} 的账号")
    return user


@users_app.command("reset-password")
def users_reset_password(
    username: str = typer.Argument(..., help="用户名"),
    password: str = typer.Option("", "--password", help="新密码；留空则自动生成并打印"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """重置账号密码。"""
    django_setup()
    from django.core.exceptions import ValidationError

    from yibao.accounts import services

    user = _get_user(username)
    try:
        secret = services.user_reset_password(actor=cli_actor(), user=user, password=password)
    except ValidationError as exc:
        fail(_errors(exc))
    if as_json:
        emit_json({"username": user.username, "password": None if password else secret})
    else:
        typer.echo(f"已重置 {user.username} 的密码" + ("" if password else f"：{secret}"), err=True)


@users_app.command("deactivate")
def users_deactivate(
    username: str = typer.Argument(..., help="用户名"),
    reason: str = typer.Option("", "--reason", help="停用原因"),
):
    """停用账号（不能再登录，记录保留）。"""
    django_setup()
    from yibao.accounts import services

    user = _get_user(username)
    services.user_deactivate(actor=cli_actor(), user=user, reason=reason)
    typer.echo(f"已停用账号 {user.username}", err=True)


@users_app.command("unlock")
def users_unlock(
    username: str = typer.Argument(..., help="用户名"),
    reason: str = typer.Option("", "--reason", help="解锁原因（如：已电话核实本人）"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """解锁因连续输错密码被锁定的账号。"""
    django_setup()
    from yibao.accounts import services

    user = _get_user(username)
    cleared = services.user_unlock(actor=cli_actor(), user=user, reason=reason)
    if as_json:
        emit_json({"username": user.username, "unlocked": bool(cleared), "cleared": cleared})
    elif cleared:
        typer.echo(f"已解锁账号 {user.username}", err=True)
    else:
        typer.echo(f"账号 {user.username} 当前未被锁定，无需解锁", err=True)


@users_app.command("reset-2fa")
def users_reset_second_factor(
    username: str = typer.Argument(..., help="用户名"),
    reason: str = typer.Option("", "--reason", help="原因（如：手机丢失）"),
    as_json: bool = typer.Option(False, "--json", help="输出一个 JSON 对象"),
):
    """重置账号的二次验证（手机验证器）；本人下次登录时重新扫码绑定。"""
    django_setup()
    from yibao.accounts import services

    user = _get_user(username)
    removed = services.user_reset_second_factor(actor=cli_actor(), user=user, reason=reason)
    if as_json:
        emit_json({"username": user.username, "removed": removed})
    elif removed:
        typer.echo(f"已重置 {user.username} 的二次验证", err=True)
    else:
        typer.echo(f"账号 {user.username} 尚未绑定手机验证器", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(regions_app, name="regions")
    app.add_typer(users_app, name="users")
    app.add_typer(users_app, name="user", hidden=True)  # `yibao user unlock NAME` reads naturally too
