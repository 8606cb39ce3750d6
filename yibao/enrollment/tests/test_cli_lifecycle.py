"""`yibao enrollment suspend|terminate|transfer`: one person or a file; row errors in Chinese; a second run
changes nothing; the page's services, events and undo records; --user checks the account's region."""

import json

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Event
from yibao.enrollment.models import Enrollment
from yibao.progress.tests import builders as b
from yibao.progress.tests.conftest import county  # noqa: F401 (the 怀远县 fixture)
from yibao.registry.models import Resident, StatusChange

pytestmark = pytest.mark.django_db
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _e(resident, year=2025):
    return Enrollment.objects.get(resident=resident, benefit_year=year)


def test_suspend_one_person_writes_the_event_and_an_undo_record_then_a_second_run_is_unchanged(county):
    a = county["a"]
    result = run("enrollment", "suspend", a.id_number, "--year", 2025, "--reason", "迁往合肥", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["changed"], data["unchanged"], data["error"]) == (1, 0, 0)
    assert _e(a).status == Enrollment.Status.SUSPENDED
    assert Event.objects.filter(entity="enrollment", entity_id=str(_e(a).pk), action="suspended").count() == 1
    change = StatusChange.objects.get(pk=data["rows"][0]["undo_change_id"])
    assert change.kind == "enrollment_suspend" and change.actor_name.startswith("命令行:")
    events = Event.objects.count()
    again = run("enrollment", "suspend", str(a.pk), "--year", 2025, "--reason", "迁往合肥")
    assert again.exit_code == 0 and "未变" in again.stdout
    assert Event.objects.count() == events and StatusChange.objects.count() == 1
    undone = run("undo", change.pk)  # the command line undoes its own change
    assert undone.exit_code == 0, undone.output
    assert _e(a).status == Enrollment.Status.PAID


def test_a_file_is_applied_row_by_row_with_chinese_errors_and_is_idempotent(county, tmp_path):
    a, e, f = county["a"], county["e"], county["f"]
    sheet = tmp_path / "暂停名单.csv"
    sheet.write_text(
        "身份证号码,原因\n"
        f"{a.id_number},迁往合肥\n"
        f"{e.id_number},\n"
        "340321198005171231,迁往外地\n"
        f"{f.id_number},在外地参保\n", encoding="utf-8")
    first = run("enrollment", "suspend", "--file", sheet, "--year", 2025, "--json")
    assert first.exit_code == 2
    data = json.loads(first.stdout)
    assert (data["changed"], data["unchanged"], data["error"]) == (2, 0, 2)
    errors = {r["row"]: r["message"] for r in data["rows"] if r["result"] == "error"}
    assert errors[3].startswith("第3行“原因”：请填写暂停原因")
    assert errors[4].startswith("第4行“身份证号码”：身份证号码无效")
    assert _e(a).status == _e(f).status == Enrollment.Status.SUSPENDED and _e(e).status == Enrollment.Status.PAID
    events = Event.objects.count()
    second = run("enrollment", "suspend", "--file", sheet, "--year", 2025)
    assert second.exit_code == 2
    assert "未变" in second.stdout and "有误 2" in second.stderr and "已暂停 0" in second.stderr
    assert Event.objects.count() == events


def test_terminate_from_an_xlsx_file_with_cause_and_date_and_the_register_follows(county, tmp_path):
    import xlsxwriter

    g = county["g"]
    path = tmp_path / "终止.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for col, value in enumerate(["身份证号码", "终止原因", "生效日期", "原因"]):
        sheet.write(0, col, value)
    for col, value in enumerate([g.id_number, "死亡", "2025-03-01", "病故"]):
        sheet.write_string(1, col, value)
    for col, value in enumerate([county["e"].id_number, "出国", "", ""]):
        sheet.write_string(2, col, value)
    book.close()
    result = run("enrollment", "terminate", "--file", path, "--year", 2025, "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 2 and data["changed"] == 1
    assert data["rows"][1]["message"].startswith("第3行“终止原因”：终止原因应为")
    enrollment = _e(g)
    assert enrollment.status == Enrollment.Status.TERMINATED and str(enrollment.benefit_end) == "2025-03-01"
    assert Resident.objects.get(pk=g.pk).status == Resident.Status.DECEASED
    assert Event.objects.filter(entity="enrollment", entity_id=str(enrollment.pk), action="terminated").exists()
    again = json.loads(run("enrollment", "terminate", "--file", path, "--year", 2025, "--json").stdout)
    assert (again["changed"], again["unchanged"]) == (0, 1)


def test_transfer_moves_the_person_and_a_second_run_is_unchanged(county):
    e = county["e"]
    result = run("enrollment", "transfer", e.id_number, "--year", 2025, "--to-village", b.NANCUN, "--reason", "婚迁")
    assert result.exit_code == 0, result.output
    assert "已迁移" in result.stdout
    assert Resident.objects.get(pk=e.pk).village_code == b.NANCUN and _e(e).village_code == b.NANCUN
    assert StatusChange.objects.filter(kind="enrollment_transfer").count() == 1
    again = run("enrollment", "transfer", e.id_number, "--year", 2025, "--to-village", b.NANCUN, "--reason", "婚迁")
    assert again.exit_code == 0 and "未变" in again.stdout
    assert StatusChange.objects.filter(kind="enrollment_transfer").count() == 1


@pytest.mark.parametrize("args, message", [
    (("enrollment", "suspend", "--year", 2025, "--reason", "x"), "二者选一"),
    (("enrollment", "suspend", "{a}", "--year", 2025), "请填写暂停原因"),
    (("enrollment", "suspend", "{a}", "--year", 2023, "--reason", "x"), "没有2023年度的参保登记"),
    (("enrollment", "transfer", "{a}", "--year", 2025, "--to-village", "3403", "--reason", "x"), "迁入村代码应为12位"),
    (("enrollment", "terminate", "{a}", "--year", 2025, "--cause", "death", "--effective-on", "2025/3/1"), "生效日期格式应为"),
    (("enrollment", "suspend", "--file", "/nonexistent.csv", "--year", 2025), "找不到文件"),
    (("enrollment", "suspend", "{a}", "--year", 2025, "--reason", "x", "--user", "nobody"), "没有可用的账号"),
])
def test_bad_input_is_refused_in_chinese_with_exit_2_and_changes_nothing(county, args, message):
    args = [str(a).replace("{a}", county["a"].id_number) for a in args]
    result = run(*args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert _e(county["a"]).status == Enrollment.Status.PAID and not StatusChange.objects.exists()


def test_a_file_without_the_needed_column_is_refused(county, tmp_path):
    sheet = tmp_path / "t.csv"
    sheet.write_text(f"身份证号码,原因\n{county['a'].id_number},婚迁\n", encoding="utf-8")
    result = run("enrollment", "transfer", "--file", sheet, "--year", 2025)
    assert result.exit_code == 2 and "缺少列：迁入村代码" in result.output


def test_user_outside_the_region_is_refused_and_inside_it_the_change_is_theirs(county, make_user):
    make_user("longkang", role="township_officer", region_code=b.LONGKANG)
    make_user("liucheng", role="township_officer", region_code=b.LIUCHENG)
    make_user("tax", role="tax_officer", region_code=b.COUNTY)
    a = county["a"]  # 东村, 榴城镇
    no_right = run("enrollment", "suspend", a.id_number, "--year", 2025, "--reason", "迁往合肥", "--user", "tax")
    assert no_right.exit_code == 2 and "无权参保登记、暂停" in no_right.output
    outside = run("enrollment", "suspend", a.id_number, "--year", 2025, "--reason", "迁往合肥", "--user", "longkang")
    assert outside.exit_code == 2 and "管辖范围" in outside.output
    assert _e(a).status == Enrollment.Status.PAID
    inside = run("enrollment", "suspend", a.id_number, "--year", 2025, "--reason", "迁往合肥", "--user", "liucheng",
                 "--json")
    assert inside.exit_code == 0, inside.output
    change = StatusChange.objects.get()
    assert change.actor.username == "liucheng"
    assert run("undo", change.pk).exit_code == 2  # not the command line's change
    assert run("undo", change.pk, "--user", "liucheng").exit_code == 0
