"""The city's and the province's roll-up: page, API, CLI and the 周报 downloads, each within its scope."""

import io
import json
from urllib.parse import unquote

import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Event
from yibao.progress.tests import rollup_world as w
from yibao.progress.tests.pdftext import pdf_text

pytestmark = pytest.mark.django_db
runner = CliRunner()


@pytest.fixture
def hubei(db, settings):
    settings.YIBAO_TODAY = w.TODAY
    w.build()


def rows_of(response):
    return [tr for tr in response.content.decode().split('<tr data-code="')[1:]]


def test_a_city_admin_sees_its_counties_ranked_and_never_another_citys(client, login, hubei):
    login("city_admin", w.CITY)
    response = client.get("/progress/")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "progress/rollup.html"
    html = response.content.decode()
    assert "咸宁市 2025年度征缴进度" in html and "崇阳县" in html and "赤壁市" in html
    assert "未开征" in html and "未下达目标" in html
    assert "随县" not in html and "4321" not in html and w.SUIXIAN not in html
    first = rows_of(response)[0]
    assert first.startswith(w.CHONGYANG) and "60.00%" in first  # 600 of 1000
    assert "按已下达目标的 1 个县计算（参保 600 人）" in html  # 赤壁市 has no target
    assert client.get("/progress/", {"region": w.OTHER_CITY}).status_code == 403
    assert client.get("/progress/", {"region": w.SUIXIAN}).status_code == 403
    assert client.get("/progress/", {"region": w.PROVINCE}).status_code == 403


def test_the_city_drills_into_a_county_read_only(client, login, hubei):
    login("city_admin", w.CITY)
    response = client.get("/progress/", {"region": w.CHONGYANG, "year": 2025})
    assert response.status_code == 200
    html = response.content.decode()
    assert [t.name for t in response.templates][0] == "progress/dashboard.html"
    assert f'href="?region={w.CITY}&year=2025" data-role="up">咸宁市</a>' in html
    assert "白马" in html and "重新统计</button>" not in html and "催缴名单" not in html
    town = client.get("/progress/", {"region": w.CHONGYANG + "100", "year": 2025})
    assert town.status_code == 200 and "青山" in town.content.decode()


def test_sorting_by_remind_and_reconcile(client, login, hubei):
    login("city_admin", w.CITY)
    by_remind = rows_of(client.get("/progress/", {"sort": "remind"}))
    assert by_remind[0].startswith(w.CHONGYANG)  # 70 left to chase against none
    by_pace = rows_of(client.get("/progress/", {"sort": "pace"}))
    assert by_pace[-1].startswith(w.CHIBI)  # no pace: last


def test_a_province_sees_its_cities_and_drills_into_a_city(client, login, hubei):
    login("province_viewer", w.PROVINCE)
    html = client.get("/progress/").content.decode()
    assert "湖北省" in html and "咸宁市" in html and "随州市" in html and "4921" in html  # 600 + 4321
    city = client.get("/progress/", {"region": w.CITY}).content.decode()
    assert "崇阳县" in city and "随县" not in city and 'data-role="up">湖北省</a>' in city


def test_a_county_admin_keeps_the_county_page(client, login, hubei):
    login("county_admin", w.CHONGYANG)
    response = client.get("/progress/", {"year": 2025})
    assert [t.name for t in response.templates][0] == "progress/dashboard.html"
    assert client.get("/progress/", {"region": w.CITY}).status_code == 403
    assert client.get("/api/progress/rollup", {"region": w.CITY}).status_code == 403


def test_api_rollup_sums_and_scope(client, login, hubei):
    login("city_tax", w.CITY)
    data = client.get("/api/progress/rollup", {"region": w.CITY, "year": 2025}).json()
    assert [r["code"] for r in data["rows"]] == [w.CHONGYANG, w.CHIBI]
    assert data["total"]["enrolled"] == 600 == sum(r["enrolled"] for r in data["rows"])
    assert data["total"]["target"] == 1000 and data["total"]["rate"] == 0.6
    assert data["total"]["amount"] == "205200.00"  # (450 + 90) × 380
    assert data["rows"][0]["rank"] == 1 and data["rows"][1]["marks"] == ["未开征", "未下达目标"]
    assert data["rows"][0]["reconcile_label"] == "未对账"
    assert client.get("/api/progress/rollup", {"region": w.OTHER_CITY}).status_code == 403
    assert client.get("/api/progress/rollup", {"region": "42x"}).status_code == 404
    late = client.get("/api/progress/rollup", {"region": w.CITY, "on": "2024-12-01"})
    assert late.status_code == 400 and "晚于今天" in late.json()["detail"]


def test_city_weekly_report_xlsx_and_pdf(client, login, hubei):
    login("city_admin", w.CITY)
    response = client.get("/progress/rollup/weekly.xlsx", {"region": w.CITY, "year": 2025})
    assert response.status_code == 200
    assert "咸宁市-4212-参保缴费进度周报-20241115.xlsx" in unquote(response["Content-Disposition"])
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_name("周报").to_python()
    header = sheet[2]
    assert header[:5] == ["序号", "县（市、区）", "区划代码", "应参保人数", "参保人数"]
    names = [row[1] for row in sheet[3:6]]
    assert names == ["崇阳县", "赤壁市", ""] and sheet[5][0] == "合计"
    enrolled = header.index("参保人数")
    assert sheet[5][enrolled] == sheet[3][enrolled] + sheet[4][enrolled] == 600
    assert sheet[5][header.index("已缴金额（元）")] == 205200.0
    assert not any("随县" in str(cell) for row in sheet for cell in row)
    pdf = client.get("/api/progress/rollup/weekly.pdf", {"region": w.CITY, "year": 2025})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = pdf_text(pdf.content)
    assert "咸宁市2025年度城乡居民医保参保缴费进度周报" in text and "崇阳县" in text and "随县" not in text
    assert "205,200.00" in text
    assert Event.objects.filter(entity_id="progress_rollup_weekly", county_code=w.CITY).count() == 2
    assert client.get("/progress/rollup/weekly.xlsx", {"region": w.OTHER_CITY}).status_code == 403


def test_province_weekly_report_lists_cities(client, login, hubei):
    login("province_viewer", w.PROVINCE)
    response = client.get("/progress/rollup/weekly.xlsx", {"region": w.PROVINCE})
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_name("周报").to_python()
    assert sheet[2][1] == "市（州）" and [row[1] for row in sheet[3:5]] == ["随州市", "咸宁市"]  # 86.42% before 60%
    assert sheet[5][sheet[2].index("参保人数")] == 4921


def test_cli_progress_rollup_json_and_city_report(hubei, make_user, tmp_path):
    make_user("xianning", role="city_admin", region_code=w.CITY)
    result = runner.invoke(app, ["progress", "rollup", "--region", w.CITY, "--year", "2025", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [r["code"] for r in data["rows"]] == [w.CHONGYANG, w.CHIBI] and data["total"]["enrolled"] == 600
    refused = runner.invoke(app, ["progress", "rollup", "--region", w.OTHER_CITY, "--user", "xianning"])
    assert refused.exit_code == 2 and "不在当前账号的管辖范围内" in refused.output
    bad = runner.invoke(app, ["progress", "rollup", "--region", "421223"])
    assert bad.exit_code == 2 and "应为市（4位）或省（2位）" in bad.output
    out = tmp_path / "周报.pdf"
    made = runner.invoke(app, ["report", "weekly", "--region", w.CITY, "--out", str(out), "--user", "xianning", "--json"])
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["rows"] == 2 and "崇阳县" in pdf_text(out.read_bytes())
    assert runner.invoke(app, ["report", "biweekly", "--region", w.CITY]).exit_code == 2
    old = runner.invoke(app, ["progress", "--county", w.CHONGYANG, "--year", "2025", "--no-refresh", "--json"])
    assert old.exit_code == 0 and json.loads(old.stdout)["county"]["enrolled"] == 600


@pytest.mark.parametrize("query", [{"year": "99999"}, {"on": "0"}, {"on": "2030-01-01"}, {"region": "x" * 300},
                                   {"region": "42"}, {"sort": "nonsense"}])
def test_bad_parameters_of_the_city_page_are_refused_in_chinese_not_a_server_error(client, login, hubei, query):
    login("city_admin", w.CITY)
    response = client.get("/progress/", query)
    assert response.status_code in (200, 400, 403, 404), response.status_code
    if query.get("sort"):
        assert response.status_code == 200 and rows_of(response)[0].startswith(w.CHONGYANG)
    for url in ("/progress/rollup/weekly.xlsx", "/api/progress/rollup"):
        assert client.get(url, query).status_code < 500


def test_the_city_page_as_of_a_past_day(client, login, hubei, settings):
    from yibao.progress import services

    login("city_admin", w.CITY)
    services.progress_ensure(county_code=w.CHONGYANG, benefit_year=2025, on=__import__("datetime").date(2024, 11, 1))
    response = client.get("/progress/", {"on": "2024-11-01"})
    html = response.content.decode()
    assert response.status_code == 200 and "截至 2024-11-01 日终" in html and "回到今天" in html
    assert f"href=\"?region={w.CHONGYANG}&year=2025&amp;on=2024-11-01\"" in html  # the drill-down keeps the day
