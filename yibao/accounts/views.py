from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from yibao.accounts import selectors, services
from yibao.accounts.decorators import scoped_view
from yibao.accounts.forms import (
    ChangePasswordForm,
    ProfileForm,
    ReasonForm,
    ResetPasswordForm,
    UserCreateForm,
    UserEditForm,
    apply_errors,
)
from yibao.accounts.roles import Role
from yibao.core.selectors import event_list
from yibao.regions.selectors import region_labels, region_options


@scoped_view("accounts.manage")
def users(request):
    scope = request.scope
    status = request.GET.get("status", "")
    rows = selectors.user_list(
        scope=scope, q=request.GET.get("q") or None, role=request.GET.get("role") or None,
        active={"active": True, "inactive": False}.get(status),
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    labels = region_labels(u.region_code for u in page)
    for u in page:
        u.region_label = labels.get(u.region_code, u.region_code)
    return render(request, "accounts/users.html", {"page": page, "roles": Role.choices, "status": status})


@scoped_view("accounts.manage")
def user_create(request):
    form = UserCreateForm(request.POST or None, region_choices=region_options(scope=request.scope))
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
    form = UserEditForm(request.POST or None, initial=initial, region_choices=region_options(scope=request.scope))
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
        "reason_form": ReasonForm(), "password_form": ResetPasswordForm(),
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
