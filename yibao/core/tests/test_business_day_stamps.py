"""Every date a user reads as "when" in the campaign (export stamps, 已于…开启, report headers,
登记/退费 dates) follows the business clock: with YIBAO_TODAY in the past, no stamp shows the
real calendar."""

import datetime as dt
import io
import types
from urllib.parse import unquote

import pytest
from django.template import Context, Template
from django.utils import timezone

from yibao.core.clock import business_time

pytestmark = pytest.mark.django_db

PAST = dt.date(2024, 10, 8)


@pytest.fixture(autouse=True)
def past_business_day(settings):
    settings.YIBAO_TODAY = PAST.isoformat()
    assert timezone.localdate() != PAST  # the test means something only off the real calendar


def test_a_real_clock_stamp_moves_with_the_business_clock():
    now = timezone.now()
    assert business_time(now).date() == PAST
    assert business_time(now - dt.timedelta(days=1)).date() == PAST - dt.timedelta(days=1)
    assert business_time(None) is None
    text = Template('{% load business %}{{ t|business|date:"Y-m-d" }}').render(Context({"t": now}))
    assert text == "2024-10-08"


def test_campaign_opened_closed_and_already_opened_message_use_the_business_day():
    from yibao.enrollment.services import CampaignError, campaign_close, campaign_open
    from yibao.enrollment.tests import factories as ef

    ef.region_tree()
    campaign = campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor="测试")
    assert timezone.localtime(campaign.opened_at).date() == PAST
    with pytest.raises(CampaignError, match="征缴已于2024-10-08开启"):
        campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor="测试")
    campaign = campaign_close(campaign=campaign, actor="测试")
    assert timezone.localtime(campaign.closed_at).date() == PAST


def test_history_campaign_is_stamped_on_the_business_day():
    from yibao.enrollment.services import CampaignError, campaign_history_ensure, campaign_open
    from yibao.enrollment.tests import factories as ef

    ef.region_tree()
    campaign, _created = campaign_history_ensure(county_code="340321", benefit_year=2025, actor="测试")
    assert timezone.localtime(campaign.opened_at).date() == PAST
    with pytest.raises(CampaignError, match=r"已导入历年参保名单（2024-10-08）"):
        campaign_open(county_code="340321", policy_id="anhui-huaiyuan-2025", actor="测试")


def test_registration_and_refund_dates_are_business_days():
    from yibao.collection import services as s
    from yibao.collection.tests import factories as f
    from yibao.enrollment.models import Enrollment

    f.campaign()
    person = f.person()
    payment = s.payment_collect(residents=[person], channel="cash", actor="测试").payments[0]
    assert timezone.localtime(Enrollment.objects.get(resident=person).registered_at).date() == PAST
    refund = s.refund_request(payment=payment, reason="死亡", actor="测试")
    s.refund_approve(refund=refund, actor="测试")
    s.refund_book(refund=refund, actor="测试")
    refund.refresh_from_db()
    assert {timezone.localtime(t).date() for t in (refund.requested_at, refund.decided_at, refund.booked_at)} == {PAST}


def test_export_file_names_carry_the_business_day(client, make_user):
    from yibao.enrollment.tests import factories as ef

    ef.region_tree()
    client.force_login(make_user("xian", role="county_admin", region_code="340321"))
    residents = client.get("/registry/residents/export.xlsx")
    assert residents.status_code == 200
    assert "20241008.xlsx" in unquote(residents["Content-Disposition"])
    subsidy = client.get("/collection/subsidy-refunds/export.xlsx")
    assert subsidy.status_code == 200
    assert "20241008.xlsx" in unquote(subsidy["Content-Disposition"])
    remind = client.get("/api/remind/export.xlsx", {"village": "340321100001", "year": 2025})
    assert remind.status_code == 200 and "20241008.xlsx" in unquote(remind["Content-Disposition"])
    page = client.get("/registry/residents/")
    assert page.status_code == 200


def test_remind_list_export_time_and_marks_and_statistics_time_are_on_the_business_clock():
    from python_calamine import CalamineWorkbook

    from yibao.enrollment.tests import factories as ef
    from yibao.progress import reports

    ef.region_tree()
    book = reports.write_remind_xlsx([], village_code="340321100001", benefit_year=2025)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(book)).get_sheet_by_index(0).to_python()
    assert "导出时间 2024-10-08" in " ".join(str(c) for row in rows[:3] for c in row)
    tree = types.SimpleNamespace(refreshed_at=timezone.now())
    assert reports._refreshed_text(tree).startswith("；统计时间 2024-10-08")


def test_import_error_report_name_is_stamped_on_the_business_day():
    from yibao.imports.reports import report_path

    assert report_path(job_id=None, kind="residents").name.startswith("20241008-")


def test_identity_end_form_defaults_to_the_business_day(client, make_user):
    from yibao.enrollment.tests import factories as ef
    from yibao.registry.tests.factories import give_identity, make_resident

    ef.region_tree()
    person = make_resident("340321100001", "张三")
    give_identity(person, "dibao")
    client.force_login(make_user("xian", role="county_admin", region_code="340321"))
    page = client.get(f"/registry/residents/{person.pk}/").content.decode()
    import re
    assert re.search(r"name=\"valid_to\"[^>]*value=\"2024-10-08\"|value=\"2024-10-08\"[^>]*name=\"valid_to\"", page), page[page.find("资助身份"):][:1500]


def test_a_resolved_flag_says_it_was_resolved_on_the_business_day():
    from django.core.exceptions import ValidationError

    from yibao.enrollment.tests import factories as ef
    from yibao.registry import services
    from yibao.registry.tests.factories import make_resident

    ef.region_tree()
    person = make_resident("340321100001", "张三")
    flag = services.flag_create(actor="测试", resident=person, kind="employee_insurance", detail="职工医保")
    services.flag_resolve(actor="测试", flag=flag, outcome="cleared", resolution="已停保")
    with pytest.raises(ValidationError, match="该标记已于 2024-10-08"):
        services.flag_resolve(actor="测试", flag=flag, outcome="cleared", resolution="再次")
