"""Writing next year's policy: the checklist warnings, the starting file, comparing two years,
the vocabulary and the reference generated from the schema, and the worked example of the guide."""

import datetime as dt
from pathlib import Path

import pytest

from yibao.policy import catalog, docgen
from yibao.policy.checklist import checklist_rows, policy_warnings, said
from yibao.policy.diff import policy_diff
from yibao.policy.loader import BUILTIN_DIR, load_policy, load_policy_file
from yibao.policy.schema import BenefitStart, Condition
from yibao.policy.services import policy_check
from yibao.policy.vocabulary import CHECKLIST_ITEMS
from yibao.policy.yearnew import PolicyNewError, policy_new, shift_date

EXAMPLE = Path(docgen.DOC).parent / "policy-example" / "anhui-shili-2026.yaml"
SEEDS = ["anhui-huaiyuan-2025", "chongqing-dianjiang-xinmin-2024", "hubei-chongyang-xiaoling-2024",
         "hubei-suixian-2023", "shanxi-shuozhou-2024"]


def edited_copy(tmp_path, policy_id, old, new):
    text = (BUILTIN_DIR / f"{policy_id}.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / f"{policy_id}.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    (tmp_path / f"{policy_id}.cases.yaml").write_text(
        (BUILTIN_DIR / f"{policy_id}.cases.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return path


# ---- checklist -------------------------------------------------------------------------------------

def test_huaiyuan_says_every_checklist_item():
    assert said(load_policy("anhui-huaiyuan-2025").data) == {code: True for code in CHECKLIST_ITEMS}
    assert policy_warnings(load_policy("anhui-huaiyuan-2025")) == []


@pytest.mark.parametrize("policy_id", SEEDS)
def test_every_seed_says_or_acknowledges_every_item(policy_id):
    rows = checklist_rows(load_policy(policy_id).data)
    assert [r["item"] for r in rows] == list(CHECKLIST_ITEMS)
    assert all(r["state"] in ("said", "skipped") for r in rows), rows


def test_an_unsaid_item_is_a_warning_in_chinese_not_an_error(tmp_path):
    path = edited_copy(tmp_path, "shanxi-shuozhou-2024",
                       "  - item: waiting_periods\n    reason: 2024年度早于国办发〔2024〕38号待遇等待期的施行年度（2025年起）\n", "")
    report = policy_check(path=path)
    assert report.ok  # warnings do not stop the check
    texts = [str(w) for w in report.warnings]
    assert texts == ["清单：文件没有写“待遇等待期”（waiting_periods）。通知确实没有涉及的，"
                     "在 checklist: 下写 - {item: waiting_periods, reason: 理由}"]


def test_an_acknowledged_item_needs_a_reason_and_a_known_item(tmp_path):
    path = edited_copy(tmp_path, "shanxi-shuozhou-2024", "  - item: waiting_periods\n", "  - item: waiting\n")
    report = policy_check(path=path)
    assert report.policy is None
    assert "“waiting”不是可用的取值" in report.issues[0].message and "最接近的是“waiting_periods”" in report.issues[0].message


def test_a_missing_refund_rule_is_reported(tmp_path):
    text = (BUILTIN_DIR / "anhui-huaiyuan-2025.yaml").read_text(encoding="utf-8")
    start = text.index("refunds:\n")
    end = text.index("targets:\n")
    path = tmp_path / "anhui-huaiyuan-2025.yaml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    warnings = policy_warnings(load_policy_file(path))
    assert len(warnings) == 1 and "“退费”（refunds）" in warnings[0].message


# ---- a starting file for next year -----------------------------------------------------------------

@pytest.mark.parametrize("policy_id", SEEDS)
def test_next_year_file_of_every_seed_passes_its_moved_cases(tmp_path, policy_id):
    old = load_policy(policy_id)
    new_id = policy_id[:-4] + str(old.data.benefit_year + 1)
    path = policy_new(source_id=policy_id, new_id=new_id, folder=tmp_path)
    report = policy_check(path=path)
    assert report.error is None and not report.failed, [f.failures for f in report.failed]
    assert report.policy.data.benefit_year == old.data.benefit_year + 1
    window, old_window = report.policy.data.collection.main_window, old.data.collection.main_window
    assert window.start == shift_date(old_window.start, 1) and window.end == shift_date(old_window.end, 1)
    assert len(report.results) == len(policy_check(path=BUILTIN_DIR / f"{policy_id}.yaml").results)
    review = [w for w in report.warnings if w.path == "待复核"]
    assert len(review) == 5 and all(w.line for w in review)


def test_next_year_file_marks_what_it_moved(tmp_path):
    path = policy_new(source_id="anhui-huaiyuan-2025", new_id="anhui-huaiyuan-2026", folder=tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "    start: 2025-09-01  # 待复核：由 anhui-huaiyuan-2025 顺延1年" in text
    assert "      amount: 400  # 待复核：沿用上年金额，按新通知改" in text
    assert "title: 怀远县2025年（2026年度）" in text
    cases = (tmp_path / "anhui-huaiyuan-2026.cases.yaml").read_text(encoding="utf-8")
    assert "policy: anhui-huaiyuan-2026" in cases and "集中参保缴费期首日（2025年9月1日）" in cases
    # once the author removes the review list, the review warnings go
    path.write_text(text[: text.index("\n# 由 yibao policy new")] + "\n", encoding="utf-8")
    assert not [w for w in policy_check(path=path).warnings if w.path == "待复核"]


def test_next_year_file_two_years_on_and_refusals(tmp_path):
    path = policy_new(source_id="anhui-huaiyuan-2025", new_id="anhui-huaiyuan-2027", year=2027, folder=tmp_path)
    assert load_policy_file(path).data.collection.main_window.start == dt.date(2026, 9, 1)
    with pytest.raises(PolicyNewError, match="已存在；如要覆盖请加选项 --force"):
        policy_new(source_id="anhui-huaiyuan-2025", new_id="anhui-huaiyuan-2027", year=2027, folder=tmp_path)
    with pytest.raises(PolicyNewError, match="年度应为待遇年度 2026"):
        policy_new(source_id="anhui-huaiyuan-2025", new_id="anhui-huaiyuan-2027", folder=tmp_path)
    with pytest.raises(PolicyNewError, match="应晚于"):
        policy_new(source_id="anhui-huaiyuan-2025", new_id="anhui-huaiyuan-2024", year=2024, folder=tmp_path)
    with pytest.raises(PolicyNewError, match="拼音小写"):
        policy_new(source_id="anhui-huaiyuan-2025", new_id="Huaiyuan2026", folder=tmp_path)


def test_shift_date_keeps_the_end_of_february():
    assert shift_date(dt.date(2023, 2, 28), 1) == dt.date(2024, 2, 29)
    assert shift_date(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert shift_date(dt.date(2024, 9, 1), 1) == dt.date(2025, 9, 1)


# ---- comparing years -------------------------------------------------------------------------------

def test_same_policy_has_no_changes():
    policy = load_policy("anhui-huaiyuan-2025")
    assert policy_diff(policy, policy) == []


def test_diff_names_amounts_windows_subsidies_and_rules(tmp_path):
    text = (BUILTIN_DIR / "anhui-huaiyuan-2025.yaml").read_text(encoding="utf-8")
    text = text.replace("      amount: 340\n", "      amount: 360\n")
    text = text.replace("    end: 2024-12-31\n", "    end: 2025-01-31\n", 1)
    start, end = text.index("  - id: newborn_after_90_days"), text.index("  - id: migrant_extension")
    text = text[:start] + text[end:]
    path = tmp_path / "anhui-huaiyuan-2025.yaml"
    path.write_text(text, encoding="utf-8")
    changes = policy_diff(load_policy("anhui-huaiyuan-2025"), load_policy_file(path))
    texts = [c.text for c in changes]
    assert "低保对象的金额：340 → 360" in texts
    assert "集中征缴期的截止日：2024年12月31日 → 2025年1月31日" in texts
    assert "删去规则 newborn_after_90_days：新生儿出生超过90日参保缴费" in texts
    assert {c.section for c in changes} == {"资助", "征缴期", "规则"}
    assert [c.kind for c in changes if c.section == "规则"] == ["removed"]


def test_diff_of_a_next_year_file_says_the_dates_moved(tmp_path):
    path = policy_new(source_id="anhui-huaiyuan-2025", new_id="anhui-huaiyuan-2026", folder=tmp_path)
    texts = [c.text for c in policy_diff(load_policy("anhui-huaiyuan-2025"), load_policy_file(path))]
    assert "集中征缴期的起始日：2024年9月1日 → 2025年9月1日（顺延1年）" in texts
    assert "待遇年度：2025 → 2026" in texts


def test_diff_between_localities_lists_added_and_removed_subsidies():
    changes = policy_diff(load_policy("hubei-suixian-2023"), load_policy("anhui-huaiyuan-2025"))
    texts = [c.text for c in changes]
    assert "居民个人缴费标准（1档）金额：350 → 400" in texts
    assert any(t.startswith("新增资助：重点优抚对象（县财政全额补贴）") for t in texts)
    assert "删去规则 migrant_renewal_extension：外出务工或返乡居民延长续保缴费" in texts


# ---- vocabulary and reference ----------------------------------------------------------------------

def test_vocabulary_is_read_from_the_schema():
    data = catalog.vocabulary()
    assert [c["key"] for c in data["conditions"]] == list(Condition.model_fields)
    assert [a["code"] for a in data["anchors"]] == list(BenefitStart.model_fields["anchor"].annotation.__args__)
    assert all(c["example"].startswith("when: {") for c in data["conditions"])
    dibao = next(i for i in data["identities"] if i["code"] == "dibao")
    assert dibao["name"] == "低保对象" and "最低生活保障对象" in dibao["aliases"] and dibao["department"] == "民政"
    newborn = next(g for g in data["groups"] if g["code"] == "newborn")
    assert newborn["example"] == "when: {groups: [newborn]}"
    charge = next(s for s in data["settings"] if s["key"] == "charge")
    assert {v["code"]: v["name"] for v in charge["values"]}["exempt"] == "免缴"
    assert len({s["key"] for s in data["settings"] if s["key"] == "source"}) == 1


def test_a_new_condition_gets_an_example_from_its_type():
    from pydantic.fields import FieldInfo

    assert catalog._example_value(int | None) == "3"
    assert catalog._example_value(dt.date | None) == "2026-01-01"
    assert catalog.type_text(FieldInfo.from_annotation(list[str]).annotation) == "列表，每项为文字"


def test_docs_policy_md_is_generated_from_the_current_schema():
    assert docgen.is_current(), "docs/policy.md 已过期：运行 python -m yibao.policy.docgen"
    text = docgen.DOC.read_text(encoding="utf-8")
    for row in catalog.schema_fields():
        assert f"| `{row.path}` |" in text
    for i in catalog.identities():
        assert f"| `{i['code']}` |" in text


def test_docgen_rewrites_a_stale_reference(tmp_path):
    doc = tmp_path / "policy.md"
    doc.write_text(f"# 标题\n\n{docgen.BEGIN}\n旧内容\n{docgen.END}\n尾\n", encoding="utf-8")
    assert not docgen.is_current(doc)
    assert docgen.write(doc) and docgen.is_current(doc)
    text = doc.read_text(encoding="utf-8")
    assert "旧内容" not in text and "| `rules[].when.groups` |" in text and text.endswith("尾\n")


def test_the_worked_example_of_the_guide_installs_as_written():
    report = policy_check(path=EXAMPLE)
    assert report.ok and report.warnings == [], (report.error, [f.failures for f in report.failed])
    assert len(report.results) >= 10
    guide = docgen.DOC.read_text(encoding="utf-8")
    assert "虚构的示例" in guide
    for line in ("when: {groups: [newborn], days_since_birth: {max: 90}}", "waiting_period: always"):
        assert line in guide and line in EXAMPLE.read_text(encoding="utf-8")


def test_acknowledging_an_item_the_file_says_is_a_warning_on_its_line(tmp_path):
    path = edited_copy(tmp_path, "shanxi-shuozhou-2024", "  - item: waiting_periods\n",
                       "  - item: waiting_periods\n    reason: 未涉及\n  - item: standard\n")
    text = path.read_text(encoding="utf-8")
    warnings = policy_warnings(load_policy_file(path))
    assert [w.message for w in warnings] == [
        "checklist 写“个人缴费标准（各档次、各群体）”（standard）通知未涉及，但文件已经写了；请删去这一条，或删去文件中相应的内容"]
    assert warnings[0].line == next(n for n, line in enumerate(text.splitlines(), 1) if "item: standard" in line)


def test_a_condition_added_to_the_schema_appears_in_the_vocabulary_and_reference(monkeypatch):
    """lang additions need no edit here: a new key of Condition shows with a name, a type and an example."""
    from pydantic.fields import FieldInfo

    field = FieldInfo.from_annotated_attribute(dt.date | None, None)
    field.description = "缴费日是星期几"
    monkeypatch.setitem(Condition.model_fields, "paid_weekday", field)
    row = next(c for c in catalog.conditions() if c["key"] == "paid_weekday")
    assert row == {"key": "paid_weekday", "name": "缴费日是星期几", "type": "日期（YYYY-MM-DD）",
                   "description": "缴费日是星期几", "example": "when: {paid_weekday: 2026-01-01}"}
    assert "| `rules[].when.paid_weekday` | 缴费日是星期几 | 日期（YYYY-MM-DD） |" in docgen.reference_markdown()
    assert not docgen.is_current()  # so the test above would fail until docs/policy.md is regenerated
