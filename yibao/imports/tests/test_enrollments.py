"""历年参保名单 (上年参保名单 from the national platform): the `enrollments` import kind."""

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.jobs import job_run
from yibao.core.models import Event, Job
from yibao.enrollment.models import Campaign, Enrollment, EnrollmentClaim
from yibao.imports import services
from yibao.imports.readers import ImportFileError
from yibao.imports.reports import report_read
from yibao.imports.tests.conftest import COUNTY, OTHER_COUNTY, OTHER_VILLAGE, RESIDENT_HEADER, make_id, write_csv, write_xlsx
from yibao.imports.tests.roster import roster_import, write_roster
from yibao.registry.models import Resident


@pytest.fixture
def people(imported_family):
    rows, _result = imported_family
    return {key: Resident.objects.get(id_number=row[0]) for key, row in zip(("head", "wife", "son", "single"), rows)}


def roster(people):
    head, wife, son, single = people["head"], people["wife"], people["son"], people["single"]
    return [
        [head.id_number, head.name, "2024", "正常参保", "2024-01-01", "2024-12-31", "380", "390"],
        [wife.id_number, wife.name, "2024年度", "2", "", "", "380.00", "城乡居民基本医疗保险"],
        [son.id_number, son.name, 2024, "3", "2024-01-01", "2024-06-30", "", "390"],
        [single.id_number, single.name, 2024, "1", "", "", "380", "392"],  # 大病保险: skipped
        [single.id_number, single.name, 2024, "参保缴费", "", "", "380", "390-城乡居民基本医疗保险"],
    ]


def test_roster_becomes_last_years_enrollments_under_a_history_campaign(people, tmp_path):
    result = roster_import(tmp_path, roster(people))
    assert result == {"rows": 5, "imported": 4, "updated": 0, "unchanged": 0, "rejected": 0, "warnings": 0,
                      "skipped": 1, "campaigns": 1, "years": [2024], "report": result["report"]}
    campaign = Campaign.objects.get(county_code=COUNTY, benefit_year=2024)
    assert campaign.imported and campaign.status == Campaign.Status.CLOSED
    assert (campaign.policy_id, campaign.policy_version) == ("", "")
    rows = {e.resident_id: e for e in Enrollment.objects.filter(campaign=campaign)}
    head, wife, son, single = (rows[people[k].pk] for k in ("head", "wife", "son", "single"))
    assert {e.kind for e in rows.values()} == {"first"}
    assert (head.status, head.benefit_start, head.benefit_end) == ("paid", dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert head.status_reason == "历年参保名单导入：正常参保，缴费 380.00 元" and len(head.import_hash) == 32
    assert (wife.status, wife.benefit_start, wife.benefit_end) == ("suspended", dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert (son.status, son.benefit_end) == ("terminated", dt.date(2024, 6, 30))
    assert single.status == "paid" and single.village_code == people["single"].village_code
    # live rows hold the year's cross-county claim, the others don't
    claims = set(EnrollmentClaim.objects.filter(released_at__isnull=True).values_list("enrollment_id", flat=True))
    assert claims == {head.pk, single.pk}
    assert Event.objects.filter(entity="campaign", action="history_created").count() == 1
    skipped = [line for line in report_read(result["report"]) if line["sheet"] == "跳过（未导入）"]
    assert [(line["行号"], line["列"]) for line in skipped] == [(5, "险种类型")]
    assert "城乡居民大病医疗保险（392）" in skipped[0]["原因"]


def test_the_same_roster_again_changes_nothing(people, tmp_path):
    roster_import(tmp_path, roster(people))
    before = list(Enrollment.objects.order_by("pk").values())
    claims = list(EnrollmentClaim.objects.order_by("pk").values())
    events = Event.objects.count()
    again = roster_import(tmp_path, roster(people), name="again.csv")
    assert (again["imported"], again["updated"], again["unchanged"], again["campaigns"]) == (0, 0, 4, 0)
    assert list(Enrollment.objects.order_by("pk").values()) == before
    assert list(EnrollmentClaim.objects.order_by("pk").values()) == claims
    assert Event.objects.count() == events


def test_a_changed_status_updates_the_row_writes_an_event_and_moves_the_claim(people, tmp_path):
    roster_import(tmp_path, roster(people))
    rows = roster(people)
    rows[0][3] = "暂停参保"  # head: 正常 → 暂停
    rows[1][3] = "正常参保"  # wife: 暂停 → 正常
    result = roster_import(tmp_path, rows, name="changed.csv")
    assert (result["imported"], result["updated"], result["unchanged"]) == (0, 2, 2)
    head = Enrollment.objects.get(resident=people["head"], benefit_year=2024)
    wife = Enrollment.objects.get(resident=people["wife"], benefit_year=2024)
    assert (head.status, wife.status) == ("suspended", "paid")
    event = Event.objects.get(entity="enrollment", entity_id=str(head.pk), action="import_update")
    assert event.before["status"] == "paid" and event.after["status"] == "suspended"
    assert "历年参保名单导入" in event.reason and event.actor_name == "测试"
    live = set(EnrollmentClaim.objects.filter(released_at__isnull=True).values_list("enrollment_id", flat=True))
    assert head.pk not in live and wife.pk in live
    assert EnrollmentClaim.objects.filter(enrollment_id=head.pk, released_at__isnull=False).exists()


def test_a_status_changed_in_yibao_survives_the_same_file(people, tmp_path):
    """A 催缴 mark suspends last year's cover; importing the unchanged roster again does not undo it."""
    from yibao.enrollment.services import enrollment_suspend

    roster_import(tmp_path, roster(people))
    head = Enrollment.objects.get(resident=people["head"], benefit_year=2024)
    enrollment_suspend(enrollment=head, actor="测试", reason="迁往合肥")
    again = roster_import(tmp_path, roster(people), name="again.csv")
    assert again["updated"] == 0
    assert Enrollment.objects.get(pk=head.pk).status == "suspended"


def test_bad_rows_are_rejected_with_chinese_reasons(people, tmp_path):
    head, wife, son = people["head"], people["wife"], people["son"]
    stranger = make_id(dt.date(1970, 1, 1), 55)
    bad_check = head.id_number[:17] + ("0" if head.id_number[17] != "0" else "1")
    rows = [
        [stranger, "外人", 2024, "正常参保", "", "", "", "390"],
        [bad_check, head.name, 2024, "正常参保", "", "", "", "390"],
        [head.id_number, head.name, "24", "正常参保", "", "", "", "390"],
        [wife.id_number, wife.name, 2024, "4", "", "", "", "390"],
        [son.id_number, son.name, 2024, "正常参保", "2024-06-01", "2024-01-01", "-5", "390"],
        [son.id_number, "张小三", 2023, "正常参保", "", "", "", "五险一金"],
        [people["single"].id_number, "赵一人", 2024, "正常参保", "", "", "", "390"],
        [people["single"].id_number, "赵一人", 2024, "暂停参保", "", "", "", "390"],
    ]
    result = roster_import(tmp_path, rows)
    assert (result["imported"], result["rejected"]) == (0, 8)
    reasons = {(line["行号"], line["列"]): line["原因"] for line in report_read(result["report"])}
    assert "本县（340321）户籍库中没有该身份证号码：请先导入户籍名单" in reasons[(2, "公民身份号码")]
    assert "校验位错误" in reasons[(3, "公民身份号码")]
    assert reasons[(4, "参保年度")] == "参保年度应为四位年份，如 2024 或 2024年度"
    assert "未知的参保状态“4”" in reasons[(5, "参保状态")]
    assert reasons[(6, "待遇终止日期")] == "待遇终止日期早于待遇开始日期"
    assert reasons[(6, "缴费金额")] == "缴费金额不能为负数"
    assert "无法识别的险种类型“五险一金”" in reasons[(7, "险种类型")]
    assert "同一人同一年度在文件中出现多次且内容不一致（第8、9行）" in reasons[(8, "公民身份号码")]
    assert not Enrollment.objects.exists() and not Campaign.objects.exists()


def test_years_opened_in_yibao_are_refused(people, tmp_path):
    from yibao.enrollment.tests.factories import campaign

    campaign(county=COUNTY)  # 怀远县 2025, opened in Yibao
    head = people["head"]
    with pytest.raises(ImportFileError, match="2025年度已在本系统开启征缴（政策 anhui-huaiyuan-2025）"):
        roster_import(tmp_path, [[head.id_number, head.name, 2025, "正常参保", "", "", "", "390"]])
    assert not Enrollment.objects.exists()
    rows = [
        [head.id_number, head.name, 2024, "正常参保", "", "", "", "390"],
        [head.id_number, head.name, 2025, "正常参保", "", "", "", "390"],
        [head.id_number, head.name, 2026, "正常参保", "", "", "", "390"],
    ]
    result = roster_import(tmp_path, rows, name="mixed.csv")
    assert (result["imported"], result["rejected"], result["years"]) == (1, 2, [2024])
    reasons = {line["行号"]: line["原因"] for line in report_read(result["report"])}
    assert "参保记录以本系统为准，不能导入历史名单" in reasons[3]
    assert "2026年度晚于本系统开启征缴的2025年度" in reasons[4]


def test_a_person_live_in_another_county_that_year_is_rejected(people, tmp_path):
    head = people["head"]
    write = write_csv(tmp_path / "wuhe.csv", RESIDENT_HEADER,
                      [[head.id_number, head.name, "男", "", "W1", "户主", OTHER_VILLAGE, ""]])
    services.residents_import(path=write, county_code=OTHER_COUNTY, actor="测试")
    assert roster_import(tmp_path, [[head.id_number, head.name, 2024, "正常参保", "", "", "", "390"]],
                         county=OTHER_COUNTY, name="wuhe-roster.csv")["imported"] == 1
    result = roster_import(tmp_path, [[head.id_number, head.name, 2024, "正常参保", "", "", "", "390"],
                                      [head.id_number, head.name, 2023, "正常参保", "", "", "", "390"]])
    assert (result["imported"], result["rejected"]) == (1, 1)
    line = report_read(result["report"])[0]
    assert line["行号"] == 2 and "2024年度已在五河县参保，同一年度不能在两地参保" in line["原因"]  # named, not by code
    assert EnrollmentClaim.objects.filter(benefit_year=2024, released_at__isnull=True).count() == 1


def test_xlsx_with_national_codes_and_a_title_row(people, tmp_path):
    head, wife = people["head"], people["wife"]
    path = write_xlsx(
        tmp_path / "国家平台导出.xlsx",
        ["证件号码", "姓名", "待遇年度", "人员参保状态", "待遇开始日期", "待遇终止日期", "个人缴费金额", "险种类型"],
        [[head.id_number, head.name, 2024, 1, dt.date(2024, 1, 1), dt.date(2024, 12, 31), 380, 390],
         [wife.id_number, wife.name, 2023, 2, "", "", 350.5, 390]],
        title="2024年度城乡居民医保参保人员名单",
    )
    result = services.enrollments_import(path=path, county_code=COUNTY, actor="测试")
    assert (result["imported"], result["rejected"], result["years"], result["campaigns"]) == (2, 0, [2023, 2024], 2)
    wife_2023 = Enrollment.objects.get(resident=wife, benefit_year=2023)
    assert wife_2023.status == "suspended" and wife_2023.status_reason.endswith("缴费 350.50 元")
    assert set(Campaign.objects.values_list("benefit_year", "imported")) == {(2023, True), (2024, True)}


def test_the_job_records_the_import_and_its_counts(people, tmp_path):
    path = write_roster(tmp_path / "上年参保名单.csv", roster(people))
    job = services.import_job_create(kind="enrollments", path=path, county_code=COUNTY, actor="测试")
    job = job_run(job)
    assert job.status == Job.Status.SUCCEEDED and job.kind_label == "历年参保名单导入"
    assert job.result["imported"] == 4 and job.result["years"] == [2024] and job.input_sha256


def test_cli_import_enrollments_as_json(people, tmp_path):
    runner = CliRunner()
    path = write_roster(tmp_path / "上年参保名单.csv", roster(people))
    result = runner.invoke(app, ["import", "enrollments", str(path), "--county", COUNTY, "--json"])
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert {k: body[k] for k in ("rows", "imported", "updated", "unchanged", "rejected", "warnings", "skipped",
                                 "campaigns", "years")} == {
        "rows": 5, "imported": 4, "updated": 0, "unchanged": 0, "rejected": 0, "warnings": 0, "skipped": 1,
        "campaigns": 1, "years": [2024]}
    assert body["job"] == Job.objects.get(kind="import_enrollments").pk
    text = runner.invoke(app, ["import", "enrollments", str(path), "--county", COUNTY, "--quiet"])
    assert text.exit_code == 0 and "历年参保名单（任务 #" in text.stdout and "未变 4" in text.stdout
    only_2025 = write_roster(tmp_path / "2025.csv", [[people["head"].id_number, "张大山", 2030, "正常参保", "", "", "", ""]])
    refused = runner.invoke(app, ["import", "enrollments", str(only_2025), "--county", COUNTY, "--json"])
    assert refused.exit_code == 1 and "导入失败" in refused.stderr and "参保年度 2030" in refused.stderr
    assert refused.stdout == ""


def test_api_starts_the_import_and_only_county_admins_may(client, staff, people, tmp_path):
    path = write_roster(tmp_path / "上年参保名单.csv", roster(people))
    client.force_login(staff["township_officer"])
    with open(path, "rb") as fh:
        assert client.post("/api/imports/jobs", {"file": fh, "kind": "enrollments"}).status_code == 403
    client.force_login(staff["county_admin"])
    with open(path, "rb") as fh:
        response = client.post("/api/imports/jobs", {"file": fh, "kind": "enrollments"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "enrollments" and body["kind_label"] == "历年参保名单导入" and body["county_code"] == COUNTY
    assert body["result"]["imported"] == 4 and body["result"]["skipped"] == 1
    listing = client.get("/api/imports/jobs", {"kind": "enrollments"}).json()
    assert [j["id"] for j in listing["items"]] == [body["id"]]


def test_upload_page_and_history(client, staff, people, tmp_path):
    client.force_login(staff["county_admin"])
    assert "导入历年参保名单" in client.get("/imports/").content.decode()
    form = client.get("/imports/new/enrollments/").content.decode()
    assert "参保年度" in form and "待遇年度" in form and "险种类型" in form and "390" in form
    path = write_roster(tmp_path / "上年参保名单.csv", roster(people))
    with open(path, "rb") as fh:
        response = client.post("/imports/new/enrollments/", {"file": fh, "county_code": COUNTY})
    assert response.status_code == 302
    job = Job.objects.get(kind="import_enrollments")
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "历年参保名单导入" in page and "跳过" in page and "城乡居民大病医疗保险" in page
    assert "上年参保名单.csv" in client.get("/imports/", {"kind": "enrollments"}).content.decode()
    history = Campaign.objects.get(county_code=COUNTY, benefit_year=2024)
    campaign_page = client.get(f"/enrollment/campaigns/{history.pk}/").content.decode()
    assert f'href="/imports/{job.pk}/"' in campaign_page and "上年参保名单.csv" in campaign_page
    template = client.get("/imports/template/enrollments.xlsx")
    assert template.status_code == 200 and template.content.startswith(b"PK")
    client.force_login(staff["department_clerk"])
    assert client.get("/imports/new/enrollments/").status_code == 403


def test_roster_enrollments_are_registered_on_the_business_day(people, tmp_path, settings):
    """登记时间 of an imported enrollment is the business day (YIBAO_TODAY), not the wall clock."""
    from django.utils import timezone

    settings.YIBAO_TODAY = "2024-10-08"
    assert timezone.localdate() != dt.date(2024, 10, 8)  # the test means something only off the real calendar
    roster_import(tmp_path, roster(people))
    days = {timezone.localtime(e.registered_at).date() for e in Enrollment.objects.filter(benefit_year=2024)}
    assert days == {dt.date(2024, 10, 8)}
