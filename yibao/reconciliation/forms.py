from django import forms

from yibao.core.clock import business_today
from yibao.core.uploads import validate_upload_size
from yibao.reconciliation.services import DEFAULT_CASH_GRACE_DAYS
from yibao.core.inputs import guard_form_fields


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RunStartForm(forms.Form):
    benefit_year = forms.TypedChoiceField(label="待遇年度", coerce=int)
    as_of = forms.DateField(label="对账截止日", widget=DateInput(), help_text="截止日之后的缴费、票据和交款不参与本次对账。")
    tax_file = forms.FileField(label="税务缴费记录（CSV 或 xlsx）", validators=[validate_upload_size])
    cash_grace_days = forms.IntegerField(
        label="现金交款宽限天数", min_value=0, max_value=31, initial=DEFAULT_CASH_GRACE_DAYS,
        help_text="窗口现金在收款后几天内应交款；超过的计为“现金短款”。",
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benefit_year"].choices = [(y, f"{y}年度") for y in years]
        self.fields["as_of"].initial = business_today()


class HandoverForm(forms.Form):
    benefit_year = forms.TypedChoiceField(label="待遇年度", coerce=int)
    collector = forms.ChoiceField(label="交款的征收员", required=False)
    collector_name = forms.CharField(label="或填写征收员账号名（或姓名）", max_length=150, required=False)
    village_code = forms.ChoiceField(label="村（社区）")
    period_start = forms.DateField(label="收款期间起", widget=DateInput())
    period_end = forms.DateField(label="收款期间止", widget=DateInput())
    handed_on = forms.DateField(label="交款日期", widget=DateInput())
    amount = forms.DecimalField(label="交款金额（元）", max_digits=14, decimal_places=2, min_value=0)
    note = forms.CharField(label="备注", max_length=200, required=False)

    def __init__(self, *args, years=(), collectors=(), villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benefit_year"].choices = [(y, f"{y}年度") for y in years]
        self.fields["collector"].choices = [("", "（请选择）")] + [(value, label) for value, label, _v in collectors]
        self.fields["village_code"].choices = [("", "（请选择）")] + list(villages)
        today = business_today()
        self.fields["handed_on"].initial = today
        self.fields["period_end"].initial = today

    def clean(self):
        data = super().clean()
        if not data.get("collector") and not (data.get("collector_name") or "").strip():
            self.add_error("collector", "请选择交款的征收员，或填写其账号名（或姓名）。")
        return data


class VoidForm(forms.Form):
    reason = forms.CharField(label="作废原因", max_length=200)


guard_form_fields(RunStartForm, HandoverForm, VoidForm)
