"""Login security: lockout after repeated failed logins (django-axes) and the TOTP second factor rule.

What an administrator does about it (unlock, reset the second factor) is in services.py.
"""

from __future__ import annotations

import logging

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

log = logging.getLogger("yibao.security")

LOCKOUT_ACTOR = "系统（登录保护）"


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked account before any password is checked (even the right one).

    Every login the system offers (the login page, POST /api/login) passes the request; a call
    without one (a script's `authenticate(username=…, password=…)`) is left to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_username(request, credentials: dict | None) -> str | None:
    """The name a failure is counted against: as typed, trimmed, case folded ("Admin" is "admin")."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    username = (username or "").strip().lower()
    return username or None


def lockout_minutes() -> int:
    cooloff = settings.AXES_COOLOFF_TIME
    return int(cooloff.total_seconds() // 60) if cooloff else 0


def lockout_message() -> str:
    contact = settings.YIBAO_SECURITY_CONTACT
    who = f"本县医保局系统管理员（{contact}）" if contact else "本县医保局系统管理员"
    minutes = lockout_minutes()
    wait = f"，或在 {minutes} 分钟后再试" if minutes else ""
    return (
        f"该账号因连续 {settings.AXES_FAILURE_LIMIT} 次密码错误已被锁定。"
        f"请联系{who}解锁{wait}。"
    )


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a login while locked: JSON 429 for the API, the login page with the reason otherwise."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "locked": True}, status=429, json_dumps_params={"ensure_ascii": False})
    return render(
        request, "accounts/login.html",
        {"locked_message": message, "username": login_username(request, credentials) or "",
         "next": request.POST.get("next", "")},
        status=429,
    )


def failures_for(username: str) -> int:
    """Failed logins counted against a name now (0 once the cool-off time has passed)."""
    from axes.models import AccessAttempt
    from django.db.models import Max, Sum

    username = (username or "").strip().lower()
    if not username or not settings.AXES_ENABLED:
        return 0
    attempts = AccessAttempt.objects.filter(username=username)
    cooloff = settings.AXES_COOLOFF_TIME
    if cooloff:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cooloff)
    if settings.AXES_LOCKOUT_PARAMETERS == ["username"]:
        return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
    return attempts.aggregate(n=Max("failures_since_start"))["n"] or 0  # per address: the worst one


def locked_usernames(usernames) -> set[str]:
    """Of these usernames, the ones locked now (one query)."""
    from axes.models import AccessAttempt
    from django.db.models import Max, Sum

    names = {(u or "").lower(): u for u in usernames}
    if not names or not settings.AXES_ENABLED:
        return set()
    attempts = AccessAttempt.objects.filter(username__in=list(names))
    cooloff = settings.AXES_COOLOFF_TIME
    if cooloff:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cooloff)
    total = Sum if settings.AXES_LOCKOUT_PARAMETERS == ["username"] else Max
    rows = attempts.values("username").annotate(n=total("failures_since_start"))
    return {names[r["username"]] for r in rows if r["n"] >= settings.AXES_FAILURE_LIMIT}


def locked_keys() -> set[str]:
    """Every username (case folded) locked now, whether or not such an account exists."""
    from axes.models import AccessAttempt
    from django.db.models import Max, Sum

    if not settings.AXES_ENABLED:
        return set()
    attempts = AccessAttempt.objects.all()
    cooloff = settings.AXES_COOLOFF_TIME
    if cooloff:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cooloff)
    total = Sum if settings.AXES_LOCKOUT_PARAMETERS == ["username"] else Max
    rows = attempts.values("username").annotate(n=total("failures_since_start"))
    return {r["username"] for r in rows if r["username"] and r["n"] >= settings.AXES_FAILURE_LIMIT}


def is_locked(username: str) -> bool:
    return failures_for(username) >= settings.AXES_FAILURE_LIMIT


def record_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """axes' user_locked_out signal: one log line and one event row when an account becomes locked.

    axes sends the same signal for each later attempt while locked; those are only logged.
    """
    from yibao.accounts.models import User
    from yibao.core.services import event_record

    path = getattr(request, "path", "")
    failures = getattr(request, "axes_failures_since_start", None)  # counted only when this failure locked it
    if failures is None:
        log.info("login refused: account %s is locked (ip=%s path=%s)", username, ip_address, path)
        return
    user = User.objects.filter(username__iexact=username or "").first() if username else None
    log.warning(
        "account locked: username=%s ip=%s path=%s failures=%s minutes=%s",
        username, ip_address, path, failures, lockout_minutes(),
    )
    event_record(
        county_code=(user.region_code or "")[:6] if user else "",
        entity="user", entity_id=user.pk if user else (username or ""), action="lockout", actor=LOCKOUT_ACTOR,
        after={"username": username, "ip": ip_address, "failures": failures, "minutes": lockout_minutes(),
               "path": path},
        reason=f"连续 {failures} 次密码错误，账号锁定 {lockout_minutes()} 分钟",
    )


# ---- second factor -----------------------------------------------------------------------------------


def second_factor_required(user) -> bool:
    """Whether this account must pass a TOTP code after its password (settings.YIBAO_REQUIRE_2FA_ROLES).

    A superuser counts as a county administrator: required whenever any role is.
    """
    roles = settings.YIBAO_REQUIRE_2FA_ROLES
    if not roles or not getattr(user, "is_authenticated", False):
        return False
    return user.role in roles or user.is_superuser


def second_factor_pending(user) -> bool:
    """Required and not yet passed in this session."""
    if not second_factor_required(user):
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (is_verified and is_verified())


def has_device(user) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)
