import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")


def test_collector_quotes_on_a_phone(page, live_server, make_user):
    make_user("collector", role="village_collector", region_code="340321100001")
    login(page, live_server, "collector")
    page.goto(f"{live_server.url}/policy/quote/")
    assert page.locator("select[name=policy]").input_value() == "anhui-huaiyuan-2025"
    page.fill("input[name=birth_date]", "1970-03-03")
    page.fill("input[name=paid_on]", "2024-10-08")
    page.check("input[name=identities][value=dibao]")
    assert page.evaluate("typeof window.htmx") == "object", "htmx 未加载"
    page.evaluate("window.fullReloads = 0; window.addEventListener('beforeunload', () => window.fullReloads++)")
    with page.expect_request(lambda r: r.method == "POST" and r.headers.get("hx-request") == "true"):
        page.click("button:has-text('测算')")
    result = page.locator("#quote-result .result")
    result.wait_for()
    assert result.get_attribute("data-accepted") == "true"
    assert page.locator("[data-field=payable]").inner_text() == "60元"
    assert page.locator("[data-field=subsidy]").inner_text() == "340元"
    assert "低保对象" in page.locator(".explain").inner_text()
    # htmx replaced the result in place: no page load happened
    assert page.evaluate("window.fullReloads") == 0
    # the stylesheet is served and applied
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).position") == "sticky"
    # a phone-width page does not scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_refusal_is_shown_with_its_reason(page, live_server, make_user):
    make_user("admin", role="county_admin", region_code="140602")
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/policy/quote/")
    page.select_option("select[name=policy]", "shanxi-shuozhou-2024")
    page.fill("input[name=birth_date]", "1979-09-09")
    page.fill("input[name=paid_on]", "2023-09-26")
    page.click("button:has-text('测算')")
    page.locator("#quote-result .result").wait_for()
    assert page.locator("#quote-result .result").get_attribute("data-accepted") == "false"
    assert "每月1日至25日" in page.locator("[data-field=reason]").inner_text()


def test_household_enrollment_on_the_quote_page_decides_a_newborn_exemption(page, live_server, make_user):
    make_user("xiaoling", role="village_collector", region_code="421223100001")
    login(page, live_server, "xiaoling")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/policy/quote/")
    page.select_option("main select[name=policy]", "hubei-chongyang-xiaoling-2024")
    page.fill("main input[name=birth_date]", "2024-02-01")
    page.fill("main input[name=paid_on]", "2024-03-01")
    page.select_option("main select[name=group]", "newborn")
    page.select_option("main select[name=household_enrolled]", "yes")
    page.fill("main input[name=employee_months]", "3")
    page.click("button:has-text('测算')")
    page.locator("#quote-result .result").wait_for()
    assert "同户有其他家庭成员已参加2024年度城乡居民医保" in page.locator(".explain").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
