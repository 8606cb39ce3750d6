"""The upload form; the rules live in services.py."""

from django import forms

from yibao.core.uploads import validate_upload_size
from yibao.imports.columns import KIND_LABELS


class UploadForm(forms.Form):
    file = forms.FileField(
        label="名单文件", help_text="CSV（UTF-8 或 GBK 编码）或 Excel xlsx；第一行为列名。",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,.xls"}), validators=[validate_upload_size],
    )
    county_code = forms.ChoiceField(label="县（区）")
    department = forms.ChoiceField(label="认定部门", required=False)
    group = forms.ChoiceField(label="参保群体", required=False)

    def __init__(self, *args, kind: str, counties=(), departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["file"].label = f"{KIND_LABELS[kind]}文件"
        if kind == "regions":
            del self.fields["county_code"]
        else:
            self.fields["county_code"].choices = list(counties)
            if len(counties) == 1:
                self.fields["county_code"].initial = counties[0][0]
        if kind == "identities":
            self.fields["department"].required = True
            self.fields["department"].choices = list(departments) if len(departments) == 1 else [("", "请选择")] + list(departments)
        else:
            del self.fields["department"]
        if kind == "groups":
            from yibao.policy.vocabulary import GROUPS

            self.fields["group"].required = True
            self.fields["group"].choices = [("", "请选择")] + list(GROUPS.items())
            self.fields["group"].help_text = "一个文件只导入一个群体；事件日期列按群体为出生、入学、毕业、释放、退役或离职日期。"
        else:
            del self.fields["group"]
