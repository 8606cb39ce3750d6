"""Writes of staff accounts. Every change is an event row (never a password)."""

from __future__ import annotations

import re
import secrets

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from yibao.accounts.models import User
from yibao.accounts.roles import ABOVE_COUNTY_ROLES, LEVEL_LABELS, ROLE_REGION_LEVEL, Department, Role, role_label
from yibao.accounts.scope import actor_scope
from yibao.core.services import event_record

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@+-]{3,150}$")
MIN_PASSWORD = 8
TRACKED = ("display_name", "role", "region_code", "department", "phone", "is_active")


def _snapshot(user: User) -> dict:
    return {field: getattr(user, field) for field in TRACKED}


def _record(user: User, action: str, actor, before=None, after=None, reason: str = "") -> None:
    region = user.region_code or ""
    event_record(  # a city or province account's changes go to the install-wide log (""), never a 2/4-digit code
        county_code=region[:6] if len(region) >= 6 else "", entity="user", entity_id=user.pk, action=action,
        actor=actor, before=before, after=after, reason=reason,
    )


def _require_manager(actor):
    """The actor's scope when it may manage accounts (None: the command line, unrestricted)."""
    scope = actor_scope(actor)
    if scope is not None:
        scope.require("accounts.manage")
    return scope


def _require_target(scope, user: User) -> None:
    if scope is None or scope.superuser:
        return
    if user.is_superuser or not scope.contains(user.region_code or ""):
        raise PermissionDenied("该账号不在您的管辖范围内。")


def check_password_text(password: str, user: User | None = None) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError({"password": f"密码至少需要{MIN_PASSWORD}位。"})
    if password.isdigit():
        raise ValidationError({"password": "密码不能全是数字，请加入字母或符号。"})
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": list(exc.messages)}) from None


def _check_fields(*, scope, role: str, region_code: str, department: str, phone: str) -> dict:
    """Field-by-field Chinese messages for role, region and department; {} when all is well."""
    from yibao.regions.models import Region

    errors: dict[str, str] = {}
    if role not in Role.values:
        errors["role"] = f"未知的角色：{role}"
        return errors
    level = ROLE_REGION_LEVEL.get(role)
    if not region_code:
        errors["region_code"] = "请选择所属区划。"
    elif not (region_code.isdigit() and len(region_code) in (2, 4, 6, 9, 12)):
        errors["region_code"] = f"区划代码“{region_code}”应为2、4、6、9或12位数字。"
    else:
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            errors["region_code"] = f"区划代码 {region_code} 不存在，请先导入行政区划。"
        elif level is not None and len(region_code) != level:
            errors["region_code"] = (
                f"{role_label(role)}须绑定到{LEVEL_LABELS[level]}（{level}位区划代码），"
                f"“{region.name}”是{LEVEL_LABELS[len(region_code)]}。"
            )
        elif level is None and len(region_code) < 6:
            errors["region_code"] = f"{role_label(role)}须绑定到县（区）或以下区划，“{region.name}”是{LEVEL_LABELS[len(region_code)]}。"
        elif scope is not None and not scope.superuser and (role in ABOVE_COUNTY_ROLES or len(region_code) < 6):
            errors["role" if role in ABOVE_COUNTY_ROLES else "region_code"] = (
                f"只有系统管理员可以设置市、省级账号（{role_label(role)}，{region.name}）。")
        elif scope is not None and not scope.contains(region_code):
            errors["region_code"] = f"“{region.name}”（{region_code}）不在您的管辖范围内。"
    if role == Role.DEPARTMENT_CLERK and not department:
        errors["department"] = "部门名单报送员须选择所属部门（民政、残联、卫健、乡村振兴、退役军人事务等）。"
    elif department and department not in Department.values:
        errors["department"] = f"未知的部门：{department}"
    if phone and not re.fullmatch(r"[0-9+\- ]{5,20}", phone):
        errors["phone"] = f"联系电话“{phone}”格式不正确。"
    return errors


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str,
    role: str,
    region_code: str,
    department: str = "",
    display_name: str = "",
    phone: str = "",
) -> User:
    scope = _require_manager(actor)
    username, display_name, phone = (username or "").strip(), (display_name or "").strip(), (phone or "").strip()
    region_code, department = (region_code or "").strip(), (department or "").strip()
    errors = _check_fields(scope=scope, role=role, region_code=region_code, department=department, phone=phone)
    if not USERNAME_RE.match(username):
        errors["username"] = "用户名须为3至150位字母、数字或 _ . @ + - 符号。"
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = f"用户名“{username}”已被使用。"
    if len(display_name) > 50:
        errors["display_name"] = "姓名不能超过50个字。"
    try:
        check_password_text(password)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    user = User(
        username=username, display_name=display_name, role=role, region_code=region_code,
        department=department if role == Role.DEPARTMENT_CLERK or department else "", phone=phone,
    )
    user.set_password(password)
    user.save()
    _record(user, "create", actor, after=_snapshot(user), reason="新建账号")
    return user


@transaction.atomic
def user_update(
    *,
    actor,
    user: User,
    role: str | None = None,
    region_code: str | None = None,
    department: str | None = None,
    display_name: str | None = None,
    phone: str | None = None,
    reason: str = "",
) -> User:
    """Change an account's role, region, department, name or phone. Fields left as None stay."""
    scope = _require_manager(actor)
    _require_target(scope, user)
    before = _snapshot(user)
    new = {
        "role": user.role if role is None else role,
        "region_code": user.region_code if region_code is None else region_code.strip(),
        "department": user.department if department is None else department.strip(),
        "display_name": user.display_name if display_name is None else display_name.strip(),
        "phone": user.phone if phone is None else phone.strip(),
    }
    if new["role"] != Role.DEPARTMENT_CLERK and department is None:
        new["department"] = user.department if new["role"] == user.role else ""
    if scope is not None and scope.user_id == user.pk and (
        new["role"] != user.role or new["region_code"] != user.region_code
    ):
        raise ValidationError({"role": "不能修改自己的角色或所属区划，请由其他管理员办理。"})
    errors = _check_fields(
        scope=scope, role=new["role"], region_code=new["region_code"], department=new["department"], phone=new["phone"]
    )
    if len(new["display_name"]) > 50:
        errors["display_name"] = "姓名不能超过50个字。"
    if errors:
        raise ValidationError(errors)
    for field, value in new.items():
        setattr(user, field, value)
    after = _snapshot(user)
    if after != before:
        user.save(update_fields=list(new))
        changed = [f for f in TRACKED if before[f] != after[f]]
        _record(
            user, "update", actor,
            before={f: before[f] for f in changed}, after={f: after[f] for f in changed}, reason=reason or "修改账号",
        )
    return user


@transaction.atomic
def user_deactivate(*, actor, user: User, reason: str = "") -> User:
    scope = _require_manager(actor)
    _require_target(scope, user)
    if scope is not None and scope.user_id == user.pk:
        raise ValidationError({"is_active": "不能停用自己的账号。"})
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        _record(user, "deactivate", actor, before={"is_active": True}, after={"is_active": False}, reason=reason or "停用账号")
    return user


@transaction.atomic
def user_activate(*, actor, user: User, reason: str = "") -> User:
    scope = _require_manager(actor)
    _require_target(scope, user)
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        _record(user, "activate", actor, before={"is_active": False}, after={"is_active": True}, reason=reason or "启用账号")
    return user


def generate_password() -> str:
    """A temporary password that is easy to read out over the phone (no 0/O, 1/l)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        text = "".join(secrets.choice(alphabet) for _ in range(10))
        if any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
            return text


@transaction.atomic
def user_reset_password(*, actor, user: User, password: str = "") -> str:
    """Set a new password (a generated one when empty) and return it, to be handed to the user once."""
    scope = _require_manager(actor)
    _require_target(scope, user)
    password = password or generate_password()
    check_password_text(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    _record(user, "reset_password", actor, reason="管理员重置密码")
    return password


@transaction.atomic
def user_change_password(*, user: User, old_password: str, new_password: str) -> User:
    """A user changes their own password ("我的账号")."""
    if not user.check_password(old_password or ""):
        raise ValidationError({"old_password": "原密码不正确。"})
    if old_password == new_password:
        raise ValidationError({"password": "新密码不能与原密码相同。"})
    check_password_text(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    _record(user, "change_password", user, reason="本人修改密码")
    return user


@transaction.atomic
def user_update_profile(*, user: User, display_name: str, phone: str) -> User:
    """A user corrects their own name and phone; role and region stay with the administrator."""
    display_name, phone = (display_name or "").strip(), (phone or "").strip()
    errors = {}
    if len(display_name) > 50:
        errors["display_name"] = "姓名不能超过50个字。"
    if phone and not re.fullmatch(r"[0-9+\- ]{5,20}", phone):
        errors["phone"] = f"联系电话“{phone}”格式不正确。"
    if errors:
        raise ValidationError(errors)
    before = {"display_name": user.display_name, "phone": user.phone}
    user.display_name, user.phone = display_name, phone
    after = {"display_name": display_name, "phone": phone}
    if before != after:
        user.save(update_fields=["display_name", "phone"])
        _record(user, "update_profile", user, before=before, after=after, reason="本人修改资料")
    return user


# ---- login security: unlock a locked account, reset and enrol the second factor ------------------------


@transaction.atomic
def user_unlock(*, actor, user: User, reason: str = "") -> int:
    """Clear the failed logins that lock an account; returns how many records were cleared (0: not locked)."""
    from axes.utils import reset

    from yibao.accounts.security import failures_for, is_locked

    scope = _require_manager(actor)
    _require_target(scope, user)
    locked, failures = is_locked(user.username), failures_for(user.username)
    cleared = reset(username=user.username.lower())
    if user.username != user.username.lower():
        cleared += reset(username=user.username)
    if cleared:
        _record(
            user, "unlock", actor, before={"locked": locked, "failures": failures}, after={"locked": False, "failures": 0},
            reason=reason or "管理员解锁账号",
        )
    return cleared


@transaction.atomic
def user_reset_second_factor(*, actor, user: User, reason: str = "") -> int:
    """Remove an account's authenticator devices (a lost phone); the next login enrols a new one."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    scope = _require_manager(actor)
    _require_target(scope, user)
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    if removed:
        _record(user, "reset_second_factor", actor, before={"devices": removed}, after={"devices": 0},
                reason=reason or "管理员重置二次验证")
    return removed


def second_factor_device_start(*, user: User):
    """The unconfirmed TOTP device an enrolling user scans (made once, kept until confirmed)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=False)
    return device


WRONG_CODE = "验证码不正确或已过期，请输入验证器上当前显示的6位数字（连续输错会被限制尝试）。"


def _throttled(device) -> str | None:
    """A Chinese message when django-otp is making this device wait after wrong codes."""
    allowed, data = device.verify_is_allowed()
    if allowed:
        return None
    until = (data or {}).get("locked_until")
    if until is not None:
        from django.utils import timezone

        seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
        return f"验证码输错次数过多，请 {seconds} 秒后再试。"
    return "验证码输错次数过多，请稍后再试。"


def second_factor_check(*, user: User, token: str, device=None):
    """The device that accepts this code (the user's confirmed ones, or the given one); ValidationError if none.

    Not one transaction: a wrong code's throttling (django-otp slows repeated wrong codes) must stay written.
    """
    from django_otp import devices_for_user

    token = (token or "").strip().replace(" ", "")
    devices = [device] if device is not None else list(devices_for_user(user, confirmed=True))
    waits = [m for m in (_throttled(d) for d in devices) if m]
    if devices and len(waits) == len(devices):
        raise ValidationError({"token": waits[0]})
    if token.isdigit() and len(token) <= 8:
        for candidate in devices:
            if candidate.verify_token(token):
                return candidate
    raise ValidationError({"token": WRONG_CODE})


def second_factor_enrol(*, user: User, device, token: str) -> None:
    """Confirm the scanned device with a code from it; ValidationError when the code is wrong."""
    second_factor_check(user=user, token=token, device=device)
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        type(device).objects.filter(user=user, confirmed=False).delete()
        _record(user, "enrol_second_factor", user, after={"devices": 1}, reason="本人绑定手机验证器")
