"""Forms of the registry pages; the rules live in services.py."""

from django import forms

from yibao.accounts.roles import Department
from yibao.policy.vocabulary import GROUPS, IDENTITIES
from yibao.registry.models import Flag, Resident
from yibao.registry.services import RELATIONS
from yibao.core.inputs import guard_form_fields

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # what <input type="date"> reads


def _choices(values, blank="请选择"):
    return [("", blank)] + list(values)


class RegionChoiceMixin:
    def set_regions(self, field: str, options, blank="请选择"):
        self.fields[field].choices = _choices(options, blank)


class MemberForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50, required=False)
    id_number = forms.CharField(label="身份证号码", max_length=20, required=False,
                                widget=forms.TextInput(attrs={"inputmode": "text", "autocomplete": "off"}))
    relation = forms.ChoiceField(label="与户主关系", choices=_choices([(r, r) for r in RELATIONS]), required=False)
    phone = forms.CharField(label="联系电话", max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"}))

    def has_content(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return any((data.get(k) or "").strip() for k in ("name", "id_number", "phone"))


MemberFormSet = forms.formset_factory(MemberForm, extra=6, max_num=20)


class HouseholdForm(RegionChoiceMixin, forms.Form):
    village_code = forms.ChoiceField(label="村（社区）")
    number = forms.CharField(label="户号", max_length=40, required=False, help_text="户口簿上的户号；留空则自动编号。")
    address = forms.CharField(label="住址", max_length=200, required=False)

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_regions("village_code", villages)


class MemberAddForm(MemberForm):
    reason = forms.CharField(label="原因", max_length=200, required=False, help_text="如：新生儿随父母登记")


class ResidentEditForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    residence_region_code = forms.CharField(label="居住地区划代码", max_length=12, required=False)
    status = forms.ChoiceField(label="状态", choices=Resident.Status.choices)
    reason = forms.CharField(label="修改原因", max_length=200, required=False, help_text="变更状态时必填。")


class MoveForm(RegionChoiceMixin, forms.Form):
    to_village_code = forms.ChoiceField(label="迁入村（社区）")
    household_number = forms.CharField(label="加入的户号", max_length=40, required=False,
                                       help_text="加入迁入村的已有户时填写；留空则在迁入村单独立户。")
    relation = forms.ChoiceField(label="与新户主关系", choices=_choices([(r, r) for r in RELATIONS if r != "户主"], "（单独立户不填）"),
                                 required=False)
    reason = forms.CharField(label="迁移原因", max_length=200)

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.set_regions("to_village_code", villages)


class IdentityAddForm(forms.Form):
    code = forms.ChoiceField(label="资助身份", choices=_choices([(i.code, i.name) for i in IDENTITIES]))
    department = forms.ChoiceField(label="认定部门", choices=_choices(Department.choices, "按身份默认"), required=False)
    valid_from = forms.DateField(label="起始日期", required=False, widget=DATE)
    valid_to = forms.DateField(label="终止日期", required=False, widget=DATE)
    source_name = forms.CharField(label="来源名单", max_length=255, required=False)


class IdentityEndForm(forms.Form):
    valid_to = forms.DateField(label="终止日期", widget=DATE)
    reason = forms.CharField(label="终止原因", max_length=200)


class GroupFactForm(forms.Form):
    group = forms.ChoiceField(label="参保群体", choices=_choices(GROUPS.items()))
    event_date = forms.DateField(label="事件日期", required=False, widget=DATE, help_text="如出生、毕业、刑满释放、退役日期。")
    note = forms.CharField(label="说明", max_length=200, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", max_length=200)


class SetHeadForm(forms.Form):
    resident = forms.ChoiceField(label="新户主")
    former_head_relation = forms.ChoiceField(
        label="原户主与新户主关系", choices=_choices([(r, r) for r in RELATIONS if r != "户主"]), required=False
    )
    reason = forms.CharField(label="原因", max_length=200, required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resident"].choices = _choices(members)


class FlagResolveForm(forms.Form):
    outcome = forms.ChoiceField(label="处理结论", choices=_choices(Flag.Outcome.choices))
    resolution = forms.CharField(label="处理依据", max_length=300)


guard_form_fields(MemberForm, HouseholdForm, MemberAddForm, ResidentEditForm, MoveForm, IdentityAddForm, IdentityEndForm, GroupFactForm, ReasonForm, SetHeadForm, FlagResolveForm)
