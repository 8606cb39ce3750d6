"""`yibao report weekly|biweekly --county|--township [--on DAY] --out FILE [--format xlsx|pdf]`."""

import json

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Event
from yibao.progress.tests import builders as b

pytestmark = pytest.mark.django_db
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _cells(path) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


def test_weekly_xlsx_of_a_township_matches_the_page_download(county, tmp_path, client, make_user):
    out = tmp_path / "周报.xlsx"
    result = run("report", "weekly", "--township", b.LIUCHENG, "--year", 2025, "--on", "2024-10-31", "--out", out,
                 "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["format"] == "xlsx" and data["rows"] == 2 and "截至2024年10月31日" in data["subtitle"]
    event = Event.objects.get(entity="export", entity_id="progress_weekly")
    assert event.after["region"] == b.LIUCHENG and event.actor_name.startswith("命令行:")
    client.force_login(make_user("boss", role="county_admin", region_code=b.COUNTY))
    page = client.get("/progress/reports/weekly.xlsx", {"region": b.LIUCHENG, "year": 2025, "on": "2024-10-31"})
    (tmp_path / "page.xlsx").write_bytes(page.content)
    assert _cells(out) == _cells(tmp_path / "page.xlsx")
    names = [c for row in _cells(out) for c in row]
    assert "东村" in names and "西村" in names


def test_biweekly_pdf_of_the_county_by_the_out_suffix(county, tmp_path):
    out = tmp_path / "通报.pdf"
    result = run("report", "biweekly", "--county", b.COUNTY, "--year", 2025, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "两周通报" in result.stderr
    assert Event.objects.get(entity_id="progress_biweekly").after["format"] == "pdf"


@pytest.mark.parametrize("args, message", [
    (("monthly", "--county", b.COUNTY), "报表应为 weekly"),
    (("weekly", "--county", b.COUNTY, "--township", b.LIUCHENG), "只指定 --county、--township、--region 中的一个"),
    (("weekly", "--township", b.COUNTY), "区划代码应为9位数字"),
    (("weekly", "--county", b.COUNTY, "--format", "doc"), "--format 应为 xlsx 或 pdf"),
    (("weekly", "--county", b.COUNTY, "--on", "2024/10/31"), "格式应为 YYYY-MM-DD"),
    (("weekly", "--county", b.COUNTY, "--user", "dongcun"), "无权导出报表"),
    (("weekly", "--township", b.LIUCHENG, "--user", "longkang"), "不在当前账号的管辖范围内"),
])
def test_bad_input_is_refused_in_chinese_with_exit_2_and_no_file(county, tmp_path, make_user, args, message):
    make_user("dongcun", role="village_collector", region_code=b.DONGCUN)
    make_user("longkang", role="township_officer", region_code=b.LONGKANG)
    out = tmp_path / "r.xlsx"
    result = run("report", *args, "--year", 2025, "--out", out)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not out.exists() and not Event.objects.filter(entity="export").exists()


def test_a_township_officer_makes_the_report_of_their_township(county, tmp_path, make_user):
    make_user("liucheng", role="township_officer", region_code=b.LIUCHENG)
    out = tmp_path / "r.xlsx"
    result = run("report", "weekly", "--township", b.LIUCHENG, "--year", 2025, "--out", out, "--user", "liucheng")
    assert result.exit_code == 0, result.output
    assert Event.objects.get(entity="export").actor.username == "liucheng"
