import json

from typer.testing import CliRunner

from yibao.accounts.models import User
from yibao.cli import app
from yibao.registry.tests.fixtures import BAIMA

runner = CliRunner()


def test_users_create_list_reset_and_deactivate(regions):
    result = runner.invoke(app, ["users", "create", "lisi", "--role", "village_collector", "--region", BAIMA,
                                 "--name", "李四", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["region_code"] == BAIMA and len(body["password"]) == 10
    assert User.objects.get(username="lisi").check_password(body["password"])
    listed = json.loads(runner.invoke(app, ["users", "list", "--json"]).stdout)
    assert [u["username"] for u in listed["users"]] == ["lisi"]
    reset = runner.invoke(app, ["users", "reset-password", "lisi", "--password", "pass-7777x", "--json"])
    assert reset.exit_code == 0 and User.objects.get(username="lisi").check_password("pass-7777x")
    assert runner.invoke(app, ["users", "deactivate", "lisi", "--reason", "离职"]).exit_code == 0
    assert not User.objects.get(username="lisi").is_active


def test_users_create_refuses_with_chinese_message(regions):
    result = runner.invoke(app, ["users", "create", "lisi", "--role", "village_collector", "--region", "421223"])
    assert result.exit_code != 0
    assert "村（社区）征收员须绑定到村（社区）" in result.stderr
    assert not User.objects.filter(username="lisi").exists()
