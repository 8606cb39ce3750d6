"""As 朔州市's 医保局 in a browser (desktop and phone): open the year for the city, then set county targets."""

import pytest

from yibao.enrollment.models import Campaign
from yibao.enrollment.services import campaign_open
from yibao.enrollment.tests.shuozhou import CITY, POLICY, shuozhou
from yibao.progress.models import Target

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)])
def test_city_admin_opens_the_city_and_sets_county_targets(page, live_server, make_user, size):
    page.set_viewport_size({"width": size[0], "height": size[1]})
    shuozhou()
    campaign_open(county_code="140603", policy_id=POLICY, actor="平鲁区")
    make_user("sz_admin", role="city_admin", region_code=CITY)
    login(page, live_server, "sz_admin")

    page.goto(f"{live_server.url}/enrollment/campaigns/city-open/")
    counties = page.locator("[data-testid=city-counties]")
    assert counties.locator("[data-county='140603'] [data-field=outcome]").inner_text() == "跳过"
    assert counties.locator("[data-county='140602'] [data-field=outcome]").inner_text() == "开启"
    assert fits(page)
    page.click("[data-testid=city-open-form] button[type=submit]")
    sheet = page.locator("dialog[open] #confirm-sheet")
    sheet.wait_for()
    assert "朔城区（140602）：开启" in sheet.inner_text() and "平鲁区（140603）：跳过" in sheet.inner_text()
    assert Campaign.objects.count() == 1
    sheet.locator("#confirm-button").click()
    page.locator("[data-testid=all-open]").wait_for()
    assert "已为朔州市开启2024年度征缴" in page.locator("main").inner_text()
    assert sorted(Campaign.objects.values_list("county_code", flat=True)) == ["140602", "140603", "140621"]

    page.goto(f"{live_server.url}/progress/targets/")
    page.wait_for_url("**/progress/targets/city/")
    assert "朔州市各县目标任务（2024年度）" in page.locator("h1").inner_text()
    page.fill("main input[name=t_140602]", "300000")
    page.fill("main input[name=t_140621]", "180000")
    page.fill("main input[name=reason]", "市政府任务分解")
    assert fits(page)
    page.click("[data-testid=city-targets-form] button[type=submit]")
    sheet = page.locator("dialog[open] #confirm-sheet")
    sheet.wait_for()
    assert "山阴县（140621）：未设定 → 180000" in sheet.inner_text()
    sheet.locator("#confirm-button").click()
    page.locator(".msg-success").wait_for()
    assert page.locator("[data-field=city-total]").inner_text() == "480000"
    assert dict(Target.objects.values_list("region_code", "total")) == {"140602": 300000, "140621": 180000}
    assert fits(page)
