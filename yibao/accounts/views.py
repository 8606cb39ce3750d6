import logging

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_POST

from yibao.accounts import selectors, services
from yibao.accounts.decorators import scoped_view
from yibao.accounts.forms import (
    ChangePasswordForm,
    ConfirmForm,
    ProfileForm,
    ReasonForm,
    ResetPasswordForm,
    TokenForm,
    UserCreateForm,
    UserEditForm,
    apply_errors,
)
from yibao.accounts.roles import Role
from yibao.accounts.security import has_device, is_locked, locked_usernames, second_factor_required
from yibao.core.selectors import event_list
from yibao.regions.selectors import region_labels, region_options

security_log = logging.getLogger("yibao.security")


@scoped_view("accounts.manage")
def users(request):
    scope = request.scope
    status = request.GET.get("status", "")
    rows = selectors.user_list(
        scope=scope, q=request.GET.get("q") or None, role=request.GET.get("role") or None,
        active={"active": True, "inactive": False}.get(status), locked=True if status == "locked" else None,
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    labels = region_labels(u.region_code for u in page)
    locked = locked_usernames(u.username for u in page)
    for u in page:
        u.region_label = labels.get(u.region_code, u.region_code)
        u.locked = u.username in locked
    return render(request, "accounts/users.html", {"page": page, "roles": Role.choices, "status": status})


@scoped_view("accounts.manage")
def user_create(request):
    form = UserCreateForm(request.POST or None, region_choices=region_options(scope=request.scope),
                          above_county=request.scope.superuser)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = data["password"] or services.generate_password()
        try:
            user = services.user_create(actor=request.user, password=password, **{k: data[k] for k in (
                "username", "role", "region_code", "department", "display_name", "phone")})
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if data["password"]:
                messages.success(request, f"已创建账号 {user.username}。")
            else:
                messages.success(request, f"已创建账号 {user.username}，初始密码：{password}（只显示这一次，请转交本人并提醒修改）。")
            return redirect("accounts:user_edit", pk=user.pk)
    return render(request, "accounts/user_form.html", {"form": form, "creating": True})


@scoped_view("accounts.manage")
def user_edit(request, pk: int):
    user = selectors.user_get(scope=request.scope, pk=pk)
    initial = {f: getattr(user, f) for f in ("display_name", "phone", "role", "region_code", "department")}
    form = UserEditForm(request.POST or None, initial=initial, region_choices=region_options(scope=request.scope),
                          above_county=request.scope.superuser)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=request.user, user=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"已保存账号 {user.username} 的修改。")
            return redirect("accounts:user_edit", pk=user.pk)
    history = event_list(scope=request.scope, entity="user", entity_id=str(user.pk))[:20]
    return render(request, "accounts/user_form.html", {
        "form": form, "account": user, "creating": False, "history": history,
        "reason_form": ReasonForm(), "password_form": ResetPasswordForm(), "unlock_form": ConfirmForm(auto_id="unlock_%s"), "reset_otp_form": ConfirmForm(auto_id="otp_%s"),
        "locked": is_locked(user.username), "has_device": has_device(user),
        "second_factor_required": second_factor_required(user),
    })


def _set_active(request, pk: int, active: bool):
    user = selectors.user_get(scope=request.scope, pk=pk)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if active:
            services.user_activate(actor=request.user, user=user, reason=reason)
            messages.success(request, f"已启用账号 {user.username}。")
        else:
            services.user_deactivate(actor=request.user, user=user, reason=reason)
            messages.success(request, f"已停用账号 {user.username}，该账号不能再登录。")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    return redirect("accounts:user_edit", pk=user.pk)


@require_POST
@scoped_view("accounts.manage")
def user_deactivate(request, pk: int):
    return _set_active(request, pk, False)


@require_POST
@scoped_view("accounts.manage")
def user_activate(request, pk: int):
    return _set_active(request, pk, True)


@require_POST
@scoped_view("accounts.manage")
def user_password(request, pk: int):
    user = selectors.user_get(scope=request.scope, pk=pk)
    form = ResetPasswordForm(request.POST)
    typed = form.cleaned_data["password"] if form.is_valid() else ""
    try:
        password = services.user_reset_password(actor=request.user, user=user, password=typed)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        if typed:
            messages.success(request, f"已重置 {user.username} 的密码。")
        else:
            messages.success(request, f"已重置 {user.username} 的密码，新密码：{password}（只显示这一次）。")
    return redirect("accounts:user_edit", pk=user.pk)


@scoped_view
def me(request):
    user = request.user
    profile_form = ProfileForm(initial={"display_name": user.display_name, "phone": user.phone})
    password_form = ChangePasswordForm()
    if request.method == "POST":
        if request.POST.get("action") == "password":
            password_form = ChangePasswordForm(request.POST)
            if password_form.is_valid():
                try:
                    services.user_change_password(
                        user=user, old_password=password_form.cleaned_data["old_password"],
                        new_password=password_form.cleaned_data["password"],
                    )
                except ValidationError as exc:
                    apply_errors(password_form, exc)
                else:
                    update_session_auth_hash(request, user)
                    messages.success(request, "密码已修改。")
                    return redirect("accounts:me")
        else:
            profile_form = ProfileForm(request.POST)
            if profile_form.is_valid():
                try:
                    services.user_update_profile(user=user, **profile_form.cleaned_data)
                except ValidationError as exc:
                    apply_errors(profile_form, exc)
                else:
                    messages.success(request, "资料已保存。")
                    return redirect("accounts:me")
    summary = selectors.account_summary(user=user, scope=request.scope)
    return render(request, "accounts/me.html", {
        "summary": summary, "profile_form": profile_form, "password_form": password_form,
    })


def _confirmed_action(request, pk: int, action, done: str, nothing: str):
    user = selectors.user_get(scope=request.scope, pk=pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(m for ms in form.errors.values() for m in ms))
        return redirect("accounts:user_edit", pk=user.pk)
    try:
        count = action(actor=request.user, user=user, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, (done if count else nothing).format(username=user.username))
    return redirect("accounts:user_edit", pk=user.pk)


@require_POST
@scoped_view("accounts.manage")
def user_unlock(request, pk: int):
    return _confirmed_action(
        request, pk, services.user_unlock,
        done="已解锁账号 {username}，本人现在可以重新登录。", nothing="账号 {username} 当前未被锁定，无需解锁。",
    )


@require_POST
@scoped_view("accounts.manage")
def user_reset_second_factor(request, pk: int):
    return _confirmed_action(
        request, pk, services.user_reset_second_factor,
        done="已重置 {username} 的二次验证，本人下次登录时重新绑定手机验证器。", nothing="账号 {username} 尚未绑定手机验证器。",
    )


# ---- second factor: the pages between the password and the rest of the system ----------------------


def _next_url(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url("core:home")


def _otp_start(request):
    """Who may be here: a logged-in user whose second factor is required (others go on to the system)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not second_factor_required(request.user) or request.user.is_verified():
        return redirect(_next_url(request))
    return None


def otp_enrol(request):
    """First login of a required account: scan the QR code, then confirm one code from the phone."""
    from django_otp import login as otp_login

    if (answer := _otp_start(request)) is not None:
        return answer
    if has_device(request.user):
        return redirect(f"{resolve_url('accounts:otp_verify')}?{request.GET.urlencode()}")
    device = services.second_factor_device_start(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.second_factor_enrol(user=request.user, device=device, token=form.cleaned_data["token"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            otp_login(request, device)
            messages.success(request, "已绑定手机验证器。以后每次登录都需输入验证器上的6位验证码。")
            return redirect(_next_url(request))
    return render(request, "accounts/otp_enrol.html", {
        "form": form, "qr_svg": _qr_svg(device.config_url), "secret": _secret_text(device),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    })


def otp_verify(request):
    """A required account with a device: the 6-digit code after the password."""
    from django_otp import login as otp_login

    if (answer := _otp_start(request)) is not None:
        return answer
    if not has_device(request.user):
        return redirect(f"{resolve_url('accounts:otp_enrol')}?{request.GET.urlencode()}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_check(user=request.user, token=form.cleaned_data["token"])
        except ValidationError as exc:
            security_log.warning("second factor refused: username=%s", request.user.username)
            apply_errors(form, exc)
        else:
            otp_login(request, device)
            return redirect(_next_url(request))
    return render(request, "accounts/otp_verify.html", {
        "form": form, "next": request.POST.get("next") or request.GET.get("next", ""),
    })


def _qr_svg(uri: str) -> str:
    """The otpauth:// address as an inline SVG QR code (no network, no image file)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=5, dark="#1a1a1a", light="#ffffff")


def _secret_text(device) -> str:
    """The key in base32, in groups of four, for typing into an authenticator by hand."""
    from base64 import b32encode

    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


class LoginView(auth_views.LoginView):
    """The login page; after a wrong password it says how many tries are left before the lockout."""

    template_name = "accounts/login.html"

    def form_invalid(self, form):
        from django.conf import settings

        from yibao.accounts.security import failures_for, lockout_minutes

        response = super().form_invalid(form)
        failures = failures_for(self.request.POST.get("username", ""))
        left = settings.AXES_FAILURE_LIMIT - failures
        if settings.AXES_ENABLED and failures and 0 < left <= settings.AXES_FAILURE_LIMIT:
            response.context_data["attempts_warning"] = (
                f"再输错 {left} 次，该账号将被锁定 {lockout_minutes()} 分钟。"
            )
        return response
