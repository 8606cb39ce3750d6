"""Browser test of a group list (参保群体名单) on the phone: pick the group, upload, read the counts."""

import pytest

from yibao.imports.tests.conftest import COUNTY, write_csv
from yibao.imports.tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_a_release_list_on_a_phone(page, live_server, staff, imported_family, tmp_path):
    from yibao.registry.models import GroupFact

    rows, _ = imported_family
    path = write_csv(tmp_path / "刑满释放人员.csv", ["身份证号码", "姓名", "释放日期"],
                     [[rows[0][0], rows[0][1], "2024-03-01"], [rows[1][0], rows[1][1], "2099-01-01"]])
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/imports/")
    page.click("text=导入参保群体名单")
    assert "学校/单位" in page.locator("table").inner_text()
    page.set_input_files("input[type=file]", str(path))
    page.select_option("select[name=county_code]", COUNTY)
    page.select_option("select[name=group]", "released_prisoner")
    page.click("button:has-text('上传并导入')")
    page.wait_for_url(f"{live_server.url}/imports/*/")
    assert "已完成" in page.locator("div.job .badge").inner_text()
    counts = page.locator("div.job dl.counts").inner_text()
    assert "新增" in counts and "拒绝" in counts
    assert "刑满释放人员" in page.locator("main").inner_text()
    assert "晚于今天" in page.locator("table.report").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert list(GroupFact.objects.values_list("group", flat=True)) == ["released_prisoner"]


def test_the_group_is_required_on_the_page(page, live_server, staff, imported_family, tmp_path):
    rows, _ = imported_family
    path = write_csv(tmp_path / "g.csv", ["身份证号码"], [[rows[0][0]]])
    login(page, live_server, "county_admin")
    page.goto(f"{live_server.url}/imports/new/groups/")
    page.set_input_files("input[type=file]", str(path))
    page.select_option("select[name=county_code]", COUNTY)
    page.evaluate("document.querySelector('select[name=group]').removeAttribute('required')")
    page.click("button:has-text('上传并导入')")
    from yibao.core.models import Job

    assert page.url.endswith("/imports/new/groups/")
    assert page.locator("form.upload .error, form.upload .errorlist").count() >= 1
    assert not Job.objects.filter(kind="import_groups").exists()
