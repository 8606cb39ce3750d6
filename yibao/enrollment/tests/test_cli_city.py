"""`yibao campaign open --city 1406 --policy shanxi-shuozhou-2024`: the city's year from the shell."""

import json

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Event
from yibao.enrollment.models import Campaign
from yibao.enrollment.tests.shuozhou import CITY, POLICY, shuozhou

pytestmark = pytest.mark.django_db
runner = CliRunner()


def run(*args):
    return runner.invoke(app, list(args))


def test_city_open_json_lists_each_county():
    shuozhou()
    dry = run("campaign", "open", "--city", CITY, "--policy", POLICY, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["to_open"] == 3 and Campaign.objects.count() == 0
    result = run("campaign", "open", "--city", CITY, "--policy", POLICY, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["city_name"], data["benefit_year"], data["opened"], data["skipped"]) == ("朔州市", 2024, 3, 0)
    assert [c["county_code"] for c in data["counties"]] == ["140602", "140603", "140621"]
    assert all(c["campaign_id"] for c in data["counties"])
    assert Campaign.objects.count() == 3 and Event.objects.filter(entity="campaign", action="opened").count() == 3
    listed = json.loads(run("campaign", "list", "--city", CITY, "--json").stdout)["campaigns"]
    assert len(listed) == 3


def test_city_open_refusals_in_chinese(make_user):
    shuozhou()
    make_user("sc_admin", role="county_admin", region_code="140602")
    county = run("campaign", "open", "--city", CITY, "--policy", POLICY, "--user", "sc_admin")
    assert county.exit_code == 2 and "不在当前账号的管辖范围内" in county.stderr
    wrong = run("campaign", "open", "--city", CITY, "--policy", "anhui-huaiyuan-2025")
    assert wrong.exit_code == 2 and "全市适用的政策" in wrong.stderr
    both = run("campaign", "open", "--city", CITY, "--county", "140602", "--policy", POLICY)
    assert both.exit_code == 2 and "其中之一" in both.stderr
    assert Campaign.objects.count() == 0
    make_user("sz_admin", role="city_admin", region_code=CITY)
    assert run("campaign", "open", "--city", CITY, "--policy", POLICY, "--user", "sz_admin").exit_code == 0
    again = run("campaign", "open", "--city", CITY, "--policy", POLICY)
    assert again.exit_code == 2 and "均已开启" in again.stderr
    assert Campaign.objects.filter(opened_by_name="sz_admin").count() == 3
