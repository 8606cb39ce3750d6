"""Every way a policy or cases file can be wrong is reported in Chinese, with its YAML line and the
path as a person counts it (第3条规则的“条件”), and unknown words come with the nearest valid one."""

import shutil

import pytest

from yibao.policy.cases import CasesFileError, load_cases
from yibao.policy.errors import describe_loc
from yibao.policy.loader import BUILTIN_DIR, NOTICES_DIR, PolicyFileError, load_policy_file
from yibao.policy.schema import PolicyFile
from yibao.policy.services import policy_check

SOURCE = BUILTIN_DIR / "anhui-huaiyuan-2025.yaml"
CASES = BUILTIN_DIR / "anhui-huaiyuan-2025.cases.yaml"
ENGLISH = ("Input should", "Extra inputs", "Field required", "valid", "Value error")


def line_with(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def broken(tmp_path, old: str, new: str, name: str = "anhui-huaiyuan-2025.yaml"):
    """The seed file with one piece of text changed; returns (the error, the new text)."""
    text = SOURCE.read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(path)
    return caught.value, text


def only_issue(error):
    assert len(error.issues) == 1, error.issues
    issue = error.issues[0]
    assert not any(word in issue.message for word in ENGLISH), issue.message
    return issue


def test_unknown_field_names_the_valid_ones_and_the_nearest(tmp_path):
    error, text = broken(tmp_path, "when: {paid_in_main_window: true}", "when: {paid_in_main_window: true, gruops: [newborn]}")
    issue = only_issue(error)
    assert issue.line == line_with(text, "gruops")
    assert issue.path == "第1条规则的“条件”的“gruops”（rules[1].when.gruops）"
    assert issue.message.startswith("未知的字段“gruops”。这里可写：paid_from、")
    assert issue.message.endswith("最接近的是“groups”")
    assert f"第{issue.line}行，第1条规则的“条件”" in str(error)


def test_a_chinese_key_is_pointed_to_its_english_key(tmp_path):
    error, text = broken(tmp_path, "  fixed_months: 3", "  固定等待期月数: 3")
    messages = [i.message for i in error.issues]
    assert "未知的字段“固定等待期月数”：字段名要写英文键“fixed_months”" in messages
    # the one thing to fix: the missing fixed_months follows from the same line (fixed_days is its alternative)
    assert len(messages) == 1, messages


def test_missing_field_points_at_the_mapping_that_lacks_it(tmp_path):
    error, text = broken(tmp_path, "    end: 2024-12-31\n", "")
    issue = only_issue(error)
    assert issue.message == "缺少必填字段“end”（截止）"
    assert issue.path == "“征缴”的“集中征缴期”的“截止日”（collection.main_window.end）"
    assert issue.line == line_with(text, "main_window:")


def test_unknown_anchor_lists_the_anchors(tmp_path):
    error, text = broken(tmp_path, "start: {anchor: birth_date}", "start: {anchor: birthdate}")
    issue = only_issue(error)
    assert issue.line == line_with(text, "anchor: birthdate")
    assert issue.path == "第2条规则的“待遇起始日”的“起算点”（rules[2].start.anchor）"
    assert issue.message.startswith("“birthdate”不是可用的取值。可写：year_start、paid_on、birth_date")
    assert issue.message.endswith("最接近的是“birth_date”")


def test_a_word_for_an_amount_is_refused_as_not_a_number(tmp_path):
    error, text = broken(tmp_path, "amount: 340", "amount: 三百四十")
    issue = only_issue(error)
    assert issue.line == line_with(text, "三百四十")
    assert issue.path == "“资助”的第2项资助的“金额”（subsidies.items[2].amount）"
    assert issue.message == "应为数字（金额写阿拉伯数字，如 400 或 12.5），实际写的是“三百四十”"


def test_a_month_count_must_be_a_whole_number(tmp_path):
    error, text = broken(tmp_path, "fixed_months: 3", "fixed_months: 三个月")
    issue = only_issue(error)
    assert (issue.line, issue.message) == (line_with(text, "三个月"), "应为整数，实际写的是“三个月”")


def test_a_date_in_chinese_is_refused_with_the_form_to_use(tmp_path):
    error, text = broken(tmp_path, "start: 2024-09-01", "start: 2024年9月1日")
    issue = only_issue(error)
    assert issue.line == line_with(text, "start: 2024年9月1日")
    assert issue.message == "应为日期，写作 2025-01-01，实际写的是“2024年9月1日”"
    assert issue.path == "“征缴”的“集中征缴期”的“起始日”（collection.main_window.start）"


def test_yes_no_must_be_true_or_false(tmp_path):
    error, text = broken(tmp_path, "before_benefit_start_only: true", "before_benefit_start_only: 是")
    issue = only_issue(error)
    assert (issue.line, issue.message) == (line_with(text, "before_benefit_start_only"), "应为 true 或 false，实际写的是“是”")


def test_a_list_written_as_one_word(tmp_path):
    error, text = broken(tmp_path, "  allowed_reasons: [death, duplicate_payment, joined_employee_insurance, joined_other_city_insurance]",
                         "  allowed_reasons: death")
    issue = only_issue(error)
    assert issue.line == line_with(text, "allowed_reasons: death")
    assert issue.message.startswith("应为列表")


def test_a_mapping_written_as_a_word(tmp_path):
    error, text = broken(tmp_path, "start: {anchor: birth_date}", "start: birth_date")
    issue = only_issue(error)
    assert issue.line == line_with(text, "start: birth_date")
    assert issue.message.startswith("应为键值对")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("      amount: 400\n      label: 居民个人缴费标准", "      amount: 0\n      label: 居民个人缴费标准", "应大于 0，实际为 0"),
        ("fixed_months: 3", "fixed_months: -1", "应不小于 0，实际为 -1"),
        ("percent: 50", "percent: 150", "应不大于 100，实际为 150"),
        ("publish_every_days: 7", "publish_every_days: 0", "应不小于 1，实际为 0"),
    ],
)
def test_numbers_out_of_range(tmp_path, old, new, message):
    error, text = broken(tmp_path, old, new)
    issue = only_issue(error)
    assert issue.message == message
    assert issue.line == line_with(text, new.splitlines()[0].strip())


def test_an_empty_list_that_needs_an_item(tmp_path):
    error, text = broken(tmp_path, "  allowed_reasons: [death, duplicate_payment, joined_employee_insurance, joined_other_city_insurance]",
                         "  allowed_reasons: []")
    issue = only_issue(error)
    assert (issue.line, issue.message) == (line_with(text, "allowed_reasons: []"), "至少要有 1 项")


def test_a_pattern_mismatch_says_the_form(tmp_path):
    error, text = broken(tmp_path, 'region_prefix: "340321"', "region_prefix: 怀远")
    issue = only_issue(error)
    assert issue.line == line_with(text, "region_prefix")
    assert issue.message == "“怀远”格式不对：应为4位（市）或6位（县）区划代码数字，并加引号，如 \"340321\""


def test_a_rule_id_with_capitals(tmp_path):
    error, text = broken(tmp_path, "- id: newborn_after_90_days", "- id: Newborn-After")
    issue = only_issue(error)
    assert issue.path == "第3条规则的“规则编号”（rules[3].id）"
    assert issue.message.startswith("“Newborn-After”格式不对：只能用小写字母、数字和下划线")


def test_a_custom_check_keeps_its_chinese_and_gets_the_line_of_its_item(tmp_path):
    error, text = broken(tmp_path, "      stated_amount: 200", "      stated_amount: 180")
    issue = only_issue(error)
    assert issue.message == "农村独男户儿子（至18周岁）及父母（县财政补贴一半）：按规则计算为 200.00 元，通知写明 180 元"
    assert issue.line == line_with(text, "label: 农村独男户儿子") and issue.path == ""


def test_a_custom_check_inside_an_item(tmp_path):
    error, text = broken(tmp_path, "    split: {central: 536, provincial: 134}", "    split: {central: 500, provincial: 134}")
    issue = only_issue(error)
    assert issue.message == "财政补助分项之和 634 不等于 670"
    assert issue.line == line_with(text, "fiscal_subsidy:")
    assert issue.path == "“筹资标准”的“财政补助”（contribution.fiscal_subsidy）"


def test_unknown_identity_suggests_the_nearest_code(tmp_path):
    error, text = broken(tmp_path, "- identities: [dibao]", "- identities: [dibaoo]")
    issue = only_issue(error)
    assert issue.line == line_with(text, "[dibaoo]")
    assert issue.message.startswith("未知的身份代码：“dibaoo”，最接近的是“dibao”（低保对象）。可写：tekun（特困人员）")


def test_an_identity_written_by_its_name_points_to_the_code(tmp_path):
    error, text = broken(tmp_path, "- identities: [dibao]", "- identities: [低保对象]")
    assert only_issue(error).message.startswith("未知的身份代码：“低保对象”要写代码 dibao（低保对象）")


def test_unknown_group_suggests_the_nearest_code(tmp_path):
    error, text = broken(tmp_path, "when: {groups: [migrant_worker]", "when: {groups: [migrant]")
    issue = only_issue(error)
    assert issue.line == line_with(text, "[migrant]")
    assert issue.path == "第4条规则的“条件”的“参保群体”（rules[4].when.groups）"
    assert "最接近的是“migrant_worker”（外出务工人员）" in issue.message
    assert "newborn（新生儿）" in issue.message


def test_a_quote_not_in_the_notice_names_its_line(tmp_path):
    error, text = broken(tmp_path, "对低保对象给予340元定额资助（个人缴纳60元）", "对低保对象给予350元定额资助（个人缴纳50元）")
    issue = only_issue(error)
    assert issue.message.startswith("引用“对低保对象给予350元定额资助（个人缴纳50元）”不见于通知原文")
    assert issue.line == line_with(text, "- identities: [dibao]")
    assert issue.path == "“资助”的第2项资助（subsidies.items[2]）"


def test_broken_yaml_is_reported_in_chinese_with_its_line(tmp_path):
    error, text = broken(tmp_path, "benefit_year: 2025", "benefit_year: 2025: 2026")
    issue = only_issue(error)
    assert issue.line == line_with(text, "benefit_year")
    assert issue.message.startswith("这里不能出现“键: 值”")
    assert "不是合法的 YAML" in str(error)


def test_tab_indentation_is_named(tmp_path):
    error, text = broken(tmp_path, "  province: 安徽省", "\tprovince: 安徽省")
    issue = only_issue(error)
    assert issue.line == line_with(text, "\tprovince")
    assert issue.message == "不能用 Tab 缩进，请用空格"


def test_a_file_that_is_a_list(tmp_path):
    path = tmp_path / "anhui-huaiyuan-2025.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(path)
    assert only_issue(caught.value).line == 1


def test_missing_seed_and_unknown_seed(tmp_path):
    error, text = broken(tmp_path, "seed: 004_695eda9d9bb48b94.txt", "seed: ''")
    assert (only_issue(error).line, only_issue(error).path) == (line_with(text, "seed:"), "“通知原文文件名”（seed）")
    error, text = broken(tmp_path, "seed: 004_695eda9d9bb48b94.txt", "seed: 不存在.txt")
    assert only_issue(error).message.startswith("通知原文 不存在.txt 未找到")


def test_file_name_must_match_the_id(tmp_path):
    text = SOURCE.read_text(encoding="utf-8")
    path = tmp_path / "anhui-huaiyuan-2026.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(path)
    issue = only_issue(caught.value)
    assert issue.line == line_with(text, "id: anhui-huaiyuan-2025")
    assert "应与政策编号一致" in issue.message


def test_several_errors_are_all_reported_in_file_order(tmp_path):
    text = SOURCE.read_text(encoding="utf-8").replace("amount: 340", "amount: x").replace("fixed_months: 3", "fixed_months: y")
    path = tmp_path / SOURCE.name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(path)
    assert [i.line for i in caught.value.issues] == [line_with(text, "amount: x"), line_with(text, "fixed_months: y")]


def test_nested_any_of_is_counted_as_a_person_counts():
    loc = ("rules", 4, "when", "any_of", 1, "groups", 0)
    assert describe_loc(loc, PolicyFile) == "第5条规则的“条件”的第2个条件的“参保群体”的第1项（rules[5].when.any_of[2].groups[1]）"


# ---- cases files ----------------------------------------------------------------------------------

def broken_cases(tmp_path, old: str, new: str):
    text = CASES.read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new, 1)
    path = tmp_path / CASES.name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CasesFileError) as caught:
        load_cases(path)
    return caught.value, text


def test_cases_unknown_expectation(tmp_path):
    error, text = broken_cases(tmp_path, "expect: {accepted: true, payable: 400, benefit_start: 2025-01-01, rule: main_window}",
                               "expect: {accepted: true, payble: 400}")
    issue = only_issue(error)
    assert issue.line == line_with(text, "payble")
    assert issue.path == "第2个用例的“期望”的“payble”（cases[2].expect.payble）"
    assert issue.message.endswith("最接近的是“payable”")


def test_cases_missing_payment_date_and_bad_birth_date(tmp_path):
    error, text = broken_cases(tmp_path, "    person: {birth_date: 1980-05-17}\n    paid_on: 2024-09-01\n",
                               "    person: {birth_date: 1980-13-17}\n")
    messages = {i.message for i in error.issues}
    assert "缺少必填字段“paid_on”（缴费日期）" in messages
    assert "应为日期，写作 2025-01-01，实际写的是“1980-13-17”" in messages
    assert {i.line for i in error.issues} == {line_with(text, "1980-13-17"), line_with(text, "- name: 集中参保缴费期首日")}


def test_policy_check_reports_issues_of_the_cases_file(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    shutil.copy(SOURCE, folder / SOURCE.name)
    (folder / CASES.name).write_text(CASES.read_text(encoding="utf-8").replace("paid_on: 2024-09-01", "paid_on: 九月一日", 1),
                                     encoding="utf-8")
    report = policy_check(path=folder / SOURCE.name)
    assert report.policy is not None and not report.ok
    assert report.issues[0].message == "应为日期，写作 2025-01-01，实际写的是“九月一日”"
    assert "用例文件 anhui-huaiyuan-2025.cases.yaml 校验未通过" in report.error


def test_notices_dir_is_where_the_builtin_notice_lives():
    assert (NOTICES_DIR / "004_695eda9d9bb48b94.txt").exists()


MIGRANT_NOTE = "    note: 方案写延长期内缴费的外出务工人员“自参保缴费次日起享受待遇”"

# (what to change, into what, the message it must give, the text on the line it must point at)
CUSTOM_CHECKS = [
    ("    source: interpretation\n" + MIGRANT_NOTE, "    source: interpretation\n    #" + MIGRANT_NOTE[5:],
     "source: interpretation 必须在 note 中说明理由", "  - id: migrant_extension"),
    ("    source: interpretation\n" + MIGRANT_NOTE, "    source: notice\n" + MIGRANT_NOTE,
     "规则 migrant_extension 设待遇等待期：所引原文没有这样写，须标 source: interpretation", "  - id: migrant_extension"),
    ("      age_any_of: [{below: 18}]\n      requires_any_of", "      age_any_of: [{}]\n      requires_any_of",
     "年龄条件至少要有 min 或 below", "age_any_of: [{}]"),
    ("      kind: fixed\n      amount: 340\n", "      kind: fixed\n", "低保对象：定额资助需要 amount", "- identities: [dibao]"),
    ("      kind: full\n      stated_amount: 400", "      kind: full\n      amount: 400\n      stated_amount: 400",
     "特困人员、孤儿：只有定额资助写 amount", "- identities: [tekun, orphan]"),
    ("    - tier: 1\n      amount: 400", "    - tier: 2\n      amount: 400", "缺少一档（tier 1）个人缴费标准", "contribution:"),
    ("  total:\n    amount: 1070", "  total:\n    amount: 1080", "筹资总额 1080 不等于个人缴费 400 与财政补助 670 之和", "contribution:"),
    ("    start: 2024-09-01\n", "    start: 2025-09-01\n", "征缴期起始日 2025-09-01 晚于截止日 2024-12-31", "  main_window:"),
    ("    start: {anchor: birth_date}\n", "    start: {anchor: birth_date}\n    outcome: refuse\n",
     "规则 newborn_within_90_days：拒绝规则需要 refuse_reason", "  - id: newborn_within_90_days"),
    ("    start: {anchor: birth_date}\n", "", "规则 newborn_within_90_days：受理规则需要 start（待遇起始日）",
     "  - id: newborn_within_90_days"),
    ("- identities: [tekun, orphan]", "- identities: [tekun, orphan, dibao]", "身份 dibao 同时出现在“特困人员、孤儿”和“低保对象”中",
     "subsidies:"),
    ("id: anhui-huaiyuan-2025", "id: Anhui_2025", "政策编号 Anhui_2025 应为 <省>-<县>[-<乡镇>]-<待遇年度>，拼音小写", "id: Anhui_2025"),
    ("benefit_year: 2025", "benefit_year: 2026", "政策编号 anhui-huaiyuan-2025 的年度与 benefit_year 2026 不一致",
     "id: anhui-huaiyuan-2025"),
    ("  - id: newborn_after_90_days", "  - id: newborn_within_90_days", "规则 id 重复：newborn_within_90_days",
     "  - id: newborn_within_90_days\n    label: 新生儿出生超过90日"),
]


def line_starting(text: str, at: str) -> int:
    """The line where the lines of `at` begin, each a prefix of its file line."""
    lines, wanted = text.splitlines(), at.splitlines()
    return next(n for n in range(1, len(lines) + 1)
                if all(n - 1 + k < len(lines) and lines[n - 1 + k].strip().startswith(w.strip())
                        for k, w in enumerate(wanted)))


@pytest.mark.parametrize(("old", "new", "message", "at"), CUSTOM_CHECKS, ids=[c[2][:24] for c in CUSTOM_CHECKS])
def test_each_check_of_the_schema_gives_its_chinese_message_on_its_line(tmp_path, old, new, message, at):
    error, text = broken(tmp_path, old, new)
    issue = next((i for i in error.issues if i.message.startswith(message)), None)
    assert issue is not None, [str(i) for i in error.issues]
    assert not any(word in issue.message for word in ENGLISH)
    assert issue.line == line_starting(text, at), str(issue)


def test_a_waiting_period_rule_without_the_waiting_period_block(tmp_path):
    text = SOURCE.read_text(encoding="utf-8")
    text = text[: text.index("waiting_period:\n  fixed_months")] + text[text.index("refunds:\n"):]
    path = tmp_path / SOURCE.name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyFileError) as caught:
        load_policy_file(path)
    issue = only_issue(caught.value)
    assert issue.message == "规则 main_window 使用等待期，但文件没有 waiting_period"
    assert issue.line == line_starting(text, "  - id: main_window")


def test_an_unknown_identity_or_group_in_a_quote_or_case_suggests_the_nearest():
    from yibao.policy.vocabulary import UnknownTerm, group_code, identity_code

    with pytest.raises(UnknownTerm) as caught:
        identity_code("低保户")
    assert str(caught.value).startswith("未知的资助身份：“低保户”") and "最接近的是“低保”（dibao）" in str(caught.value)
    with pytest.raises(UnknownTerm, match="最接近的是“dibao”）$"):
        identity_code("dibaoo")
    with pytest.raises(UnknownTerm, match="最接近的是“newborn”）$"):
        group_code("newbron")
    with pytest.raises(UnknownTerm) as caught:
        identity_code("xyz")
    assert "最接近" not in str(caught.value)
