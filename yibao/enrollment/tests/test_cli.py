"""`yibao campaign open|close|list` and `yibao assess`, as the issue writes them."""

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.enrollment.models import Assessment, Campaign
from yibao.enrollment.tests import factories as f
from yibao.policy.engine import Person, quote
from yibao.policy.loader import load_policy

pytestmark = pytest.mark.django_db
runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_campaign_open_json_and_refusals():
    f.region_tree()
    result = run("campaign", "open", "--county", "340321", "--policy", "anhui-huaiyuan-2025", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["benefit_year"], data["collection_start"], data["status"]) == (2025, "2024-09-01", "open")
    again = run("campaign", "open", "--county", "340321", "--policy", "anhui-huaiyuan-2025")
    assert again.exit_code != 0 and "只能开启一次" in again.stderr
    wrong = run("campaign", "open", "--county", "340321", "--policy", "hubei-suixian-2023")
    assert wrong.exit_code != 0 and "不适用于" in wrong.stderr
    bad_date = run("campaign", "open", "--county", "340321", "--policy", "anhui-huaiyuan-2025", "--start", "9/1")
    assert bad_date.exit_code != 0 and "YYYY-MM-DD" in bad_date.stderr


def test_assess_prints_one_json_object_with_the_counts():
    f.region_tree()
    low = f.resident(identities=["dibao"], name="低保户")
    f.resident(identities=["only_son_family"], name="独男户", relation="户主")
    run("campaign", "open", "--county", "340321", "--policy", "anhui-huaiyuan-2025")
    result = run("assess", "--county", "340321", "--year", "2025", "--on", "2024-10-08", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("residents", "assessed", "unchanged", "removed", "not_accepted", "payable_total",
                "refund_later_total", "policy_version", "seconds"):
        assert key in data
    assert (data["residents"], data["assessed"], data["unchanged"], data["not_accepted"]) == (2, 2, 0, 0)
    policy = load_policy("anhui-huaiyuan-2025")
    low_quote = quote(policy, Person(birth_date=low.birth_date, identities=frozenset({"dibao"})), dt.date(2024, 10, 8))
    assert data["payable_total"] == int(low_quote.payable) + 400 and data["refund_later_total"] == 200
    assert data["policy_version"] == policy.version
    again = json.loads(run("assess", "--county", "340321", "--year", "2025", "--on", "2024-10-08", "--json").stdout)
    assert (again["assessed"], again["unchanged"]) == (0, 2)
    assert Assessment.objects.count() == 2


def test_assess_without_a_campaign_or_with_a_bad_date_fails_in_chinese():
    f.region_tree()
    missing = run("assess", "--county", "340321", "--year", "2025")
    assert missing.exit_code != 0 and "还没有开启2025年度征缴" in missing.stderr
    f.campaign()
    bad = run("assess", "--county", "340321", "--year", "2025", "--on", "2024-02-30")
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.stderr


def test_close_and_list():
    f.region_tree()
    f.campaign()
    closed = run("campaign", "close", "--county", "340321", "--year", "2025", "--json")
    assert closed.exit_code == 0 and json.loads(closed.stdout)["status"] == "closed"
    listed = json.loads(run("campaign", "list", "--json").stdout)
    assert [(c["county_code"], c["status"]) for c in listed["campaigns"]] == [("340321", "closed")]
    refused = run("assess", "--county", "340321", "--year", "2025")
    assert refused.exit_code == 1 and "已结束" in refused.stderr
    assert Campaign.objects.get().status == "closed"


@pytest.mark.parametrize("identities,birth,relation,group,on", [
    (["dibao"], dt.date(1970, 3, 3), "户主", None, "2024-10-08"),
    (["only_daughter_family"], dt.date(2012, 6, 1), "女儿", None, "2024-12-31"),
    (["entitled_group", "dibao"], dt.date(1955, 8, 1), "户主", None, "2024-09-01"),
    ([], dt.date(1990, 1, 1), "子", "migrant_worker", "2025-02-10"),
    ([], dt.date(1985, 4, 4), "配偶", None, "2025-03-15"),
])
def test_every_assessed_amount_and_date_agrees_with_yibao_quote(identities, birth, relation, group, on):
    from yibao.registry.models import GroupFact

    f.region_tree()
    person = f.resident(identities=identities, birth=birth, relation=relation, sex="F" if relation == "女儿" else "M")
    if group:
        GroupFact.objects.create(county_code="340321", resident=person, group=group)
    f.campaign()
    assert run("assess", "--county", "340321", "--year", "2025", "--on", on, "--json").exit_code == 0
    row = Assessment.objects.get(resident=person)
    from yibao.enrollment.selectors import household_role

    args = ["quote", "--policy", "anhui-huaiyuan-2025", "--birth-date", birth.isoformat(), "--paid-on", on, "--json",
            "--role", household_role(relation)]
    for code in identities:
        args += ["--identity", code]
    if group:
        args += ["--group", group]
    quoted = json.loads(run(*args).stdout)
    assert quoted["accepted"] == row.accepted
    assert (quoted["standard"], quoted["subsidy"], quoted["payable"], quoted["refund_later"]) == (
        row.standard, row.subsidy, row.payable, row.refund_later)
    assert (quoted["subsidy_identity"] or "") == row.subsidy_identity
    assert quoted["benefit_start"] == (row.benefit_start.isoformat() if row.benefit_start else None)
    assert quoted["benefit_end"] == (row.benefit_end.isoformat() if row.benefit_end else None)
    assert quoted["policy_version"] == row.policy_version
