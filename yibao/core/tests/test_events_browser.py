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
    assert page.locator("tbody tr").count() == 3

    page.fill("input[name=request]", "complaint-aaaa-0001")
    page.click("button:has-text('查找')")
    page.wait_for_url("**/events/?request=complaint-aaaa-0001")
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    assert {"payment#11", "receipt#7"} <= set(page.locator("tbody").inner_text().split())

    page.goto(f"{live_server.url}/events/")
    page.click("tbody a:has-text('other-bbbb-0002')")
    page.wait_for_url("**/events/?request=other-bbbb-0002")
    assert page.locator("tbody tr").count() == 1 and "payment#12" in page.locator("tbody").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
