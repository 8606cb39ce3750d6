"""The weekly publication table and the two-weekly report in the seeds' column layouts, as xlsx and PDF."""

import datetime as dt
import io
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from yibao.accounts.scope import Scope
from yibao.collection.models import Payment
from yibao.enrollment.models import Enrollment
from yibao.enrollment.tests import factories as f
from yibao.progress import reports, services
from yibao.progress.tests import builders as b
from yibao.progress.tests.pdftext import pdf_text
from yibao.registry.tests.factories import make_resident, seed_regions

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent / "data"
BAIMA, SUOSHI = "421223200201", "421223200202"


def cells(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def import_table(name: str):
    path = DATA / name
    services.targets_import(actor="测试", content=path.read_bytes(), filename=path.name)


@pytest.fixture
def xiaoling():
    """肖岭乡 2024 with its task table; 白马 has 3 paid on 2023-09-10, 锁石 1 on 2023-10-01."""
    seed_regions()
    import_table("xiaoling_2024_tasks.xlsx")
    campaign = f.campaign(county="421223", policy_id="hubei-chongyang-xiaoling-2024")
    for village, day, n in ((BAIMA, dt.date(2023, 9, 10), 3), (SUOSHI, dt.date(2023, 10, 1), 1)):
        for i in range(n):
            person = make_resident(village, f"村民{village[-2:]}{i}")
            enrollment = Enrollment.objects.create(
                county_code="421223", township_code=village[:9], village_code=village, campaign=campaign,
                benefit_year=2024, resident=person, id_number=person.id_number, kind="first", status="paid",
            )
            Payment.objects.create(
                county_code="421223", township_code=village[:9], village_code=village, campaign=campaign, benefit_year=2024,
                resident=person, enrollment=enrollment, id_number=person.id_number, source="counter", channel="cash",
                external_id=f"X{village}{i}", amount="380.00", paid_at=b.timezone.now(), paid_on=day, status="booked",
            )
    services.progress_refresh(county_code="421223", benefit_year=2024)


def test_weekly_table_keeps_xiaolings_columns_and_adds_progress(xiaoling):
    scope = Scope(role="county_admin", region_code="421223")
    report = reports.weekly_report(scope=scope, region_code="421223200", benefit_year=2024, on=dt.date(2023, 10, 1))
    rows = cells(reports.report_xlsx(report))
    assert rows[0][0] == "肖岭乡2024年度城乡居民医保参保缴费进度公布表"
    assert "截至2023年10月1日" in rows[1][0] and "序时进度" in rows[1][0]
    header = rows[2]
    assert header[:4] == ["村名", "总人口", "应参保人数", "咸惠宝应参保人数"]
    for column in ("已缴人数", "参保人数", "参保率", "序时进度", "达到序时进度", "特殊群体参保率", "本周新增", "排名"):
        assert column in header
    body = {r[0]: dict(zip(header, r)) for r in rows[3:14]}
    assert list(body)[:3] == ["白马", "锁石", "三角"] and list(body)[-1] == "合计"
    baima = body["白马"]
    assert (baima["总人口"], baima["应参保人数"], baima["咸惠宝应参保人数"], baima["已缴人数"]) == (4702, 3731, 961, 3)
    assert baima["参保率"] == pytest.approx(0.0008) and baima["排名"] == 1  # 3/3731 beats 1/1734
    assert body["锁石"]["排名"] == 2 and body["锁石"]["本周新增"] == 1 and baima["本周新增"] == 0
    assert body["三角"]["排名"] == 3 and body["三角"]["已缴人数"] == 0
    assert baima["达到序时进度"] == "否"
    total = body["合计"]
    assert (total["总人口"], total["应参保人数"], total["咸惠宝应参保人数"], total["已缴人数"]) == (39140, 31053, 7997, 4)


def test_two_weekly_report_uses_suixians_columns():
    seed_regions()
    import_table("suixian_2023_targets.xlsx")
    scope = Scope(role="tax_officer", region_code="421321")
    report = reports.biweekly_report(scope=scope, region_code="421321", benefit_year=2023, on=dt.date(2022, 11, 1))
    rows = cells(reports.report_xlsx(report))
    assert rows[0][0] == "随县2023年度城乡居民医保参保缴费进度通报"
    assert rows[1][0].startswith("第5期，截至2022年11月1日")  # (61 days // 14) + 1
    header = rows[2]
    assert header[:5] == ["序号", "镇（场）", "合计", "特群免缴", "其他居民"]
    assert "较上期新增" in header and "排名" in header
    assert rows[3][:5] == ["1", "厉山镇（含经济开发区）", 59813, 1658, 58155]
    assert rows[20][:5] == ["18", "万福店农场", 18357, 476, 17881]
    assert rows[21][:5] == ["合计", "", 643118, 23113, 620005]
    text = pdf_text(reports.report_pdf(report))
    assert "随县2023年度城乡居民医保参保缴费进度通报" in text
    assert "厉山镇（含经济开发区）" in text and "643118" in text and "较上期新增" in text


def test_weekly_pdf_prints_the_villages(xiaoling):
    scope = Scope(role="township_officer", region_code="421223200")
    report = reports.weekly_report(scope=scope, benefit_year=2024, on=dt.date(2023, 10, 1))
    text = pdf_text(reports.report_pdf(report)).replace("\n", "")  # header cells wrap
    for word in ("肖岭乡2024年度城乡居民医保参保缴费进度公布表", "村名", "咸惠宝应参保人数", "白马", "金不", "31053", "序时进度"):
        assert word in text


def test_county_weekly_table_groups_villages_by_township(county):
    report = reports.weekly_report(scope=Scope(role="county_admin", region_code=b.COUNTY), benefit_year=2025,
                                   on=dt.date(2024, 10, 31))
    rows = cells(reports.report_xlsx(report))
    assert rows[2][:6] == ["序号", "乡镇（街道）", "村（社区）", "合计", "特群免缴", "其他居民"]
    assert [r[1:3] for r in rows[3:7]] == [["榴城镇", "东村"], ["榴城镇", "西村"], ["龙亢镇", "南村"], ["龙亢镇", "北村"]]
    assert rows[7][0] == "合计"


def test_the_county_pace_figure_is_one_figure_in_cli_api_page_and_report_totals(county, client, login, settings):
    """On 2024-09-01 (序时进度 0.82%) the county's 序时人数 is ⌈16 × 0.0082⌉ = 1; its townships' rounded figures
    add up to 2 (⌈6 × 0.0082⌉ + ⌈10 × 0.0082⌉) and its villages' to 3: a 合计 row gives the county's 1."""
    import json
    import re

    from typer.testing import CliRunner

    from yibao.cli import app

    settings.YIBAO_TODAY = "2024-09-01"
    cli = json.loads(CliRunner().invoke(app, ["progress", "--county", b.COUNTY, "--year", "2025", "--json"]).stdout)
    assert cli["county"]["expected"] == 1 and cli["county"]["target"] == 16
    assert sum(t["expected"] for t in cli["townships"]) == 2
    login("county_admin")
    api = client.get("/api/progress", {"region": b.COUNTY, "year": 2025, "on": "2024-09-01"}).json()
    assert api["unit"]["expected"] == 1
    page = client.get("/progress/", {"region": b.COUNTY, "year": 2025, "on": "2024-09-01"}).content.decode()
    assert re.search(r'data-field="expected">1<', page) and re.search(r'data-field="total-expected">1<', page)
    for kind in ("biweekly", "weekly"):
        content = client.get(f"/progress/reports/{kind}.xlsx", {"region": b.COUNTY, "year": 2025, "on": "2024-09-01"}).content
        rows = cells(content)
        header, total = rows[2], next(r for r in rows if r and r[0] == "合计")
        figures = dict(zip(header, total))
        assert figures["序时人数"] == 1, kind
        assert figures["合计"] == 16 and figures["参保人数"] == 5, kind  # the target and the rate, also where 北村 has none
        assert figures["参保率"] == pytest.approx(0.3125) and figures["未参保人数"] == 11, kind
        assert figures["达到序时进度"] == "是", kind
