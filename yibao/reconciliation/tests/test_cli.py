"""`yibao reconcile`, `yibao reconcile-calendar` and `yibao handover`."""

import json
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from yibao.cli import app
from yibao.reconciliation.models import CashHandover, ReconciliationRun
from yibao.reconciliation.tests import factories as f

pytestmark = pytest.mark.django_db
runner = CliRunner()


@pytest.fixture
def tax_path(tmp_path):
    campaign = f.world()
    a, b = f.person(name="甲"), f.person(name="乙")
    paid = f.payment(campaign, a)
    f.payment(campaign, b, source="counter", channel="cash", collector_name="李征收")
    return f.tax_file(tmp_path / "tax.csv", [f.tax_row(paid), f.tax_row(None, 缴费流水号="SW-1")])


def test_reconcile_prints_one_json_object(tax_path, tmp_path):
    report = tmp_path / "out" / "差异.xlsx"
    result = runner.invoke(app, ["reconcile", "--county", f.COUNTY, "--year", str(f.YEAR), "--tax-file", str(tax_path),
                                 "--as-of", "2024-11-30", "--report", str(report), "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    run = ReconciliationRun.objects.get()
    assert body["run_id"] == run.pk and body["as_of"] == "2024-11-30"
    assert body["counts"] == {"paid_not_booked": 1, "booked_not_paid": 1, "amount_differs": 0, "person_differs": 0,
                              "receipt_without_payment": 0, "payment_without_receipt": 1, "cash_short": 1, "cash_over": 0}
    assert body["mismatches"] == 4
    assert body["totals"]["tax"] == 800 and body["totals"]["booked"] == 800 and body["totals"]["matched"] == 400
    assert body["report"] == str(report) and body["error_report"] is None and body["changes"]["previous"] is None
    sheet = CalamineWorkbook.from_path(str(report)).get_sheet_by_name("差异明细").to_python()
    assert len(sheet) == 5
    # again: a second run that knows the first
    again = json.loads(runner.invoke(app, ["reconcile", "--county", f.COUNTY, "--year", str(f.YEAR), "--tax-file",
                                           str(tax_path), "--as-of", "2024-11-30", "--json", "--quiet"]).stdout)
    assert again["changes"] == {"previous": run.pk, "new": 0, "resolved": 0, "persisting": 4}
    assert Path(again["report"]).exists()


def test_reconcile_reports_bad_input_in_chinese(tax_path, tmp_path):
    missing = runner.invoke(app, ["reconcile", "--county", f.COUNTY, "--year", str(f.YEAR), "--tax-file", "/nope.csv"])
    assert missing.exit_code != 0 and "找不到税务缴费记录文件" in missing.stderr
    no_year = runner.invoke(app, ["reconcile", "--county", f.COUNTY, "--year", "2030", "--tax-file", str(tax_path)])
    assert no_year.exit_code != 0 and "尚未开启征缴" in no_year.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text("姓名\n张三\n", encoding="utf-8")
    failed = runner.invoke(app, ["reconcile", "--county", f.COUNTY, "--year", str(f.YEAR), "--tax-file", str(broken),
                                 "--quiet"])
    assert failed.exit_code == 1 and "缺少必需的列" in failed.stderr
    assert not ReconciliationRun.objects.exists()


def test_calendar_and_handover(tax_path):
    result = runner.invoke(app, ["handover", "--village", f.VILLAGE, "--year", str(f.YEAR), "--collector", "李征收",
                                 "--from", "2024-10-01", "--to", "2024-10-08", "--on", "2024-10-09", "--amount", "400",
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["collector_name"] == "李征收"
    assert CashHandover.objects.get().received_by_name.startswith("命令行:")
    calendar = runner.invoke(app, ["reconcile-calendar", "--county", f.COUNTY, "--year", str(f.YEAR), "--json"])
    body = json.loads(calendar.stdout)
    assert body["required"] == 2 and body["short_months"] == 4 and len(body["months"]) == 4
    text = runner.invoke(app, ["reconcile-calendar", "--county", f.COUNTY, "--year", str(f.YEAR)])
    assert text.exit_code == 1 and "2024年9月：0/2 少 2 次" in text.stdout


def test_handover_by_username_links_the_account_and_what_cannot_be_resolved_or_crosses_is_refused(tax_path, make_user):
    li = make_user("li", role="village_collector", region_code=f.VILLAGE, display_name="李征收")
    args = ["handover", "--village", f.VILLAGE, "--year", str(f.YEAR), "--from", "2024-10-01", "--to", "2024-10-08",
            "--on", "2024-10-09", "--amount", "400"]
    ok = runner.invoke(app, [*args, "--collector", "li", "--json"])
    assert ok.exit_code == 0, ok.output
    assert CashHandover.objects.get().collector_id == li.pk
    unknown = runner.invoke(app, [*args, "--collector", "没这人"])
    assert unknown.exit_code != 0 and "找不到征收员“没这人”" in unknown.stderr
    crossing = runner.invoke(app, [*args[:5], "--from", "2024-10-05", "--to", "2024-10-09", "--on", "2024-10-10",
                                   "--amount", "1", "--collector", "李征收"])
    assert crossing.exit_code != 0 and "部分重叠" in crossing.stderr
    assert CashHandover.objects.count() == 1
