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

    with pytest.raises(PolicyFileError, match="未知的身份代码：pinkun"):
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
