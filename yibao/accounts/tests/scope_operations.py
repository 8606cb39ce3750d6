"""Account operations for the scope matrix (tests/test_scope_matrix.py).

The target of an account operation is the village collector bound to the target village.
"""

import json

from yibao.accounts.tests.scope_support import ScopeOperation


def _user(t):
    from yibao.accounts.models import User

    return User.objects.get(pk=t.user.pk)


def _new_username(t):
    return f"new_{t.key}"


def _created(world, t):
    from yibao.accounts.models import User

    return User.objects.filter(username=_new_username(t)).exists()


def _locked(t):
    """Lock the target account as five failed logins would (the operation then unlocks it)."""
    from axes.models import AccessAttempt
    from django.utils import timezone

    AccessAttempt.objects.create(username=t.user.username.lower(), ip_address="10.0.0.9", user_agent="matrix",
                                 failures_since_start=5, attempt_time=timezone.now())


def _unlocked(world, t):
    from yibao.accounts.security import is_locked

    return not is_locked(t.user.username)


def _with_device(t):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user_id=t.user.pk, name="手机验证器", confirmed=True)


def _no_device(world, t):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return not TOTPDevice.objects.filter(user_id=t.user.pk).exists()


OPERATIONS = [
    ScopeOperation(
        name="accounts.page.me",
        capability=None,
        call=lambda client, world, t: client.get("/accounts/me/"),
        on_foreign="none",
        shows=lambda t: None,
    ),
    ScopeOperation(
        name="accounts.api.me",
        capability=None,
        kind="api",
        call=lambda client, world, t: client.get("/api/me"),
        on_foreign="none",
        shows=lambda t: None,
    ),
    ScopeOperation(
        name="accounts.page.users",
        capability="accounts.manage",
        call=lambda client, world, t: client.get("/accounts/users/"),
        on_foreign="filter",
        shows=lambda t: t.user.username,
        leaks=lambda t: [t.user.username],
    ),
    ScopeOperation(
        name="accounts.page.user_edit",
        capability="accounts.manage",
        call=lambda client, world, t: client.get(f"/accounts/users/{t.user.pk}/"),
        shows=lambda t: t.user.username,
        leaks=lambda t: [t.user.username],
    ),
    ScopeOperation(
        name="accounts.page.user_update",
        capability="accounts.manage",
        call=lambda client, world, t: client.post(
            f"/accounts/users/{t.user.pk}/",
            {"display_name": "改过的名字", "phone": "", "role": "village_collector", "region_code": t.village_code,
             "department": "", "reason": "矩阵"},
        ),
        shows=lambda t: None,
        leaks=lambda t: [t.user.username],
        effect=lambda world, t: _user(t).display_name == "改过的名字",
    ),
    ScopeOperation(
        name="accounts.page.user_deactivate",
        capability="accounts.manage",
        call=lambda client, world, t: client.post(f"/accounts/users/{t.user.pk}/deactivate/", {"reason": "矩阵"}),
        shows=lambda t: None,
        leaks=lambda t: [t.user.username],
        effect=lambda world, t: not _user(t).is_active,
    ),
    ScopeOperation(
        name="accounts.page.user_password",
        capability="accounts.manage",
        call=lambda client, world, t: client.post(f"/accounts/users/{t.user.pk}/password/", {"password": "new-pass-9876"}),
        shows=lambda t: None,
        leaks=lambda t: [t.user.username],
        effect=lambda world, t: _user(t).check_password("new-pass-9876"),
    ),
    ScopeOperation(
        name="accounts.page.user_create",
        capability="accounts.manage",
        call=lambda client, world, t: client.post(
            "/accounts/users/new/",
            {"username": _new_username(t), "display_name": "新人", "phone": "", "role": "village_collector",
             "region_code": t.village_code, "department": "", "password": "pass-5678x"},
        ),
        shows=lambda t: None,
        leaks=lambda t: [],
        deny_status=(200, 403),  # a village outside the admin's county is not among the choices
        effect=_created,
    ),
    ScopeOperation(
        name="accounts.api.users",
        capability="accounts.manage",
        kind="api",
        call=lambda client, world, t: client.get("/api/users"),
        on_foreign="filter",
        shows=lambda t: t.user.username,
        leaks=lambda t: [t.user.username],
    ),
    ScopeOperation(
        name="accounts.api.user_create",
        capability="accounts.manage",
        kind="api",
        call=lambda client, world, t: client.post(
            "/api/users",
            json.dumps({"username": _new_username(t), "password": "pass-5678x", "role": "village_collector",
                        "region_code": t.village_code}),
            content_type="application/json",
        ),
        shows=lambda t: _new_username(t),
        leaks=lambda t: [],
        deny_status=(400, 403),
        effect=_created,
    ),
    ScopeOperation(
        name="accounts.api.user_update",
        capability="accounts.manage",
        kind="api",
        call=lambda client, world, t: client.patch(
            f"/api/users/{t.user.pk}", json.dumps({"display_name": "接口改名"}), content_type="application/json"
        ),
        shows=lambda t: "接口改名",
        leaks=lambda t: [t.user.username],
        effect=lambda world, t: _user(t).display_name == "接口改名",
    ),
    ScopeOperation(
        name="accounts.page.user_unlock",
        capability="accounts.manage",
        call=lambda client, world, t: (_locked(t), client.post(
            f"/accounts/users/{t.user.pk}/unlock/", {"confirm": "on", "reason": "矩阵"}))[1],
        shows=lambda t: None,
        leaks=lambda t: [t.user.username],
        effect=_unlocked,
    ),
    ScopeOperation(
        name="accounts.api.user_unlock",
        capability="accounts.manage",
        kind="api",
        call=lambda client, world, t: (_locked(t), client.post(
            f"/api/users/{t.user.pk}/unlock", json.dumps({"reason": "矩阵"}), content_type="application/json"))[1],
        shows=lambda t: t.user.username,
        leaks=lambda t: [t.user.username],
        effect=_unlocked,
    ),
    ScopeOperation(
        name="accounts.page.user_reset_second_factor",
        capability="accounts.manage",
        call=lambda client, world, t: (_with_device(t), client.post(
            f"/accounts/users/{t.user.pk}/second-factor/reset/", {"confirm": "on", "reason": "矩阵"}))[1],
        shows=lambda t: None,
        leaks=lambda t: [t.user.username],
        effect=_no_device,
    ),
    ScopeOperation(
        name="accounts.api.user_reset_second_factor",
        capability="accounts.manage",
        kind="api",
        call=lambda client, world, t: (_with_device(t), client.post(
            f"/api/users/{t.user.pk}/second-factor/reset", json.dumps({}), content_type="application/json"))[1],
        shows=lambda t: t.user.username,
        leaks=lambda t: [t.user.username],
        effect=_no_device,
    ),
]
