"""API of progress: one operation each, scoped by request.auth."""

import json
from pathlib import Path

import pytest

from yibao.progress.models import RemindMark, Target
from yibao.progress.tests import builders as b
from yibao.registry.tests.factories import seed_regions

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent / "data"


def post_json(client, url, payload, method="post"):
    return getattr(client, method)(url, json.dumps(payload), content_type="application/json")


def test_api_needs_a_login(client):
    assert client.get("/api/progress").status_code == 401


def test_overview_returns_the_unit_its_children_and_pace(client, login, county):
    login()
    data = client.get("/api/progress", {"year": 2025, "on": "2024-10-31"}).json()
    assert data["unit"]["code"] == b.COUNTY and data["unit"]["target"] == 16 and data["unit"]["enrolled"] == 5
    assert data["pace_share"] == 0.5 and data["deadline"] == "2024-12-31" and data["special_goal"] == 1.0
    assert [c["name"] for c in data["children"]] == ["榴城镇", "龙亢镇"]
    assert data["children"][0]["rate"] == pytest.approx(0.6667) and data["children"][0]["rank"] == 1


def test_the_statistics_time_is_on_the_business_day_as_on_the_page(client, login, county, settings):
    settings.YIBAO_TODAY = "2024-10-31"
    login()
    stamp = client.get("/api/progress", {"year": 2025}).json()["refreshed_at"]
    assert stamp.startswith("2024-10-31")  # as the dashboard's 统计时间, not the wall clock


def test_overview_of_another_village_is_refused(client, login, county):
    login("village_collector", b.DONGCUN)
    assert client.get("/api/progress", {"year": 2025}).json()["unit"]["code"] == b.DONGCUN
    assert client.get("/api/progress", {"region": b.XICUN, "year": 2025}).status_code == 403


def test_ranking_and_history(client, login, county):
    login("township_officer", b.LIUCHENG)
    ranking = client.get("/api/progress/ranking", {"year": 2025, "level": 12}).json()
    assert [(u["name"], u["rank"]) for u in ranking] == [("西村", 1), ("东村", 2)]
    history = client.get("/api/progress/history", {"year": 2025, "on": "2024-10-31"}).json()
    days = {d["day"]: d for d in history["days"]}
    assert history["target"] == 6 and days["2024-09-03"]["cumulative"] == 4 and days["2024-10-31"]["expected"] == 3
    assert client.get("/api/progress/ranking", {"year": 2025, "level": 9}).status_code == 404


def test_renewal_comparison(client, login, county):
    login()
    data = client.get("/api/progress/renewal", {"year": 2025}).json()
    assert data["total"]["last_year"] == 4 and data["total"]["renewed"] == 2 and data["total"]["open"] == 2
    assert [r["name"] for r in data["rows"]] == ["榴城镇", "龙亢镇"]


def test_targets_list_import_and_adjust(client, login):
    seed_regions()
    login(region="421321")
    with open(DATA / "suixian_2023_targets.csv", "rb") as fh:
        response = client.post("/api/progress/targets/import", {"file": fh})
    assert response.status_code == 201, response.content
    assert response.json()["sums"] == {"total": 643118, "special": 23113, "others": 620005}
    listed = client.get("/api/progress/targets", {"year": 2023}).json()
    assert listed["items"][0]["region_code"] == "421321" and listed["items"][0]["total"] == 643118
    adjusted = post_json(client, "/api/progress/targets/421321101/2023", {"total": 19400, "special": 761, "reason": "复核"},
                         method="put")
    assert adjusted.status_code == 200 and adjusted.json()["others"] == 18639
    assert Target.objects.get(region_code="421321", benefit_year=2023).total == 643118 + 51
    bad = post_json(client, "/api/progress/targets/421321101/2023", {"total": 1, "reason": ""}, method="put")
    assert bad.status_code == 400 and "原因" in bad.json()["detail"]


def test_target_import_errors_are_400_with_rows(client, login):
    seed_regions()
    login(region="421223")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("t.csv", "村名,应参保人数\n白马,10\n不存在村,5\n".encode())
    response = client.post("/api/progress/targets/import", {"file": upload, "benefit_year": 2024})
    assert response.status_code == 400 and "第3行" in response.json()["detail"]


def test_collectors_may_not_manage_targets(client, login, county):
    login("village_collector", b.DONGCUN)
    response = post_json(client, f"/api/progress/targets/{b.DONGCUN}/2025", {"total": 9, "reason": "x"}, method="put")
    assert response.status_code == 403


def test_remind_list_and_marks(client, login, county):
    login("village_collector", b.DONGCUN)
    data = client.get("/api/remind", {"village": b.DONGCUN, "year": 2025}).json()
    assert data["count"] == 2 and [p["name"] for p in data["people"]] == ["乙", "丁"]
    assert data["people"][1]["phone"] == "13900000004" and data["people"][0]["household_number"] == "H1"
    marked = post_json(client, f"/api/remind/{county['b'].pk}/marks", {"benefit_year": 2025, "outcome": "contacted",
                                                                      "note": "电话已通知"})
    assert marked.status_code == 201 and marked.json()["outcome_label"] == "已联系"
    died = post_json(client, f"/api/remind/{county['d'].pk}/marks", {"benefit_year": 2025, "outcome": "deceased"})
    assert died.status_code == 400 and "须填写说明" in died.json()["detail"]
    assert client.get("/api/remind", {"village": b.XICUN, "year": 2025}).status_code == 403
    foreign = post_json(client, f"/api/remind/{county['e'].pk}/marks", {"benefit_year": 2025, "outcome": "contacted"})
    assert foreign.status_code == 403 and RemindMark.objects.count() == 1


def test_report_and_remind_downloads(client, login, county):
    login("township_officer", b.LIUCHENG)
    xlsx = client.get("/api/progress/reports/weekly.xlsx", {"year": 2025})
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    pdf = client.get("/api/progress/reports/biweekly.pdf", {"year": 2025})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    remind = client.get("/api/remind/export.xlsx", {"village": b.DONGCUN, "year": 2025})
    assert remind.status_code == 200 and remind.content.startswith(b"PK")
    assert client.get("/api/progress/reports/weekly.doc", {"year": 2025}).status_code == 404


def test_refresh_queues_a_job_for_the_users_county(client, login, county):
    login("township_officer", b.LIUCHENG)
    response = post_json(client, "/api/progress/refresh", {"benefit_year": 2025})
    assert response.status_code == 202 and response.json()["status"] == "succeeded"  # tasks run inline in tests
    assert post_json(client, "/api/progress/refresh", {"county_code": "421223", "benefit_year": 2025}).status_code == 403
