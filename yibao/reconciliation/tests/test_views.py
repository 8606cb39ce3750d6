"""Pages: runs and the monthly check, starting a run, its mismatches, the export and cash handovers."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from python_calamine import CalamineWorkbook

from yibao.core.idnumber import mask_id_number
from yibao.reconciliation.models import CashHandover, Mismatch, ReconciliationRun
from yibao.reconciliation.tests import factories as f

pytestmark = pytest.mark.django_db

AS_OF = "2024-11-30"


@pytest.fixture
def setup(make_user, tmp_path):
    campaign = f.world()
    li = make_user("li", role="village_collector", region_code=f.VILLAGE, display_name="李征收")
    a, b, c = f.person(name="甲"), f.person(name="乙", village=f.VILLAGE_3), f.person(name="丙")
    paid = f.payment(campaign, a)
    unpaid = f.payment(campaign, b, source="counter", channel="cash", collector_name="河溜收款员")
    cash = f.payment(campaign, c, source="counter", channel="cash", collector=li, collector_name="李征收")
    f.receipt([cash])
    rows = [f.tax_row(paid), f.tax_row(cash), f.tax_row(None, 缴费流水号="SW-1")]
    csv_bytes = f.tax_file(tmp_path / "tax.csv", rows).read_bytes()
    return {"campaign": campaign, "li": li, "people": (a, b, c), "csv": csv_bytes, "unpaid": unpaid}


def upload(client, csv_bytes, name="税务明细.csv", **data):
    payload = {"benefit_year": f.YEAR, "as_of": AS_OF, "cash_grace_days": 1,
               "tax_file": SimpleUploadedFile(name, csv_bytes, content_type="text/csv")}
    payload.update(data)
    return client.post("/reconciliation/new/", payload)


def login(client, make_user, role="tax_officer", region=f.COUNTY, name="tax"):
    user = make_user(name, role=role, region_code=region, display_name=f"{name}姓名")
    client.force_login(user)
    return user


def test_start_a_run_shows_progress_and_links_to_the_result(client, make_user, setup):
    login(client, make_user)
    form = client.get("/reconciliation/new/")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.content.decode()
    response = upload(client, setup["csv"])
    assert response.status_code == 302
    run = ReconciliationRun.objects.get()
    assert response["Location"] == f"/reconciliation/new/?job={run.job_id}"
    page = client.get(response["Location"]).content.decode()
    assert f'id="job-{run.job_id}"' in page and "<progress" in page  # core/_job_progress.html
    assert f"/reconciliation/runs/{run.pk}/" in page and f"{run.mismatch_total} 条差异" in page
    assert run.tax_file_name == "税务明细.csv" and run.created_by_name == "tax姓名"
    link = client.get(f"/reconciliation/jobs/{run.job_id}/run").content.decode()
    assert 'id="open-run"' in link and "hx-get" not in link  # finished: the partial stops polling


def test_start_form_refuses_other_files_and_roles(client, make_user, setup):
    login(client, make_user)
    response = upload(client, b"%PDF-1.4", name="明细.pdf")
    assert response.status_code == 200 and "不支持的文件类型" in response.content.decode()
    assert not ReconciliationRun.objects.exists()
    client.force_login(make_user("town", role="township_officer", region_code=f.TOWN))
    assert client.get("/reconciliation/new/").status_code == 403
    assert upload(client, setup["csv"]).status_code == 403


def test_runs_page_shows_the_months_that_fall_short(client, make_user, setup):
    login(client, make_user)
    upload(client, setup["csv"])
    page = client.get(f"/reconciliation/?year={f.YEAR}").content.decode()
    assert "每月对账次数" in page and "按默认每月 2 次" in page
    # the campaign ran 2024-09 .. 2024-12: all past months had fewer than two reconciliations
    assert 'data-month="2024-09" data-status="short"' in page
    assert "有 4 个月对账次数不足" in page
    run = ReconciliationRun.objects.get()
    assert f"/reconciliation/runs/{run.pk}/" in page and f"第{run.pk}次" in page


def test_run_detail_counts_filters_and_scope(client, make_user, setup):
    login(client, make_user)
    upload(client, setup["csv"])
    run = ReconciliationRun.objects.get()
    page = client.get(f"/reconciliation/runs/{run.pk}/").content.decode()
    assert 'data-kind="paid_not_booked"' in page and "已入账未到账" in page
    assert "村征收员 河溜收款员" in page and "医保经办" in page
    only = client.get(f"/reconciliation/runs/{run.pk}/", {"kind": "booked_not_paid"}).content.decode()
    assert "河溜收款员" in only and "查无此身份证号码" not in only
    by_region = client.get(f"/reconciliation/runs/{run.pk}/", {"region": f.VILLAGE}).content.decode()
    assert "河溜收款员" not in by_region.split('id="mismatches"')[1]
    # a township officer of 城关镇 sees none of 河溜镇's mismatches
    client.force_login(make_user("town", role="township_officer", region_code=f.TOWN))
    town_page = client.get(f"/reconciliation/runs/{run.pk}/").content.decode()
    assert "河溜收款员" not in town_page and setup["people"][1].name not in town_page
    assert client.get(f"/reconciliation/runs/{run.pk}/", {"region": f.VILLAGE_3}).status_code == 403
    # a village collector sees the mismatches of their own village, with the ones that name them
    client.force_login(make_user("heliu", role="village_collector", region_code=f.VILLAGE_3))
    own = client.get(f"/reconciliation/runs/{run.pk}/").content.decode()
    assert "村征收员 河溜收款员" in own and setup["people"][1].name in own
    assert "查无此身份证号码" not in own and "李征收" not in own
    assert "差异（本辖区）" in own and "各方金额（全县）" in own  # the money figures are the county's, and say so
    client.force_login(make_user("li2", role="village_collector", region_code=f.VILLAGE))
    assert "河溜收款员" not in client.get(f"/reconciliation/runs/{run.pk}/").content.decode()
    assert client.get(f"/reconciliation/runs/{run.pk}/", {"region": f.VILLAGE_3}).status_code == 403
    assert client.get("/reconciliation/new/").status_code == 403  # seeing is not running


def test_export_has_every_mismatch_and_masks_ids_for_auditors(client, make_user, setup):
    login(client, make_user)
    upload(client, setup["csv"])
    run = ReconciliationRun.objects.get()
    response = client.get(f"/reconciliation/runs/{run.pk}/export.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    assert book.sheet_names == ["汇总", "差异明细"]
    lines = book.get_sheet_by_name("差异明细").to_python()
    assert lines[0][0] == "差异类型" and len(lines) - 1 == run.mismatch_total
    unpaid_id = setup["unpaid"].id_number
    assert any(unpaid_id in row for row in lines)
    client.force_login(make_user("aud", role="auditor", region_code=f.COUNTY))
    masked = client.get(f"/reconciliation/runs/{run.pk}/export.xlsx", {"kind": "booked_not_paid"})
    cells = [c for row in CalamineWorkbook.from_filelike(io.BytesIO(b"".join(masked.streaming_content)))
             .get_sheet_by_name("差异明细").to_python() for c in row]
    assert unpaid_id not in cells and mask_id_number(unpaid_id) in cells


def test_error_report_download(client, make_user, setup):
    login(client, make_user)
    upload(client, setup["csv"] + "坏行,123,400\n".encode())
    run = ReconciliationRun.objects.get()
    assert run.inputs["tax"]["rejected"] == 1
    response = client.get(f"/reconciliation/runs/{run.pk}/errors.xlsx")
    assert response.status_code == 200
    assert "下载错误报告" in client.get(f"/reconciliation/runs/{run.pk}/").content.decode()
    # the tax file's bad rows quote the whole county: a township account may not download them
    client.force_login(make_user("town", role="township_officer", region_code=f.TOWN))
    assert client.get(f"/reconciliation/runs/{run.pk}/errors.xlsx").status_code == 403
    assert "下载错误报告" not in client.get(f"/reconciliation/runs/{run.pk}/").content.decode()


def test_township_records_and_voids_a_handover(client, make_user, setup):
    town = login(client, make_user, role="township_officer", region=f.TOWN, name="town")
    page = client.get("/reconciliation/handovers/").content.decode()
    assert 'id="handover-form"' in page and "李征收" in page  # the summary lists the collector's cash
    response = client.post("/reconciliation/handovers/", {
        "benefit_year": f.YEAR, "collector": f"u{setup['li'].pk}", "village_code": f.VILLAGE,
        "period_start": "2024-10-01", "period_end": "2024-10-08", "handed_on": "2024-10-09", "amount": "400.00",
        "note": "第一次交款",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    handover = CashHandover.objects.get()
    assert (handover.collector_id, handover.amount, handover.received_by_id) == (setup["li"].pk, Decimal("400.00"), town.pk)
    bad = client.post("/reconciliation/handovers/", {
        "benefit_year": f.YEAR, "collector": f"u{setup['li'].pk}", "village_code": f.VILLAGE,
        "period_start": "2024-10-05", "period_end": "2024-10-10", "handed_on": "2024-10-11", "amount": "1",
    })
    assert bad.status_code == 200 and "部分重叠" in bad.content.decode()
    unknown = client.post("/reconciliation/handovers/", {
        "benefit_year": f.YEAR, "collector": "", "collector_name": "没这人", "village_code": f.VILLAGE,
        "period_start": "2024-10-10", "period_end": "2024-10-10", "handed_on": "2024-10-11", "amount": "1",
    })
    assert unknown.status_code == 200 and "找不到征收员“没这人”" in unknown.content.decode()
    assert CashHandover.objects.count() == 1
    client.post(f"/reconciliation/handovers/{handover.pk}/void/", {"reason": "登记错了"})
    handover.refresh_from_db()
    assert handover.voided_at is not None and handover.void_reason == "登记错了"


def test_collector_sees_handovers_but_cannot_record(client, make_user, setup):
    client.force_login(setup["li"])
    page = client.get("/reconciliation/handovers/")
    assert page.status_code == 200 and 'id="handover-form"' not in page.content.decode()
    summary = page.content.decode().split('id="cash-summary"')[1].split("</table>")[0]
    assert "<td>城关镇 / 东村</td>" in summary and f.VILLAGE not in summary  # the village by name, not by code
    response = client.post("/reconciliation/handovers/", {
        "benefit_year": f.YEAR, "collector_name": "李征收", "village_code": f.VILLAGE, "period_start": "2024-10-01",
        "period_end": "2024-10-08", "handed_on": "2024-10-09", "amount": "400.00",
    })
    assert response.status_code == 403 and not CashHandover.objects.exists()
    assert client.get("/reconciliation/").status_code == 200  # the runs, to see their own village's mismatches


def test_a_village_sees_the_changes_since_the_last_run_of_its_own_mismatches(client, make_user, setup):
    login(client, make_user)
    upload(client, setup["csv"])
    upload(client, setup["csv"])
    first, second = ReconciliationRun.objects.order_by("pk")
    assert second.changes["previous"] == first.pk and second.changes["persisting"] == second.mismatch_total > 1
    client.force_login(make_user("heliu", role="village_collector", region_code=f.VILLAGE_3))
    page = client.get(f"/reconciliation/runs/{second.pk}/").content.decode()
    own = Mismatch.objects.filter(run=second, village_code=f.VILLAGE_3).count()
    assert 0 < own < second.mismatch_total
    assert "本辖区与上次" in page and "新增差异 <strong>0</strong>" in page and f"仍未解决 {own} 条" in page
    client.force_login(make_user("county", role="county_admin", region_code=f.COUNTY))
    county = client.get(f"/reconciliation/runs/{second.pk}/").content.decode()
    assert "本辖区与上次" not in county and f"仍未解决 {second.mismatch_total} 条" in county


def test_export_and_run_page_name_regions_beside_their_codes(client, make_user, setup):
    from urllib.parse import unquote

    login(client, make_user)
    upload(client, setup["csv"])
    run = ReconciliationRun.objects.get()
    response = client.get(f"/reconciliation/runs/{run.pk}/export.xlsx")
    name = unquote(response["Content-Disposition"].split("filename*=utf-8''", 1)[-1].split("filename*=UTF-8''", 1)[-1])
    assert name.startswith(f"怀远县-{f.COUNTY}-对账差异-{f.YEAR}-") and name.endswith(f"第{run.pk}次.xlsx")
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    assert book.get_sheet_by_name("汇总").to_python()[0][0].startswith(f"怀远县（{f.COUNTY}）")
    lines = book.get_sheet_by_name("差异明细").to_python()
    header = lines[0]
    assert header[3:7] == ["乡镇区划代码", "乡镇（街道）", "村（社区）区划代码", "村（社区）"]
    unpaid = next(r for r in lines[1:] if r[5] == f.VILLAGE_3)
    assert unpaid[3:7] == [f.TOWN_2, "河溜镇", f.VILLAGE_3, "河溜村"]
    page = client.get(f"/reconciliation/runs/{run.pk}/").content.decode()
    assert f"怀远县（{f.COUNTY}）" in page and run.tax_file_sha256[:12] not in page
