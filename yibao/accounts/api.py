"""API of accounts: GET /api/me, and user management for the county administrator."""

from django.core.exceptions import ValidationError
from django.db import transaction
from ninja import Router, Schema, Status

from yibao.accounts import selectors, services
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


def _user_out(user, label: str | None = None) -> dict:
    return {
        "id": user.pk, "username": user.username, "display_name": user.display_name, "phone": user.phone,
        "role": user.role, "role_label": user.get_role_display(), "region_code": user.region_code,
        "region_label": label if label is not None else region_labels([user.region_code]).get(user.region_code, ""),
        "department": user.department, "is_active": user.is_active,
    }


@router.get("/me", response=MeOut, summary="当前登录账号：角色、管辖范围与权限")
def me(request):
    return selectors.account_summary(user=request.user, scope=request.auth)


@router.get("/users", response=list[UserOut], summary="本县账号列表")
def user_list(request, q: str | None = None, role: str | None = None, active: bool | None = None):
    request.auth.require("accounts.manage")
    users = list(selectors.user_list(scope=request.auth, q=q, role=role, active=active)[:1000])
    labels = region_labels(u.region_code for u in users)
    return [_user_out(u, labels.get(u.region_code, "")) for u in users]


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
