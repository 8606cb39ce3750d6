"""Progress as of a day: a past day reads the figures as they stood at its end (daily snapshots), the 周报
made later for a day equals the one made that day, a day never counted is computed once from dates."""

import datetime as dt
import io
import json

import pytest
from python_calamine import CalamineWorkbook
from django.urls import reverse
from typer.testing import CliRunner

from yibao.cli import app
from yibao.progress import services
from yibao.progress.models import DaySnapshot, RemindMark, Target
from yibao.progress.tests import builders as b

pytestmark = pytest.mark.django_db
D = dt.date(2024, 10, 31)  # a Thursday in the 2025 campaign (window 2024-09-01 .. 2024-12-31)
LATER = D + dt.timedelta(days=3)


def cells(content: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0).to_python()


def figures(client, on=None, region=b.COUNTY) -> dict:
    params = {"region": region, "year": 2025} | ({"on": on} if on else {})
    response = client.get("/api/progress", params)
    assert response.status_code == 200, response.content
    data = response.json()

    def pick(u):
        return {k: u[k] for k in ("enrolled", "paid", "amount", "target", "expected", "on_pace", "rate", "remind_open",
                                  "remind_closed", "renewed", "rank", "special_enrolled")}

    return {"unit": pick(data["unit"]), "children": {c["code"]: pick(c) for c in data["children"]},
            "pace": data["pace_share"], "refreshed_at": data["refreshed_at"], "as_of": data["as_of"],
            "source": data["source"]}


def weekly(client, on=None) -> list[list]:
    params = {"region": b.LIUCHENG, "year": 2025} | ({"on": on} if on else {})
    response = client.get("/progress/reports/weekly.xlsx", params)
    assert response.status_code == 200, response.content
    return cells(response.content)


def test_a_past_day_shows_what_was_shown_that_day_and_its_weekly_report_is_the_same(client, login, county, settings):
    settings.YIBAO_TODAY = D.isoformat()
    login()
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)  # the count of day D
    RemindMark.objects.create(county_code=b.COUNTY, township_code=b.LIUCHENG, village_code=b.DONGCUN, benefit_year=2025,
                              resident=county["d"], outcome=RemindMark.Outcome.MOVED_AWAY, note="迁往合肥")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[b.DONGCUN])  # after the mark
    that_day = figures(client)
    township_that_day = figures(client, region=b.LIUCHENG)
    report_that_day = weekly(client)
    assert that_day["source"] == "live" and that_day["unit"]["enrolled"] == 5 and that_day["unit"]["amount"] == "1600.00"
    assert township_that_day["children"][b.XICUN]["rank"] == 1 and township_that_day["children"][b.DONGCUN]["rank"] == 2
    assert that_day["unit"]["remind_open"] == 1 and that_day["unit"]["remind_closed"] == 1  # 乙 left, 丁 moved away

    # three days later: 乙 pays in 东村 (now first of 榴城镇), a new payer in 南村, and 东村's target is raised
    settings.YIBAO_TODAY = LATER.isoformat()
    b.pay(county["b"], LATER, "380.00")
    b.pay(b.person(b.NANCUN, "辛"), LATER)
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[b.DONGCUN])
    services.target_set(actor="测试", region_code=b.DONGCUN, benefit_year=2025, total=3, reason="复核")
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    now = figures(client, region=b.LIUCHENG)
    assert now["unit"]["enrolled"] == 5 and now["children"][b.DONGCUN]["rank"] == 1 and now["unit"]["remind_open"] == 0
    assert figures(client)["unit"]["amount"] == "2380.00"

    asked = figures(client, on=D.isoformat())
    assert asked["source"] == "counted" and asked["as_of"] == f"截至 {D.isoformat()} 日终"
    for key in ("unit", "children", "pace", "refreshed_at"):
        assert asked[key] == that_day[key], key
    assert figures(client, on=D.isoformat(), region=b.LIUCHENG)["children"] == township_that_day["children"]
    assert weekly(client, on=D.isoformat()) == report_that_day  # every cell, the 统计时间 in the subtitle included

    renewal = client.get("/api/progress/renewal", {"year": 2025, "on": D.isoformat()}).json()
    assert (renewal["total"]["renewed"], renewal["total"]["closed"], renewal["total"]["open"]) == (2, 1, 1)

    result = CliRunner().invoke(app, ["progress", "--county", b.COUNTY, "--year", "2025", "--on", D.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == f"截至 {D.isoformat()} 日终" and data["county"]["enrolled"] == 5
    assert data["county"]["amount"] == "1600.00" and data["county"]["remind_open"] == 1
    dongcun = next(v for v in data["villages"] if v["code"] == b.DONGCUN)
    assert (dongcun["target"], dongcun["enrolled"], dongcun["rank"]) == (4, 2, 2)  # the target of that day

    page = client.get("/progress/", {"region": b.LIUCHENG, "year": 2025, "on": D.isoformat()}).content.decode()
    assert f"截至 {D.isoformat()} 日终" in page and 'data-field="enrolled">4<' in page
    link = reverse("progress:report", args=["weekly", "xlsx"]) + f"?region={b.LIUCHENG}&year=2025&on={D.isoformat()}"
    assert f'href="{link}"' in page  # the report links carry the day


def test_a_day_never_counted_is_computed_once_from_dates_and_then_stored(client, login, county, settings):
    settings.YIBAO_TODAY = LATER.isoformat()
    login()
    day = dt.date(2024, 9, 2)  # 甲 and 戊 paid that day; 己 (9-03), 丙 免缴 (9-03) and 庚 (10-01) came later
    assert not DaySnapshot.objects.filter(day=day).exists()
    data = client.get("/api/progress", {"year": 2025, "on": day.isoformat()}).json()
    assert data["source"] == "rebuilt" and "补算" in data["notice"]
    assert (data["unit"]["enrolled"], data["unit"]["paid"], data["unit"]["amount"]) == (2, 2, "800.00")
    assert data["unit"]["renewed"] == 2  # 甲 and 戊 had renewed by then
    stored = DaySnapshot.objects.get(region_code=b.COUNTY, benefit_year=2025, day=day)
    assert (stored.enrolled, stored.source) == (2, DaySnapshot.Source.REBUILT)
    assert DaySnapshot.objects.filter(region_code=b.DONGCUN, day=day).exists()
    b.pay(b.person(b.XICUN, "壬"), day)  # a late-entered payment dated that day does not rewrite the stored day
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    assert client.get("/api/progress", {"year": 2025, "on": day.isoformat()}).json()["unit"]["enrolled"] == 2


def test_a_day_before_the_campaign_is_zeros_with_a_chinese_notice(client, login, county, settings):
    settings.YIBAO_TODAY = D.isoformat()
    login()
    data = client.get("/api/progress", {"year": 2025, "on": "2024-08-01"}).json()
    assert (data["unit"]["enrolled"], data["unit"]["paid"], data["unit"]["amount"]) == (0, 0, "0.00")
    assert data["pace_share"] == 0 and "征缴期开始（2024-09-01）之前" in data["notice"]
    page = client.get("/progress/", {"year": 2025, "on": "2024-08-01"}).content.decode()
    assert "征缴期开始（2024-09-01）之前" in page
    report = cells(client.get("/progress/reports/weekly.xlsx", {"region": b.LIUCHENG, "year": 2025, "on": "2024-08-01"}).content)
    assert any("之前" in str(row[0]) for row in report if row)


@pytest.mark.parametrize("bad, words, api_status", [("2024-13-01", "YYYY-MM-DD", 422), ("yesterday", "YYYY-MM-DD", 422),
                                                    ("2024-11-01", "晚于今天", 400)])
def test_a_bad_day_is_refused_in_chinese(client, login, county, settings, bad, words, api_status):
    """A malformed date is refused by the API's date type (422, as every date of the API); a day not yet over
    (later than the business day) is a 400; pages answer 400, the CLI exits 2."""
    settings.YIBAO_TODAY = D.isoformat()
    login()
    for url in ("/api/progress", "/api/progress/ranking", "/api/progress/history", "/api/progress/renewal",
                "/api/progress/reports/weekly.xlsx"):
        response = client.get(url, {"year": 2025, "on": bad})
        assert response.status_code == api_status, url
        assert words in response.json()["detail"]
    for url in ("/progress/", "/progress/reports/weekly.xlsx", "/progress/remind/"):
        response = client.get(url, {"year": 2025, "on": bad})
        assert response.status_code == 400 and words in response.content.decode(), url
    result = CliRunner().invoke(app, ["progress", "--county", b.COUNTY, "--year", "2025", "--on", bad])
    assert result.exit_code == 2 and words in result.output


def test_today_stays_live_and_each_recount_keeps_todays_snapshot_current(client, login, county, settings):
    settings.YIBAO_TODAY = D.isoformat()
    login()
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    b.pay(county["b"], D)
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025, village_codes=[b.DONGCUN])
    assert figures(client, on=D.isoformat())["source"] == "live"
    rows = {r.region_code: r for r in DaySnapshot.objects.filter(benefit_year=2025, day=D)}
    assert (rows[b.DONGCUN].enrolled, rows[b.LIUCHENG].enrolled, rows[b.COUNTY].enrolled) == (3, 5, 6)
    assert rows[b.COUNTY].amount == sum(r.amount for code, r in rows.items() if len(code) == 12)
    assert rows[b.DONGCUN].target == Target.objects.get(region_code=b.DONGCUN, benefit_year=2025).total
