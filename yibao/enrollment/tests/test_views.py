"""Pages of campaigns, assessment and enrollments."""

import datetime as dt

import pytest
from django.urls import reverse

from yibao.core.models import Job
from yibao.enrollment.models import Assessment, Campaign, Enrollment
from yibao.enrollment.services import assessment_run, enrollment_mark_paid, enrollment_register
from yibao.enrollment.tests import factories as f
from yibao.registry.models import Identity

pytestmark = pytest.mark.django_db

ON = dt.date(2024, 10, 8)


@pytest.fixture
def county():
    """Two townships, three villages, five residents, an assessed campaign."""
    f.region_tree("340321", "340321100", "340321100001")
    f.region_tree("340321", "340321100", "340321100002")
    f.region_tree("340321", "340321200", "340321200001")
    people = {
        "低保": f.resident(name="王低保", identities=["dibao"]),
        "普通": f.resident(name="李普通", village="340321100002"),
        "优抚": f.resident(name="赵优抚", village="340321200001", identities=["entitled_group"]),
    }
    campaign = f.campaign()
    assessment_run(campaign=campaign, actor="测试", on=ON)
    return campaign, people


def login(client, make_user, role="county_admin", region="340321", name="u"):
    user = make_user(name, role=role, region_code=region)
    client.force_login(user)
    return user


def text(response):
    return response.content.decode()


def test_campaigns_page_lists_and_offers_the_open_form_to_the_admin(client, make_user, county):
    login(client, make_user)
    page = text(client.get(reverse("enrollment:campaigns")))
    assert "2025年度" in page and "anhui-huaiyuan-2025" in page and "开启征缴年度" in page


def test_a_collector_sees_campaigns_without_the_open_form(client, make_user, county):
    login(client, make_user, "village_collector", "340321100001")
    page = text(client.get(reverse("enrollment:campaigns")))
    assert "2025年度" in page and "开启征缴年度" not in page


def test_opening_a_campaign_from_the_page(client, make_user):
    f.region_tree("421321", "421321100", "421321100001")
    login(client, make_user, region="421321")
    response = client.post(reverse("enrollment:campaign_open"), {"county_code": "421321", "policy_id": "hubei-suixian-2023"})
    campaign = Campaign.objects.get(county_code="421321")
    assert response.status_code == 302 and response["Location"] == reverse("enrollment:campaign", args=[campaign.pk])
    again = client.post(reverse("enrollment:campaign_open"), {"county_code": "421321", "policy_id": "hubei-suixian-2023"})
    assert again.status_code == 200 and "只能开启一次" in text(again)


def test_the_open_form_offers_only_the_countys_policies(client, make_user):
    f.region_tree()
    login(client, make_user, region="340321")
    page = text(client.get(reverse("enrollment:campaigns")))
    assert 'value="anhui-huaiyuan-2025"' in page and 'value="hubei-suixian-2023"' not in page
    response = client.post(reverse("enrollment:campaign_open"), {"county_code": "340321", "policy_id": "hubei-suixian-2023"})
    assert response.status_code == 200 and not Campaign.objects.exists()


def test_campaign_page_shows_totals_by_township_and_drills_down(client, make_user, county):
    campaign, _ = county
    login(client, make_user)
    page = text(client.get(reverse("enrollment:campaign", args=[campaign.pk])))
    assert 'data-field="residents">3<' in page
    assert 'data-field="payable">860.00元' in page and 'data-field="refund_later">400.00元' in page
    assert "?region=340321100" in page and "?region=340321200" in page
    drill = text(client.get(reverse("enrollment:campaign", args=[campaign.pk]), {"region": "340321100"}))
    assert "village=340321100001" in drill and "village=340321100002" in drill and "340321200001" not in drill


def test_a_village_collector_sees_only_their_village_totals(client, make_user, county):
    campaign, _ = county
    login(client, make_user, "village_collector", "340321100001")
    page = text(client.get(reverse("enrollment:campaign", args=[campaign.pk])))
    assert 'data-field="residents">1<' in page and 'data-field="payable">60.00元' in page
    assert "340321100002" not in page
    assert client.get(reverse("enrollment:campaign", args=[campaign.pk]), {"region": "340321"}).status_code == 403


def test_assess_button_runs_the_job_and_returns_its_progress(client, make_user, county):
    campaign, people = county
    Identity.objects.create(county_code="340321", resident=people["普通"], code="dibao", department="民政")
    login(client, make_user)
    response = client.post(reverse("enrollment:campaign_assess", args=[campaign.pk]), {"on": "2024-10-09"},
                           HTTP_HX_REQUEST="true")
    page = text(response)
    job = Job.objects.get(kind="assess_campaign")
    assert response.status_code == 200 and f'id="job-{job.pk}"' in page and "已完成" in page
    assert job.result["assessed"] == 1 and job.result["unchanged"] == 2
    assert Assessment.objects.get(resident=people["普通"]).payable == 60
    # the job names its policy by title (not its id), adds up, and no longer polls once done
    from yibao.policy.loader import load_policy

    assert f"缴费政策：{load_policy(campaign.policy_id).data.title}" in page and campaign.policy_id not in page
    assert "参保人 3 = 核定 1 + 未变 2" in page and "hx-trigger" not in page and "正在后台" not in page


def test_assess_is_refused_to_a_collector_and_on_a_closed_campaign(client, make_user, county):
    campaign, _ = county
    login(client, make_user, "village_collector", "340321100001", name="c")
    assert client.post(reverse("enrollment:campaign_assess", args=[campaign.pk])).status_code == 403
    login(client, make_user, name="a")
    client.post(reverse("enrollment:campaign_close", args=[campaign.pk]), {"reason": "年度结束"})
    response = client.post(reverse("enrollment:campaign_assess", args=[campaign.pk]), follow=True)
    assert "已结束" in text(response) and not Job.objects.exists()


def test_another_countys_campaign_is_not_found(client, make_user, county):
    campaign, _ = county
    login(client, make_user, region="421223")
    assert client.get(reverse("enrollment:campaign", args=[campaign.pk])).status_code == 404
    assert client.get(reverse("enrollment:assessments", args=[campaign.pk])).status_code == 404


def test_assessment_list_filters_and_masks_for_the_auditor(client, make_user, county):
    campaign, people = county
    login(client, make_user, "auditor", "340321")
    page = text(client.get(reverse("enrollment:assessments", args=[campaign.pk]), {"village": "340321100001"}))
    assert "王低保" in page and "李普通" not in page
    assert people["低保"].id_number not in page and people["低保"].id_number[-4:] in page
    refused = text(client.get(reverse("enrollment:assessments", args=[campaign.pk]), {"accepted": "0"}))
    assert "王低保" not in refused and "暂无核定结果" in refused


def test_assessment_detail_explains_the_amount(client, make_user, county):
    campaign, people = county
    login(client, make_user)
    page = text(client.get(reverse("enrollment:assessment", args=[campaign.pk, people["优抚"].pk])))
    assert 'data-field="payable">400元' in page and 'data-field="refund_later">400元' in page
    assert "【先缴后补】" in page and "重点优抚对象" in page and "请重新核定" not in page
    Identity.objects.filter(resident=people["优抚"]).delete()
    stale = text(client.get(reverse("enrollment:assessment", args=[campaign.pk, people["优抚"].pk])))
    assert "请重新核定" in stale


def test_refresh_one_resident_from_the_page(client, make_user, county):
    campaign, people = county
    Identity.objects.filter(resident=people["优抚"]).delete()
    login(client, make_user, "village_collector", "340321200001")
    response = client.post(reverse("enrollment:assessment_refresh", args=[campaign.pk, people["优抚"].pk]))
    assert response.status_code == 302
    assert Assessment.objects.get(resident=people["优抚"]).refund_later == 0


def test_register_from_the_assessment_page(client, make_user, county):
    campaign, people = county
    login(client, make_user, "village_collector", "340321100001")
    response = client.post(reverse("enrollment:register", args=[campaign.pk, people["低保"].pk]))
    enrollment = Enrollment.objects.get(resident=people["低保"])
    assert response["Location"] == reverse("enrollment:enrollment", args=[enrollment.pk])
    again = client.post(reverse("enrollment:register", args=[campaign.pk, people["低保"].pk]))
    assert again.status_code == 302 and Enrollment.objects.count() == 1
    other = client.post(reverse("enrollment:register", args=[campaign.pk, people["普通"].pk]))
    assert other.status_code == 404 and Enrollment.objects.count() == 1


def test_enrollment_list_filters_by_status_and_village(client, make_user, county):
    campaign, people = county
    paid = enrollment_register(resident=people["低保"], campaign=campaign, actor="测试")
    enrollment_mark_paid(enrollment=paid, benefit_start=dt.date(2025, 1, 1), benefit_end=dt.date(2025, 12, 31), actor="测试")
    enrollment_register(resident=people["普通"], campaign=campaign, actor="测试")
    login(client, make_user, "township_officer", "340321100")
    everyone = text(client.get(reverse("enrollment:enrollments")))
    assert "王低保" in everyone and "李普通" in everyone
    only_paid = text(client.get(reverse("enrollment:enrollments"), {"status": "paid", "year": "2025"}))
    assert "王低保" in only_paid and "李普通" not in only_paid
    village = text(client.get(reverse("enrollment:enrollments"), {"village": "340321100002"}))
    assert "李普通" in village and "王低保" not in village
    assert client.get(reverse("enrollment:enrollments"), {"village": "340321200001"}).status_code == 403


def test_enrollment_detail_actions(client, make_user, county):
    campaign, people = county
    e = enrollment_register(resident=people["低保"], campaign=campaign, actor="测试")
    login(client, make_user, "township_officer", "340321100")
    page = text(client.get(reverse("enrollment:enrollment", args=[e.pk])))
    assert "参保暂停" in page and "县内迁移" in page and "参保登记" in page  # the registration event
    client.post(reverse("enrollment:transfer", args=[e.pk]),
                {"transfer-to_village_code": "340321100002", "transfer-reason": "婚迁", "confirmed": "1"})
    e.refresh_from_db()
    assert e.village_code == "340321100002"
    client.post(reverse("enrollment:suspend", args=[e.pk]), {"suspend-reason": "外出务工参保", "confirmed": "1"})
    e.refresh_from_db()
    assert e.status == "suspended"
    client.post(reverse("enrollment:resume", args=[e.pk]), {"resume-reason": "回乡"})
    e.refresh_from_db()
    assert e.status == "registered"
    response = client.post(reverse("enrollment:terminate", args=[e.pk]),
                           {"terminate-cause": "death", "terminate-reason": "", "terminate-effective_on": "2024-11-01",
                            "confirmed": "1"}, follow=True)
    e.refresh_from_db()
    assert e.status == "terminated" and "已办理参保终止" in text(response)
    page = text(client.get(reverse("enrollment:enrollment", args=[e.pk])))
    for label in ("参保随人迁移", "参保暂停", "恢复参保", "参保终止"):
        assert label in page


def test_status_actions_ask_once_then_can_be_undone_by_their_maker(client, make_user, county):
    from yibao.registry.models import Resident, StatusChange

    campaign, people = county
    e = enrollment_register(resident=people["低保"], campaign=campaign, actor="测试")
    login(client, make_user, "township_officer", "340321100")
    for url, data, headline in (
        ("enrollment:suspend", {"suspend-reason": "外出务工参保"}, "参保将暂停"),
        ("enrollment:terminate", {"terminate-cause": "death", "terminate-reason": "病故"}, "参保将终止（死亡）"),
        ("enrollment:transfer", {"transfer-to_village_code": "340321100002", "transfer-reason": "婚迁"}, "将迁往"),
    ):
        sheet = client.post(reverse(url, args=[e.pk]), data)
        html = sheet.content.decode()
        assert sheet.status_code == 200 and headline in html and 'name="confirmed" value="1"' in html, url
        e.refresh_from_db()
        assert (e.status, e.village_code) == ("registered", "340321100001"), url
    assert not StatusChange.objects.exists()
    sheet = text(client.post(reverse("enrollment:terminate", args=[e.pk]),
                             {"terminate-cause": "death", "terminate-reason": "病故"}))
    assert f"{e.benefit_year}年度参保由“已登记未缴费”改为“参保终止”" in sheet
    assert "户籍状态改为已死亡" in sheet

    done = client.post(reverse("enrollment:terminate", args=[e.pk]),
                       {"terminate-cause": "death", "terminate-reason": "病故", "confirmed": "1"})
    change = StatusChange.objects.get()
    assert done["Location"] == f"{reverse('enrollment:enrollment', args=[e.pk])}?undo={change.pk}"
    e.refresh_from_db()
    assert e.status == "terminated" and Resident.objects.get(pk=e.resident_id).status == "deceased"
    page = text(client.get(done["Location"]))
    assert "参保已终止（死亡）。" in page and "撤销（10 分钟内有效）" in page
    client.post(reverse("registry:status_undo", args=[change.pk]), {"next": reverse("enrollment:enrollment", args=[e.pk])})
    e.refresh_from_db()
    assert e.status == "registered" and Resident.objects.get(pk=e.resident_id).status == "active"


def test_enrollment_actions_report_errors_in_chinese(client, make_user, county):
    campaign, people = county
    e = enrollment_register(resident=people["低保"], campaign=campaign, actor="测试")
    login(client, make_user, "village_collector", "340321100001")
    response = client.post(reverse("enrollment:suspend", args=[e.pk]), {"suspend-reason": ""}, follow=True)
    assert "原因" in text(response) and Enrollment.objects.get(pk=e.pk).status == "registered"
    response = client.post(reverse("enrollment:transfer", args=[e.pk]),
                           {"transfer-to_village_code": "340321200001", "transfer-reason": "婚迁"})
    assert response.status_code in (200, 302, 403)
    assert Enrollment.objects.get(pk=e.pk).village_code == "340321100001"


def test_tier_choice_on_a_two_tier_policy_page(client, make_user):
    f.region_tree("500231", "500231100", "500231100001")
    person = f.resident(village="500231100001", name="刘二档")
    campaign = f.campaign(county="500231", policy_id="chongqing-dianjiang-xinmin-2024")
    assessment_run(campaign=campaign, actor="测试", on=dt.date(2023, 11, 1))
    login(client, make_user, region="500231")
    page = text(client.get(reverse("enrollment:assessment", args=[campaign.pk, person.pk])))
    assert 'name="tier"' in page
    client.post(reverse("enrollment:register", args=[campaign.pk, person.pk]), {"tier": "2"})
    e = Enrollment.objects.get(resident=person)
    assert e.tier == 2 and Assessment.objects.get(resident=person).tier == 2
    client.post(reverse("enrollment:tier", args=[e.pk]), {"tier-tier": "1"})
    assert Enrollment.objects.get(pk=e.pk).tier == 1


def test_a_campaign_whose_policy_file_does_not_fit_still_shows(client, make_user):
    f.region_tree()
    odd = Campaign.objects.create(county_code="340321", benefit_year=2026, policy_id="anhui-huaiyuan-2025",
                                  policy_version="x", collection_start=dt.date(2025, 9, 1),
                                  collection_end=dt.date(2025, 12, 31))
    login(client, make_user)
    response = client.get(reverse("enrollment:campaign", args=[odd.pk]))
    assert response.status_code == 200 and "政策文件已更新" in text(response)


def test_campaigns_table_names_the_policy_by_its_title(client, make_user, county):
    from yibao.policy.loader import load_policy

    login(client, make_user, role="village_collector", region="340321100001")  # no open form listing ids
    page = text(client.get(reverse("enrollment:campaigns")))
    assert load_policy("anhui-huaiyuan-2025").data.title in page
    assert "anhui-huaiyuan-2025" not in page
