"""Issue 15 acceptance trial: a policy written from a real notice that is not among the seeds
(兴县2026年度, fixtures/shanxi-xingxian-2026), using only docs/policy.md and the vocabulary.
It passes `policy check`, installs, and its explanations quote the notice word for word."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.policy.cases import load_cases, run_case
from yibao.policy.engine import Person, quote
from yibao.policy.loader import load_policy_file

FIXTURES = Path(__file__).parent / "fixtures"
SOURCE = FIXTURES / "shanxi-xingxian-2026.yaml"
CASES = FIXTURES / "shanxi-xingxian-2026.cases.yaml"
NOTICE = (FIXTURES / "notices" / "xingxian-2026.txt").read_text(encoding="utf-8")
runner = CliRunner()


@pytest.fixture(scope="module")
def xingxian():
    return load_policy_file(SOURCE)


def _copy(tmp_path):
    for path in (SOURCE, CASES):
        shutil.copy(path, tmp_path)
    (tmp_path / "notices").mkdir()
    shutil.copy(FIXTURES / "notices" / "xingxian-2026.txt", tmp_path / "notices")
    return tmp_path / SOURCE.name


@pytest.mark.parametrize("case", load_cases(CASES).cases, ids=lambda c: c.name)
def test_case(xingxian, case):
    result = run_case(xingxian, case)
    assert result.passed, "\n".join(result.failures)


def test_check_passes_without_warnings(tmp_path):
    result = runner.invoke(app, ["policy", "check", str(_copy(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] and report["issues"] == [] and report["warnings"] == []
    assert report["failed"] == [] and report["cases"] >= 15


@pytest.mark.django_db
def test_installs_into_a_fresh_var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("YIBAO_VAR_DIR", str(tmp_path / "var"))
    (tmp_path / "src").mkdir()
    result = runner.invoke(app, ["policy", "install", str(_copy(tmp_path / "src"))])
    assert result.exit_code == 0, result.output
    assert "已安装政策 shanxi-xingxian-2026" in result.output
    installed = tmp_path / "var" / "policies"
    assert (installed / "shanxi-xingxian-2026.yaml").exists()
    assert (installed / "notices" / "xingxian-2026.txt").exists()


def _explanation(policy, birth, paid, **person):
    import datetime as dt

    result = quote(policy, Person(birth_date=dt.date.fromisoformat(birth), **person), dt.date.fromisoformat(paid))
    return result, "\n".join(result.explanation)


def _quotes(text):
    """The fragments between “ and ” in an explanation."""
    return [part.split("”")[0] for part in text.split("“")[1:]]


def test_explanations_quote_the_notice_word_for_word(xingxian):
    # 三、缴费标准
    result, text = _explanation(xingxian, "1975-06-01", "2025-11-10")
    assert result.accepted and result.payable == 400
    assert "“2026年度城乡居民基本医疗保险费用个人缴费标准为每人400元”" in text
    # 二、缴费时间：每月1日—25日，节假日不顺延
    result, text = _explanation(xingxian, "1975-06-01", "2025-12-31")
    assert not result.accepted
    assert "每月的缴费期为1日—25日(节假日不顺延)。" in text
    # 集中征缴期跨年，2026年2月25日仍在期内
    result, text = _explanation(xingxian, "1975-06-01", "2026-02-25")
    assert result.benefit_start.isoformat() == "2026-01-01"
    assert "集中征缴期原则上为20251017日至2026年2月25日" in text
    # every quotation taken from the county's notice is in the notice itself
    for line in result.explanation + _explanation(xingxian, "1975-06-01", "2025-12-31")[0].explanation:
        if "依据：" in line:
            for fragment in _quotes(line.split("依据：", 1)[1]):
                for sentence in filter(None, fragment.split("。")):
                    assert sentence in NOTICE, sentence


def test_what_the_notice_does_not_say_is_marked(xingxian):
    data = xingxian.data
    assert "subsidies:" not in SOURCE.read_text(encoding="utf-8")  # no subsidies in the notice: the key is left out
    assert data.subsidies.items == [] and data.subsidies.single_highest is None
    assert {c.item for c in data.checklist} >= {"subsidies", "newborns", "refunds"}
    late = next(r for r in data.rules if r.id == "late_enrollment_waiting_period")
    assert late.source == "national" and data.waiting_period.source == "national"
    assert next(r for r in data.rules if r.id == "main_window").source == "interpretation"


def test_explanations_tell_the_notice_from_national_rules_and_interpretation(xingxian):
    _, text = _explanation(xingxian, "1975-06-01", "2026-03-10")
    assert "依据国家规定：“国办发〔2024〕38号" in text
    assert "；本地执行：能取得的通知原文未写集中征缴期后参保的办法" in text
    _, text = _explanation(xingxian, "1975-06-01", "2025-11-10")
    assert "；本系统的理解：能取得的通知原文未写待遇享受期" in text
    assert "；说明：" not in text
    # the note on a notice-sourced value (how the garbled date was read) stays on the policy page only
    assert "缺“年”“月”二字" not in text


@pytest.mark.django_db
def test_nothing_is_installed_when_the_event_row_cannot_be_written(tmp_path, monkeypatch):
    from yibao.core import services as core_services
    from yibao.policy.services import policy_install

    def broken(**kwargs):
        raise RuntimeError("event table unavailable")

    monkeypatch.setenv("YIBAO_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setattr(core_services, "event_record", broken)
    (tmp_path / "src").mkdir()
    with pytest.raises(RuntimeError):
        policy_install(path=_copy(tmp_path / "src"))
    assert not (tmp_path / "var" / "policies" / "shanxi-xingxian-2026.yaml").exists()


@pytest.mark.django_db
def test_policy_page_shows_the_trial_policy_without_subsidies(client, make_user, monkeypatch):
    monkeypatch.setenv("YIBAO_POLICY_DIRS", str(FIXTURES))
    client.force_login(make_user("collector", role="village_collector", region_code="340321100001"))
    response = client.get("/policy/shanxi-xingxian-2026/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "每月的缴费期为1日—25日(节假日不顺延)。" in page
    assert "2026年度城乡居民基本医疗保险费用个人缴费标准为每人400元" in page
