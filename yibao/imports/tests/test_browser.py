"""Browser test of the upload page: the job page shows the progress bar and the report link."""

import pytest
from playwright.sync_api import expect

from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, make_id, write_csv

pytestmark = pytest.mark.browser


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_upload_a_register_and_download_its_report(page, live_server, transactional_db, staff, family, tmp_path):
    rows = [list(r) for r in family] + [[make_id(seq=77), "错号", "男", "", "H9", "户主", "不存在村", ""]]
    path = write_csv(tmp_path / "榴城镇户籍.csv", RESIDENT_HEADER, rows)
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/imports/")
    page.click("text=导入户籍名单")
    page.set_input_files("input[type=file]", str(path))
    page.select_option("select[name=county_code]", COUNTY)
    page.click("button:has-text('上传并导入')")
    page.wait_for_url(f"{live_server.url}/imports/*/")
    bar = page.locator("div.job progress")
    assert bar.get_attribute("value") == "100"
    assert "已完成" in page.locator("div.job .badge").inner_text()
    counts = page.locator("div.job dl.counts").inner_text()
    assert "新增" in counts and "4" in counts and "拒绝" in counts
    assert "不在本县（340321）的区划中" in page.locator("table.report").inner_text()
    with page.expect_download() as info:
        page.locator("div.job a:has-text('下载错误报告')").click()
    download = info.value
    assert download.suggested_filename.endswith("错误报告.xlsx")
    from yibao.imports.reports import report_read

    lines = report_read(download.path())
    assert [(l["行号"], l["列"]) for l in lines] == [(6, "村（社区）")]
    page.click("text=← 导入记录")
    expect(page.locator("table.jobs tbody tr")).to_have_count(1)
    assert "榴城镇户籍.csv" in page.locator("table.jobs").inner_text()


def test_running_job_polls_its_progress(page, live_server, transactional_db, staff, tmp_path):
    """A queued job's bar asks the server every second until the job is done."""
    from yibao.core.models import Job
    from yibao.core.progress import JobProgress

    job = Job.objects.create(kind="import_residents", county_code=COUNTY, input_name="大名单.csv", status="running",
                             params={"kind": "residents", "county_code": COUNTY})
    tracker = JobProgress(job)
    tracker.start(1000, "写入数据库")
    tracker.done = 250
    tracker._save(force=True)
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/imports/{job.pk}/")
    assert page.locator("div.job progress").get_attribute("value") == "25"
    tracker.done = 750
    tracker._save(force=True)
    page.wait_for_function("() => document.querySelector('div.job progress').value == 75", timeout=5000)  # a function: a bare expression needs eval, which the CSP forbids
    assert "750/1000" in page.locator("div.job .job-foot").inner_text()


def test_upload_last_years_roster_and_find_the_history_year(page, live_server, transactional_db, staff, imported_family,
                                                            tmp_path):
    """历年参保名单: the upload page, the job's counts with the skipped 大病 line, then 2024 as 历史名单."""
    from yibao.imports.tests.roster import write_roster

    rows, _result = imported_family
    head, wife = rows[0], rows[1]
    path = write_roster(tmp_path / "2024年度参保名单.csv", [
        [head[0], head[1], 2024, "正常参保", "", "", "380", "390"],
        [wife[0], wife[1], 2024, "暂停参保", "", "", "380", "390"],
        [wife[0], wife[1], 2024, "正常参保", "", "", "", "392"],
    ])
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/imports/")
    page.click("text=导入历年参保名单")
    assert "险种类型" in page.locator("main").inner_text()
    page.set_input_files("input[type=file]", str(path))
    page.select_option("select[name=county_code]", COUNTY)
    page.click("button:has-text('上传并导入')")
    page.wait_for_url(f"{live_server.url}/imports/*/")
    assert page.locator("div.job progress").get_attribute("value") == "100"
    counts = page.locator("div.job dl.counts").inner_text()
    assert "新增" in counts and "跳过" in counts
    assert "城乡居民大病医疗保险（392）" in page.locator("table.report").inner_text()

    page.goto(f"{live_server.url}/enrollment/")
    assert "历史名单" in page.locator("[data-testid=campaigns]").inner_text()
    page.click("text=2024年度")
    assert page.locator("[data-testid=history-badge]").inner_text() == "历史名单"
    assert page.locator("[data-field=total]").inner_text() == "2"
    page.click("text=2024年度参保登记名单")
    listing = page.locator("[data-testid=enrollments]").inner_text()
    assert "张大山" in listing and "李秀兰" in listing and "参保暂停" in listing


def test_a_job_written_without_its_report_makes_the_report_from_its_page(page, live_server, transactional_db, staff,
                                                                         family, tmp_path, monkeypatch):
    """The data committed, the report writer failed: the page says 已写入，报告未生成 with the counts, and
    its button makes the report in place (htmx), without importing again."""
    from yibao.core.jobs import job_run
    from yibao.imports import services
    from yibao.registry.models import Resident

    rows = [list(r) for r in family] + [[make_id(seq=77), "错号", "男", "", "H9", "户主", "不存在村", ""]]
    path = write_csv(tmp_path / "户籍.csv", RESIDENT_HEADER, rows)

    def disk_full(**kwargs):
        raise OSError("磁盘已满")

    monkeypatch.setattr(services, "report_write", disk_full)
    job = job_run(services.import_job_create(kind="residents", path=path, county_code=COUNTY, actor="测试"))
    monkeypatch.undo()
    assert job.status == "written"
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/imports/{job.pk}/")
    assert "已写入，报告未生成" in page.locator("div.job .badge").inner_text()
    counts = page.locator("div.job dl.counts").inner_text()
    assert "新增" in counts and "4" in counts and "拒绝" in counts
    assert page.locator("div.job a:has-text('下载错误报告')").count() == 0
    page.locator("div.job button:has-text('重新生成报告')").click()
    link = page.locator("div.job a:has-text('下载错误报告')")
    link.wait_for()
    assert "已完成" in page.locator("div.job .badge").inner_text()
    with page.expect_download() as info:
        link.click()
    from yibao.imports.reports import report_read

    assert [(l["行号"], l["列"]) for l in report_read(info.value.path())] == [(6, "村（社区）")]
    assert Resident.objects.count() == 4
