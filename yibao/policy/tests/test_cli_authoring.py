"""`yibao policy vocabulary|reference|new|diff`, `check` with line numbers and warnings, and the
install refusal that names --replace."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.policy.loader import BUILTIN_DIR

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_vocabulary_json_lists_every_kind_of_word():
    result = run("policy", "vocabulary", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"identities", "groups", "conditions", "anchors", "settings", "checklist"}
    assert {"code": "tekun", "name": "特困人员"}.items() <= data["identities"][0].items()
    assert any(a["code"] == "birth_date" and a["name"] == "出生之日" for a in data["anchors"])


def test_vocabulary_text_is_chinese_with_examples():
    result = run("policy", "vocabulary")
    assert result.exit_code == 0
    assert "  dibao\t低保对象（民政；别名 最低生活保障对象" in result.stdout
    assert "例：when: {groups: [newborn], days_since_birth: {max: 90}}" in result.stdout


def test_reference_check_passes_on_the_repository():
    result = run("policy", "reference", "--check")
    assert result.exit_code == 0 and "是最新的" in result.stdout


def test_check_json_gives_each_issue_with_its_line(tmp_path):
    text = (BUILTIN_DIR / "anhui-huaiyuan-2025.yaml").read_text(encoding="utf-8").replace("fixed_months: 3", "fixed_month: 3")
    path = tmp_path / "anhui-huaiyuan-2025.yaml"
    path.write_text(text, encoding="utf-8")
    shutil.copy(BUILTIN_DIR / "anhui-huaiyuan-2025.cases.yaml", tmp_path)
    result = run("policy", "check", path, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "fixed_month: 3" in t)
    unknown = next(i for i in data["issues"] if i["message"].startswith("未知的字段“fixed_month”"))
    assert unknown["line"] == line and unknown["path"] == "“待遇等待期”的“fixed_month”（waiting_period.fixed_month）"
    assert "最接近的是“fixed_months”" in unknown["message"]
    plain = run("policy", "check", path)
    assert f"第{line}行，“待遇等待期”的“fixed_month”" in plain.output


def test_new_then_check_warns_about_review_then_diff(tmp_path):
    result = run("policy", "new", "--from", "anhui-huaiyuan-2025", "--id", "anhui-huaiyuan-2026", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    path = tmp_path / "anhui-huaiyuan-2026.yaml"
    assert f"已写入 {path}" in result.stdout
    check = run("policy", "check", path)
    assert check.exit_code == 0, check.output
    assert "提醒：" in check.output and "待复核" in check.output
    data = json.loads(run("policy", "check", path, "--json").stdout)
    assert data["failed"] == [] and len(data["warnings"]) == 5
    diff = run("policy", "diff", "anhui-huaiyuan-2025", path, "--json")
    changes = json.loads(diff.stdout)["changes"]
    assert {"section": "基本信息", "what": "待遇年度", "kind": "changed", "before": "2025", "after": "2026",
            "text": "待遇年度：2025 → 2026"} in changes
    text = run("policy", "diff", "anhui-huaiyuan-2025", path).stdout
    assert text.startswith(f"anhui-huaiyuan-2025 → anhui-huaiyuan-2026：{len(changes)} 处不同")
    assert "征缴期：\n  · 集中征缴期的起始日：2024年9月1日 → 2025年9月1日（顺延1年）" in text


def test_new_and_diff_errors_are_chinese():
    assert "未找到政策 nowhere-2025" in run("policy", "new", "--from", "nowhere-2025", "--id", "nowhere-x-2026").output
    result = run("policy", "diff", "anhui-huaiyuan-2025", "nowhere-2025")
    assert result.exit_code == 2 and "未找到政策 nowhere-2025" in result.output


@pytest.mark.django_db
def test_install_over_an_installed_policy_names_the_replace_option(tmp_path, monkeypatch):
    monkeypatch.setenv("YIBAO_VAR_DIR", str(tmp_path / "var"))
    assert run("policy", "new", "--from", "anhui-huaiyuan-2025", "--id", "anhui-huaiyuan-2026", "--out", tmp_path).exit_code == 0
    path = tmp_path / "anhui-huaiyuan-2026.yaml"
    assert run("policy", "install", path).exit_code == 0
    again = run("policy", "install", path)
    assert again.exit_code == 1
    assert "已安装" in again.output and "请加选项 --replace 再运行 yibao policy install" in again.output
    assert "勾选" not in again.output
    assert run("policy", "install", path, "--replace").exit_code == 0
