"""API of campaigns, assessment and enrollments: one thin operation per service."""

import datetime as dt
import json

import pytest

from yibao.enrollment.models import Campaign, Enrollment
from yibao.enrollment.services import assessment_run, enrollment_mark_paid, enrollment_register
from yibao.enrollment.tests import factories as f
from yibao.policy.engine import Person, quote
from yibao.policy.loader import load_policy

pytestmark = pytest.mark.django_db


def post(client, url, payload=None):
    return client.post(url, json.dumps(payload or {}), content_type="application/json")


@pytest.fixture
def admin(client, make_user):
    user = make_user("admin", role="county_admin", region_code="340321")
    client.force_login(user)
    return user


@pytest.fixture
def assessed():
    f.region_tree("340321", "340321100", "340321100002")
    people = [f.resident(name="王低保", identities=["dibao"]), f.resident(name="李普通", village="340321100002")]
    campaign = f.campaign()
    assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    return campaign, people


def test_open_list_and_close_a_campaign(client, admin):
    f.region_tree()
    response = post(client, "/api/campaigns", {"county_code": "340321", "policy_id": "anhui-huaiyuan-2025"})
    assert response.status_code == 201
    body = response.json()
    assert body["benefit_year"] == 2025 and body["collection_start"] == "2024-09-01" and body["status"] == "open"
    again = post(client, "/api/campaigns", {"county_code": "340321", "policy_id": "anhui-huaiyuan-2025"})
    assert again.status_code == 400 and "只能开启一次" in again.json()["detail"]
    assert [c["id"] for c in client.get("/api/campaigns").json()] == [body["id"]]
    closed = post(client, f"/api/campaigns/{body['id']}/close", {"reason": "年度结束"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"


def test_open_elsewhere_is_forbidden_and_bad_dates_name_the_field(client, admin):
    f.region_tree("421321", "421321100", "421321100001")
    assert post(client, "/api/campaigns", {"county_code": "421321", "policy_id": "hubei-suixian-2023"}).status_code == 403
    bad = post(client, "/api/campaigns", {"county_code": "340321", "policy_id": "x", "collection_start": "2024-13-01"})
    assert bad.status_code == 422 and "collection_start" in bad.json()["detail"]


def test_assess_returns_a_job_and_the_detail_shows_totals(client, admin, assessed):
    campaign, _ = assessed
    response = post(client, f"/api/campaigns/{campaign.pk}/assess", {"on": "2024-10-08"})
    assert response.status_code == 201 and response.json()["status"] == "succeeded"
    detail = client.get(f"/api/campaigns/{campaign.pk}").json()
    assert detail["assess_job_id"] == response.json()["job_id"]
    assert detail["totals"] == {"residents": 2, "accepted": 2, "not_accepted": 0, "payable": "460.00", "subsidy": "340.00",
                                "refund_later": "0.00"}
    assert [r["code"] for r in detail["by_region"]] == ["340321100"]
    villages = client.get(f"/api/campaigns/{campaign.pk}", {"region": "340321100"}).json()["by_region"]
    assert {r["code"]: r["payable"] for r in villages} == {"340321100001": "60.00", "340321100002": "400.00"}


def test_assessments_agree_with_the_quote(client, admin, assessed):
    campaign, people = assessed
    page = client.get(f"/api/campaigns/{campaign.pk}/assessments", {"village": "340321100001"}).json()
    assert page["count"] == 1
    row = page["items"][0]
    expected = quote(load_policy("anhui-huaiyuan-2025"), Person(birth_date=people[0].birth_date,
                                                                identities=frozenset({"dibao"})), dt.date(2024, 10, 8))
    assert (row["payable"], row["subsidy"], row["subsidy_identity"]) == ("60.00", "340.00", "dibao") == (
        f"{expected.payable:.2f}", f"{expected.subsidy:.2f}", expected.subsidy_identity)
    assert row["benefit_start"] == expected.benefit_start.isoformat()
    detail = client.get(f"/api/campaigns/{campaign.pk}/assessments/{people[0].pk}").json()
    assert detail["explanation"] == list(expected.explanation) and detail["stale"] is False


def test_a_collector_sees_only_their_village_and_cannot_assess(client, make_user, assessed):
    campaign, people = assessed
    client.force_login(make_user("c", role="village_collector", region_code="340321100001"))
    names = [r["name"] for r in client.get(f"/api/campaigns/{campaign.pk}/assessments").json()["items"]]
    assert names == ["王低保"]
    assert client.get(f"/api/campaigns/{campaign.pk}/assessments/{people[1].pk}").status_code == 404
    assert post(client, f"/api/campaigns/{campaign.pk}/assess").status_code == 403


def test_register_then_lifecycle_through_the_api(client, admin, assessed):
    campaign, people = assessed
    response = post(client, "/api/enrollments", {"resident_id": people[0].pk, "benefit_year": 2025})
    assert response.status_code == 201
    e = response.json()
    assert e["kind"] == "first" and e["status"] == "registered" and e["events"][0]["action"] == "registered"
    same = post(client, "/api/enrollments", {"resident_id": people[0].pk, "benefit_year": 2025})
    assert same.json()["id"] == e["id"] and Enrollment.objects.count() == 1
    moved = post(client, f"/api/enrollments/{e['id']}/transfer", {"to_village_code": "340321100002", "reason": "婚迁"})
    assert moved.status_code == 200 and moved.json()["village_code"] == "340321100002"
    suspended = post(client, f"/api/enrollments/{e['id']}/suspend", {"reason": "外出"})
    assert suspended.json()["status"] == "suspended"
    assert post(client, f"/api/enrollments/{e['id']}/resume", {"reason": "回来"}).json()["status"] == "registered"
    ended = post(client, f"/api/enrollments/{e['id']}/terminate", {"cause": "moved_away", "reason": "迁往外省"})
    assert ended.status_code == 200 and ended.json()["status"] == "terminated"
    actions = [ev["action"] for ev in client.get(f"/api/enrollments/{e['id']}").json()["events"]]
    assert actions == ["terminated", "resumed", "suspended", "transferred", "registered"]
    bad = post(client, f"/api/enrollments/{e['id']}/terminate", {"cause": "moved_away"})
    assert bad.status_code == 400 and "已终止" in bad.json()["detail"]


def test_register_for_a_year_without_campaign_and_bad_tier(client, admin, assessed):
    _, people = assessed
    no_year = post(client, "/api/enrollments", {"resident_id": people[0].pk, "benefit_year": 2030})
    assert no_year.status_code == 400 and "尚未开启2030年度" in no_year.json()["detail"]
    tier = post(client, "/api/enrollments", {"resident_id": people[0].pk, "benefit_year": 2025, "tier": 2})
    assert tier.status_code == 400 and "没有2档" in tier.json()["detail"]


def test_enrollment_list_filters(client, admin, assessed):
    campaign, people = assessed
    a = enrollment_register(resident=people[0], campaign=campaign, actor="测试")
    enrollment_mark_paid(enrollment=a, benefit_start=dt.date(2025, 1, 1), benefit_end=dt.date(2025, 12, 31), actor="测试")
    enrollment_register(resident=people[1], campaign=campaign, actor="测试")
    paid = client.get("/api/enrollments", {"status": "paid", "benefit_year": 2025}).json()
    assert [r["name"] for r in paid["items"]] == ["王低保"] and paid["items"][0]["benefit_start"] == "2025-01-01"
    village = client.get("/api/enrollments", {"village": "340321100002"}).json()
    assert [r["name"] for r in village["items"]] == ["李普通"]


def test_tier_through_the_api(client, make_user):
    f.region_tree("500231", "500231100", "500231100001")
    person = f.resident(village="500231100001")
    campaign = f.campaign(county="500231", policy_id="chongqing-dianjiang-xinmin-2024")
    e = enrollment_register(resident=person, campaign=campaign, actor="测试")
    client.force_login(make_user("x", role="township_officer", region_code="500231100"))
    response = post(client, f"/api/enrollments/{e.pk}/tier", {"tier": 2})
    assert response.status_code == 200 and response.json()["tier"] == 2
    assert post(client, f"/api/enrollments/{e.pk}/tier", {"tier": 5}).status_code == 400


def test_not_logged_in_is_401(client):
    assert client.get("/api/campaigns").status_code == 401
    assert Campaign.objects.count() == 0
