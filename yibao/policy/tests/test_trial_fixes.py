"""Fixes from the issue 15 acceptance trial: names in the vocabulary and reference, the cases file
reference, one-fragment explanation_contains, single_highest only where it matters, and
`policy new` from another place."""

import shutil
from pathlib import Path

import pytest
import yaml

from yibao.policy import catalog, docgen
from yibao.policy.cases import Expect
from yibao.policy.loader import PolicyFileError, load_policy_file
from yibao.policy.yearnew import next_year_policy_text

FIXTURES = Path(__file__).parent / "fixtures"


def test_condition_and_field_names_are_whole_short_names():
    for row in catalog.conditions():
        assert row["name"] != row["key"]
        assert not any(mark in row["name"] for mark in "，“（"), row
    names = {row["key"]: row["name"] for row in catalog.conditions()}
    assert names["event_from"] == "事件日期不早于"
    assert names["employee_months"] == "职工医保缴费月数"
    assert names["household_enrolled"] == "同户家庭成员已参保"
    labels = {row.path: row.label for row in catalog.schema_fields()}
    assert labels["subsidies.items[].recognised_to"] == "身份认定日期不晚于"
    assert labels["waiting_period.fixed_days"] == "固定等待期天数"


def test_examples_are_valid_and_anchor_date_is_explained():
    examples = {row["key"]: row["example"] for row in catalog.conditions()}
    assert examples["employee_months"] == "when: {employee_months: {year: 2025, min: 3}}"
    anchors = {a["code"]: a for a in catalog.anchors()}
    assert anchors["date"]["name"].startswith("固定日期")
    assert anchors["date"]["example"] == "start: {anchor: date, date: 2025-09-01}"


def test_reference_describes_each_key_in_its_own_place():
    text = docgen.reference_markdown()
    assert "| `collection.main_window.start` | 起始日 | 日期（YYYY-MM-DD） | 是 |  | 集中征缴期的第一天（含） |" in text
    row = next(line for line in text.splitlines() if line.startswith("| `enrollees.kinds[].kind`"))
    assert "资助方式" not in row and "参保对象的类别" in row


def test_reference_lists_the_cases_file_with_the_quote_options():
    text = docgen.reference_markdown()
    assert "#### 用例文件（`<政策编号>.cases.yaml`）" in text
    for line in ("| `cases[].person.first_time` | 首次参保 |", "| `cases[].person.household_role` | 家庭角色 |",
                 "| `cases[].expect.explanation_contains` | 说明包含 |", "| `cases[].expect.waiting_days` | 等待期天数 |"):
        assert line in text
    assert "（--role）" in text and "（--gap-years）" in text


def test_explanation_contains_takes_one_fragment_or_a_list():
    assert Expect(explanation_contains="节假日不顺延").explanation_contains == ["节假日不顺延"]
    assert Expect(explanation_contains=["a", "b"]).explanation_contains == ["a", "b"]


def _edited(tmp_path, change):
    source = FIXTURES / "shanxi-xingxian-2026.yaml"
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(document)
    (tmp_path / "notices").mkdir(exist_ok=True)
    shutil.copy(FIXTURES / "notices" / "xingxian-2026.txt", tmp_path / "notices")
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _item(label, amount, code):
    return {"identities": [code], "label": label, "kind": "fixed", "amount": amount,
            "reference": "人均财政补助标准达到700元", "source": "interpretation", "note": "测试"}


def test_single_highest_may_be_left_out_with_one_subsidy_item(tmp_path):
    path = _edited(tmp_path, lambda d: d.setdefault("subsidies", {}).update(items=[_item("低保", 100, "dibao")]))
    assert load_policy_file(path).data.subsidies.single_highest is None


def test_single_highest_is_required_with_two_items_in_chinese(tmp_path):
    path = _edited(tmp_path, lambda d: d.setdefault("subsidies", {}).update(
        items=[_item("低保", 100, "dibao"), _item("特困", 200, "tekun")]))
    with pytest.raises(PolicyFileError) as error:
        load_policy_file(path)
    assert "有两项以上资助时须写 single_highest" in str(error.value)
    assert "第" in str(error.value) and "行" in str(error.value)


def test_policy_new_from_another_place_flags_the_locality():
    text = "\n".join([
        "id: shanxi-shuozhou-2024", "title: 朔州市2024年度方案", "locality:", "  province: 山西省", "  city: 朔州市",
        '  region_prefix: "1406"', "benefit_year: 2024", "notice_year: 2023", "issued_by: 朔州市人民政府办公室", ""])
    other = next_year_policy_text(text, new_id="shanxi-xingxian-2026", years=2, source_id="shanxi-shuozhou-2024")
    assert 'region_prefix: "1406"  # 待复核：shanxi-shuozhou-2024 的地区，改为本地' in other
    assert "issued_by: 朔州市人民政府办公室  # 待复核" in other
    assert "本文件取自另一地方的政策 shanxi-shuozhou-2024" in other
    same = next_year_policy_text(text, new_id="shanxi-shuozhou-2025", years=1, source_id="shanxi-shuozhou-2024")
    assert "改为本地" not in same and "另一地方" not in same


def _with_newborn_rule(tmp_path, reference):
    notice = (FIXTURES / "notices" / "xingxian-2026.txt").read_text(encoding="utf-8")
    sentence = "新生婴儿在出生之日起180天内参加出生当年城乡居民基本医疗保险的,医疗保险待遇从出生之日享受到出生当年12月31日;"
    path = _edited(tmp_path, lambda d: d["rules"].insert(0, {
        "id": "newborn_within_180_days", "label": "新生婴儿180天内参保",
        "when": {"groups": ["newborn"], "born_in_benefit_year": True, "days_since_birth": {"max": 180}},
        "start": {"anchor": "birth_date"}, "reference": reference}))
    (tmp_path / "notices" / "xingxian-2026.txt").write_text(notice + "\n" + sentence + "\n", encoding="utf-8")
    return path


def test_a_notice_saying_xinsheng_yinger_names_the_newborn_group(tmp_path):
    path = _with_newborn_rule(tmp_path, "新生婴儿在出生之日起180天内参加出生当年城乡居民基本医疗保险的,医疗保险待遇从出生之日享受到出生当年12月31日")
    rule = load_policy_file(path).data.rules[0]
    assert rule.source == "notice" and rule.id == "newborn_within_180_days"


def test_an_unnamed_group_lists_the_names_the_check_looks_for(tmp_path):
    path = _with_newborn_rule(tmp_path, "医疗保险待遇从出生之日享受到出生当年12月31日")
    with pytest.raises(PolicyFileError) as error:
        load_policy_file(path)
    message = str(error.value)
    assert "规则 newborn_within_180_days 适用于新生儿：所引原文没有这样写（所引原文须写到其中一个叫法，新生儿可认作：" in message
    assert "新生婴儿" in message and "须标 source: interpretation" in message


def test_policy_new_keeps_the_years_of_a_checklist_reason():
    text = "\n".join([
        "id: shanxi-shuozhou-2024", "benefit_year: 2024", "collection:", "  late_refusal:",
        "    reason: 2024年度征缴期外不再受理", "checklist:", "  - item: waiting_periods",
        "    reason: 2024年度早于国办发〔2024〕38号待遇等待期的施行年度（2025年起）", ""])
    moved = next_year_policy_text(text, new_id="shanxi-shuozhou-2026", years=2, source_id="shanxi-shuozhou-2024")
    assert "    reason: 2026年度征缴期外不再受理  # 待复核" in moved
    assert ("    reason: 2024年度早于国办发〔2024〕38号待遇等待期的施行年度（2025年起）  # 待复核：理由中的年份未顺延"
            in moved)
