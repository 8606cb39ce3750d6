"""Marking 拒缴 on the 催缴 list on a phone: a required 说明, no confirmation sheet, the undo, the 其中拒缴 tab."""

import pytest

from yibao.progress.models import RemindMark
from yibao.progress.tests import builders as b
from yibao.progress.tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_collector_marks_refused_on_a_phone_and_may_undo_it(page, live_server, make_user, county):
    make_user("collector", role="village_collector", region_code=b.DONGCUN)
    login(page, live_server, "collector")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/progress/remind/?year=2025&on=2024-10-31")
    yi = page.locator("li.person").nth(0)
    assert yi.locator(".person-name").inner_text() == "乙"
    yi.locator("select[name=outcome]").select_option("refused")
    yi.locator("button").click()
    yi.locator(".mark-result p.error").wait_for()
    assert "标记“拒缴”须填写说明" in yi.locator(".mark-result").inner_text()
    assert not RemindMark.objects.exists()
    yi.locator("input[name=note]").fill("嫌贵，不愿参保")
    yi.locator("button").click()
    yi.locator(".mark-result p.ok").wait_for()
    assert "已标记 乙：拒缴" in yi.locator(".mark-result").inner_text()
    assert yi.locator("[data-testid=status-confirm]").count() == 0  # a record: no sheet to confirm
    assert RemindMark.objects.get().outcome == "refused"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.click("nav.tabs a:has-text('其中拒缴')")
    page.wait_for_url(lambda url: "state=refused" in url)
    assert page.locator("li.person .person-name").all_inner_texts() == ["乙"]
    badge = page.locator("li.person [data-mark=refused]")
    assert badge.inner_text() == "拒缴" and "嫌贵，不愿参保" in page.locator("li.person .mark-last").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.goto(f"{live_server.url}/progress/remind/?year=2025&on=2024-10-31")
    yi = page.locator("li.person").nth(0)
    assert yi.locator(".person-name").inner_text() == "乙"  # still to chase
    yi.locator("select[name=outcome]").select_option("refused")
    yi.locator("input[name=note]").fill("第二次上门仍不缴")
    yi.locator("button").click()
    undo = yi.locator("[data-testid=status-undo-button]")
    undo.wait_for()
    undo.click()
    yi.locator("[data-testid=undo-result]").wait_for()
    assert "已撤销：乙 已标记为拒缴" in yi.locator("[data-testid=undo-result]").inner_text()
    assert list(RemindMark.objects.values_list("note", flat=True)) == ["嫌贵，不愿参保"]
    assert not errors, errors
