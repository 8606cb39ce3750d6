"""Browser walk of a 市医保局管理员 (issue 14): the home's cards and every menu page, at 1280 wide and on a phone."""

import pytest

from yibao.accounts.models import User

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"])
def test_city_admin_walks_home_and_menu(page, live_server, transactional_db, regions, size):
    User.objects.create_user(username="xianning", password="pass-1234", role="city_admin", region_code="4212",
                             display_name="咸宁市医保局")
    page.set_viewport_size(size)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "xianning")
    page.fill("input[name=password]", "pass-1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    main = page.inner_text("main")
    assert "市医保局管理员" in main and "咸宁市征缴进度" in main and "崇阳县" in main and "随县" not in main
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"] + 1
    links = page.eval_on_selector_all("a.tile, a.home-card", "els => els.map(e => e.getAttribute('href'))")
    assert "/progress/" in links and "/progress/?region=421223" in links
    for href in dict.fromkeys(links):
        response = page.goto(f"{live_server.url}{href}")
        assert response.status < 400, f"{href}: HTTP {response.status}"
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"] + 1, href
        assert page.locator("a.brand").is_visible(), href
    page.goto(f"{live_server.url}/progress/targets/")
    assert "崇阳县" in page.inner_text("main")  # its only county is shown without asking
