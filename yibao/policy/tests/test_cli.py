"""`yibao quote` and `yibao policy …`, called exactly as the acceptance contract writes them."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.policy.loader import BUILTIN_DIR

runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_quote_json_has_the_contract_fields_and_exit_zero():
    result = run(
        "quote", "--policy", "anhui-huaiyuan-2025", "--birth-date", "1970-03-03", "--paid-on", "2024-10-08",
        "--identity", "低保对象", "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("accepted", "reason", "standard", "subsidy", "payable", "refund_later", "subsidy_identity",
                "benefit_start", "benefit_end", "explanation", "policy_version"):
        assert key in data
    assert data["accepted"] is True and data["reason"] is None
    assert (data["standard"], data["subsidy"], data["payable"], data["refund_later"]) == (400, 340, 60, 0)
    assert data["subsidy_identity"] == "dibao"
    assert (data["benefit_start"], data["benefit_end"]) == ("2025-01-01", "2025-12-31")
    assert isinstance(data["explanation"], list) and data["explanation"]


def test_refused_payment_still_exits_zero():
    result = run("quote", "--policy", "hubei-suixian-2023", "--birth-date", "1978-11-11", "--paid-on", "2023-01-05", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["accepted"] is False and "逾期不再征收" in data["reason"]
    assert data["benefit_start"] is None and data["payable"] == 0


def test_identity_repeats_and_takes_codes_and_aliases_together():
    result = run(
        "quote", "--policy", "anhui-huaiyuan-2025", "--birth-date", "1955-08-01", "--paid-on", "2024-10-08",
        "--identity", "dibao", "--identity", "重点优抚对象", "--json",
    )
    data = json.loads(result.stdout)
    assert data["subsidy_identity"] == "entitled_group" and data["refund_later"] == 400 and data["payable"] == 400


def test_group_event_date_and_tier():
    late = run(
        "quote", "--policy", "hubei-suixian-2023", "--birth-date", "1985-01-01", "--paid-on", "2023-07-01",
        "--group", "released_prisoner", "--event-date", "2023-04-01", "--json",
    )
    assert json.loads(late.stdout)["benefit_start"] == "2023-10-01"
    tier2 = run("quote", "--policy", "chongqing-dianjiang-xinmin-2024", "--birth-date", "1982-02-14",
                "--paid-on", "2024-08-01", "--tier", "2", "--json")
    assert json.loads(tier2.stdout)["payable"] == 1395


@pytest.mark.parametrize(
    "args,message",
    [
        (["--policy", "nowhere-2030", "--birth-date", "1980-01-01", "--paid-on", "2024-10-01"], "未找到政策 nowhere-2030"),
        (["--policy", "anhui-huaiyuan-2025", "--birth-date", "1980-01-01", "--paid-on", "2024-10-01", "--identity", "贫困户"],
         "未知的资助身份：“贫困户”"),
        (["--policy", "anhui-huaiyuan-2025", "--birth-date", "1980/01/01", "--paid-on", "2024-10-01"], "--birth-date 日期格式"),
        (["--policy", "anhui-huaiyuan-2025", "--birth-date", "1980-01-01", "--paid-on", "2024-02-30"], "--paid-on 日期格式"),
        (["--policy", "anhui-huaiyuan-2025", "--birth-date", "1980-01-01", "--paid-on", "2024-10-01", "--group", "pilot"],
         "未知的参保群体"),
        (["--policy", "anhui-huaiyuan-2025", "--birth-date", "1980-01-01", "--paid-on", "2024-10-01", "--tier", "2"], "没有2档"),
    ],
)
def test_bad_input_exits_non_zero_with_a_chinese_message(args, message):
    result = run("quote", *args, "--json")
    assert result.exit_code != 0
    assert message in result.stderr
    assert result.stdout == ""


def test_human_readable_quote_lists_the_explanation():
    result = run("quote", "--policy", "shanxi-shuozhou-2024", "--birth-date", "1960-01-01", "--paid-on", "2023-09-26")
    assert result.exit_code == 0
    assert "不予受理" in result.stdout and "每月1日至25日" in result.stdout


def test_policy_list_and_show():
    listed = run("policy", "list", "--json")
    ids = {p["id"] for p in json.loads(listed.stdout)["policies"]}
    assert "shanxi-shuozhou-2024" in ids
    shown = run("policy", "show", "shanxi-shuozhou-2024")
    assert shown.exit_code == 0 and "2023-09-01 至 2023-12-25" in shown.stdout
    assert "低保对象" in shown.stdout and "80%" in shown.stdout
    missing = run("policy", "show", "nowhere-2030")
    assert missing.exit_code != 0 and "未找到政策" in missing.stderr


def copy_policy(tmp_path, policy_id="shanxi-shuozhou-2024"):
    target = tmp_path / f"{policy_id}.yaml"
    shutil.copy(BUILTIN_DIR / f"{policy_id}.yaml", target)
    shutil.copy(BUILTIN_DIR / f"{policy_id}.cases.yaml", tmp_path / f"{policy_id}.cases.yaml")
    return target


def test_policy_check_passes_a_good_file_and_runs_its_cases(tmp_path):
    result = run("policy", "check", str(copy_policy(tmp_path)), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["valid"] and data["cases"] >= 15 and data["failed"] == []


def test_policy_check_reports_a_failing_case(tmp_path):
    path = copy_policy(tmp_path)
    cases = tmp_path / "shanxi-shuozhou-2024.cases.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace("subsidy: 304, payable: 76", "subsidy: 300, payable: 80", 1), encoding="utf-8")
    result = run("policy", "check", str(path))
    assert result.exit_code == 1
    assert "失败 1 个" in result.stdout and "subsidy: 应为 300" in result.stdout


def test_policy_check_reports_an_invalid_file(tmp_path):
    path = copy_policy(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("percent: 80", "percent: 180"), encoding="utf-8")
    result = run("policy", "check", str(path))
    assert result.exit_code == 1 and "校验未通过" in result.stderr


def test_console_script_is_installed_and_answers(tmp_path):
    script = Path(sys.executable).with_name("yibao")
    completed = subprocess.run(
        [str(script), "quote", "--policy", "hubei-chongyang-xiaoling-2024", "--birth-date", "1963-09-08",
         "--paid-on", "2023-09-08", "--identity", "低收入家庭成员", "--json"],
        capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["payable"] == 190


def test_quote_tells_a_first_enrollment_from_a_renewal():
    """随县's January-February extension is for renewing migrants: --first-time is refused, as --gap-years 1 is."""
    base = ("quote", "--policy", "hubei-suixian-2023", "--birth-date", "1990-06-06", "--paid-on", "2023-02-01",
            "--group", "migrant_worker", "--json")
    renewing = json.loads(run(*base).stdout)
    first = json.loads(run(*base, "--first-time").stdout)
    gap = json.loads(run(*base, "--gap-years", "1").stdout)
    assert renewing["accepted"] is True and renewing["benefit_start"] == "2023-01-01"
    assert first["accepted"] is False and "续保缴费时间" in first["reason"]
    assert gap["accepted"] is False
    both = run(*base, "--first-time", "--gap-years", "2")
    assert both.exit_code != 0 and "首次参保人员没有断保年数" in both.output


@pytest.mark.parametrize("args,message", [
    (["--gap-years", "100000"], "断保年数和补缴年数应在 0 至 120 之间"),
    (["--gap-years", "60"], "断保年数 60 超过了参保人的年龄"),
    (["--gap-years", "30", "--backpaid-years", "40"], "补缴年数 40 超过了参保人的年龄"),
    (["--gap-years", "-1"], "断保年数和补缴年数应在 0 至 120 之间"),
])
def test_quote_refuses_gap_years_beyond_the_persons_age(args, message):
    result = runner.invoke(app, ["quote", "--policy", "anhui-huaiyuan-2025", "--birth-date", "1990-01-01",
                                 "--paid-on", "2024-10-08", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, ValueError)


def test_quote_accepts_gap_years_up_to_the_persons_age():
    result = runner.invoke(app, ["quote", "--policy", "anhui-huaiyuan-2025", "--birth-date", "1990-01-01",
                                 "--paid-on", "2024-10-08", "--gap-years", "34", "--json"])
    assert result.exit_code == 0, result.output


def test_cli_dates_and_years_out_of_range_are_refused_in_chinese():
    result = runner.invoke(app, ["quote", "--policy", "anhui-huaiyuan-2025", "--birth-date", "0001-01-01",
                                 "--paid-on", "2024-10-08"])
    assert result.exit_code != 0 and "日期应在 1900-01-01 至 2100-12-31 之间" in result.output
