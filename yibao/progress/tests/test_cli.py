"""`yibao targets import`, `yibao progress`, `yibao remind`, called as the issue writes them."""

import io
import json
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from yibao.cli import app
from yibao.progress.models import Target
from yibao.progress.tests import builders as b
from yibao.registry.tests.factories import seed_regions

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent / "data"
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_targets_import_xiaoling_prints_the_printed_totals():
    seed_regions()
    result = run("targets", "import", DATA / "xiaoling_2024_tasks.xlsx", "--county", "421223", "--year", "2024", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sums"] == {"total": 31053, "population": 39140, "supplementary": 7997}
    assert data["printed_total"] == {"total": 31053, "population": 39140, "supplementary": 7997}
    assert data["rows"] == 10 and data["parent_code"] == "421223200"


def test_targets_import_suixian_without_options_reads_county_and_year_from_the_table():
    seed_regions()
    result = run("targets", "import", DATA / "suixian_2023_targets.csv", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["county_code"], data["benefit_year"]) == ("421321", 2023)
    assert data["sums"] == {"total": 643118, "special": 23113, "others": 620005}
    shown = json.loads(run("targets", "show", "--county", "421321", "--year", "2023", "--json").stdout)
    assert shown["targets"][0] == {**shown["targets"][0], "code": "421321", "total": 643118, "special": 23113}


def test_targets_import_refuses_with_a_chinese_message_and_a_non_zero_exit(tmp_path):
    seed_regions()
    bad = tmp_path / "bad.csv"
    bad.write_text("村名,应参保人数\n白马,10\n锁石,20\n合计,31\n", encoding="utf-8")
    result = run("targets", "import", bad, "--county", "421223", "--year", "2024")
    assert result.exit_code != 0 and "合计行印为 31" in result.stderr
    assert not Target.objects.exists()
    assert run("targets", "import", tmp_path / "missing.csv").exit_code != 0


def test_progress_json_is_one_object_with_county_townships_and_villages(county):
    result = run("progress", "--county", b.COUNTY, "--year", "2025", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["county"]["target"] == 16 and data["county"]["enrolled"] == 5 and data["county"]["paid"] == 4
    assert [t["code"] for t in data["townships"]] == [b.LIUCHENG, b.LONGKANG]
    village = {v["code"]: v for v in data["villages"]}[b.DONGCUN]
    for key in ("target", "paid", "enrolled", "rate", "on_pace"):
        assert key in village
    assert (village["target"], village["paid"], village["enrolled"], village["rate"]) == (4, 1, 2, 0.5)
    assert data["deadline"] == "2024-12-31"


def test_progress_json_stamps_the_statistics_time_on_the_business_day(county, settings):
    settings.YIBAO_TODAY = "2024-10-31"
    data = json.loads(run("progress", "--county", b.COUNTY, "--year", "2025", "--json").stdout)
    assert data["refreshed_at"].startswith("2024-10-31")


def test_progress_refreshes_first(county):
    b.pay(county["d"], b.dt.date(2024, 10, 9))
    stale = json.loads(run("progress", "--county", b.COUNTY, "--year", "2025", "--json", "--no-refresh").stdout)
    fresh = json.loads(run("progress", "--county", b.COUNTY, "--year", "2025", "--json").stdout)
    assert (stale["county"]["paid"], fresh["county"]["paid"]) == (4, 5)
    text = run("progress", "--county", b.COUNTY, "--year", "2025")
    assert text.exit_code == 0 and "榴城镇" in text.stdout


def test_remind_lists_and_exports(county, tmp_path):
    result = run("remind", "--village", b.DONGCUN, "--year", "2025", "--json")
    data = json.loads(result.stdout)
    assert data["count"] == 2 and [p["name"] for p in data["people"]] == ["乙", "丁"]
    path = tmp_path / "remind.xlsx"
    exported = run("remind", "--village", b.DONGCUN, "--year", "2025", "--xlsx", path)
    assert exported.exit_code == 0 and "已导出 2 人" in exported.stderr
    rows = CalamineWorkbook.from_filelike(io.BytesIO(path.read_bytes())).get_sheet_by_index(0).to_python()
    assert [r[3] for r in rows[3:5]] == ["乙", "丁"]
    assert run("remind", "--village", b.LIUCHENG, "--year", "2025").exit_code != 0
