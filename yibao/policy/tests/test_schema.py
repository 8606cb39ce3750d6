"""A policy file that contradicts itself or the glossary is refused on load, with a Chinese reason."""

import shutil

import pytest
import yaml

from yibao.policy.loader import BUILTIN_DIR, PolicyFileError, load_policy, load_policy_file

SOURCE = BUILTIN_DIR / "anhui-huaiyuan-2025.yaml"


def edited(tmp_path, change, name="anhui-huaiyuan-2025.yaml"):
    document = yaml.safe_load(SOURCE.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_builtin_file_loads_and_is_versioned_by_its_bytes(tmp_path):
    policy = load_policy_file(SOURCE)
    assert policy.version == load_policy("anhui-huaiyuan-2025").version
    copy = tmp_path / SOURCE.name
    shutil.copy(SOURCE, copy)
    copy.write_text(SOURCE.read_text(encoding="utf-8") + "\n# 修订\n", encoding="utf-8")
    assert load_policy_file(copy).version != policy.version


def test_stated_amount_must_match_the_rule(tmp_path):
    def change(doc):
        only_son = next(i for i in doc["subsidies"]["items"] if i["identities"] == ["only_son_family"])
        only_son["stated_amount"] = 180

    with pytest.raises(PolicyFileError, match="按规则计算为 200.00 元，通知写明 180 元"):
        load_policy_file(edited(tmp_path, change))


def test_total_must_equal_personal_plus_fiscal(tmp_path):
    def change(doc):
        doc["contribution"]["total"]["amount"] = 1080

    with pytest.raises(PolicyFileError, match="不等于个人缴费"):
        load_policy_file(edited(tmp_path, change))


def test_fiscal_split_must_add_up(tmp_path):
    def change(doc):
        doc["contribution"]["fiscal_subsidy"]["split"]["central"] = 500

    with pytest.raises(PolicyFileError, match="分项之和"):
        load_policy_file(edited(tmp_path, change))


def test_unknown_identity_code_is_refused(tmp_path):
    def change(doc):
        doc["subsidies"]["items"][0]["identities"].append("pinkun")

    with pytest.raises(PolicyFileError, match="未知的身份代码：“pinkun”，最接近的是“tekun”"):
        load_policy_file(edited(tmp_path, change))


def test_an_identity_may_appear_in_one_subsidy_only(tmp_path):
    def change(doc):
        doc["subsidies"]["items"][1]["identities"].append("tekun")

    with pytest.raises(PolicyFileError, match="身份 tekun 同时出现在"):
        load_policy_file(edited(tmp_path, change))


def test_every_value_needs_its_reference(tmp_path):
    def change(doc):
        del doc["collection"]["main_window"]["reference"]

    with pytest.raises(PolicyFileError, match="collection.main_window.reference"):
        load_policy_file(edited(tmp_path, change))


def test_an_interpretation_must_say_why(tmp_path):
    def change(doc):
        del doc["rules"][-1]["note"]
        doc["rules"][-1]["source"] = "interpretation"

    with pytest.raises(PolicyFileError, match="必须在 note 中说明理由"):
        load_policy_file(edited(tmp_path, change))


def test_policy_id_must_match_the_file_name_and_year(tmp_path):
    with pytest.raises(PolicyFileError, match="应与政策编号一致"):
        load_policy_file(edited(tmp_path, lambda doc: None, name="anhui-huaiyuan-2026.yaml"))

    def change(doc):
        doc["benefit_year"] = 2026

    with pytest.raises(PolicyFileError, match="年度与 benefit_year 2026 不一致"):
        load_policy_file(edited(tmp_path, change))


def test_window_must_not_end_before_it_starts(tmp_path):
    def change(doc):
        doc["collection"]["main_window"]["end"] = "2024-08-01"

    with pytest.raises(PolicyFileError, match="晚于截止日"):
        load_policy_file(edited(tmp_path, change))


def test_refusing_rule_needs_a_reason_and_accepting_rule_a_start(tmp_path):
    def change(doc):
        doc["rules"][0]["outcome"] = "refuse"

    with pytest.raises(PolicyFileError, match="拒绝规则需要 refuse_reason"):
        load_policy_file(edited(tmp_path, change))


def test_broken_yaml_is_reported_as_such(tmp_path):
    path = tmp_path / "broken-2025.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyFileError, match="不是合法的 YAML"):
        load_policy_file(path)


# ---------------------------------------------------------------- policy files say where they interpret

SUIXIAN = BUILTIN_DIR / "hubei-suixian-2023.yaml"


def edited_file(tmp_path, source, change):
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(document)
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def _rule(doc, rule_id):
    return next(r for r in doc["rules"] if r["id"] == rule_id)


def _unmark(item):
    item.pop("source", None)
    item.pop("note", None)


def test_a_notice_reference_must_occur_in_the_notice(tmp_path):
    def change(doc):
        doc["contribution"]["standards"][0]["reference"] = "居民个人缴费标准为每人390元。"

    with pytest.raises(PolicyFileError, match="第1项缴费标准（contribution.standards\\[1\\]）：引用“居民个人缴费标准为每人390元”不见于通知原文"):
        load_policy_file(edited(tmp_path, change))


def test_a_reference_may_leave_words_out_with_an_ellipsis_and_ignore_spacing(tmp_path):
    def change(doc):
        doc["contribution"]["standards"][0]["reference"] = "2024年居民医保 筹资标准为每人1070元……居民个人缴费标准为每人400元。"

    assert load_policy_file(edited(tmp_path, change)).data.tier1_standard() == 400


def test_a_value_beyond_the_notice_passes_once_marked_as_interpretation(tmp_path):
    def change(doc):
        doc["contribution"]["standards"][0].update(
            reference="居民个人缴费标准为每人390元。", source="interpretation", note="测试：本系统的理解")

    assert load_policy_file(edited(tmp_path, change)).data.tier1_standard() == 400


@pytest.mark.parametrize("rule_id", ["main_window", "migrant_extension"])
def test_an_unmarked_waiting_period_the_notice_does_not_set_is_refused(tmp_path, rule_id):
    def change(doc):
        _unmark(_rule(doc, rule_id))

    with pytest.raises(PolicyFileError, match=f"规则 {rule_id} 设待遇等待期：所引原文没有这样写"):
        load_policy_file(edited(tmp_path, change))


def test_crediting_the_six_month_floor_to_the_national_rule_is_refused(tmp_path):
    def change(doc):
        waiting = doc["waiting_period"]
        waiting["reference"] += "连续断缴4年及以上的，修复后固定待遇等待期和变动待遇等待期之和原则上不少于6个月。"

    with pytest.raises(PolicyFileError, match="“待遇等待期”（waiting_period）：引用“连续断缴4年及以上的.*不见于本系统所据的国家规定"):
        load_policy_file(edited(tmp_path, change))

    def national_floor(doc):
        doc["waiting_period"]["floor"].update(source="national")
        doc["waiting_period"]["floor"].pop("note")

    with pytest.raises(PolicyFileError, match="“待遇等待期”的“等待期下限”（waiting_period.floor）：引用“连续断缴4年及以上的"):
        load_policy_file(edited(tmp_path, national_floor))


def test_a_rule_for_a_group_its_sentence_does_not_name_must_be_marked(tmp_path):
    def change(doc):
        _unmark(_rule(doc, "graduate_within_90_days"))
        _rule(doc, "graduate_within_90_days")["reference"] = _rule(doc, "mid_year_groups_within_90_days")["reference"]

    with pytest.raises(PolicyFileError, match="规则 graduate_within_90_days 适用于大学毕业生：所引原文没有这样写"):
        load_policy_file(edited_file(tmp_path, SUIXIAN, change))


def test_reading_to_18_as_children_only_must_be_marked(tmp_path):
    def change(doc):
        _unmark(next(i for i in doc["subsidies"]["items"] if i["identities"] == ["only_daughter_family"]))

    with pytest.raises(PolicyFileError, match="年龄限制只约束子女、家庭角色不明的人不限年龄：所引原文没有这样写"):
        load_policy_file(edited(tmp_path, change))


def test_a_policy_file_must_name_a_notice_that_can_be_found(tmp_path):
    def no_seed(doc):
        doc["seed"] = None

    with pytest.raises(PolicyFileError, match="须写明通知原文文件名"):
        load_policy_file(edited(tmp_path, no_seed))

    def unknown_seed(doc):
        doc["seed"] = "999_new.txt"

    path = edited(tmp_path, unknown_seed)
    with pytest.raises(PolicyFileError, match="通知原文 999_new.txt 未找到"):
        load_policy_file(path)
    (tmp_path / "notices").mkdir()
    notice = (BUILTIN_DIR.parent / "notices" / "004_695eda9d9bb48b94.txt").read_text(encoding="utf-8")
    (tmp_path / "notices" / "999_new.txt").write_text(notice, encoding="utf-8")
    assert load_policy_file(path).id == "anhui-huaiyuan-2025"


def test_enrollees_and_suspension_are_read_from_the_notices():
    huaiyuan = load_policy("anhui-huaiyuan-2025").data
    assert [k.kind for k in huaiyuan.enrollees.kinds] == [
        "local_hukou", "long_term_resident", "student", "hmt_resident", "foreign_expert_family"]
    assert "港澳台居民居住证" in huaiyuan.enrollees.kinds[3].reference
    assert "外籍专家" in huaiyuan.enrollees.kinds[4].reference
    assert huaiyuan.suspension.reasons == ["employment", "school", "military", "marriage", "death"]
    xiaoling = load_policy("hubei-chongyang-xiaoling-2024").data
    assert xiaoling.enrollees.hukou_required is False and "不受户籍限制" in xiaoling.enrollees.reference


def test_an_unknown_enrollee_kind_or_suspension_reason_is_refused(tmp_path):
    def change(doc):
        doc["suspension"]["reasons"].append("travel")

    with pytest.raises(PolicyFileError, match="suspension.reasons"):
        load_policy_file(edited(tmp_path, change))
