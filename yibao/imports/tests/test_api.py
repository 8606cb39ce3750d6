from yibao.core.models import Job
from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, write_csv


def start(client, path, **data):
    with open(path, "rb") as fh:
        return client.post("/api/imports/jobs", {"file": fh, **data})


def test_start_an_import_and_read_it_back(client, staff, family, tmp_path):
    client.force_login(staff["county_admin"])
    rows = [list(r) for r in family]
    rows[0][0] = "123"
    response = start(client, write_csv(tmp_path / "r.csv", RESIDENT_HEADER, rows), kind="residents")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "succeeded" and body["kind"] == "residents" and body["county_code"] == COUNTY
    assert body["result"]["imported"] == 3 and body["result"]["rejected"] == 1
    assert body["progress"]["percent"] == 100
    assert body["report_url"] == f"/jobs/{body['id']}/report" and body["page_url"] == f"/imports/{body['id']}/"
    one = client.get(f"/api/imports/jobs/{body['id']}").json()
    assert one["file_sha256"] == Job.objects.get().input_sha256 and one["created_by"] == "县医保局管理员甲"
    listing = client.get("/api/imports/jobs").json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == body["id"]


def test_bad_parameters_are_a_400_with_a_chinese_detail(client, staff, family, tmp_path):
    client.force_login(staff["county_admin"])
    path = write_csv(tmp_path / "r.csv", RESIDENT_HEADER, family)
    assert "未知的导入类型" in start(client, path, kind="payments").json()["detail"]
    response = start(client, path, kind="identities", department="统战")
    assert response.status_code == 400 and "未知的部门" in response.json()["detail"]


def test_scope_of_the_api(client, staff, family, tmp_path):
    path = write_csv(tmp_path / "r.csv", RESIDENT_HEADER, family)
    client.force_login(staff["department_clerk"])
    assert start(client, path, kind="residents").status_code == 403
    client.force_login(staff["county_admin"])
    job_id = start(client, path, kind="residents").json()["id"]
    client.force_login(staff["other_admin"])
    assert start(client, path, kind="residents", county_code=COUNTY).status_code == 403
    assert client.get(f"/api/imports/jobs/{job_id}").status_code == 404
    assert client.get("/api/imports/jobs").json()["count"] == 0
    client.force_login(staff["village_collector"])
    assert client.get(f"/api/imports/jobs/{job_id}").status_code == 404
    client.logout()
    assert client.get("/api/imports/jobs").status_code == 401
