"""API of the city's county targets: read, set (all or nothing), import a city task table."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yibao.enrollment.tests.shuozhou import CITY, shuozhou
from yibao.progress.models import Target
from yibao.progress.tests.test_city_targets import TABLE

pytestmark = pytest.mark.django_db
URL = f"/api/progress/city-targets/{CITY}/2024"


@pytest.fixture
def city_admin(client, make_user):
    shuozhou()
    user = make_user("sz_admin", role="city_admin", region_code=CITY)
    client.force_login(user)
    return user


def put(client, payload):
    return client.put(URL, json.dumps(payload), content_type="application/json")


def test_set_then_read_the_citys_counties(client, city_admin):
    response = put(client, {"totals": {"140602": 300000, "140621": 180000}, "reason": "市政府任务分解"})
    assert response.status_code == 200, response.content
    assert [c["county_code"] for c in response.json()["changes"]] == ["140602", "140621"]
    data = client.get(URL).json()
    assert data["total"] == 480000 and data["counties_without_target"] == 1
    assert {c["county_code"]: c["total"] for c in data["counties"]} == {"140602": 300000, "140603": None, "140621": 180000}


def test_refusals_name_the_county(client, city_admin, make_user):
    bad = put(client, {"totals": {"140602": 1, "421223": 5}, "reason": "x"})
    assert bad.status_code == 400 and "不是朔州市（1406）的县" in bad.json()["detail"]
    assert not Target.objects.exists()
    assert client.get("/api/progress/city-targets/4212/2024").status_code == 403
    client.force_login(make_user("sc_admin", role="county_admin", region_code="140602"))
    assert put(client, {"totals": {"140602": 1}, "reason": "x"}).status_code == 403


def test_import_a_city_task_table(client, city_admin):
    upload = SimpleUploadedFile("朔州任务.csv", TABLE.encode())
    response = client.post("/api/progress/city-targets/import", {"file": upload})
    assert response.status_code == 201, response.content
    assert response.json()["imported"] == 3 and Target.objects.count() == 3
    broken = SimpleUploadedFile("朔州任务.csv", TABLE.replace("平鲁区", "怀仁市").encode())
    refused = client.post("/api/progress/city-targets/import", {"file": broken})
    assert refused.status_code == 400 and "第5行：“怀仁市”不是朔州市（1406）已导入的县" in refused.json()["detail"]
