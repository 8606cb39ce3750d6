"""`yibao remind mark`: one person, or the file a village sends back (身份证号码、标记、说明)."""

import json

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Event
from yibao.enrollment.models import Enrollment
from yibao.progress.models import RemindMark
from yibao.progress.tests import builders as b
from yibao.registry.models import Flag, Resident, StatusChange

pytestmark = pytest.mark.django_db
runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_one_mark_ends_last_years_cover_writes_events_and_may_be_undone(county):
    d = county["d"]
    result = run("remind", "mark", d.id_number, "--mark", "moved_away", "--note", "2024年10月迁往合肥市", "--year", 2025,
                 "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["rows"][0]
    assert row["result"] == "changed" and "户籍状态改为已迁出" in row["effects"]
    assert Resident.objects.get(pk=d.pk).status == Resident.Status.MOVED_AWAY
    assert Enrollment.objects.get(resident=d, benefit_year=2024).status == Enrollment.Status.SUSPENDED
    assert Event.objects.filter(entity="remind", entity_id=str(d.pk), action="moved_away").count() == 1
    change = StatusChange.objects.get(pk=row["undo_change_id"])
    assert change.kind == "remind_mark"
    again = run("remind", "mark", str(d.pk), "--mark", "已迁出", "--note", "再报一次", "--year", 2025)
    assert again.exit_code == 0 and "未变" in again.stdout
    assert RemindMark.objects.filter(resident=d).count() == 1
    assert run("undo", change.pk).exit_code == 0
    assert Resident.objects.get(pk=d.pk).status == Resident.Status.ACTIVE


def test_the_village_file_is_marked_row_by_row_and_a_second_run_changes_nothing(county, tmp_path):
    bb, d, a = county["b"], county["d"], county["a"]
    sheet = tmp_path / "东村回执.csv"
    sheet.write_text(
        "身份证号码,标记,说明\n"
        f"{bb.id_number},拒缴,嫌贵\n"
        f"{d.id_number},已参加职工医保,县医院职工\n"
        f"{a.id_number},已联系,\n"
        f"{d.id_number[:-1]}{'1' if d.id_number[-1] == '0' else '0'},已死亡,\n"  # a wrong check digit
        f"{bb.id_number},搬走了,\n", encoding="gbk")
    first = run("remind", "mark", "--file", sheet, "--year", 2025, "--json")
    assert first.exit_code == 2, first.output
    data = json.loads(first.stdout)
    assert (data["changed"], data["unchanged"], data["error"]) == (2, 0, 3)
    errors = [r["message"] for r in data["rows"] if r["result"] == "error"]
    assert errors[0].startswith("第4行：甲 已缴纳2025年度参保费")
    assert errors[1].startswith("第5行“身份证号码”：身份证号码无效")
    assert errors[2].startswith("第6行“标记”：标记应为 已联系、拒缴、已迁出")
    refused = RemindMark.objects.get(resident=bb)
    assert (refused.outcome, refused.note) == ("refused", "嫌贵")
    assert [r["outcome"] for r in data["rows"] if r["result"] == "changed"] == ["refused", "employee_insurance"]
    assert Flag.objects.filter(resident=d, kind=Flag.Kind.EMPLOYEE_INSURANCE, resolved_at__isnull=True).count() == 1
    events = Event.objects.count()
    second = run("remind", "mark", "--file", sheet, "--year", 2025)
    assert second.exit_code == 2 and "已标记 0，未变 2，有误 3" in second.stderr
    assert Event.objects.count() == events and RemindMark.objects.count() == 2


@pytest.mark.parametrize("args, message", [
    (("{d}", "--mark", "moved_away", "--year", 2025), "须填写说明"),
    (("{d}", "--year", 2025), "请用 --mark 指定标记"),
    (("--mark", "moved_away", "--year", 2025), "二者选一"),
    (("{g}", "--mark", "contacted", "--year", 2025), "不在催缴名单中"),
    (("{d}", "--mark", "deceased", "--note", "病故", "--year", 2025, "--user", "nanguan"), "管辖范围"),
])
def test_bad_input_is_refused_in_chinese_with_exit_2(county, make_user, args, message):
    make_user("nanguan", role="village_collector", region_code=b.NANCUN)
    args = [str(a).replace("{d}", county["d"].id_number).replace("{g}", county["g"].id_number) for a in args]
    result = run("remind", "mark", *args)
    assert result.exit_code == 2 and message in result.output, result.output
    assert not RemindMark.objects.exists() and not StatusChange.objects.exists()


def test_a_file_without_the_mark_column_is_refused(county, tmp_path):
    sheet = tmp_path / "x.csv"
    sheet.write_text(f"身份证号码,说明\n{county['d'].id_number},迁走\n", encoding="utf-8")
    result = run("remind", "mark", "--file", sheet, "--year", 2025)
    assert result.exit_code == 2 and "缺少列：标记" in result.output


def test_a_file_headed_with_the_short_id_column_name_is_read(county, tmp_path):
    sheet = tmp_path / "回执.csv"
    sheet.write_text(f"东村催缴回执\n身份证号,标记,说明\n{county['b'].id_number},已联系,答应下周缴\n", encoding="utf-8")
    result = run("remind", "mark", "--file", sheet, "--year", 2025, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rows"][0]["row"] == 3
    assert RemindMark.objects.get(resident=county["b"]).note == "答应下周缴"


def test_refused_is_its_own_mark_needs_a_note_stays_on_the_list_and_may_be_undone(county):
    from yibao.progress.selectors import progress_tree

    bb = county["b"]
    bare = run("remind", "mark", bb.id_number, "--mark", "refused", "--year", 2025)
    assert bare.exit_code == 2 and "标记“拒缴”须填写说明" in bare.output
    result = run("remind", "mark", bb.id_number, "--mark", "refused", "--note", "嫌贵，不愿参保", "--year", 2025, "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["rows"][0]
    assert (row["outcome"], row["note"], row["effects"]) == ("refused", "嫌贵，不愿参保", [])
    assert Resident.objects.get(pk=bb.pk).status == Resident.Status.ACTIVE
    assert Event.objects.filter(entity="remind", entity_id=str(bb.pk), action="refused").count() == 1
    unit = progress_tree(county_code=b.COUNTY, benefit_year=2025).get(b.DONGCUN)
    assert (unit.remind_refused, unit.remind_closed) == (1, 0)
    listed = run("remind", "--village", b.DONGCUN, "--year", 2025, "--state", "refused")
    assert listed.exit_code == 0 and "共 1 人，其中拒缴 1 人" in listed.stderr and "乙" in listed.stdout
    figures = json.loads(run("progress", "--county", b.COUNTY, "--year", 2025, "--json").stdout)
    assert (figures["county"]["remind_open"], figures["county"]["remind_refused"]) == (2, 1)
    again = run("remind", "mark", bb.id_number, "--mark", "拒缴", "--note", "嫌贵，不愿参保", "--year", 2025)
    assert again.exit_code == 0 and "未变" in again.stdout and RemindMark.objects.filter(resident=bb).count() == 1
    assert run("undo", row["undo_change_id"]).exit_code == 0
    assert not RemindMark.objects.filter(resident=bb).exists()
    assert progress_tree(county_code=b.COUNTY, benefit_year=2025).get(b.DONGCUN).remind_refused == 0
