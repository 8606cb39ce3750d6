"""A county's first year: last year's roster imported as a history campaign (see imports/test_enrollments.py).

Renewal, gap years and the cross-county "suspend first" rule read it; every surface that loads a
campaign's policy copes with a campaign that has none.
"""

import datetime as dt
import json

import pytest
from django.urls import reverse
from typer.testing import CliRunner

from yibao.cli import app
from yibao.core.models import Job
from yibao.enrollment import selectors, services
from yibao.enrollment.models import Campaign, Enrollment
from yibao.enrollment.tests import factories as f
from yibao.imports.tests.roster import paid, roster_import
from yibao.policy.loader import PolicyNotFound
from yibao.regions.models import Region

pytestmark = pytest.mark.django_db

VILLAGE = "340321100001"
OTHER_VILLAGE = "340322100001"


@pytest.fixture
def county(tmp_path):
    """怀远县 with last year's (2024) roster imported: 甲 正常, 乙 暂停, 丙 终止; 丁 not on it; 2025 opened in Yibao."""
    people = {key: f.resident(name=name) for key, name in (("a", "甲"), ("b", "乙"), ("c", "丙"), ("d", "丁"))}
    a, b, c = people["a"], people["b"], people["c"]
    result = roster_import(tmp_path, [
        paid(a),
        [b.id_number, b.name, 2024, "暂停参保", "", "", "380", "390"],
        [c.id_number, c.name, 2024, "终止参保", "", "", "", "390"],
    ])
    assert result["imported"] == 3
    history = Campaign.objects.get(county_code="340321", benefit_year=2024)
    return {"people": people, "history": history, "campaign": f.campaign(), "tmp": tmp_path}


# ---------------------------------------------------------------- the point of it


def test_renewal_follows_last_years_imported_roster(county):
    people, campaign = county["people"], county["campaign"]
    kinds = {key: services.enrollment_register(resident=people[key], campaign=campaign, actor="测试").kind
             for key in "abcd"}
    # 正常 and 暂停 last year: 续保; 终止 last year or not on the roster: 首次参保登记
    assert kinds == {"a": "renewal", "b": "renewal", "c": "first", "d": "first"}


def test_gap_years_count_from_the_imported_years(county):
    from yibao.enrollment.assessment import persons_frame

    d = county["people"]["d"]
    roster_import(county["tmp"], [paid(d, 2022)], name="2022.csv")  # 丁 last enrolled 2022: 2023, 2024 missed
    a = county["people"]["a"]
    assert selectors.gap_years_before(resident=d, benefit_year=2025) == 2
    assert selectors.gap_years_before(resident=a, benefit_year=2025) == 0
    frame = persons_frame(county_code="340321", benefit_year=2025, on=dt.date(2024, 10, 8))
    gaps = dict(zip(frame["resident_id"].to_list(), frame["gap_years"].to_list()))
    assert (gaps[d.pk], gaps[a.pk]) == (2, 0)


def test_paid_last_year_in_another_county_must_suspend_there_first(county):
    """甲 moved to 五河县 (340322); 怀远县's roster has him 正常参保 in 2024. 五河 may register him for 2025
    only after 怀远 records 参保暂停."""
    a = county["people"]["a"]
    f.region_tree("340322", "340322100", OTHER_VILLAGE)
    moved = f.resident(village=OTHER_VILLAGE, name="甲")
    from yibao.registry.models import Resident

    Resident.objects.filter(pk=moved.pk).update(id_number=a.id_number)
    moved.refresh_from_db()
    wuhe = f.campaign(county="340322")
    Region.objects.filter(code="340321").update(name="怀远县")
    with pytest.raises(services.EnrollmentError, match="上年在怀远县参保，须先在原参保地办理“参保暂停”"):
        services.enrollment_register(resident=moved, campaign=wuhe, actor="测试")
    last_year = Enrollment.objects.get(county_code="340321", resident=a, benefit_year=2024)
    services.enrollment_suspend(enrollment=last_year, actor="测试", reason="迁往五河县")
    assert services.enrollment_register(resident=moved, campaign=wuhe, actor="测试").kind == "first"


# ---------------------------------------------------------------- no policy: clear refusals


def test_campaign_policy_of_a_history_campaign_is_a_clear_error(county):
    with pytest.raises(PolicyNotFound, match="^2024年度为导入的历史名单，没有缴费政策$"):
        selectors.campaign_policy(county["history"])
    assert selectors.campaign_policy(county["campaign"]).id == "anhui-huaiyuan-2025"


def test_a_history_year_is_not_assessed_reopened_or_registered(county):
    history = county["history"]
    with pytest.raises(services.CampaignError, match="2024年度为导入的历史名单，没有缴费政策，不能核定"):
        services.assessment_run(campaign=history, actor="测试")
    with pytest.raises(services.CampaignError, match="没有缴费政策"):
        services.assessment_date(campaign=history)
    with pytest.raises(services.CampaignError, match="不能重新开启征缴"):
        services.campaign_reopen(campaign=history, actor="测试", reason="补录")
    with pytest.raises(services.EnrollmentError, match="不能办理参保登记"):
        services.enrollment_register(resident=county["people"]["d"], campaign=history, actor="测试")


def test_a_year_imported_as_history_cannot_be_opened_afterwards(tmp_path):
    person = f.resident(name="戊")
    roster_import(tmp_path, [paid(person, 2025)])
    with pytest.raises(services.CampaignError, match="2025年度已导入历年参保名单.*不能再开启征缴"):
        services.campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor="测试")


# ---------------------------------------------------------------- pages, API and CLI with a history campaign


def login(client, make_user, role="county_admin", region="340321"):
    client.force_login(make_user(f"{role}-{region}", role=role, region_code=region))


def test_campaign_pages_show_the_history_year(client, make_user, county):
    login(client, make_user)
    listing = client.get(reverse("enrollment:campaigns")).content.decode()
    assert "2024年度" in listing and "历史名单" in listing and "anhui-huaiyuan-2025" in listing
    page = client.get(reverse("enrollment:campaign", args=[county["history"].pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="history-badge">历史名单' in html
    assert "2024年度为导入的历史名单，没有缴费政策" in html and 'data-field="total">3<' in html
    assert "正常参保" in html and "参保暂停" in html and "参保终止" in html
    assert reverse("enrollment:campaign_assess", args=[county["history"].pk]) not in html  # no 核定 form
    refused = client.post(reverse("enrollment:campaign_assess", args=[county["history"].pk]), follow=True)
    assert "不能核定" in refused.content.decode() and not Job.objects.filter(kind="assess_campaign").exists()
    enrollments = client.get(reverse("enrollment:enrollments"), {"year": 2024}).content.decode()
    assert "甲" in enrollments and "乙" in enrollments and "参保暂停" in enrollments
    one = Enrollment.objects.get(resident=county["people"]["a"], benefit_year=2024)
    detail = client.get(reverse("enrollment:enrollment", args=[one.pk]))
    assert detail.status_code == 200 and "历年参保名单导入：正常参保" in detail.content.decode()


def test_village_collector_sees_the_history_year_of_their_village(client, make_user, county):
    login(client, make_user, "village_collector", VILLAGE)
    html = client.get(reverse("enrollment:campaign", args=[county["history"].pk])).content.decode()
    assert 'data-field="total">3<' in html and "导入记录" not in html


def test_campaign_api_with_a_history_campaign(client, make_user, county):
    login(client, make_user)
    rows = {c["benefit_year"]: c for c in client.get("/api/campaigns").json()}
    assert rows[2024]["imported"] is True and rows[2024]["note"] == "2024年度为导入的历史名单，没有缴费政策"
    assert rows[2025]["imported"] is False and rows[2025]["note"] == ""
    detail = client.get(f"/api/campaigns/{county['history'].pk}")
    assert detail.status_code == 200 and detail.json()["totals"]["residents"] == 0
    assess = client.post(f"/api/campaigns/{county['history'].pk}/assess", "{}", content_type="application/json")
    assert assess.status_code == 400 and "2024年度为导入的历史名单，没有缴费政策，不能核定" in assess.json()["detail"]
    listed = client.get("/api/enrollments", {"benefit_year": 2024}).json()
    assert listed["count"] == 3


def test_campaign_cli_with_a_history_campaign(county):
    runner = CliRunner()
    listed = runner.invoke(app, ["campaign", "list", "--county", "340321"])
    assert listed.exit_code == 0 and "2024年度 历史名单" in listed.stdout
    data = json.loads(runner.invoke(app, ["campaign", "list", "--json"]).stdout)
    assert {c["benefit_year"]: c["imported"] for c in data["campaigns"]} == {2025: False, 2024: True}
    assess = runner.invoke(app, ["assess", "--county", "340321", "--year", "2024", "--quiet", "--json"])
    assert assess.exit_code == 1 and "2024年度为导入的历史名单，没有缴费政策，不能核定" in assess.stderr
    assert assess.stdout == ""
