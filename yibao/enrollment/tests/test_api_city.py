"""POST /api/campaigns/city-open and GET /api/campaigns/city-plan."""

import json

import pytest

from yibao.enrollment.models import Campaign
from yibao.enrollment.services import campaign_open
from yibao.enrollment.tests.shuozhou import CITY, POLICY, shuozhou

pytestmark = pytest.mark.django_db


def post(client, url, payload):
    return client.post(url, json.dumps(payload), content_type="application/json")


@pytest.fixture
def city_admin(client, make_user):
    shuozhou()
    user = make_user("sz_admin", role="city_admin", region_code=CITY)
    client.force_login(user)
    return user


def test_plan_then_open_the_city(client, city_admin):
    campaign_open(county_code="140603", policy_id=POLICY, actor="平鲁区")
    plan = client.get(f"/api/campaigns/city-plan?city_code={CITY}&policy_id={POLICY}")
    assert plan.status_code == 200
    assert [c["outcome"] for c in plan.json()["counties"]] == ["open", "skip", "open"]
    response = post(client, "/api/campaigns/city-open", {"city_code": CITY, "policy_id": POLICY})
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["opened"], data["skipped"]) == (2, 1)
    assert Campaign.objects.count() == 3
    assert sorted(Campaign.objects.values_list("county_code", flat=True)) == ["140602", "140603", "140621"]
    again = post(client, "/api/campaigns/city-open", {"city_code": CITY, "policy_id": POLICY})
    assert again.status_code == 400 and "均已开启" in again.json()["detail"]


def test_refusals(client, city_admin, make_user):
    wrong = post(client, "/api/campaigns/city-open", {"city_code": CITY, "policy_id": "anhui-huaiyuan-2025"})
    assert wrong.status_code == 400 and "全市适用的政策" in wrong.json()["detail"]
    other = post(client, "/api/campaigns/city-open", {"city_code": "4212", "policy_id": POLICY})
    assert other.status_code == 403
    client.force_login(make_user("sc_admin", role="county_admin", region_code="140602"))
    county = post(client, "/api/campaigns/city-open", {"city_code": CITY, "policy_id": POLICY})
    assert county.status_code == 403 and "1406" in county.json()["detail"]
    client.force_login(make_user("sz_tax", role="city_tax", region_code=CITY))
    assert post(client, "/api/campaigns/city-open", {"city_code": CITY, "policy_id": POLICY}).status_code == 403
    assert Campaign.objects.count() == 0
