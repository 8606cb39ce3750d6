import datetime as dt
import io
from urllib.parse import unquote

import pytest
from python_calamine import CalamineWorkbook

from yibao.core.models import Event
from yibao.registry.models import Flag, GroupFact, Household, Identity, Resident
from yibao.registry.tests.factories import give_identity, make_household, make_id
from yibao.registry.tests.fixtures import BAIMA, SANJIAO, SUOSHI


@pytest.fixture
def people(regions):
    _, baima = make_household(BAIMA, "H1", "张父", "张子")
    _, suoshi = make_household(SUOSHI, "H2", "李母")
    return {"baima": baima, "suoshi": suoshi}


def html(response) -> str:
    return response.content.decode()


def test_residents_page_searches_and_masks(client, people, staff):
    head = people["baima"][0]
    client.force_login(staff["auditor"])
    page = html(client.get("/registry/residents/", {"q": "张"}))
    assert "张父" in page and "张子" in page and "李母" not in page
    assert head.id_number not in page and head.id_number[:6] + "********" + head.id_number[-4:] in page
    assert "登记新户" not in page and "导出 Excel" in page
    client.force_login(staff["village_collector"])
    page = html(client.get("/registry/residents/"))
    assert head.id_number in page and "李母" not in page and "登记新户" in page
    assert "没有找到“李母”" in html(client.get("/registry/residents/", {"q": "李母"}))


def test_register_household_through_the_page(client, collector, regions):
    client.force_login(collector)
    form = client.get("/registry/households/new/")
    assert form.status_code == 200 and "白马" in html(form)
    head_id = make_id("421223", dt.date(1980, 1, 2), seq="613")
    wife_id = make_id("421223", dt.date(1982, 2, 3), seq="624", sex="F")
    data = {
        "village_code": BAIMA, "number": "", "address": "白马村3组",
        "m-TOTAL_FORMS": "6", "m-INITIAL_FORMS": "0", "m-MIN_NUM_FORMS": "0", "m-MAX_NUM_FORMS": "20",
        "m-0-name": "陈一", "m-0-id_number": head_id, "m-0-relation": "户主", "m-0-phone": "13811112222",
        "m-1-name": "周二", "m-1-id_number": wife_id, "m-1-relation": "配偶", "m-1-phone": "",
    }
    response = client.post("/registry/households/new/", data, follow=True)
    household = Household.objects.get(village_code=BAIMA)
    assert response.redirect_chain[-1][0] == f"/registry/households/{household.pk}/"
    page = html(response)
    assert "已登记家庭户" in page and "陈一" in page and "周二" in page
    assert household.address == "白马村3组" and household.members.count() == 2


def test_register_page_shows_chinese_errors_and_writes_nothing(client, collector, regions):
    client.force_login(collector)
    bad = make_id("421223", dt.date(1980, 1, 2), seq="613")
    bad = bad[:-1] + ("1" if bad[-1] != "1" else "2")
    data = {
        "village_code": BAIMA, "number": "", "address": "",
        "m-TOTAL_FORMS": "1", "m-INITIAL_FORMS": "0", "m-MIN_NUM_FORMS": "0", "m-MAX_NUM_FORMS": "20",
        "m-0-name": "陈一", "m-0-id_number": bad, "m-0-relation": "户主", "m-0-phone": "",
    }
    page = html(client.post("/registry/households/new/", data))
    assert "第1位成员（陈一）：身份证号码校验位错误" in page
    assert not Resident.objects.exists()


def test_resident_page_shows_block_identities_and_history(client, people, admin):
    head = people["baima"][0]
    give_identity(head, "dibao")
    Flag.objects.create(county_code="421223", resident=head, kind=Flag.Kind.OTHER_COUNTY, detail="随县已登记")
    client.force_login(admin)
    page = html(client.get(f"/registry/residents/{head.pk}/"))
    assert "暂不能参保" in page and "已在其他县（区）登记（随县已登记），待县医保局核实处理" in page
    assert "低保对象" in page and "登记资助身份" in page and "提交处理结果" in page
    assert f"/events/?person={head.pk}" in page


def test_resident_actions_on_the_detail_page(client, people, admin):
    head, son = people["baima"]
    client.force_login(admin)
    client.post(f"/registry/residents/{son.pk}/identities/", {"code": "monitored_edge", "department": "",
                                                             "valid_from": "2023-01-01", "valid_to": "", "source_name": "监测名单"})
    identity = Identity.objects.get(resident=son)
    assert (identity.code, identity.department, identity.source_name) == ("monitored_edge", "xiangcun", "监测名单")
    client.post(f"/registry/identities/{identity.pk}/end/", {"valid_to": "2023-06-30", "reason": "消除风险"})
    identity.refresh_from_db()
    assert identity.valid_to == dt.date(2023, 6, 30)
    client.post(f"/registry/residents/{son.pk}/groups/", {"group": "university_student", "event_date": "", "note": "武汉大学"})
    fact = GroupFact.objects.get(resident=son)
    client.post(f"/registry/groups/{fact.pk}/remove/", {"reason": "登记错误"})
    assert not GroupFact.objects.exists()
    refused = client.post(f"/registry/residents/{son.pk}/identities/", {"code": "贫困户"}, follow=True)
    assert "资助身份填写有误" in html(refused)


def test_edit_and_move_pages(client, people, staff):
    head, son = people["baima"]
    officer = staff["township_officer"]
    client.force_login(officer)
    page = html(client.post(f"/registry/residents/{son.pk}/edit/", {
        "name": "张子", "phone": "", "residence_region_code": BAIMA, "status": "moved_away", "reason": ""}))
    assert "变更状态须填写原因" in page
    client.post(f"/registry/residents/{son.pk}/edit/", {
        "name": "张子", "phone": "13900000000", "residence_region_code": BAIMA, "status": "active", "reason": ""})
    son.refresh_from_db()
    assert son.phone == "13900000000"
    move = client.post(f"/registry/residents/{son.pk}/move/", {
        "to_village_code": SANJIAO, "household_number": "", "relation": "", "reason": "分户"}, follow=True)
    son.refresh_from_db()
    assert son.village_code == SANJIAO and "已迁至肖岭乡 / 三角" in html(move)
    assert Event.objects.filter(entity="resident", entity_id=str(son.pk), action="move").exists()


def test_move_page_refuses_a_household_number_not_in_the_village(client, people, staff):
    son = people["baima"][1]
    client.force_login(staff["township_officer"])
    page = html(client.post(f"/registry/residents/{son.pk}/move/", {
        "to_village_code": SANJIAO, "household_number": "H2", "relation": "子", "reason": "婚迁"}))
    assert "迁入村没有户号为 H2 的户" in page
    son.refresh_from_db()
    assert son.village_code == BAIMA


def test_household_page_adds_member_and_changes_head(client, people, collector):
    head, son = people["baima"]
    client.force_login(collector)
    baby = make_id("421223", dt.date(2023, 10, 5), seq="702", sex="F")
    client.post(f"/registry/households/{head.household_id}/members/", {
        "name": "张宝", "id_number": baby, "relation": "孙女", "phone": "", "reason": "新生儿"})
    assert Resident.objects.get(id_number=baby).household_id == head.household_id
    client.post(f"/registry/households/{head.household_id}/head/", {
        "resident": str(son.pk), "former_head_relation": "父亲", "reason": "老人年迈"})
    page = html(client.get(f"/registry/households/{head.household_id}/"))
    son.refresh_from_db()
    assert son.relation_to_head == "户主" and "张宝" in page


def test_identity_review_page(client, people, staff):
    head = people["baima"][0]
    give_identity(head, "dibao")
    give_identity(head, "mental_severe", department="weijian")
    client.force_login(staff["township_officer"])
    response = client.get("/registry/review/")
    page = html(response)
    assert "张父" in page and "低保对象" in page and "严重精神障碍患者" in page
    row = response.context["rows"][0]
    assert row.applied == "mental_severe" and str(row.subsidy) == "380.00"
    assert "就高不就低" in page


def test_flags_page_resolves(client, people, admin):
    head = people["baima"][0]
    flag = Flag.objects.create(county_code="421223", resident=head, kind=Flag.Kind.EMPLOYEE_INSURANCE, detail="名单")
    client.force_login(admin)
    assert "张父" in html(client.get("/registry/flags/"))
    response = client.post(f"/registry/flags/{flag.pk}/resolve/", {
        "outcome": "confirmed", "resolution": "确认参加职工医保", "next": "/registry/flags/?state=all"}, follow=True)
    assert response.redirect_chain[-1][0] == "/registry/flags/?state=all"
    assert "确认重复，不在本县参加居民医保" in html(response)
    flag.refresh_from_db()
    assert flag.outcome == "confirmed"
    assert "已确认重复参保" in html(client.get("/registry/residents/"))  # still visibly blocked
    evil = client.post(f"/registry/flags/{flag.pk}/resolve/", {"outcome": "cleared", "resolution": "x",
                                                                "next": "//evil.example/"})
    assert evil["Location"] == "/registry/flags/"


def test_export_is_an_xlsx_of_the_scope(client, people, staff):
    head = people["baima"][0]
    client.force_login(staff["auditor"])
    response = client.get("/registry/residents/export.xlsx")
    assert response.status_code == 200 and "参保人名单" in unquote(response["Content-Disposition"])
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    rows = book.get_sheet_by_name("参保人名单").to_python()
    assert rows[0][:2] == ["身份证号码", "姓名"]
    assert {r[1] for r in rows[1:]} == {"张父", "张子", "李母"}
    assert head.id_number not in str(rows)
    assert Event.objects.filter(entity="export", action="export").get().after["rows"] == 3
    client.force_login(staff["village_collector"])
    assert client.get("/registry/residents/export.xlsx", {"region": SUOSHI}).status_code == 403


@pytest.mark.django_db
def test_resident_page_shows_enrollment_and_assessment_by_year(client, make_user):
    from yibao.enrollment.services import assessment_run, campaign_open, enrollment_register
    from yibao.enrollment.tests import factories as f

    person = f.resident(identities=["dibao"])
    campaign = campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor="测试")
    assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    enrollment_register(resident=person, campaign=campaign, actor="测试")
    client.force_login(make_user("admin", role="county_admin", region_code="340321"))
    html = client.get(f"/registry/residents/{person.pk}/").content.decode()
    assert 'data-testid="enrollment-summary"' in html
    summary = html.split('data-testid="enrollment-summary"')[1].split("</section>")[0]
    assert "已登记未缴费" in summary and "60元" in summary and "低保对象" in summary and "dibao" not in summary
