"""API: start a run, follow its job, read mismatches and the monthly check, record cash handovers."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yibao.reconciliation.models import CashHandover, ReconciliationRun
from yibao.reconciliation.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(make_user, tmp_path):
    campaign = f.world()
    a, b = f.person(name="甲"), f.person(name="乙", village=f.VILLAGE_3)
    paid = f.payment(campaign, a, amount="380.00")
    f.payment(campaign, b, source="counter", channel="cash", collector_name="河溜收款员")
    csv_bytes = f.tax_file(tmp_path / "tax.csv", [f.tax_row(paid, **{"实缴金额（元）": "400"})]).read_bytes()
    return {"csv": csv_bytes, "people": (a, b)}


def start(client, csv_bytes, **data):
    return client.post("/api/reconciliation/runs", {
        "benefit_year": f.YEAR, "as_of": "2024-11-30", **data,
        "tax_file": SimpleUploadedFile("tax.csv", csv_bytes, content_type="text/csv"),
    })


def test_start_a_run_then_read_it(client, make_user, setup):
    client.force_login(make_user("tax", role="tax_officer", region_code=f.COUNTY))
    response = start(client, setup["csv"])
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "succeeded" and job["percent"] == 100 and job["run_id"]
    assert client.get(f"/api/reconciliation/jobs/{job['job_id']}").json()["run_id"] == job["run_id"]

    detail = client.get(f"/api/reconciliation/runs/{job['run_id']}").json()
    counts = {c["kind"]: c["count"] for c in detail["counts"]}
    assert counts["amount_differs"] == 1 and counts["booked_not_paid"] == 1 and counts["payment_without_receipt"] == 1
    assert detail["totals"]["tax"] == "400.00" and detail["mismatches"] == sum(counts.values())

    page = client.get(f"/api/reconciliation/runs/{job['run_id']}/mismatches", {"kind": "amount_differs"}).json()
    assert page["count"] == 1
    item = page["items"][0]
    assert (item["tax_amount"], item["yibao_amount"], item["difference"], item["responsible"]) == ("400.00", "380.00", "-20.00", "tax")
    assert item["id_number"] == setup["people"][0].id_number and item["new"] is True
    by_region = client.get(f"/api/reconciliation/runs/{job['run_id']}/mismatches", {"region": f.VILLAGE_3}).json()
    assert {i["village_code"] for i in by_region["items"]} == {f.VILLAGE_3}
    assert {i["kind"] for i in by_region["items"]} == {"booked_not_paid", "payment_without_receipt", "cash_short"}

    runs = client.get("/api/reconciliation/runs", {"year": f.YEAR}).json()
    assert runs["count"] == 1 and runs["items"][0]["id"] == job["run_id"]


def test_start_refuses_bad_input_in_chinese(client, make_user, setup):
    client.force_login(make_user("tax", role="tax_officer", region_code=f.COUNTY))
    response = start(client, setup["csv"], benefit_year=2030)
    assert response.status_code == 400 and "尚未开启征缴" in response.json()["detail"]
    missing = client.post("/api/reconciliation/runs", {"benefit_year": f.YEAR})
    assert missing.status_code == 422 and "tax_file" in missing.json()["detail"]
    client.force_login(make_user("town", role="township_officer", region_code=f.TOWN))
    assert start(client, setup["csv"]).status_code == 403
    assert not ReconciliationRun.objects.exists()


def test_failed_job_reports_its_error(client, make_user, setup):
    client.force_login(make_user("tax", role="tax_officer", region_code=f.COUNTY))
    job = start(client, "姓名\n张三\n".encode()).json()
    assert job["status"] == "failed" and "缺少必需的列" in job["error"] and job["run_id"] is None


def test_township_reads_only_its_mismatches(client, make_user, setup):
    client.force_login(make_user("tax", role="tax_officer", region_code=f.COUNTY))
    run_id = start(client, setup["csv"]).json()["run_id"]
    client.force_login(make_user("town", role="township_officer", region_code=f.TOWN))
    items = client.get(f"/api/reconciliation/runs/{run_id}/mismatches").json()["items"]
    assert {i["person_name"] for i in items} == {"甲"}
    assert client.get(f"/api/reconciliation/runs/{run_id}/mismatches", {"region": f.VILLAGE_3}).status_code == 403
    client.force_login(make_user("other", role="tax_officer", region_code="421223"))
    assert client.get(f"/api/reconciliation/runs/{run_id}").status_code == 403


def test_calendar(client, make_user, setup):
    client.force_login(make_user("aud", role="auditor", region_code=f.COUNTY))
    body = client.get("/api/reconciliation/calendar", {"year": f.YEAR}).json()
    assert body["required"] == 2 and body["required_source"] == "default"
    assert [m["month"] for m in body["months"]] == ["2024-09", "2024-10", "2024-11", "2024-12"]
    assert body["short_months"] == 4


def test_handovers_record_list_and_void(client, make_user, setup):
    li = make_user("li", role="village_collector", region_code=f.VILLAGE, display_name="李征收")
    client.force_login(make_user("town", role="township_officer", region_code=f.TOWN, display_name="镇经办"))
    payload = {"village_code": f.VILLAGE, "benefit_year": f.YEAR, "collector_id": li.pk, "period_start": "2024-10-01",
               "period_end": "2024-10-07", "handed_on": "2024-10-08", "amount": 1200.5}
    response = client.post("/api/reconciliation/handovers", json.dumps(payload), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["collector_name"], body["amount"], body["received_by_name"]) == ("李征收", "1200.50", "镇经办")
    bad = client.post("/api/reconciliation/handovers", json.dumps({**payload, "amount": -1}), content_type="application/json")
    assert bad.status_code == 422 and "金额应在 0 至 99999999.99 元之间" in bad.json()["detail"]
    listed = client.get("/api/reconciliation/handovers", {"year": f.YEAR}).json()
    assert listed["count"] == 1
    void = client.post(f"/api/reconciliation/handovers/{body['id']}/void", json.dumps({"reason": "重复登记"}),
                       content_type="application/json")
    assert void.status_code == 200 and void.json()["voided"] is True
    by_name = client.post("/api/reconciliation/handovers", json.dumps({**payload, "collector_id": None,
                          "collector_name": "李征收"}), content_type="application/json")
    assert by_name.status_code == 201 and by_name.json()["collector_id"] == li.pk  # linked to the account
    crossing = client.post("/api/reconciliation/handovers", json.dumps({
        **payload, "collector_id": None, "collector_name": "li", "period_start": "2024-10-07", "period_end": "2024-10-08",
        "handed_on": "2024-10-08"}), content_type="application/json")
    assert crossing.status_code == 400 and "部分重叠" in crossing.json()["detail"]
    unknown = client.post("/api/reconciliation/handovers", json.dumps({**payload, "collector_id": None,
                          "collector_name": "没这人"}), content_type="application/json")
    assert unknown.status_code == 400 and "找不到征收员" in unknown.json()["detail"]
    CashHandover.objects.filter(collector=li, voided_at__isnull=True).delete()
    client.force_login(li)
    denied = client.post("/api/reconciliation/handovers", json.dumps({**payload, "collector_id": None,
                         "collector_name": "李征收"}), content_type="application/json")
    assert denied.status_code == 403 and CashHandover.objects.count() == 1


def test_run_detail_counts_the_changes_within_the_users_area(client, make_user, tmp_path):
    """A village collector's API answer counts new, resolved and persisting mismatches of its village only."""
    import datetime as dt

    from yibao.reconciliation import services
    from yibao.reconciliation.models import Mismatch

    campaign = f.world()
    heliu = f.person(name="河溜人", village=f.VILLAGE_3)
    f.payment(campaign, heliu, source="counter", channel="cash", collector_name="河溜收款员")
    f.payment(campaign, f.person(name="城关人"), source="counter", channel="cash", collector_name="城关收款员")
    tax = f.tax_file(tmp_path / "tax.csv", [f.tax_row(None, 缴费流水号="SW-1")])
    services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=tax, as_of=dt.date(2024, 11, 30), actor="测试")
    _job, second = services.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=tax, as_of=dt.date(2024, 11, 30),
                                    actor="测试")
    client.force_login(make_user("heliu", role="village_collector", region_code=f.VILLAGE_3))
    body = client.get(f"/api/reconciliation/runs/{second.pk}").json()
    own = Mismatch.objects.filter(run=second, village_code=f.VILLAGE_3)
    assert 0 < own.count() < second.mismatch_total
    assert body["mismatches"] == own.count()
    assert body["changes"]["persisting"] == own.count() and body["changes"]["new"] == 0
    assert body["changes"]["resolved"] == 0 and sum(body["changes"]["new_by_kind"].values()) == 0
