import io

import pytest

from yibao.core.models import Job
from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, make_id, write_csv
from yibao.registry.models import Identity, Resident


def upload(client, kind, path, **data):
    with open(path, "rb") as fh:
        return client.post(f"/imports/new/{kind}/", {"file": fh, **data})


def test_admin_uploads_a_register_and_lands_on_the_job_page(client, staff, family, tmp_path):
    client.force_login(staff["county_admin"])
    page = client.get("/imports/").content.decode()
    for label in ("导入行政区划", "导入户籍名单", "导入部门资助身份名单", "导入职工医保名单"):
        assert label in page
    form = client.get("/imports/new/residents/").content.decode()
    assert "户主身份证号码" in form and "公民身份号码" in form and "怀远县（340321）" in form
    rows = [list(r) for r in family]
    rows[1][2] = "男"  # wrong sex: rejected into the report
    response = upload(client, "residents", write_csv(tmp_path / "户籍.csv", RESIDENT_HEADER, rows), county_code=COUNTY)
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == f"/imports/{job.pk}/"
    assert Resident.objects.count() == 3
    detail = client.get(response.url).content.decode()
    assert '<progress max="100" value="100"' in detail
    assert f"/jobs/{job.pk}/report" in detail and "下载错误报告" in detail
    assert "性别与身份证号码不符（号码显示为女）" in detail
    assert job.input_sha256 in detail and "户籍.csv" in detail
    history = client.get("/imports/").content.decode()
    assert "户籍.csv" in history and "户籍名单导入" in history
    report = client.get(f"/jobs/{job.pk}/report")
    assert report.status_code == 200 and b"".join(report.streaming_content).startswith(b"PK")


def test_upload_form_errors_are_shown(client, staff, tmp_path):
    client.force_login(staff["county_admin"])
    path = tmp_path / "名单.pdf"
    path.write_bytes(b"%PDF")
    response = upload(client, "residents", path, county_code=COUNTY)
    assert response.status_code == 200
    assert "不支持的文件类型" in response.content.decode()
    assert not Job.objects.exists()


def test_a_broken_spreadsheet_shows_a_failed_job_with_the_reason(client, staff, tmp_path):
    client.force_login(staff["county_admin"])
    path = write_csv(tmp_path / "r.csv", ["身份证号码", "姓名"], [[make_id(), "张三"]])
    response = upload(client, "residents", path, county_code=COUNTY)
    detail = client.get(response.url).content.decode()
    assert "失败" in detail and "缺少必需的列：村（社区）" in detail


def test_department_clerk_uploads_only_their_own_list(client, staff, imported_family, tmp_path):
    clerk = staff["department_clerk"]
    client.force_login(clerk)
    assert client.get("/imports/new/residents/").status_code == 403
    form = client.get("/imports/new/identities/").content.decode()
    assert "民政" in form and "残联" not in form
    path = write_csv(tmp_path / "mz.csv", ["身份证号码", "身份类别"], [[imported_family[0][0][0], "低保"]])
    refused = upload(client, "identities", path, county_code=COUNTY, department="canlian")
    assert refused.status_code == 200 and not Job.objects.exists()
    done = upload(client, "identities", path, county_code=COUNTY, department="minzheng")
    assert done.status_code == 302 and Identity.objects.get().department == "minzheng"
    # the clerk's history holds their department's lists only
    admin_job = Job.objects.create(kind="import_residents", county_code=COUNTY, input_name="户籍.csv",
                                   params={"kind": "residents", "county_code": COUNTY})
    history = client.get("/imports/").content.decode()
    assert "mz.csv" in history and "（民政）" in history and "户籍.csv" not in history
    assert client.get(f"/imports/{admin_job.pk}/").status_code == 404


@pytest.mark.parametrize("role", ["township_officer", "village_collector"])
def test_township_and_village_accounts_see_no_county_imports(client, staff, role):
    job = Job.objects.create(kind="import_residents", county_code=COUNTY, input_name="户籍.csv",
                             params={"kind": "residents", "county_code": COUNTY})
    client.force_login(staff[role])
    page = client.get("/imports/").content.decode()
    assert "户籍.csv" not in page and "乡镇、村账号不能查看" in page
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.get("/imports/new/residents/").status_code == 403


def test_other_county_cannot_open_the_job(client, staff):
    job = Job.objects.create(kind="import_residents", county_code=COUNTY, input_name="户籍.csv",
                             params={"kind": "residents", "county_code": COUNTY})
    client.force_login(staff["other_admin"])
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert "户籍.csv" not in client.get("/imports/").content.decode()


def test_blank_template_has_the_header_row(client, staff):
    from python_calamine import CalamineWorkbook

    client.force_login(staff["county_admin"])
    response = client.get("/imports/template/identities.xlsx")
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.get_sheet_by_index(0).to_python()[0] == ["身份证号码", "姓名", "身份类别", "认定部门", "起始日期", "终止日期"]
    client.force_login(staff["department_clerk"])
    assert client.get("/imports/template/residents.xlsx").status_code == 403


def test_login_required(client):
    assert client.get("/imports/").status_code == 302


def test_the_import_list_fails_a_job_whose_process_was_killed(client, staff):
    import socket
    import subprocess
    import sys

    from yibao.core.services import job_create, job_start

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    job = job_start(job=job_create(kind="import_residents", county_code=COUNTY, actor=staff["county_admin"],
                                   input_name="户籍.xlsx"))
    Job.objects.filter(pk=job.pk).update(runner=f"{socket.gethostname()}:{child.pid}")
    client.force_login(staff["county_admin"])
    page = client.get("/imports/").content.decode()
    assert "户籍.xlsx" in page and "进行中" not in page and "失败" in page
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.message.startswith("任务中断")
    listed = client.get("/api/imports/jobs").json()["items"][0]
    assert listed["status"] == "failed"
