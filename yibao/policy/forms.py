from django import forms

from yibao.core.uploads import validate_upload_size
from yibao.policy.selectors import policy_list
from yibao.policy.vocabulary import GROUPS, IDENTITIES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class QuoteForm(forms.Form):
    policy = forms.ChoiceField(label="政策")
    birth_date = forms.DateField(label="出生日期", widget=DATE, error_messages={"invalid": "请输入有效日期"})
    paid_on = forms.DateField(label="缴费日期", widget=DATE, error_messages={"invalid": "请输入有效日期"})
    identities = forms.MultipleChoiceField(
        label="资助身份（可多选）",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(i.code, i.name) for i in IDENTITIES],
    )
    group = forms.ChoiceField(label="参保群体", required=False, choices=[("", "（无）")] + list(GROUPS.items()))
    event_date = forms.DateField(
        label="事件日期（刑满释放、退役、职工医保停保、毕业）", required=False, widget=DATE,
        error_messages={"invalid": "请输入有效日期"},
    )
    tier = forms.TypedChoiceField(label="缴费档次", choices=[(1, "一档"), (2, "二档")], coerce=int, initial=1)
    household_role = forms.ChoiceField(
        label="家庭角色", required=False, choices=[("", "不区分"), ("child", "子女"), ("parent", "父母")]
    )
    first_time = forms.BooleanField(label="首次参保（此前从未在本县参保）", required=False)
    gap_years = forms.IntegerField(label="参保前连续断保年数", min_value=0, max_value=50, initial=0, required=False)
    backpaid_years = forms.IntegerField(label="补缴断保年数", min_value=0, max_value=50, initial=0, required=False)
    employee_months = forms.IntegerField(
        label="职工医保缴费月数（政策所问年度，不清楚可不填）", min_value=0, max_value=12, required=False,
        error_messages={"min_value": "职工医保缴费月数应为0至12", "max_value": "职工医保缴费月数应为0至12"},
    )
    household_enrolled = forms.ChoiceField(
        label="同户其他家庭成员已参加本年度居民医保", required=False,
        choices=[("", "不清楚"), ("yes", "是"), ("no", "否")],
    )
    identity_since = forms.DateField(
        label="资助身份认定日期（所选身份的起始日期，不填视为早已认定）", required=False, widget=DATE,
        error_messages={"invalid": "请输入有效日期"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [
            (p["id"], f"{p['locality']} {p['benefit_year']}年度") for p in policy_list()
        ]


class PolicyUploadForm(forms.Form):
    policy_file = forms.FileField(label="政策文件（<政策编号>.yaml）", validators=[validate_upload_size])
    cases_file = forms.FileField(label="用例文件（<政策编号>.cases.yaml）", validators=[validate_upload_size])
    notice_file = forms.FileField(
        label="通知原文（纯文本，文件名与政策文件中写明的通知原文文件名一致；系统内置的通知可不传）", required=False,
        validators=[validate_upload_size],
    )
    replace = forms.BooleanField(label="覆盖已安装的同名政策", required=False)
    install = forms.BooleanField(label="校验通过后安装", required=False)
