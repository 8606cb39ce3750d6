"""A job's outcome commits with its data: whatever stops it after the commit, it never says nothing was written.

Every job kind records its counts (and its report's lines) inside its data transaction. Here each
kind is stopped right after its data committed (its runner returns, then the process "dies" or an
error strikes before the job row is closed), and the job must show 已写入，报告未生成 with the counts
that the data holds; the report is then made again from the job's data.
"""

import datetime as dt
import os
import socket
import subprocess
import sys

import pytest
from django.core.exceptions import ValidationError

from yibao.core import jobs
from yibao.core.jobs import job_run
from yibao.core.models import Event, Job
from yibao.core.selectors import job_progress
from yibao.core.services import job_fail_if_interrupted, job_issues_path, job_report_regenerate
from yibao.imports import reports
from yibao.imports.reports import report_read
from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, VILLAGE, make_id, regions, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _register(tmp_path, bad: int = 2):
    """Four good rows and `bad` with a broken check digit (they go to the report)."""
    rows = [[make_id(seq=11 + 2 * i), f"钱{i}", "男", "", f"H{i}", "户主", VILLAGE, ""] for i in range(4)]
    for i in range(bad):
        good = make_id(seq=31 + 2 * i)
        rows.append([good[:-1] + ("1" if good[-1] != "1" else "2"), f"错{i}", "男", "", f"H9{i}", "户主", VILLAGE, ""])
    return write_csv(tmp_path / "户籍.csv", RESIDENT_HEADER, rows)


def _resident_job(tmp_path):
    from yibao.imports.services import import_job_create

    return import_job_create(kind="residents", path=_register(tmp_path), county_code=COUNTY, actor="测试")


def test_an_error_while_writing_the_report_leaves_the_job_written_with_its_counts(regions, tmp_path, monkeypatch):
    from yibao.registry.models import Resident

    def disk_full(**kwargs):
        raise OSError("磁盘已满")

    monkeypatch.setattr(reports, "report_write", disk_full)
    monkeypatch.setattr("yibao.imports.services.report_write", disk_full)
    job = job_run(_resident_job(tmp_path))
    assert Resident.objects.count() == 4
    assert job.status == Job.Status.WRITTEN and job.get_status_display() == "已写入，报告未生成"
    assert job.message == "已写入，报告未生成" and "磁盘已满" in job.error and job.finished
    assert (job.result["rows"], job.result["imported"], job.result["rejected"]) == (6, 4, 2)
    assert job.committed_at is not None and job.report_pending and not job.report_path
    assert job_progress(job)["percent"] == 100

    monkeypatch.undo()
    job = job_report_regenerate(job=job, actor="测试")
    assert job.status == Job.Status.SUCCEEDED and job.message == "已完成（报告已重新生成）"
    assert job.result["report"] == job.report_path and "report_pending" not in job.result
    lines = report_read(job.report_path)
    # a rejected row's other lines (its household without a head) go with its error, not under 警告
    assert [(line["行号"], line["列"]) for line in lines if line["sheet"] == "错误（未导入）" and line["列"] == "身份证号码"] \
        == [(6, "身份证号码"), (7, "身份证号码")]
    assert Event.objects.filter(entity="job", entity_id=str(job.pk), action="report_regenerated").count() == 1
    assert Resident.objects.count() == 4  # made from the job's data: nothing imported twice
    assert not job_issues_path(job.pk).exists()
    with pytest.raises(ValidationError, match="已完成，报告已生成"):
        job_report_regenerate(job=job)


def test_a_job_that_runs_through_keeps_its_counts_and_report_and_drops_the_report_lines(regions, tmp_path):
    job = job_run(_resident_job(tmp_path))
    assert job.status == Job.Status.SUCCEEDED and job.committed_at is not None and job.report_path
    assert "report_pending" not in job.result and job.result["report"] == job.report_path
    assert not job_issues_path(job.pk).exists()


def test_a_job_killed_after_its_commit_is_settled_as_written_not_as_nothing_written(regions, tmp_path, monkeypatch):
    original = jobs.RUNNERS["import_residents"]

    def killed_after_commit(*, job, progress):
        original(job=job, progress=progress)
        # the process dies here: the job row is still 'running', on a process that no longer exists
        Job.objects.filter(pk=job.pk).update(runner=f"{socket.gethostname()}:{_dead_pid()}")
        raise SystemExit  # not an Exception: job_run doesn't see it, as with SIGKILL

    monkeypatch.setitem(jobs.RUNNERS, "import_residents", killed_after_commit)
    job = _resident_job(tmp_path)
    with pytest.raises(SystemExit):
        job_run(job)
    job = job_fail_if_interrupted(job=Job.objects.get(pk=job.pk))
    assert job.status == Job.Status.WRITTEN and "数据库没有留下任何改动" not in job.error
    from yibao.core.progress import job_progress_path

    assert job.total > 0 and job.done == job.total and not job_progress_path(job.pk).exists()
    assert (job.result["imported"], job.result["rejected"]) == (4, 2)
    event = Event.objects.get(entity="job", entity_id=str(job.pk))
    assert event.action == "interrupted_after_commit" and event.after["status"] == "written"
    job = job_report_regenerate(job=job)
    assert job.status == Job.Status.SUCCEEDED
    assert sorted({line["行号"] for line in report_read(job.report_path) if line["sheet"] == "错误（未导入）"}) == [6, 7]


def test_a_job_killed_before_its_commit_still_says_nothing_was_written(regions, tmp_path, monkeypatch):
    from yibao.imports import writers
    from yibao.registry.models import Resident

    def killed(**kwargs):
        raise SystemExit  # inside the transaction: it rolls back

    monkeypatch.setattr(writers, "flags_other_county", killed)
    job = _resident_job(tmp_path)
    with pytest.raises(SystemExit):
        job_run(job)
    Job.objects.filter(pk=job.pk).update(runner=f"{socket.gethostname()}:{_dead_pid()}")
    job = job_fail_if_interrupted(job=Job.objects.get(pk=job.pk))
    assert Resident.objects.count() == 0 and job.committed_at is None
    assert job.status == Job.Status.FAILED and "数据库没有留下任何改动" in job.error
    with pytest.raises(ValidationError):
        job_report_regenerate(job=job)


def test_a_job_without_a_report_killed_after_its_commit_is_done_with_the_committed_counts(regions, tmp_path, monkeypatch):
    from yibao.imports.services import import_job_create

    original = jobs.RUNNERS["import_residents"]

    def killed_after_commit(*, job, progress):
        original(job=job, progress=progress)
        Job.objects.filter(pk=job.pk).update(runner=f"{socket.gethostname()}:{_dead_pid()}")
        raise SystemExit

    monkeypatch.setitem(jobs.RUNNERS, "import_residents", killed_after_commit)
    job = import_job_create(kind="residents", path=_register(tmp_path, bad=0), county_code=COUNTY, actor="测试")
    with pytest.raises(SystemExit):
        job_run(job)
    job = job_fail_if_interrupted(job=Job.objects.get(pk=job.pk))
    assert job.status == Job.Status.SUCCEEDED and "提交后退出" in job.message
    assert (job.result["imported"], job.result["rejected"]) == (4, 0) and not job_issues_path(job.pk).exists()


# ---- every kind records its outcome in its data transaction ---------------------------------------


def _crash_after_runner(monkeypatch, kind):
    """The runner's data commits, then an error strikes before the job row is closed."""
    original = jobs.RUNNERS[kind]
    seen = {}

    def crash(*, job, progress):
        seen.update(original(job=job, progress=progress))
        raise RuntimeError("断电")

    monkeypatch.setitem(jobs.RUNNERS, kind, crash)
    return seen


def _counts(result, keys):
    return {k: result.get(k) for k in keys}


def test_payment_ingest_records_its_counts_with_its_payments(tmp_path, monkeypatch):
    from yibao.collection.services.files import payment_file_job_create
    from yibao.collection.models import Payment
    from yibao.collection.tests import factories as f

    f.campaign()
    a, b = f.person(name="甲"), f.person(name="乙")
    path = tmp_path / "detail.csv"
    path.write_text("交易流水号,身份证号码,姓名,所属年度,金额,缴费渠道,缴费时间,电子票据号\n"
                    f"T1,{a.id_number},甲,2025,400,微信,2024-10-08 09:30:00,\n"
                    f"T2,{b.id_number},乙,2025,400,微信,2024-10-08 09:31:00,\n"
                    "T3,34032119800517123X,丙,2025,abc,微信,2024-10-08 09:32:00,\n", encoding="utf-8")
    seen = _crash_after_runner(monkeypatch, "ingest_payments")
    job = job_run(payment_file_job_create(path=path, actor="测试", county_code="340321"))
    assert job.status == Job.Status.WRITTEN and Payment.objects.filter(status="booked").count() == 2
    assert _counts(job.result, ("rows", "booked", "rejected")) == {"rows": 3, "booked": 2, "rejected": 1}
    assert _counts(job.result, ("booked", "rejected")) == _counts(seen, ("booked", "rejected"))
    job = job_report_regenerate(job=job)
    assert job.status == Job.Status.SUCCEEDED and {line["行号"] for line in report_read(job.report_path)} == {4}


def test_assessment_records_its_counts_with_its_rows(monkeypatch):
    from yibao.enrollment.models import Assessment
    from yibao.enrollment.tasks import assessment_job_create
    from yibao.enrollment.tests import factories as f

    campaign = f.campaign()
    f.resident(identities=["entitled_group"])
    f.resident(name="乙")
    _crash_after_runner(monkeypatch, "assess_campaign")
    job = job_run(assessment_job_create(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8)))
    # no report is due: done, with the counts of the commit and the error noted — never 失败
    assert job.status == Job.Status.SUCCEEDED and Assessment.objects.count() == 2
    assert job.message == "已完成（数据已提交；之后出错：断电）" and "断电" in job.error
    assert job.result["assessed"] == 2 and job.result["payable_total"] == "800.00"
    assert job.result["campaign_id"] == campaign.pk


def test_reconciliation_records_its_run_with_the_run(tmp_path, monkeypatch):
    from yibao.reconciliation import services
    from yibao.reconciliation.models import ReconciliationRun
    from yibao.reconciliation.tests import factories as f

    campaign = f.world()
    paid = f.payment(campaign, f.person(name="甲"), amount="380.00")
    tax = f.tax_file(tmp_path / "tax.csv", [f.tax_row(paid, **{"实缴金额（元）": "400"})])
    _crash_after_runner(monkeypatch, services.JOB_KIND)
    job, _run = services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=tax, as_of=dt.date(2024, 11, 30),
                                 actor="测试")
    run = ReconciliationRun.objects.get()
    assert job.status == Job.Status.SUCCEEDED and "之后出错" in job.message
    assert job.result["run_id"] == run.pk and job.result["mismatches"] == run.mismatch_total >= 1


def test_progress_refresh_records_its_counts_with_the_rollup(monkeypatch):
    from yibao.core.services import job_create
    from yibao.progress.models import VillageProgress
    from yibao.progress.tests import builders as b

    b.huaiyuan_tree()
    b.campaign(2025)
    b.pay(b.person(b.DONGCUN, "甲"), dt.date(2024, 9, 2))
    _crash_after_runner(monkeypatch, "progress_refresh")
    job = job_run(job_create(kind="progress_refresh", county_code=b.COUNTY, params={"benefit_year": 2025}))
    assert job.status == Job.Status.SUCCEEDED and "之后出错" in job.message
    assert job.result["villages"] == VillageProgress.objects.filter(benefit_year=2025).count() >= 1


def test_a_department_list_records_its_counts_and_report_lines_with_its_identities(regions, tmp_path, monkeypatch):
    from yibao.imports.services import import_job_create, residents_import
    from yibao.registry.models import Identity

    residents_import(path=_register(tmp_path, bad=0), county_code=COUNTY, actor="测试")
    known = make_id(seq=11)
    path = write_csv(tmp_path / "民政.csv", ["身份证号码", "姓名", "身份类别", "起始日期", "终止日期"],
                     [[known, "钱0", "低保对象", "2024-01-01", ""], [make_id(seq=99), "不在册", "低保对象", "", ""]])
    _crash_after_runner(monkeypatch, "import_identities")
    job = job_run(import_job_create(kind="identities", path=path, county_code=COUNTY, department="民政", actor="测试"))
    assert job.status == Job.Status.WRITTEN and Identity.objects.count() == 1
    assert (job.result["imported"], job.result["rejected"]) == (1, 1) and job.report_pending
    job = job_report_regenerate(job=job)
    assert [line["行号"] for line in report_read(job.report_path)] == [3]


def test_the_report_is_not_made_for_a_job_that_is_still_running(regions, tmp_path):
    from yibao.core.services import job_start

    job = job_start(job=_resident_job(tmp_path))
    with pytest.raises(ValidationError):
        job_report_regenerate(job=job)
    assert os.environ.get("YIBAO_HOLD_AFTER_COMMIT") is None


# ---- the page, the API and the CLI ----------------------------------------------------------------


@pytest.fixture
def written_job(regions, tmp_path, monkeypatch):
    """A register import whose data committed and whose report writer then failed."""
    def disk_full(**kwargs):
        raise OSError("磁盘已满")

    monkeypatch.setattr("yibao.imports.services.report_write", disk_full)
    job = job_run(_resident_job(tmp_path))
    monkeypatch.undo()
    assert job.status == Job.Status.WRITTEN
    return job


def test_the_job_page_shows_written_and_its_button_makes_the_report(client, make_user, written_job):
    client.force_login(make_user("admin", role="county_admin", region_code=COUNTY))
    page = client.get(f"/imports/{written_job.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "已写入，报告未生成" in html and "重新生成报告" in html
    assert "数据库没有留下任何改动" not in html and "下载错误报告" not in html
    made = client.post(f"/jobs/{written_job.pk}/report/regenerate", HTTP_HX_REQUEST="true")
    html = made.content.decode()
    assert made.status_code == 200 and "下载错误报告" in html and "重新生成报告" not in html
    written_job.refresh_from_db()
    assert written_job.status == Job.Status.SUCCEEDED and written_job.report_path
    again = client.post(f"/jobs/{written_job.pk}/report/regenerate", HTTP_REFERER=f"http://testserver/imports/{written_job.pk}/")
    assert again.status_code == 302 and again["Location"].endswith(f"/imports/{written_job.pk}/")
    assert client.get(f"/jobs/{written_job.pk}/report/regenerate").status_code == 405


def test_the_api_reads_a_written_job_and_makes_its_report(client, make_user, written_job):
    client.force_login(make_user("admin", role="county_admin", region_code=COUNTY))
    read = client.get(f"/api/jobs/{written_job.pk}").json()
    assert (read["status"], read["status_label"], read["report_pending"]) == ("written", "已写入，报告未生成", True)
    assert read["result"]["imported"] == 4 and read["report_url"] is None and read["committed_at"]
    made = client.post(f"/api/jobs/{written_job.pk}/report")
    assert made.status_code == 200 and made.json()["status"] == "succeeded" and made.json()["report_url"]
    failed = Job.objects.create(kind="import_residents", county_code=COUNTY, status=Job.Status.FAILED)
    refused = client.post(f"/api/jobs/{failed.pk}/report")
    assert refused.status_code == 400 and "没有已提交的数据" in refused.json()["detail"]
    other = make_user("other", role="county_admin", region_code="340322")
    client.force_login(other)
    assert client.post(f"/api/jobs/{written_job.pk}/report").status_code == 404


def test_the_cli_shows_a_written_job_and_makes_its_report(written_job):
    import json

    from typer.testing import CliRunner

    from yibao.cli import app

    runner = CliRunner()
    shown = runner.invoke(app, ["jobs", "show", str(written_job.pk), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["status"] == "written"
    made = runner.invoke(app, ["jobs", "report", str(written_job.pk)])
    assert made.exit_code == 0 and "已完成（报告已重新生成）" in made.stdout and "报告：" in made.stdout
    again = runner.invoke(app, ["jobs", "report", "999999"])
    assert again.exit_code == 2 and "不存在" in again.output


def test_an_import_from_the_cli_that_stops_after_its_commit_exits_3_and_says_written(regions, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from yibao.cli import app
    from yibao.registry.models import Resident

    def disk_full(**kwargs):
        raise OSError("磁盘已满")

    monkeypatch.setattr("yibao.imports.services.report_write", disk_full)
    done = CliRunner().invoke(app, ["import", "residents", str(_register(tmp_path)), "--county", COUNTY, "--quiet"])
    job = Job.objects.get(kind="import_residents")
    assert done.exit_code == 3 and "已写入，报告未生成" in done.output and "失败" not in done.output
    assert f"yibao jobs report {job.pk}" in done.output and Resident.objects.count() == 4
