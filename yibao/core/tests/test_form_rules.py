"""Page forms refuse control characters in text and dates outside 1900–2100 (yibao.core.inputs)."""

import pytest

from yibao.accounts.forms import ProfileForm, ReasonForm as AccountReasonForm
from yibao.enrollment.forms import AssessForm, ReasonForm as EnrollmentReasonForm
from yibao.reconciliation.forms import VoidForm
from yibao.registry.forms import MemberAddForm, ReasonForm as RegistryReasonForm


@pytest.mark.parametrize("form_class,field,extra", [
    (ProfileForm, "display_name", {}), (AccountReasonForm, "reason", {}), (EnrollmentReasonForm, "reason", {}),
    (VoidForm, "reason", {}), (RegistryReasonForm, "reason", {}), (MemberAddForm, "reason", {}),
])
@pytest.mark.parametrize("text", ["张\u202e三", "李\u200b四", "王\x1b五"])
def test_text_with_control_characters_is_a_field_error(form_class, field, extra, text):
    form = form_class(data={field: text, **extra})
    assert not form.is_valid()
    assert any("不可见的控制字符" in message for message in form.errors[field])


def test_ordinary_text_with_line_breaks_passes():
    form = VoidForm(data={"reason": "重复登记\n第二行"})
    assert form.is_valid(), form.errors


@pytest.mark.parametrize("on", ["0001-01-01", "2999-01-01"])
def test_a_date_outside_1900_2100_is_a_field_error(on):
    form = AssessForm(data={"on": on})
    assert not form.is_valid()
    assert "日期应在 1900-01-01 至 2100-12-31 之间" in form.errors["on"][0]


def test_posted_text_strips_checks_and_limits():
    from yibao.core.inputs import BadInput, posted_text

    assert posted_text({"note": "  已联系  "}, "note", label="说明", max_length=300) == "已联系"
    assert posted_text({}, "note", label="说明", max_length=300) == ""
    with pytest.raises(BadInput, match="说明含有不可见的控制字符"):
        posted_text({"note": "a\u202eb"}, "note", label="说明", max_length=300)
    with pytest.raises(BadInput, match="说明过长：最多 300 个字"):
        posted_text({"note": "字" * 301}, "note", label="说明", max_length=300)
