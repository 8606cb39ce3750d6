"""The change-log page on a phone: a request id from the log finds exactly that request's changes."""

import pytest

from yibao.core.requestlog import request_id_bound
from yibao.core.services import event_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_county_admin_traces_a_request_id_to_its_changes(page, live_server, make_user):
    make_user("xian", role="county_admin", region_code="340321")
    with request_id_bound("complaint-aaaa-0001"):
        event_record(county_code="340321", entity="payment", entity_id="11", action="booked", after={"amount": "380"})
        event_record(county_code="340321", entity="receipt", entity_id="7", action="issued")
    with request_id_bound("other-bbbb-0002"):
        event_record(county_code="340321", entity="payment", entity_id="12", action="booked")

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "xian")
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{live_server.url}/events/")
    assert page.locator("li.event-row").count() == 3

    page.fill("input[name=request]", "complaint-aaaa-0001")
    page.click("button:has-text('查找')")
    page.wait_for_url("**/events/?*request=complaint-aaaa-0001*")
    rows = page.locator("li.event-row")
    assert rows.count() == 2
    text = page.locator(".event-rows").inner_text()
    assert "开具票据" in text and "收款入账" in text and "#" not in text

    page.goto(f"{live_server.url}/events/")
    page.click(".event-rows a:has-text('other-bbbb-0002')")
    page.wait_for_url("**/events/?request=other-bbbb-0002")
    assert page.locator("li.event-row").count() == 1 and "收款入账" in page.locator(".event-rows").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_change_log_filters_by_person_and_action_and_exports_on_a_phone(page, live_server, make_user):
    from decimal import Decimal

    from python_calamine import CalamineWorkbook

    from yibao.collection import services as s
    from yibao.collection.tests import factories as f
    from yibao.core.idnumber import mask_id_number
    from yibao.regions.models import Region

    make_user("xian", role="county_admin", region_code="340321")
    f.campaign()
    person = f.person(name="张三")
    Region.objects.filter(code="340321").update(name="怀远县")
    s.payment_collect(residents=[person], channel="cash", actor="王芳", paid_at=f.at("2024-10-08"), amount=Decimal("400"))
    event_record(county_code="340321", entity="export", entity_id="x", action="export", actor="李四", reason="导出参保人名单")

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "xian")
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{live_server.url}/events/")
    page.fill("input[name=person]", "张三")
    page.select_option("select[name=action]", label="收款入账")
    page.click("button:has-text('查找')")
    page.wait_for_url("**/events/?*person=*")
    text = page.locator(".event-rows").inner_text()
    assert page.locator("li.event-row").count() == 1
    assert f"王芳 为 张三（{mask_id_number(person.id_number)}）收款 400.00 元" in text and person.id_number not in text
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    with page.expect_download() as info:
        page.click("a:has-text('导出审计表')")
    download = info.value
    assert download.suggested_filename.startswith("变更记录_怀远县（340321）_")
    rows = CalamineWorkbook.from_path(download.path()).get_sheet_by_name("变更记录").to_python()
    assert rows[1][:5] == ["时间", "操作人", "角色", "区划", "动作"]
    assert len(rows) == 3 and rows[2][4] == "收款入账" and "张三" in rows[2][5] and person.id_number not in str(rows)
