"""Accounts above the county (issue 14): 市医保局管理员 and 市税务局 at 咸宁市 (4212, holds 崇阳县 421223, not
随县 421321), 省医保局 at 湖北省 (42, holds both). Their scope, picker, home, menu, pages and account rules."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from typer.testing import CliRunner

from yibao.accounts.models import User
from yibao.accounts.roles import Role
from yibao.accounts.scope import Scope, scope_for
from yibao.core.models import Event, Job
from yibao.registry.tests.fixtures import BAIMA, SHENNONG

CITY, OTHER_CITY, PROVINCE, COUNTY, SUIXIAN = "4212", "4213", "42", "421223", "421321"


@pytest.fixture
def above(regions):
    homes = {Role.CITY_ADMIN: CITY, Role.CITY_TAX: CITY, Role.PROVINCE_VIEWER: PROVINCE}
    return {
        str(role): User.objects.create_user(username=str(role), password="pass-1234", role=role, region_code=code,
                                            display_name=f"{Role(role).label}甲")
        for role, code in homes.items()
    }


# ---------------------------------------------------------------- the scope


def test_a_city_covers_its_counties_only():
    city = Scope(role=Role.CITY_ADMIN, region_code=CITY)
    assert city.above_county and city.county_code == ""
    assert city.covers_county(COUNTY) and not city.covers_county(SUIXIAN)
    assert not city.covers_county(CITY) and not city.covers_county("")  # only whole county codes
    province = Scope(role=Role.PROVINCE_VIEWER, region_code=PROVINCE)
    assert province.covers_county(COUNTY) and province.covers_county(SUIXIAN)
    township = Scope(role=Role.TOWNSHIP_OFFICER, region_code="421223200")
    assert township.covers_county(COUNTY) and not township.covers_county(SUIXIAN)


def test_read_only_roles_and_masked_numbers():
    for role in (Role.CITY_TAX, Role.PROVINCE_VIEWER, Role.AUDITOR):
        assert Scope(role=role, region_code=CITY if role != Role.AUDITOR else COUNTY).read_only
    city = Scope(role=Role.CITY_ADMIN, region_code=CITY)
    assert not city.read_only and not city.full_id
    assert city.show_id("421223199001011234", "421223200201") == "421223********1234"


def test_filter_counties_reaches_every_county_of_the_city(above):
    from yibao.regions.models import Region

    city = scope_for(above["city_admin"])
    codes = set(city.filter_counties(Region.objects.filter(level=6)).values_list("code", flat=True))
    assert codes == {COUNTY}
    province = scope_for(above["province_viewer"])
    assert set(province.filter_counties(Region.objects.filter(level=6)).values_list("code", flat=True)) == {COUNTY, SUIXIAN}


def test_county_pick(above):
    from yibao.regions.selectors import county_pick, scope_counties

    city, province = scope_for(above["city_admin"]), scope_for(above["province_viewer"])
    assert scope_counties(scope=city) == [(COUNTY, "崇阳县")]
    assert county_pick(scope=city) == COUNTY  # its only county
    assert county_pick(scope=province) == ""  # two counties: 请选择县（区）
    assert county_pick(scope=province, requested=SUIXIAN) == SUIXIAN
    with pytest.raises(PermissionDenied, match="不在当前账号的管辖范围内"):
        county_pick(scope=city, requested=SUIXIAN)
    with pytest.raises(PermissionDenied, match="应为 6 位数字"):
        county_pick(scope=province, requested="4212")
    county = Scope(role=Role.COUNTY_ADMIN, region_code=COUNTY)
    assert county_pick(scope=county, requested=SUIXIAN) == COUNTY  # a county account keeps its own


# ---------------------------------------------------------------- home and menu


def test_city_home_has_the_rollup_and_its_counties(client, above):
    client.force_login(above["city_admin"])
    html = client.get("/").content.decode()
    assert 'href="/progress/"' in html and "咸宁市征缴进度" in html
    assert f'href="/progress/?region={COUNTY}"' in html and "崇阳县" in html
    assert "随县" not in html


def test_province_home_lists_both_counties(client, above):
    client.force_login(above["province_viewer"])
    html = client.get("/").content.decode()
    assert f"?region={COUNTY}" in html and f"?region={SUIXIAN}" in html


@pytest.mark.parametrize("role", ["city_admin", "city_tax", "province_viewer"])
def test_every_menu_item_opens(client, above, role):
    from yibao.core.navigation import nav_for

    scope = scope_for(above[role])
    items = nav_for(scope)
    names = {i["name"] for i in items}
    assert "progress:dashboard" in names and "regions:tree" in names and "reconciliation:runs" in names
    assert not names & {"registry:residents", "collection:counter", "progress:remind", "imports:jobs",
                        "enrollment:enrollments", "accounts:users"}
    assert ("core:events" in names) == (role == "city_admin")
    client.force_login(above[role])
    for item in items:
        response = client.get(item["url"], follow=True)
        assert response.status_code == 200, f"{role} {item['url']}: {response.status_code}"


def test_progress_without_region_opens_the_roll_up(client, above):
    client.force_login(above["province_viewer"])
    response = client.get("/progress/")
    # no county has a year yet: the roll-up says so in Chinese (the ranking itself is tested in progress)
    assert response.status_code == 200 and "还没有征缴年度" in response.content.decode()
    client.force_login(above["city_admin"])
    assert client.get(f"/progress/?region={SHENNONG}").status_code == 403


# ---------------------------------------------------------------- pages


def test_region_tree_starts_at_the_city(client, above):
    client.force_login(above["city_admin"])
    response = client.get("/regions/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/regions/{CITY}/"
    assert "崇阳县" in html and "随县" not in html and "湖北省" in html  # the province in the breadcrumb
    assert client.get(f"/regions/{OTHER_CITY}/").status_code == 403
    assert "肖岭乡" in client.get(f"/regions/{COUNTY}/").content.decode()


def test_region_api_of_a_city(client, above):
    client.force_login(above["province_viewer"])
    body = client.get(f"/api/regions/{PROVINCE}").json()
    assert [c["code"] for c in body["children"]] == [CITY, OTHER_CITY]


def test_targets_page_picks_a_county(client, above):
    client.force_login(above["province_viewer"])
    html = client.get("/progress/targets/").content.decode()
    assert "请选择县（区）" in html and "导入任务表" not in html
    assert client.get("/progress/targets/", {"county": SUIXIAN}).status_code == 200
    client.force_login(above["city_admin"])  # a city sets its counties' targets on the city's page
    response = client.get("/progress/targets/", {"county": SUIXIAN}, follow=True)
    assert response.redirect_chain[-1][0] == "/progress/targets/city/"
    assert "随县" not in response.content.decode()


def _event(county):
    from yibao.core.services import event_record

    return event_record(county_code=county, entity="resident", entity_id="1", action="update", reason=f"改{county}")


def test_change_log_of_a_city_holds_its_counties_only(client, above):
    _event(COUNTY), _event(SUIXIAN)
    client.force_login(above["city_admin"])
    html = client.get("/events/").content.decode()
    assert f"改{COUNTY}" in html and f"改{SUIXIAN}" not in html
    response = client.get("/events/export.xlsx")
    assert response.status_code == 200
    exports = list(Event.objects.filter(entity="export", entity_id="events").values_list("county_code", flat=True))
    assert exports == [COUNTY]  # one per county of the city, never "4212" or ""


def test_jobs_of_a_city(above):
    from yibao.core.selectors import job_list

    mine = Job.objects.create(kind="reconcile", county_code=COUNTY, status=Job.Status.SUCCEEDED)
    Job.objects.create(kind="reconcile", county_code=SUIXIAN, status=Job.Status.SUCCEEDED)
    assert list(job_list(scope=scope_for(above["city_tax"]))) == [mine]
    assert job_list(scope=scope_for(above["province_viewer"])).count() == 2


def test_read_only_roles_never_write(client, above):
    for role in ("city_tax", "province_viewer"):
        client.force_login(above[role])
        assert client.post(f"/progress/targets/{BAIMA}/2024/edit/", {"total": "9", "reason": "试"}).status_code == 403
        assert client.post("/api/campaigns", json.dumps({"county_code": COUNTY, "policy_id": "x"}),
                           content_type="application/json").status_code == 403
    from yibao.progress.models import Target

    assert not Target.objects.exists()


def test_no_target_is_written_under_a_city_code(above):
    from django.core.exceptions import ValidationError

    from yibao.progress.models import Target
    from yibao.progress.services import target_set

    with pytest.raises(ValidationError, match="所辖各县之和"):
        target_set(actor=above["city_admin"], region_code=CITY, benefit_year=2024, total=10, reason="试")
    assert not Target.objects.exists()


def test_a_city_does_not_assess_a_county(client, above):
    from yibao.enrollment.models import Campaign

    import datetime as dt

    campaign = Campaign.objects.create(county_code=COUNTY, benefit_year=2024, policy_id="hubei-chongyang-xiaoling-2024",
                                       collection_start=dt.date(2023, 9, 1), collection_end=dt.date(2023, 12, 31))
    client.force_login(above["city_admin"])
    response = client.post(f"/api/campaigns/{campaign.pk}/assess", "{}", content_type="application/json")
    assert response.status_code == 403 and "由县医保局办理" in response.json()["detail"]


# ---------------------------------------------------------------- accounts above the county


def test_superuser_creates_city_accounts_through_the_page(client, above):
    root = User.objects.create_superuser(username="root", password="pass-1234")
    client.force_login(root)
    page = client.get("/accounts/users/new/").content.decode()
    assert "市医保局管理员" in page and "咸宁市（4212）" in page
    response = client.post("/accounts/users/new/", {"username": "xianning", "role": "city_admin", "region_code": CITY,
                                                    "password": "pass-5678x"})
    assert response.status_code == 302
    user = User.objects.get(username="xianning")
    assert (user.role, user.region_code) == ("city_admin", CITY)
    # the account's event goes to the install-wide log, not under a 4-digit code
    assert Event.objects.get(entity="user", entity_id=str(user.pk)).county_code == ""


def test_binding_rules_with_chinese_messages(client, above):
    root = User.objects.create_superuser(username="root", password="pass-1234")
    client.force_login(root)
    cases = [
        ("city_admin", COUNTY, "市医保局管理员须绑定到市（地区、州、盟）（4位区划代码）"),
        ("province_viewer", CITY, "省医保局（只读）须绑定到省（自治区、直辖市）（2位区划代码）"),
        ("auditor", CITY, "审计（只读）须绑定到县（区）或以下区划"),
        ("county_admin", PROVINCE, "县医保局管理员须绑定到县（区）（6位区划代码）"),
    ]
    for role, region, message in cases:
        response = client.post("/api/users", {"username": f"u_{role}", "password": "pass-5678x", "role": role,
                                              "region_code": region}, content_type="application/json")
        assert response.status_code == 400, role
        assert message in response.json()["errors"]["region_code"][0], response.json()
    created = client.post("/api/users", {"username": "hubei", "password": "pass-5678x", "role": "province_viewer",
                                         "region_code": PROVINCE}, content_type="application/json")
    assert created.status_code == 201


def test_a_county_admin_cannot_make_city_accounts(client, admin):
    client.force_login(admin)
    page = client.get("/accounts/users/new/").content.decode()
    assert "市医保局管理员" not in page  # not among its roles
    response = client.post("/api/users", {"username": "sneaky", "password": "pass-5678x", "role": "city_admin",
                                          "region_code": CITY}, content_type="application/json")
    assert response.status_code == 400
    assert "只有系统管理员可以设置市、省级账号" in response.json()["errors"]["role"][0]
    assert not User.objects.filter(username="sneaky").exists()


def test_city_admin_does_not_manage_accounts(client, above):
    client.force_login(above["city_admin"])
    assert client.get("/accounts/users/").status_code == 403
    assert client.post("/api/users", {"username": "x1", "password": "pass-5678x", "role": "county_admin",
                                      "region_code": COUNTY}, content_type="application/json").status_code == 403


def test_cli_creates_a_city_account(regions):
    from yibao.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["users", "create", "xianning", "--role", "city_tax", "--region", CITY, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["region_code"] == CITY
    refused = runner.invoke(app, ["users", "create", "xianning2", "--role", "city_tax", "--region", COUNTY])
    assert refused.exit_code != 0 and "市税务局（查看）须绑定到市" in refused.stderr
