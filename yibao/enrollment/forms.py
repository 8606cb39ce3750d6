"""Forms of the enrollment pages; the rules live in services.py."""

from django import forms

from yibao.enrollment.services import TERMINATION_CAUSES
from yibao.core.inputs import guard_form_fields


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CampaignOpenForm(forms.Form):
    county_code = forms.ChoiceField(label="县（区）")
    policy_id = forms.ChoiceField(label="缴费政策", help_text="政策文件决定待遇年度、缴费标准、资助和征缴期。")
    collection_start = forms.DateField(label="集中征缴期起", required=False, widget=DateInput(),
                                       help_text="留空则按政策文件。")
    collection_end = forms.DateField(label="集中征缴期止", required=False, widget=DateInput(),
                                     help_text="留空则按政策文件。")

    def __init__(self, *args, counties=(), policies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county_code"].choices = list(counties)
        self.fields["policy_id"].choices = [("", "请选择")] + list(policies)
        if len(counties) == 1:
            self.fields["county_code"].initial = counties[0][0]
            self.fields["county_code"].widget = forms.HiddenInput()


class AssessForm(forms.Form):
    on = forms.DateField(label="核定日期", required=False, widget=DateInput(),
                         help_text="留空：征缴期开始前按首日，期内按当天，期后按末日。")


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200)


class CloseForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200, required=False)


class TerminateForm(forms.Form):
    cause = forms.ChoiceField(label="终止原因", choices=list(TERMINATION_CAUSES.items()))
    effective_on = forms.DateField(label="终止日期", required=False, widget=DateInput(),
                                   help_text="如死亡日期、职工医保参保日期；在待遇期内的，待遇至该日止。")
    reason = forms.CharField(label="说明", max_length=150, required=False)


class TransferForm(forms.Form):
    to_village_code = forms.ChoiceField(label="迁入村（社区）")
    household_number = forms.CharField(label="加入户号", max_length=40, required=False,
                                       help_text="留空则在迁入村单独立户。")
    relation = forms.CharField(label="与户主关系", max_length=20, required=False)
    reason = forms.CharField(label="迁移原因", max_length=200)

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_village_code"].choices = [("", "请选择")] + list(villages)


class TierForm(forms.Form):
    tier = forms.TypedChoiceField(label="缴费档次", coerce=int)
    reason = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args, tiers=(1,), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [(t, f"{t}档") for t in tiers]


guard_form_fields(CampaignOpenForm, AssessForm, ReasonForm, CloseForm, TerminateForm, TransferForm, TierForm)
