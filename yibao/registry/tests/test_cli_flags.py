"""`yibao flags resolve FLAG_ID --outcome … --reason …`: the flags page's service, from the command line."""

import json

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Event
from yibao.registry.models import Flag
from yibao.registry.tests.factories import make_household
from yibao.registry.tests.fixtures import BAIMA

pytestmark = pytest.mark.django_db
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def flag(regions):
    _, people = make_household(BAIMA, "H1", "张父")
    return Flag.objects.create(county_code="421223", resident=people[0], kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="名单")


def test_resolve_writes_the_event_and_a_second_run_changes_nothing(flag):
    result = run("flags", "resolve", flag.pk, "--outcome", "cleared", "--reason", "职工医保已于2023年6月停保", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["changed"] is True and data["outcome"] == "cleared" and data["resolved_by"].startswith("命令行:")
    flag.refresh_from_db()
    assert flag.resolved_at is not None and flag.resolution == "职工医保已于2023年6月停保"
    assert Event.objects.filter(entity="resident", entity_id=str(flag.resident_id), action="flag_resolve").count() == 1
    again = run("flags", "resolve", flag.pk, "--outcome", "核实无重复", "--reason", "再次")
    assert again.exit_code == 0 and "未变" in again.stdout
    assert Event.objects.filter(action="flag_resolve").count() == 1
    other = run("flags", "resolve", flag.pk, "--outcome", "confirmed", "--reason", "改口")
    assert other.exit_code == 2 and "不能改为另一结论" in other.output


@pytest.mark.parametrize("args, message", [
    (("{pk}", "--outcome", "maybe", "--reason", "x"), "--outcome 应为 cleared"),
    (("{pk}", "--outcome", "confirmed", "--reason", "  "), "请填写处理依据"),
    (("{pk}", "--outcome", "confirmed", "--reason", "长" * 301), "不能超过300个字"),
    (("99999", "--outcome", "confirmed", "--reason", "x"), "未找到标记 #99999"),
    (("{pk}", "--outcome", "confirmed", "--reason", "x", "--user", "village_collector"), "无权处理重复参保标记"),
])
def test_bad_input_is_refused_in_chinese_with_exit_2(flag, staff, args, message):
    result = run("flags", "resolve", *[a.replace("{pk}", str(flag.pk)) for a in args])
    assert result.exit_code == 2 and message in result.output, result.output
    flag.refresh_from_db()
    assert flag.resolved_at is None and not Event.objects.filter(action="flag_resolve").exists()


def test_a_user_reaches_only_flags_in_their_region(flag, make_user):
    make_user("suoshi_admin", role="county_admin", region_code="421321")
    refused = run("flags", "resolve", flag.pk, "--outcome", "confirmed", "--reason", "x", "--user", "suoshi_admin")
    assert refused.exit_code == 2 and "不在当前账号的管辖范围内" in refused.output
    make_user("chongyang", role="county_admin", region_code="421223")
    done = run("flags", "resolve", flag.pk, "--outcome", "confirmed", "--reason", "确在职工医保", "--user", "chongyang")
    assert done.exit_code == 0, done.output
    assert Event.objects.get(action="flag_resolve").actor.username == "chongyang"
