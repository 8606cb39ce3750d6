import json

from typer.testing import CliRunner

from yibao.cli import app
from yibao.regions.models import Region

runner = CliRunner()


def test_load_seed_prints_counts_as_json(db):
    result = runner.invoke(app, ["regions", "load-seed", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"rows": 34, "created": 34, "renamed": 0, "unchanged": 0}
    assert Region.objects.filter(parent_id="421223200").count() == 10
    again = runner.invoke(app, ["regions", "load-seed", "--json"])
    assert json.loads(again.stdout)["unchanged"] == 34


def test_show_lists_children(db):
    runner.invoke(app, ["regions", "load-seed"])
    result = runner.invoke(app, ["regions", "show", "421321", "--json"])
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["name"] == "随县" and len(body["children"]) == 18
    assert body["children"][0]["name"] == "厉山镇（含经济开发区）"
    missing = runner.invoke(app, ["regions", "show", "999999"])
    assert missing.exit_code != 0 and "不存在" in missing.stderr
