"""参保群体名单: `yibao import groups FILE --group G`, row checks, idempotence, dry run, scope, re-assessment."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.jobs import job_run
from yibao.core.models import Event
from yibao.imports import services
from yibao.imports.reports import report_read
from yibao.imports.tests.conftest import COUNTY, make_id, write_csv, write_xlsx
from yibao.registry.models import GroupFact

pytestmark = pytest.mark.django_db
HEADER = ["身份证号码", "姓名", "毕业学校", "毕业日期", "终止日期"]


def _run(path, group="大学毕业生", actor="测试", dry_run=False, county=COUNTY):
    job = services.import_job_create(kind="groups", path=path, county_code=county, group=group, actor=actor,
                                     dry_run=dry_run)
    return job_run(job)


def test_a_graduate_list_writes_group_facts_with_date_school_and_source(imported_family, tmp_path):
    rows, _ = imported_family
    head, wife = rows[0][0], rows[1][0]
    path = write_xlsx(tmp_path / "毕业生.xlsx", HEADER, [
        [head, "张大山", "安徽大学", "2024-06-30", ""],
        [wife, "李秀兰", "蚌埠学院", dt.date(2024, 7, 1), "2025-06-30"],
    ])
    job = _run(path)
    assert job.status == "succeeded", job.error
    assert job.result["imported"] == 2 and job.result["rejected"] == 0 and job.result["group"] == "graduate"
    fact = GroupFact.objects.get(resident__id_number=wife)
    assert (fact.group, fact.event_date, fact.place, fact.end_date) == (
        "graduate", dt.date(2024, 7, 1), "蚌埠学院", dt.date(2025, 6, 30))
    assert fact.source_job_id == job.pk and "毕业生.xlsx" in fact.source_name
    assert Event.objects.filter(entity="resident", action="group_add").count() == 2


def test_bad_rows_are_reported_with_row_column_and_chinese_reason_and_good_rows_written(imported_family, tmp_path):
    rows, _ = imported_family
    head, wife, son = rows[0][0], rows[1][0], rows[2][0]
    stranger = make_id(dt.date(1991, 1, 1), 99)
    path = write_csv(tmp_path / "g.csv", ["身份证号码", "姓名", "参保群体", "释放日期", "终止日期"], [
        [head, "张大山", "刑满释放人员", "2024-03-01", ""],     # row 2: good
        [wife, "李秀兰", "刑满释放人员", "1970-01-01", ""],     # row 3: before birth
        [son, "张小山", "刑满释放人员", "2099-01-01", ""],      # row 4: after today
        [stranger, "无人", "刑满释放人员", "2024-01-01", ""],   # row 5: not in the register
        ["12345", "坏", "刑满释放人员", "", ""],                # row 6: bad id
        [rows[3][0], "赵一人", "退役军人", "2024-01-01", ""],   # row 7: another group
        [rows[3][0], "赵一人", "刑满释放人员", "昨天", ""],     # row 8: unreadable date (and a repeat)
    ])
    job = _run(path, group="刑满释放人员")
    assert job.result["imported"] == 1 and job.result["rejected"] == 6
    assert list(GroupFact.objects.values_list("resident__id_number", flat=True)) == [head]
    lines = report_read(job.result["report"])
    errors = {(line["行号"], line["列"]) : line["原因"] for line in lines if line["sheet"] == "错误（未导入）"}
    assert "早于出生日期" in errors[(3, "释放日期")]
    assert "晚于今天" in errors[(4, "释放日期")]
    assert "户籍库中没有" in errors[(5, "身份证号码")]
    assert 6 in {row for row, _ in errors}
    assert "不一致" in errors[(7, "参保群体")]
    assert "日期无法识别" in errors[(8, "释放日期")]


def test_a_missing_event_date_for_a_group_that_counts_days_is_a_warning(imported_family, tmp_path):
    rows, _ = imported_family
    path = write_csv(tmp_path / "v.csv", ["身份证号码", "退役日期"], [[rows[0][0], ""]])
    job = _run(path, group="veteran")
    assert job.result["imported"] == 1 and job.result["warnings"] == 1
    assert any("没有退役日期" in line["原因"] for line in report_read(job.result["report"]))


def test_newborn_list_takes_the_birth_date_from_the_id_number_and_refuses_a_different_one(imported_family, tmp_path):
    rows, _ = imported_family
    son = rows[2][0]  # born 2012-06-07
    path = write_csv(tmp_path / "n.csv", ["身份证号码", "出生日期"], [[son, ""]])
    assert _run(path, group="新生儿").result["imported"] == 1
    assert GroupFact.objects.get(group="newborn").event_date == dt.date(2012, 6, 7)
    bad = write_csv(tmp_path / "n2.csv", ["身份证号码", "出生日期"], [[son, "2012-06-08"]])
    job = _run(bad, group="新生儿")
    assert job.result["rejected"] == 1
    assert any("身份证号码中的出生日期" in line["原因"] for line in report_read(job.result["report"]))


def test_the_same_file_again_changes_nothing_and_an_end_date_updates_one(imported_family, tmp_path):
    rows, _ = imported_family
    head, wife = rows[0][0], rows[1][0]
    first = [[head, "张大山", "安徽大学", "2024-06-30", ""], [wife, "李秀兰", "蚌埠学院", "2024-07-01", ""]]
    path = write_csv(tmp_path / "g.csv", HEADER, first)
    _run(path)
    events = Event.objects.count()
    again = _run(path)
    assert (again.result["imported"], again.result["updated"], again.result["unchanged"]) == (0, 0, 2)
    assert Event.objects.count() == events
    first[1][4] = "2025-06-30"
    ended = _run(write_csv(tmp_path / "g2.csv", HEADER, first))
    assert (ended.result["imported"], ended.result["updated"], ended.result["unchanged"]) == (0, 1, 1)
    assert GroupFact.objects.get(resident__id_number=wife).end_date == dt.date(2025, 6, 30)
    update = Event.objects.get(action="group_import_update")
    assert update.before["end_date"] is None and update.after["end_date"] == "2025-06-30"


def test_a_fact_entered_by_hand_with_the_same_values_counts_as_unchanged(imported_family, tmp_path):
    from yibao.registry.models import Resident

    rows, _ = imported_family
    person = Resident.objects.get(id_number=rows[0][0])
    GroupFact.objects.create(county_code=COUNTY, resident=person, group="graduate", event_date=dt.date(2024, 6, 30))
    job = _run(write_csv(tmp_path / "g.csv", ["身份证号码", "毕业日期"], [[rows[0][0], "2024-06-30"]]))
    assert (job.result["imported"], job.result["updated"], job.result["unchanged"]) == (0, 0, 1)


def test_dry_run_counts_like_the_real_import_and_writes_nothing(imported_family, tmp_path):
    rows, _ = imported_family
    path = write_csv(tmp_path / "g.csv", HEADER, [[rows[0][0], "张大山", "安徽大学", "2024-06-30", ""]])
    events = Event.objects.count()
    job = _run(path, dry_run=True)
    assert job.status == "succeeded" and job.result["imported"] == 1 and job.result["dry_run"]
    assert GroupFact.objects.count() == 0 and Event.objects.count() == events


def test_group_and_scope_are_checked(imported_family, staff, tmp_path):
    rows, _ = imported_family
    path = write_csv(tmp_path / "g.csv", HEADER, [[rows[0][0], "张大山", "安徽大学", "2024-06-30", ""]])
    with pytest.raises(ValidationError, match="未知的参保群体"):
        services.import_job_create(kind="groups", path=path, county_code=COUNTY, group="学生", actor="测试")
    with pytest.raises(ValidationError, match="请指定名单的参保群体"):
        services.import_job_create(kind="groups", path=path, county_code=COUNTY, actor="测试")
    for who in ("village_collector", "township_officer", "department_clerk", "auditor"):
        with pytest.raises(PermissionDenied):
            services.import_job_create(kind="groups", path=path, county_code=COUNTY, group="graduate",
                                       actor=staff[who])
    with pytest.raises(PermissionDenied):
        services.import_job_create(kind="groups", path=path, county_code=COUNTY, group="graduate",
                                   actor=staff["other_admin"])
    job = job_run(services.import_job_create(kind="groups", path=path, county_code=COUNTY, group="graduate",
                                             actor=staff["county_admin"]))
    assert job.result["imported"] == 1


def test_cli_imports_a_group_list_with_json_and_refuses_an_unknown_group(imported_family, tmp_path):
    rows, _ = imported_family
    path = write_csv(tmp_path / "g.csv", ["身份证号码", "释放日期"], [[rows[0][0], "2024-03-01"], ["1", ""]])
    runner = CliRunner()
    out = runner.invoke(app, ["import", "groups", str(path), "--group", "刑满释放人员", "--county", COUNTY, "--json",
                              "-q"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert (data["imported"], data["rejected"], data["group"], data["review"]) == (1, 1, "released_prisoner", 0)
    again = json.loads(runner.invoke(app, ["import", "groups", str(path), "--group", "released_prisoner", "--county",
                                           COUNTY, "--json", "-q"]).stdout)
    assert (again["imported"], again["unchanged"]) == (0, 1)
    bad = runner.invoke(app, ["import", "groups", str(path), "--group", "学生", "--county", COUNTY])
    assert bad.exit_code == 2 and "未知的参保群体" in bad.output


# ---- flags for change --------------------------------------------------------------------------


def test_a_student_list_reassesses_and_lists_the_changed_amount_for_review(tmp_path):
    """重庆垫江 2024: an 在渝高校大学生 pays 350 yuan instead of 380; the list re-assesses the student."""
    from yibao.enrollment.models import Assessment
    from yibao.enrollment.services import assessment_run, campaign_open
    from yibao.enrollment.tests import factories as ef

    village = "500231100001"
    student = ef.resident(village=village, birth=dt.date(2004, 3, 3), name="王同学")
    other = ef.resident(village=village, birth=dt.date(1970, 3, 3), name="王父")
    campaign = campaign_open(county_code="500231", policy_id="chongqing-dianjiang-xinmin-2024", actor="测试")
    assessment_run(campaign=campaign, actor="测试")
    assert Assessment.objects.get(resident=student).payable == 380
    path = write_csv(tmp_path / "s.csv", ["身份证号码", "姓名", "学校", "入学日期"],
                     [[student.id_number, "王同学", "重庆大学", "2022-09-01"]])
    job = _run(path, group="在校大学生", county="500231")
    assert job.status == "succeeded", job.error
    assert job.result["imported"] == 1 and job.result["review"] == 1
    assert Assessment.objects.get(resident=student).payable == 350
    assert Assessment.objects.get(resident=other).payable == 380
    flag = Event.objects.get(action="group_reassessed")
    assert flag.entity_id == str(student.pk)
    assert (flag.before["payable"], flag.after["payable"]) == ("380.00", "350.00")
    review = [line for line in report_read(job.result["report"]) if line["sheet"] == "核定变化（待复核）"]
    assert [line["行号"] for line in review] == [2] and "应缴由 380.00 元变为 350.00 元" in review[0]["原因"]
    # the same list again: nothing changes, nobody to review
    again = _run(path, group="在校大学生", county="500231")
    assert (again.result["unchanged"], again.result["review"]) == (1, 0)
    # the group ends: the student pays the ordinary amount again and is listed once more
    ended = _run(write_csv(tmp_path / "s2.csv", ["身份证号码", "学校", "入学日期", "终止日期"],
                           [[student.id_number, "重庆大学", "2022-09-01", "2023-07-01"]]),
                 group="在校大学生", county="500231")
    assert ended.result["updated"] == 1 and ended.result["review"] == 1
    assert Assessment.objects.get(resident=student).payable == 380


def test_a_dry_run_reassesses_nothing(tmp_path):
    from yibao.enrollment.models import Assessment
    from yibao.enrollment.services import assessment_run, campaign_open
    from yibao.enrollment.tests import factories as ef

    student = ef.resident(village="500231100001", birth=dt.date(2004, 3, 3))
    campaign = campaign_open(county_code="500231", policy_id="chongqing-dianjiang-xinmin-2024", actor="测试")
    assessment_run(campaign=campaign, actor="测试")
    path = write_csv(tmp_path / "s.csv", ["身份证号码"], [[student.id_number]])
    job = _run(path, group="在校大学生", county="500231", dry_run=True)
    assert job.result["review"] == 1
    assert Assessment.objects.get(resident=student).payable == 380
    assert not Event.objects.filter(action="group_reassessed").exists()


def test_the_resident_page_shows_the_school_end_date_and_source(imported_family, staff, tmp_path, client):
    from yibao.registry.models import Resident

    rows, _ = imported_family
    _run(write_csv(tmp_path / "毕业生.csv", HEADER, [[rows[0][0], "张大山", "安徽大学", "2024-06-30", "2025-06-30"]]))
    client.force_login(staff["county_admin"])
    person = Resident.objects.get(id_number=rows[0][0])
    html = client.get(f"/registry/residents/{person.pk}/").content.decode()
    assert "安徽大学" in html and "至 2025-06-30" in html and "毕业生.csv" in html
