"""API of accounts: login and logout, GET /api/me, and user management for the county administrator."""

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.core.exceptions import ValidationError
from django.db import transaction
from ninja import Router, Schema, Status

from yibao.accounts import selectors, services
from yibao.accounts.scope import scope_for
from yibao.accounts.security import (
    failures_for,
    has_device,
    is_locked,
    locked_usernames,
    lockout_message,
    lockout_minutes,
    second_factor_required,
)
from yibao.regions.selectors import region_labels
from yibao.core.api_types import DbId, ErrorOut, PlainText

router = Router(tags=["账号"])


def error_response(exc: ValidationError) -> Status:
    """A service's ValidationError as a 400 answer: one Chinese sentence plus the messages by field."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return Status(400, {"detail": "；".join(m for ms in errors.values() for m in ms), "errors": errors})


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str
    role: str
    role_label: str
    region_code: str
    region_name: str
    department: str
    department_label: str
    full_id: bool
    superuser: bool
    capabilities: list[str]


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    phone: str
    role: str
    role_label: str
    region_code: str
    region_label: str
    department: str
    is_active: bool
    locked: bool


class UserIn(Schema):
    username: PlainText(150, "用户名")
    password: PlainText(128, "密码")
    role: PlainText(24, "角色")
    region_code: PlainText(12, "所属区划")
    department: PlainText(16, "所属部门") = ""
    display_name: PlainText(50, "姓名") = ""
    phone: PlainText(20, "联系电话") = ""


class UserPatch(Schema):
    role: PlainText(24, "角色") | None = None
    region_code: PlainText(12, "所属区划") | None = None
    department: PlainText(16, "所属部门") | None = None
    display_name: PlainText(50, "姓名") | None = None
    phone: PlainText(20, "联系电话") | None = None
    is_active: bool | None = None
    reason: PlainText(200, "修改原因") = ""


def _user_out(user, label: str | None = None, locked: bool | None = None) -> dict:
    return {
        "id": user.pk, "username": user.username, "display_name": user.display_name, "phone": user.phone,
        "role": user.role, "role_label": user.get_role_display(), "region_code": user.region_code,
        "region_label": label if label is not None else region_labels([user.region_code]).get(user.region_code, ""),
        "department": user.department, "is_active": user.is_active,
        "locked": is_locked(user.username) if locked is None else locked,
    }


class LoginIn(Schema):
    username: str
    password: str
    otp_token: str = ""


class LoginError(Schema):
    detail: str
    locked: bool = False
    second_factor: bool = False


@router.post(
    "/login", auth=None, response={200: MeOut, 401: LoginError, 403: LoginError, 429: LoginError},
    summary="登录（建立会话）：用户名、密码，须二次验证的账号另附 otp_token",
)
def login(request, payload: LoginIn):
    """The same rules as the login page: repeated failures lock the account; county roles may need a TOTP code."""
    from django_otp import login as otp_login

    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            return Status(429, {"detail": lockout_message(), "locked": True})
        detail = "用户名或密码不正确。"
        left = settings.AXES_FAILURE_LIMIT - failures_for(payload.username)
        if settings.AXES_ENABLED and 0 < left < settings.AXES_FAILURE_LIMIT:
            detail += f"再输错 {left} 次，该账号将被锁定 {lockout_minutes()} 分钟。"
        return Status(401, {"detail": detail})
    device = None
    if second_factor_required(user):
        if not has_device(user):
            return Status(403, {
                "detail": "该账号须使用二次验证，请先在网页上登录并绑定手机验证器，再使用 API 登录。",
                "second_factor": True,
            })
        token = payload.otp_token.strip().replace(" ", "")
        if not token:
            return Status(401, {"detail": "该账号须使用二次验证，请在 otp_token 中提供手机验证器上的6位验证码。",
                                "second_factor": True})
        try:
            device = services.second_factor_check(user=user, token=token)
        except ValidationError as exc:
            return Status(401, {"detail": "；".join(exc.messages), "second_factor": True})
    django_login(request, user)
    if device is not None:
        otp_login(request, device)
    return selectors.account_summary(user=user, scope=scope_for(user))


@router.post("/logout", response={204: None}, summary="退出登录")
def logout(request):
    django_logout(request)
    return Status(204, None)


@router.get("/me", response=MeOut, summary="当前登录账号：角色、管辖范围与权限")
def me(request):
    return selectors.account_summary(user=request.user, scope=request.auth)


@router.get("/users", response=list[UserOut], summary="本县账号列表")
def user_list(
    request, q: str | None = None, role: str | None = None, active: bool | None = None, locked: bool | None = None
):
    request.auth.require("accounts.manage")
    users = list(selectors.user_list(scope=request.auth, q=q, role=role, active=active, locked=locked)[:1000])
    labels = region_labels(u.region_code for u in users)
    locked = locked_usernames(u.username for u in users)
    return [_user_out(u, labels.get(u.region_code, ""), u.username in locked) for u in users]


@router.post("/users", response={201: UserOut, 400: ErrorOut}, summary="新建账号")
def user_create(request, payload: UserIn):
    request.auth.require("accounts.manage")
    try:
        user = services.user_create(actor=request.user, **payload.dict())
    except ValidationError as exc:
        return error_response(exc)
    return Status(201, _user_out(user))


@router.patch("/users/{user_id}", response={200: UserOut, 400: ErrorOut}, summary="修改账号（角色、区划、部门、停用）")
def user_update(request, user_id: DbId, payload: UserPatch):
    request.auth.require("accounts.manage")
    user = selectors.user_get(scope=request.auth, pk=user_id)
    data = payload.dict()
    active, reason = data.pop("is_active"), data.pop("reason")
    try:
        with transaction.atomic():
            services.user_update(actor=request.user, user=user, reason=reason, **data)
            if active is False:
                services.user_deactivate(actor=request.user, user=user, reason=reason)
            elif active is True:
                services.user_activate(actor=request.user, user=user, reason=reason)
    except ValidationError as exc:
        return error_response(exc)
    return Status(200, _user_out(user))


class AdminActionIn(Schema):
    reason: str = ""


class UnlockOut(Schema):
    username: str
    unlocked: bool
    cleared: int


class SecondFactorResetOut(Schema):
    username: str
    removed: int


@router.post("/users/{user_id}/unlock", response={200: UnlockOut, 400: ErrorOut}, summary="解锁因连续输错密码被锁定的账号")
def user_unlock(request, user_id: int, payload: AdminActionIn):
    request.auth.require("accounts.manage")
    user = selectors.user_get(scope=request.auth, pk=user_id)
    try:
        cleared = services.user_unlock(actor=request.user, user=user, reason=payload.reason)
    except ValidationError as exc:
        return error_response(exc)
    return {"username": user.username, "unlocked": bool(cleared), "cleared": cleared}


@router.post(
    "/users/{user_id}/second-factor/reset", response={200: SecondFactorResetOut, 400: ErrorOut},
    summary="重置账号的二次验证（手机丢失或更换）",
)
def user_reset_second_factor(request, user_id: int, payload: AdminActionIn):
    request.auth.require("accounts.manage")
    user = selectors.user_get(scope=request.auth, pk=user_id)
    try:
        removed = services.user_reset_second_factor(actor=request.user, user=user, reason=payload.reason)
    except ValidationError as exc:
        return error_response(exc)
    return {"username": user.username, "removed": removed}
