"""On a phone (390×844): the 正在后台 banner of a job page gives way to the outcome when the job ends, and a
试导入 shows its counts, writes nothing and offers the real import."""

import pytest

from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, make_id, write_csv
from yibao.imports.tests.test_browser import login

pytestmark = pytest.mark.browser


def test_the_running_banner_clears_when_the_job_ends(page, live_server, transactional_db, staff):
    from yibao.core.models import Job
    from yibao.core.services import job_succeed

    job = Job.objects.create(kind="import_residents", county_code=COUNTY, input_name="大名单.csv", status="running",
                             params={"kind": "residents", "county_code": COUNTY}, total=10, done=3)
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/imports/{job.pk}/")
    banner = page.locator("div.job .job-banner")
    assert "正在后台处理“大名单.csv”" in banner.inner_text()
    assert "怀远县（340321）" in page.locator("main").inner_text()
    job_succeed(job=job, result={"rows": 10, "imported": 6, "updated": 1, "unchanged": 1, "rejected": 2,
                                 "warnings": 1, "report": None})
    page.wait_for_function("() => document.querySelector('div.job').dataset.status === 'succeeded'", timeout=8000)
    assert "正在后台" not in page.locator("main").inner_text()
    assert "已完成" in page.locator("div.job .job-banner").inner_text()
    assert page.locator("div.job").get_attribute("hx-get") is None  # the polling stopped
    balance = page.locator("div.job .job-balance").inner_text()
    assert balance == "总行数 10 = 新增 6 + 更新 1 + 未变 1 + 拒绝 2；其中 1 行带警告，已导入（计入前几项）"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_dry_run_from_the_upload_page_writes_nothing_then_imports(page, live_server, transactional_db, staff,
                                                                      family, tmp_path):
    from yibao.core.models import Event
    from yibao.registry.models import Household, Resident

    rows = [list(r) for r in family] + [[make_id(seq=77), "错号", "男", "", "H9", "户主", "不存在村", ""]]
    path = write_csv(tmp_path / "户籍.csv", RESIDENT_HEADER, rows)
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/imports/new/residents/")
    page.set_input_files("input[type=file]", str(path))
    page.select_option("select[name=county_code]", COUNTY)
    page.click("button:has-text('试导入')")
    page.wait_for_url(f"{live_server.url}/imports/*/")
    main = page.locator("main").inner_text()
    assert "试导入完成" in main and "没有写入任何数据" in main and "试导入" in page.locator("div.job .badge").all_inner_texts()
    assert "总行数 5 = 新增 4 + 拒绝 1" in page.locator("div.job .job-balance").inner_text()
    assert "不在本县（340321）的区划中" in page.locator("table.report").inner_text()  # the reason of the bad row
    assert not Resident.objects.exists() and not Household.objects.exists() and not Event.objects.exists()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.click("button:has-text('按此文件正式导入')")
    page.wait_for_function("() => document.querySelector('div.job').dataset.status === 'succeeded'", timeout=8000)
    assert "试导入" not in page.locator("div.job .job-banner").inner_text()
    assert Resident.objects.count() == 4
    page.goto(f"{live_server.url}/imports/")
    assert page.locator("table.jobs .dry-run-badge").count() == 1
