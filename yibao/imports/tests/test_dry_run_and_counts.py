"""试导入 writes nothing and counts like the real import; every file job's counts add up to its 总行数."""

import datetime as dt
import json

import pytest
from django.apps import apps
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.jobs import job_run, result_balance, result_parts
from yibao.core.models import Event, Job
from yibao.imports import services
from yibao.imports.reports import report_read
from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, VILLAGE, make_id, write_csv
from yibao.imports.tests.roster import write_roster
from yibao.registry.models import Resident

pytestmark = pytest.mark.django_db
IDENTITY_HEADER = ["身份证号码", "姓名", "身份类别", "起始日期", "终止日期"]


def table_counts() -> dict:
    """Rows of every table but the job history (a 试导入 is recorded there, as a job)."""
    return {m._meta.label: m.objects.count() for m in apps.get_models() if m is not Job and m._meta.managed}


def _files(tmp_path, rows) -> dict:
    """A file of each list with a new, a changed, an unchanged, a repeated and a broken row."""
    head, wife = rows[0][0], rows[1][0]
    stranger = make_id(dt.date(1991, 1, 1), 99)
    residents = [list(r) for r in rows] + [[head, "重复", "男", "", "H009", "户主", VILLAGE, ""],
                                           ["123", "坏", "男", "", "H1", "户主", VILLAGE, ""],
                                           [make_id(dt.date(1992, 2, 2), 51), "新人", "男", "", "H7", "户主", VILLAGE, ""]]
    residents[1][1] = "李秀英"
    return {
        "residents": write_csv(tmp_path / "r.csv", RESIDENT_HEADER, residents),
        "identities": write_csv(tmp_path / "i.csv", IDENTITY_HEADER, [
            [head, "张大山", "低保", "", ""], [head, "张大山", "低保", "", ""], [wife, "李", "特困人员", "", ""],
            [stranger, "无人", "低保", "", ""], ["1", "x", "低保", "", ""]]),
        "employees": write_csv(tmp_path / "e.csv", ["身份证号码", "姓名", "参保日期"], [
            [head, "张大山", "2019-07-01"], [head, "张大山", "2019-07-01"], ["12345", "某人", ""], [wife, "李秀兰", "2020-01-01"]]),
        "enrollments": write_roster(tmp_path / "ro.csv", [
            [head, "张大山", 2024, "正常参保", "", "", "380", "390"], [head, "张大山", 2024, "正常参保", "", "", "380", "390"],
            [wife, "李", 2024, "正常参保", "", "", "380", "310"], [stranger, "无", 2024, "正常参保", "", "", "380", "390"],
            ["1", "x", 2024, "正常参保", "", "", "380", "390"]]),
        "regions": write_csv(tmp_path / "qh.csv", ["区划代码", "名称"], [
            ["340321100203", "新村"], ["340321100203", "新村"], ["34032110020", "坏"], [VILLAGE, "王庄村"]]),
    }


def _run(kind, path, dry_run):
    params = {} if kind == "regions" else {"county_code": COUNTY}
    if kind == "identities":
        params["department"] = "民政"
    job = services.import_job_create(kind=kind, path=path, actor="测试", dry_run=dry_run, **params)
    return job_run(job)


@pytest.mark.parametrize("kind", ["residents", "identities", "employees", "enrollments", "regions"])
def test_a_dry_run_writes_nothing_and_counts_like_the_real_import(imported_family, tmp_path, kind):
    rows, _ = imported_family
    path = _files(tmp_path, rows)[kind]
    before, events = table_counts(), Event.objects.count()
    trial = _run(kind, path, dry_run=True)
    assert trial.status == Job.Status.SUCCEEDED and trial.dry_run and trial.kind_label.endswith("（试导入）")
    assert table_counts() == before and Event.objects.count() == events  # nothing written, no event
    assert trial.committed_at is None and Job.objects.get(pk=trial.pk).committed_at is None
    assert trial.result["dry_run"] is True and trial.result["report"]  # the error report is there to read
    real = _run(kind, path, dry_run=False)
    assert not real.dry_run and real.status == Job.Status.SUCCEEDED
    same = ("rows", "imported", "updated", "unchanged", "rejected", "warnings", "skipped")
    assert {k: trial.result.get(k) for k in same} == {k: real.result.get(k) for k in same}
    assert table_counts() != before or kind == "regions" and real.result["imported"] == 0


@pytest.mark.parametrize("kind", ["residents", "identities", "employees", "enrollments", "regions"])
def test_counts_add_up_to_the_rows_of_the_file(imported_family, tmp_path, kind):
    rows, _ = imported_family
    job = _run(kind, _files(tmp_path, rows)[kind], dry_run=False)
    parts = result_parts(job.result)
    assert parts and sum(n for _k, n in parts) == job.result["rows"]
    assert job.result["rejected"] >= 1 and "两者不符" not in result_balance(job.result)
    lines = report_read(job.result["report"])
    warned_rows = {line["行号"] for line in lines if line["sheet"].startswith("警告")}
    rejected_rows = {line["行号"] for line in lines if line["sheet"].startswith("错误")}
    assert not warned_rows & rejected_rows  # a rejected row is never also a warning of an imported row
    assert job.result["warnings"] == len(warned_rows) or kind == "residents"  # residents also sum up area codes
    assert all(line["原因"] and line["列"] and line["行号"] for line in lines)


def test_ingested_payments_add_up_too(tmp_path):
    from yibao.collection.tests.test_ingest import line, write_csv as write_payments

    from yibao.collection.services import payment_file_job_create
    from yibao.collection.tests import factories as f

    f.campaign()
    person = f.person()
    path = write_payments(tmp_path, [line("P1", person, "400"), line("P1", person, "400"), line("P2", "12345", "400"),
                                     line("P3", person, "abc")])
    job = job_run(payment_file_job_create(path=path, actor="测试", county_code="340321"))
    parts = result_parts(job.result)
    assert parts and sum(n for _k, n in parts) == job.result["rows"] == 4 and job.result["rejected"] >= 2


def test_assessment_counts_add_up(settings):
    from yibao.enrollment.services import assessment_run
    from yibao.enrollment.tests import factories as ef

    campaign = ef.campaign()
    for i in range(3):
        ef.resident(name=f"人{i}")
    first = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    assert result_balance(first) == "参保人 3 = 核定 3 + 未变 0"
    ef.resident(name="新来")
    again = assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 9))
    assert result_balance(again) == "参保人 4 = 核定 1 + 未变 3"


def test_the_balance_says_when_counts_do_not_add_up():
    assert result_balance({"rows": 5, "imported": 2, "updated": 0, "unchanged": 1, "rejected": 1}).startswith("总行数 5，各项合计 4")
    assert result_balance({"rows": 3, "imported": 2, "rejected": 1, "warnings": 1}) == \
        "总行数 3 = 新增 2 + 拒绝 1；其中 1 行带警告，已导入（计入前几项）"
    assert result_balance({"residents": 10, "assessed": 10}) == ""


def test_cli_dry_run_then_real(imported_family, tmp_path):
    rows, _ = imported_family
    path = _files(tmp_path, rows)["residents"]
    before = table_counts()
    result = CliRunner().invoke(app, ["import", "residents", str(path), "--county", COUNTY, "--dry-run", "--json", "-q"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["dry_run"] is True and data["imported"] == 1 and data["rejected"] == 3
    assert table_counts() == before
    text = CliRunner().invoke(app, ["import", "residents", str(path), "--county", COUNTY, "--dry-run", "-q"])
    assert "试导入，未写入任何数据" in text.stdout and table_counts() == before


def test_api_dry_run_and_page_commit(client, staff, imported_family, tmp_path, settings):
    rows, _ = imported_family
    client.force_login(staff["county_admin"])
    path = _files(tmp_path, rows)["residents"]
    before = table_counts()
    with open(path, "rb") as fh:
        response = client.post("/api/imports/jobs", {"kind": "residents", "file": fh, "county_code": COUNTY,
                                                     "dry_run": "true"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["dry_run"] is True and data["county_name"] == "怀远县（340321）"
    job = Job.objects.get(pk=data["id"])
    if job.status == Job.Status.QUEUED:  # the test settings may queue rather than run at once
        job = job_run(job)
    assert table_counts() == before and job.status == Job.Status.SUCCEEDED
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "试导入完成" in page and "按此文件正式导入" in page and "怀远县（340321）" in page
    assert "总行数 7 = 新增 1 + 更新 1 + 未变 2 + 拒绝 3" in page
    answer = client.post(f"/imports/{job.pk}/commit")
    real = Job.objects.exclude(pk=job.pk).order_by("-pk").first()
    assert answer.status_code == 302 and answer.url == f"/imports/{real.pk}/" and not real.dry_run
    if real.status == Job.Status.QUEUED:
        job_run(real)
    assert Resident.objects.filter(name="新人").exists()
    again = client.post(f"/imports/{real.pk}/commit")  # a real import is not a 试导入
    assert again.status_code == 302 and again.url == f"/imports/{real.pk}/"


def test_the_job_page_shows_each_warning_with_its_row_column_and_reason(client, staff, imported_family, tmp_path):
    rows, _ = imported_family
    job = _run("identities", _files(tmp_path, rows)["identities"], dry_run=False)
    assert job.result["warnings"] == 1
    client.force_login(staff["auditor"])
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "警告（已导入）" in page and "姓名与户籍库不一致（户籍库为 李秀兰）" in page
    assert "错误（未导入）" in page and "同一人的同一身份与第2行完全相同" in page
    assert rows[0][0] not in page  # the auditor reads the numbers masked
