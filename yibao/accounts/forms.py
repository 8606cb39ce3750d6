"""Forms of the account pages; the rules themselves live in services.py."""

from django import forms
from django.core.exceptions import ValidationError

from yibao.accounts.roles import ABOVE_COUNTY_ROLES, Department, Role
from yibao.core.inputs import guard_form_fields


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's field messages on the form's fields (others on top of the form)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


DEPARTMENT_CHOICES = [("", "（无）")] + list(Department.choices)


class UserForm(forms.Form):
    display_name = forms.CharField(label="姓名", max_length=50, required=False)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    region_code = forms.ChoiceField(label="所属区划", help_text="县级角色选县，乡镇经办员选乡镇，村征收员选村（社区）；审计可选县及以下任一级；市医保局、市税务局选市，省医保局选省（仅系统管理员可设）。")
    department = forms.ChoiceField(label="所属部门", choices=DEPARTMENT_CHOICES, required=False,
                                   help_text="部门名单报送员必须选择。")

    def __init__(self, *args, region_choices=(), above_county=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region_code"].choices = [("", "请选择")] + list(region_choices)
        if not above_county:  # city and province accounts are set by a superuser only
            self.fields["role"].choices = [(v, label) for v, label in Role.choices if v not in ABOVE_COUNTY_ROLES]


class UserCreateForm(UserForm):
    username = forms.CharField(label="用户名", max_length=150, help_text="登录用，字母、数字或 _ . @ + -")
    password = forms.CharField(label="初始密码", required=False, widget=forms.PasswordInput(render_value=False),
                               help_text="至少8位；留空则自动生成，并只显示一次。")
    field_order = ["username", "display_name", "phone", "role", "region_code", "department", "password"]


class UserEditForm(UserForm):
    reason = forms.CharField(label="修改原因", max_length=200, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200, required=False)


class ResetPasswordForm(forms.Form):
    password = forms.CharField(label="新密码", required=False, widget=forms.PasswordInput(render_value=False),
                               help_text="至少8位；留空则自动生成，并只显示一次。")


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(label="原密码", widget=forms.PasswordInput)
    password = forms.CharField(label="新密码", widget=forms.PasswordInput, help_text="至少8位，不能全是数字。")
    password2 = forms.CharField(label="再次输入新密码", widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", "两次输入的新密码不一致。")
        return data


class ProfileForm(forms.Form):
    display_name = forms.CharField(label="姓名", max_length=50, required=False)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)


class ConfirmForm(forms.Form):
    """An administrator's action that needs a tick and a reason (unlock, reset the second factor)."""

    confirm = forms.BooleanField(label="我已核实是账号本人申请", required=True,
                                 error_messages={"required": "请先勾选“我已核实是账号本人申请”再提交。"})
    reason = forms.CharField(label="原因", max_length=200, required=False)


class TokenForm(forms.Form):
    token = forms.CharField(label="6位验证码", max_length=10, required=True,
                            error_messages={"required": "请输入手机验证器上显示的6位验证码。"})


guard_form_fields(UserForm, UserCreateForm, UserEditForm, ReasonForm, ResetPasswordForm, ChangePasswordForm, ProfileForm,
                  ConfirmForm, TokenForm)
