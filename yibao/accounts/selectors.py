"""Reads of staff accounts, within the reader's scope."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from yibao.accounts.models import User
from yibao.accounts.roles import CAPABILITIES, department_label, role_label


def user_list(
    *, scope, q: str | None = None, role: str | None = None, active: bool | None = None, locked: bool | None = None
):
    """Accounts bound to a region inside the scope (superusers only for a superuser); locked: by repeated failed logins."""
    users = User.objects.all()
    if not scope.superuser:
        users = users.filter(is_superuser=False)
    if scope.region_code:
        users = users.filter(region_code__startswith=scope.region_code)
    if q:
        q = q.strip()
        users = users.filter(Q(username__icontains=q) | Q(display_name__icontains=q) | Q(phone=q))
    if role:
        users = users.filter(role=role)
    if active is not None:
        users = users.filter(is_active=active)
    if locked is not None:
        from django.db.models.functions import Lower

        from yibao.accounts.security import locked_keys

        users = users.annotate(username_key=Lower("username"))
        users = users.filter(username_key__in=locked_keys()) if locked else users.exclude(username_key__in=locked_keys())
    return users.order_by("region_code", "role", "username")


def user_get(*, scope, pk: int) -> User:
    user = user_list(scope=scope).filter(pk=pk).first()
    if user is None:
        raise Http404("账号不存在或不在您的管辖范围内。")
    return user


def account_summary(*, user, scope) -> dict:
    """What "我的账号" and GET /api/me show: who I am, where, and what I may do."""
    from yibao.regions.selectors import region_label

    return {
        "id": user.pk,
        "username": user.get_username(),
        "display_name": user.display_name,
        "phone": user.phone,
        "role": scope.role,
        "role_label": role_label(scope.role),
        "region_code": scope.region_code,
        "region_name": region_label(scope.region_code, from_level=6) if scope.region_code else "全部地区",
        "department": scope.department,
        "department_label": department_label(scope.department) if scope.department else "",
        "full_id": scope.full_id,
        "superuser": scope.superuser,
        "capabilities": sorted(scope.capabilities),
        "capability_labels": [CAPABILITIES[c] for c in sorted(scope.capabilities)],
    }
