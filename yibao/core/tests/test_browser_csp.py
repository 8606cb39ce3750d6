"""Browser checks that the strict CSP breaks no behaviour that used to be inline.

Every browser test fails on a CSP violation (the `page` fixture in conftest.py); these cover the
pages whose inline handlers moved to yibao/static/yibao/app.js, and the API docs (Swagger UI).
"""

import pytest

pytestmark = pytest.mark.browser


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_the_import_type_filter_submits_itself_without_inline_handlers(page, live_server, make_user, transactional_db):
    make_user(username="admin")
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/imports/")
    select = page.locator("select[name=kind]")
    value = select.locator("option").nth(1).get_attribute("value")
    select.select_option(value)
    page.wait_for_url(f"**/imports/?kind={value}")
    assert page.locator("select[name=kind]").input_value() == value


def test_the_api_docs_render_under_the_csp_for_a_logged_in_user(page, live_server, make_user, transactional_db):
    make_user(username="admin")
    page.goto(f"{live_server.url}/api/docs")
    page.wait_for_url("**/accounts/login/**")  # behind login
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/api/docs")
    page.get_by_text("/api/quote", exact=True).first.wait_for(timeout=15000)
    assert "医保征缴 API" in page.inner_text("body")
