import datetime as dt

import pytest

from yibao.registry.models import Flag, Resident
from yibao.registry.tests.factories import give_identity, make_household, make_id
from yibao.registry.tests.fixtures import BAIMA, SUOSHI


@pytest.fixture
def people(regions):
    _, baima = make_household(BAIMA, "H1", "张父", "张子")
    _, suoshi = make_household(SUOSHI, "H2", "李母")
    give_identity(baima[0], "dibao")
    give_identity(baima[0], "tekun")
    flag = Flag.objects.create(county_code="421223", resident=baima[0], kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="名单")
    return {"baima": baima, "suoshi": suoshi, "flag": flag}


def test_resident_list_masks_ids_for_the_auditor(client, people, staff):
    head = people["baima"][0]
    client.force_login(staff["auditor"])
    body = client.get("/api/residents", {"q": "张父"}).json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id_number"] == head.id_number[:6] + "********" + head.id_number[-4:]
    assert item["village_label"] == "肖岭乡 / 白马" and item["household_number"] == "H1"
    assert sorted(item["identities"]) == ["dibao", "tekun"] and item["open_flags"] == 1
    client.force_login(staff["village_collector"])
    assert client.get("/api/residents", {"q": "张父"}).json()["items"][0]["id_number"] == head.id_number


def test_resident_list_paginates(client, people, admin):
    client.force_login(admin)
    body = client.get("/api/residents", {"page_size": 2, "page": 2}).json()
    assert (body["count"], body["pages"], body["page"], len(body["items"])) == (3, 2, 2, 1)


def test_resident_detail(client, people, collector):
    client.force_login(collector)
    head = people["baima"][0]
    body = client.get(f"/api/residents/{head.pk}").json()
    assert [i["code"] for i in body["identity_list"]] == ["dibao", "tekun"]
    assert body["flags"][0]["kind"] == "employee_insurance" and body["flags"][0]["open"] is True
    assert "待县医保局核实处理" in body["enrollment_block"]
    assert client.get(f"/api/residents/{people['suoshi'][0].pk}").status_code == 404


def test_household_detail_and_register(client, people, collector):
    client.force_login(collector)
    body = client.get(f"/api/households/{people['baima'][0].household_id}").json()
    assert [m["name"] for m in body["members"]] == ["张父", "张子"] and body["head_id"] == people["baima"][0].pk
    new_id = make_id("421223", dt.date(1999, 9, 9), seq="551")
    created = client.post("/api/households", {
        "village_code": BAIMA, "number": "N1",
        "members": [{"name": "新户", "id_number": new_id, "relation": "户主", "sex": "男"}],
    }, content_type="application/json")
    assert created.status_code == 201
    assert created.json()["members"][0]["id_number"] == new_id
    refused = client.post("/api/households", {
        "village_code": BAIMA, "members": [{"name": "新户", "id_number": new_id, "relation": "户主", "sex": "女"}],
    }, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["detail"] == "第1位成员（新户）：性别“女”与身份证号码不符（号码第17位表示男性）"
    again = client.post("/api/households", {
        "village_code": BAIMA, "members": [{"name": "新户", "id_number": new_id, "relation": "户主"}],
    }, content_type="application/json")
    assert again.status_code == 400 and "已登记为“新户”（肖岭乡 / 白马，户号 N1）" in again.json()["detail"]
    assert Resident.objects.filter(id_number=new_id).count() == 1


def test_household_register_validates_dates(client, people, collector):
    client.force_login(collector)
    response = client.post("/api/households", {
        "village_code": BAIMA, "members": [{"name": "新", "id_number": "x", "relation": "户主", "birth_date": "1999-13-01"}],
    }, content_type="application/json")
    assert response.status_code == 422
    assert "日期格式应为 YYYY-MM-DD" in response.json()["detail"]


def test_identity_review(client, people, staff):
    client.force_login(staff["township_officer"])
    body = client.get("/api/identity-review").json()
    assert body["policy_id"] == "hubei-chongyang-xiaoling-2024"
    assert (body["window_start"], body["window_end"]) == ("2023-09-08", "2023-12-31")
    (item,) = body["items"]
    assert item["name"] == "张父" and item["applied"] == "tekun" and item["subsidy"] == "380.00"
    assert [i["name"] for i in item["identities"]] == ["低保对象", "特困人员"]
    client.force_login(staff["tax_officer"])
    assert client.get("/api/identity-review").status_code == 403


def test_flags_list_and_resolve(client, people, admin, staff):
    client.force_login(staff["township_officer"])
    assert client.get("/api/flags").status_code == 403
    client.force_login(admin)
    items = client.get("/api/flags").json()["items"]
    assert [f["resident_name"] for f in items] == ["张父"]
    flag_id = items[0]["id"]
    bad = client.post(f"/api/flags/{flag_id}/resolve", {"outcome": "cleared", "resolution": ""},
                      content_type="application/json")
    assert bad.status_code == 400 and "请填写处理依据" in bad.json()["detail"]
    ok = client.post(f"/api/flags/{flag_id}/resolve", {"outcome": "cleared", "resolution": "已停保"},
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["open"] is False and ok.json()["outcome"] == "cleared"
    assert client.get("/api/flags").json()["count"] == 0
    assert client.get("/api/flags", {"state": "resolved"}).json()["count"] == 1


def test_a_number_registered_in_another_village_is_refused_without_naming_the_person(client, people, collector):
    other = people["suoshi"][0]
    client.force_login(collector)
    refused = client.post("/api/households", {
        "village_code": BAIMA, "members": [{"name": "来人", "id_number": other.id_number, "relation": "户主"}],
    }, content_type="application/json")
    detail = refused.json()["detail"]
    assert refused.status_code == 400 and "已在本县其他村（社区）登记" in detail
    assert other.name not in detail and "锁石" not in detail
