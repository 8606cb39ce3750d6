"""Pages of progress: dashboard, targets, 催缴, reports."""

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yibao.core.models import Event
from yibao.progress.models import RemindMark, Target
from yibao.progress.tests import builders as b
from yibao.registry.models import Resident
from yibao.registry.tests.factories import seed_regions

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent / "data"


def chart_data(response) -> dict:
    html = response.content.decode()
    match = re.search(r'<script id="progress-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def test_dashboard_needs_login(client):
    response = client.get("/progress/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_county_dashboard_shows_townships_with_rates_and_chart_data(client, login, county):
    login()
    response = client.get("/progress/", {"year": 2025, "on": "2024-10-31"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "怀远县 2025年度征缴进度" in html and "vendor/echarts.custom.min.js" in html
    # every script and stylesheet is our own (a csrf token may contain the letters "cdn" by chance)
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)
    assert 'data-field="target">16<' in html and 'data-field="enrolled">5<' in html
    assert 'data-field="pace">50.00%<' in html
    data = chart_data(response)
    assert [u["name"] for u in data["units"]] == ["榴城镇", "龙亢镇"]
    assert data["units"][0]["rate"] == pytest.approx(0.6667) and data["units"][0]["url"].startswith("?region=340321100")
    assert data["pace"] == 0.5
    assert data["history"]["days"][0] == "2024-09-01" and data["history"]["target"] == 16
    assert data["special"] == {"people": 2, "enrolled": 1, "rate": 0.5, "goal": 1.0}
    assert f'href="?region={b.DONGCUN}&year=2025&amp;on=2024-10-31"' in html  # an "as of" view keeps its day
    assert "<td>榴城镇</td><td><a" in html  # every village is linked from the county, under its township


def test_drill_down_to_a_village(client, login, county):
    login()
    response = client.get("/progress/", {"region": b.LIUCHENG, "year": 2025, "on": "2024-10-31"})
    html = response.content.decode()
    assert [u["name"] for u in chart_data(response)["units"]] == ["西村", "东村"]  # by rate, highest first
    assert "返回怀远县" in html
    village = client.get("/progress/", {"region": b.DONGCUN, "year": 2025, "on": "2024-10-31"})
    html = village.content.decode()
    assert chart_data(village)["units"] == [] and 'data-field="rank">第 2 名' in html
    assert "催缴名单" in html


def test_a_village_collector_lands_on_their_village_and_cannot_leave_it(client, login, county):
    login("village_collector", b.DONGCUN)
    response = client.get("/progress/", {"year": 2025})
    assert response.status_code == 200 and "东村 2025年度征缴进度" in response.content.decode()
    assert "返回" not in response.content.decode()  # the township is outside the collector's scope
    assert client.get("/progress/", {"region": b.XICUN, "year": 2025}).status_code == 403
    assert client.get("/progress/", {"region": b.COUNTY, "year": 2025}).status_code == 403


def test_first_visit_counts_a_county_never_counted(client, login, county):
    from yibao.progress.models import ProgressRefresh, VillageProgress

    ProgressRefresh.objects.all().delete()
    VillageProgress.objects.all().delete()
    login()
    response = client.get("/progress/", {"year": 2025})
    assert 'data-field="enrolled">5<' in response.content.decode()


def test_refresh_button_recounts(client, login, county):
    login("township_officer", b.LIUCHENG)
    b.pay(county["d"], dt.date(2024, 10, 2))
    response = client.post("/progress/refresh/", {"year": 2025, "next": f"/progress/?region={b.LIUCHENG}&year=2025"})
    assert response.status_code == 302 and response["Location"] == f"/progress/?region={b.LIUCHENG}&year=2025"
    html = client.get("/progress/", {"region": b.LIUCHENG, "year": 2025}).content.decode()
    assert 'data-field="enrolled">5<' in html


def test_an_auditor_sees_the_dashboard_but_may_not_start_a_recount(client, login, county):
    login("auditor", b.COUNTY)
    html = client.get("/progress/", {"year": 2025}).content.decode()
    assert 'data-field="enrolled"' in html and "重新统计</button>" not in html
    assert client.post("/progress/refresh/", {"year": 2025}).status_code == 403
    login("township_officer", b.LIUCHENG)
    assert "重新统计</button>" in client.get("/progress/", {"year": 2025}).content.decode()


def test_targets_page_lists_and_imports(client, login):
    seed_regions()
    login(region="421223")
    upload = SimpleUploadedFile("xiaoling_2024_tasks.xlsx", (DATA / "xiaoling_2024_tasks.xlsx").read_bytes())
    response = client.post("/progress/targets/import/", {"file": upload, "year": "2024"})
    assert response.status_code == 302 and response["Location"].endswith("?year=2024")
    html = client.get(response["Location"]).content.decode()
    assert "已导入xiaoling_2024_tasks.xlsx：10行" in html and "应参保人数合计31053" in html
    assert '<td class="num" data-field="total">31053</td>' in html and "肖岭乡 / 白马" in html


def test_targets_import_errors_are_shown_in_chinese_and_nothing_is_written(client, login):
    seed_regions()
    login(region="421223")
    upload = SimpleUploadedFile("t.csv", "村名,应参保人数\n白马,10\n锁石,20\n合计,31\n".encode())
    response = client.post("/progress/targets/import/", {"file": upload, "year": "2024"}, follow=True)
    assert "合计行印为 31" in response.content.decode()
    assert not Target.objects.exists()


def test_targets_page_is_read_only_for_collectors(client, login, county):
    login("village_collector", b.DONGCUN)
    html = client.get("/progress/targets/", {"year": 2025}).content.decode()
    assert "东村" in html and "西村" not in html and "导入任务表" not in html
    assert client.post("/progress/targets/import/", {}).status_code == 403


def test_target_edit_page_adjusts_with_a_reason(client, login, county):
    login()
    url = f"/progress/targets/{b.DONGCUN}/2025/edit/"
    assert 'value="4"' in client.get(url).content.decode()
    refused = client.post(url, {"total": "5", "reason": ""})
    assert "须填写原因" in refused.content.decode()
    response = client.post(url, {"total": "5", "special": "2", "reason": "村里复核"})
    assert response.status_code == 302
    assert Target.objects.get(region_code=b.DONGCUN).total == 5
    assert Target.objects.get(region_code=b.LIUCHENG).total == 7


def test_derive_button_writes_missing_villages(client, login, county):
    login()
    b.person(b.BEICUN, "辛")
    response = client.post("/progress/targets/derive/", {"year": 2025, "basis": "register", "growth": "0"})
    assert response.status_code == 302
    derived = Target.objects.get(region_code=b.BEICUN, benefit_year=2025)
    assert (derived.source, derived.total) == (Target.Source.DERIVED, 1)
    assert Target.objects.get(region_code=b.DONGCUN, benefit_year=2025).total == 4  # set by hand: kept


def test_reports_download_as_xlsx_and_pdf(client, login, county):
    login()
    xlsx = client.get("/progress/reports/weekly.xlsx", {"region": b.LIUCHENG, "year": 2025})
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert "attachment" in xlsx["Content-Disposition"]
    pdf = client.get("/progress/reports/biweekly.pdf", {"region": b.COUNTY, "year": 2025})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert Event.objects.filter(entity="export", entity_id="progress_biweekly").exists()
    assert client.get("/progress/reports/monthly.xlsx", {"year": 2025}).status_code == 404


def test_collectors_cannot_export_reports(client, login, county):
    login("village_collector", b.DONGCUN)
    assert client.get("/progress/reports/weekly.xlsx", {"year": 2025}).status_code == 403


def test_remind_page_for_a_village_lists_people_and_marks_with_htmx(client, login, county):
    login("village_collector", b.DONGCUN)
    response = client.get("/progress/remind/", {"year": 2025, "on": "2024-10-31"})
    html = response.content.decode()
    assert "催缴名单：榴城镇 / 东村" in html and 'data-field="count">2<' in html
    assert "乙" in html and "丁" in html and "13900000004" in html and "60.00元" in html
    asked = client.post(f"/progress/remind/{county['d'].pk}/mark/", {"year": 2025, "outcome": "moved_away", "note": "迁往合肥"},
                        HTTP_HX_REQUEST="true")
    assert asked.status_code == 200 and "丁 将标记为已迁出" in asked.content.decode()
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.ACTIVE
    marked = client.post(f"/progress/remind/{county['d'].pk}/mark/",
                         {"year": 2025, "outcome": "moved_away", "note": "迁往合肥", "confirmed": "1"}, HTTP_HX_REQUEST="true")
    assert marked.status_code == 200 and "已标记 丁：已迁出" in marked.content.decode()
    assert "撤销（10 分钟内有效）" in marked.content.decode()
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.MOVED_AWAY
    refused = client.post(f"/progress/remind/{county['b'].pk}/mark/", {"year": 2025, "outcome": "deceased"},
                          HTTP_HX_REQUEST="true")
    assert "须填写说明" in refused.content.decode() and not RemindMark.objects.filter(resident=county["b"]).exists()
    html = client.get("/progress/remind/", {"year": 2025, "state": "closed"}).content.decode()
    assert "丁" in html and "已迁出" in html


def test_remind_mark_without_javascript_asks_once_then_offers_the_undo(client, login, county):
    from yibao.enrollment.models import Enrollment
    from yibao.registry.models import StatusChange

    login("village_collector", b.DONGCUN)
    url = f"/progress/remind/{county['d'].pk}/mark/"
    data = {"year": 2025, "outcome": "moved_away", "note": "迁往合肥"}
    sheet = client.post(url, data)
    html = sheet.content.decode()
    assert sheet.status_code == 200 and "丁 将标记为已迁出" in html
    assert "户籍状态改为已迁出" in html and "2024年度参保由“正常参保”改为“参保暂停”" in html
    assert 'name="confirmed" value="1"' in html and 'name="note" value="迁往合肥"' in html and "<script>" not in html
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.ACTIVE and not RemindMark.objects.exists()
    assert not StatusChange.objects.exists()

    done = client.post(url, {**data, "confirmed": "1"})
    change = StatusChange.objects.get()
    assert done.status_code == 302 and done["Location"].endswith(f"&undo={change.pk}")
    page = client.get(done["Location"]).content.decode()
    assert "丁 已标记为已迁出。" in page and "撤销（10 分钟内有效）" in page
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.MOVED_AWAY

    undone = client.post(f"/registry/changes/{change.pk}/undo/", {"next": f"/progress/remind/?village={b.DONGCUN}&year=2025"})
    assert undone.status_code == 302 and undone["Location"] == f"/progress/remind/?village={b.DONGCUN}&year=2025"
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.ACTIVE
    assert Enrollment.objects.get(resident=county["d"], benefit_year=2024).status == Enrollment.Status.PAID
    page = client.get(undone["Location"]).content.decode()
    assert "已撤销：丁 已标记为已迁出。" in page and "撤销（10 分钟内有效）" not in page
    again = client.post(f"/registry/changes/{change.pk}/undo/", {"next": "https://evil.example/"}, follow=True)
    assert "不能再次撤销" in again.content.decode() and again.redirect_chain[0][0] == "/"  # never off-site


def test_another_user_sees_no_undo_and_cannot_undo(client, login, county):
    from yibao.registry.models import StatusChange

    login("village_collector", b.DONGCUN, username="first")
    client.post(f"/progress/remind/{county['d'].pk}/mark/", {"year": 2025, "outcome": "deceased", "note": "2024年11月",
                                                               "confirmed": "1"})
    change = StatusChange.objects.get()
    login("village_collector", b.DONGCUN, username="second")
    page = client.get(f"/progress/remind/?village={b.DONGCUN}&year=2025&undo={change.pk}").content.decode()
    assert "撤销（10 分钟内有效）" not in page
    refused = client.post(f"/registry/changes/{change.pk}/undo/", HTTP_HX_REQUEST="true")
    assert "只有办理人" in refused.content.decode()
    assert Resident.objects.get(pk=county["d"].pk).status == Resident.Status.DECEASED
    login("village_collector", b.XICUN, username="elsewhere")
    assert client.post(f"/registry/changes/{change.pk}/undo/").status_code == 403
    assert client.post("/registry/changes/99999/undo/", follow=True).status_code == 200


def test_remind_mark_outside_the_village_is_refused(client, login, county):
    login("village_collector", b.XICUN)
    response = client.post(f"/progress/remind/{county['d'].pk}/mark/", {"year": 2025, "outcome": "contacted"})
    assert response.status_code == 403 and not RemindMark.objects.exists()


def test_county_remind_page_is_the_12_10_comparison(client, login, county):
    login()
    html = client.get("/progress/remind/", {"year": 2025}).content.decode()
    assert "与上年参保比对" in html and 'data-field="last_year">4<' in html and 'data-field="renewed">2<' in html
    township = client.get("/progress/remind/", {"region": b.LIUCHENG, "year": 2025}).content.decode()
    assert f'href="?village={b.DONGCUN}&year=2025"' in township


def test_remind_export_is_an_xlsx_with_the_list(client, login, county):
    from python_calamine import CalamineWorkbook

    login("township_officer", b.LIUCHENG)
    response = client.get("/progress/remind/export.xlsx", {"village": b.DONGCUN, "year": 2025, "on": "2024-10-31"})
    assert response.status_code == 200
    rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
    header = rows[2]
    assert header[:7] == ["序号", "户号", "户主", "姓名", "与户主关系", "身份证号码", "联系电话"]
    names = [r[3] for r in rows[3:5]]
    assert names == ["乙", "丁"]
    assert rows[3][9] == "60.00" and rows[3][10] == "测算"


def test_a_superuser_without_a_region_starts_at_the_first_county(client, county):
    from yibao.accounts.models import User

    root = User.objects.create_superuser(username="root", password="pass-1234", role="county_admin", region_code="")
    client.force_login(root)
    response = client.get("/progress/", {"year": 2025})
    assert response.status_code == 200 and "怀远县 2025年度征缴进度" in response.content.decode()
    assert client.get("/progress/remind/", {"year": 2025}).status_code == 200


def test_bars_are_sorted_and_coloured_against_pace_and_0_of_0_is_a_dash(client, login, county):
    login()
    response = client.get("/progress/", {"region": b.LONGKANG, "year": 2025, "on": "2024-10-31"})
    data = chart_data(response)
    # 南村 1 of 10 (10%, 40 points below 序时 50%): red; 北村 has no target: grey, last, no rate
    assert [(u["name"], u["colour"], u["rate"]) for u in data["units"]] == [("南村", "bad", 0.1), ("北村", "none", None)]
    assert data["amber_points"] == 0.1
    assert data["special"]["rate"] is None  # no special-group people: "—", not a red 0%
    html = response.content.decode()
    row = re.search(rf'<tr data-code="{b.BEICUN}">.*?</tr>', html, re.S).group(0)
    assert "<span>—</span>" in row and "<progress" not in row and "rate-none" in row
    assert 'id="pace-legend"' in html
    # the villages furthest behind, each with its 催缴 list
    behind = re.search(r'<section class="card" id="furthest-behind">.*?</section>', html, re.S).group(0)
    assert f'data-code="{b.NANCUN}"' in behind and b.BEICUN not in behind
    assert f"/progress/remind/?village={b.NANCUN}&amp;year=2025" in behind or f"/progress/remind/?village={b.NANCUN}&year=2025" in behind


def test_standing_colour_thresholds():
    from decimal import Decimal as D

    from yibao.progress.pace import standing_colour

    assert standing_colour(None, D("0.5")) == "none"
    assert standing_colour(D("0.5"), D("0.5"), True) == "good"
    assert standing_colour(D("0.45"), D("0.5"), False) == "near"
    assert standing_colour(D("0.40"), D("0.5"), False) == "bad"  # 10 points below: red
    assert standing_colour(D("0.95"), None) == "near" and standing_colour(D("1"), None) == "good"
    assert standing_colour(D("0.89"), None) == "bad"


def test_ten_furthest_behind_ordered_by_points_below_pace():
    from decimal import Decimal as D
    from types import SimpleNamespace

    from yibao.progress.selectors import Unit
    from yibao.progress.views import furthest_behind

    villages = [Unit(code=f"340321100{n:03d}", name=f"村{n}", level=12, target=100, rate=D(n) / 100, enrolled=n,
                     on_pace=n >= 50, behind=max(0, 50 - n)) for n in range(1, 16)]
    villages.append(Unit(code="340321100999", name="无目标", level=12))
    township = Unit(code="340321100", name="榴城镇", level=9)
    tree = SimpleNamespace(share=D("0.5"), units={"340321100": township},
                           descendants=lambda code, level: villages)
    rows = furthest_behind(tree, township)
    assert [r["unit"].name for r in rows] == [f"村{n}" for n in range(1, 11)]
    assert rows[0]["colour"] == "bad" and rows[0]["behind"] == 49
    assert furthest_behind(tree, villages[0]) == []
