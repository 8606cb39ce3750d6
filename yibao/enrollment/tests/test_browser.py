"""The campaign page on a phone: open a year, run 核定 with its progress bar, read the totals."""

import datetime as dt

import pytest

from yibao.enrollment.models import Assessment, Campaign
from yibao.enrollment.tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")


def test_admin_opens_a_year_and_assesses_the_county_on_a_phone(page, live_server, make_user):
    f.region_tree("340321", "340321100", "340321100001")
    f.region_tree("340321", "340321200", "340321200001")
    f.resident(name="王低保", identities=["dibao"])
    f.resident(name="赵优抚", village="340321200001", identities=["entitled_group"])
    make_user("admin", role="county_admin", region_code="340321")
    login(page, live_server, "admin")

    page.goto(f"{live_server.url}/enrollment/")
    page.select_option("select[name=policy_id]", "anhui-huaiyuan-2025")
    page.click("button:has-text('开启')")
    page.wait_for_url("**/enrollment/campaigns/*/")
    campaign = Campaign.objects.get()
    assert "2025年度" in page.locator("h1").inner_text()
    assert page.locator("[data-field=residents]").inner_text() == "0"

    page.fill("input[name=on]", "2024-10-08")
    assert page.evaluate("typeof window.htmx") == "object", "htmx 未加载"
    page.evaluate("window.fullReloads = 0; window.addEventListener('beforeunload', () => window.fullReloads++)")
    with page.expect_request(lambda r: r.method == "POST" and r.headers.get("hx-request") == "true"):
        page.click("button:has-text('核定')")
    job = page.locator("#assess-job .job")
    job.wait_for()
    page.locator("#assess-job .badge:has-text('已完成')").wait_for()
    assert page.locator("#assess-job progress").get_attribute("value") == "100"
    assert page.evaluate("window.fullReloads") == 0
    assert Assessment.objects.filter(campaign=campaign).count() == 2

    page.click("text=刷新合计")
    assert page.locator("[data-field=residents]").inner_text() == "2"
    assert page.locator("[data-field=payable]").inner_text() == "460.00元"
    assert page.locator("[data-field=refund_later]").inner_text() == "400.00元"
    page.goto(f"{live_server.url}/enrollment/campaigns/{campaign.pk}/assessments/")
    page.click("text=赵优抚")
    assert page.locator("[data-field=refund_later]").inner_text() == "400元"
    assert "【先缴后补】" in page.locator(".explain").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_collector_registers_a_resident_and_suspends(page, live_server, make_user):
    f.region_tree()
    person = f.resident(name="钱外出")
    campaign = f.campaign()
    from yibao.enrollment.services import assessment_run

    assessment_run(campaign=campaign, actor="测试", on=dt.date(2024, 10, 8))
    make_user("collector", role="village_collector", region_code="340321100001")
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/enrollment/campaigns/{campaign.pk}/residents/{person.pk}/")
    page.click("button:has-text('办理参保登记')")
    page.wait_for_url("**/enrollment/enrollments/*/")
    assert page.locator("[data-field=status]").inner_text() == "已登记未缴费"
    page.click("summary:has-text('参保暂停')")
    page.fill("input[name=suspend-reason]", "到外地参保")
    page.click("button:has-text('办理参保暂停')")
    sheet = page.locator("[data-testid=status-confirm]")
    sheet.wait_for()
    assert "钱外出" in sheet.inner_text() and "参保将暂停" in sheet.inner_text()
    assert "由“已登记未缴费”改为“参保暂停”" in sheet.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.click("[data-testid=status-confirm-ok]")
    page.locator("[data-testid=status-undo]").wait_for()
    assert page.locator("[data-field=status]").inner_text() == "参保暂停"
    assert "参保暂停" in page.locator("[data-testid=events]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.click("[data-testid=status-undo-button]")
    page.locator(".messages li:has-text('已撤销')").wait_for()
    assert page.locator("[data-field=status]").inner_text() == "已登记未缴费"
