"""Differences as cards on a 390×844 phone, the gravest first, with 已整改 and tap-to-call."""

import pytest

from yibao.progress.tests import builders as b
from yibao.progress.tests.conftest import county  # noqa: F401 - fixture
from yibao.progress.tests.test_browser import login
from yibao.progress.tests.test_browser_home import collector_world, difference  # noqa: F401 - fixtures
from yibao.reconciliation.models import Mismatch

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_differences_are_cards_and_rectify_works(page, live_server, collector_world):  # noqa: F811
    user = collector_world["user"]
    user.phone = "13900000009"
    user.save(update_fields=["phone"])
    run = collector_world["run"]
    Mismatch.objects.filter(run=run, responsible="collector").update(collector_key=f"u{user.pk}")
    login(page, live_server, "cun")
    page.goto(f"{live_server.url}/reconciliation/runs/{run.pk}/")
    assert not page.locator("#mismatches").is_visible()  # the 11-column table is for the desktop
    cards = page.locator("#mismatch-cards li.phone-card")
    assert cards.count() == 2
    first = cards.nth(0)
    assert "现金短款" in first.inner_text() and "1,234.00" in first.inner_text()  # cash missing before money in transit
    assert first.locator("a[href='tel:13900000009']").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert cards.nth(1).locator("summary").count() == 0  # the tax office's to fix, not ours
    first.locator("summary").click()
    first.locator("input[name=note]").fill("已向镇财政所交款")
    first.locator("button[data-action=rectify]").click()
    page.wait_for_load_state()
    assert "现金短款：东村征收员”标记为已整改" in page.locator(".messages").inner_text()
    mine = Mismatch.objects.get(run=run, village_code=b.DONGCUN, kind="cash_short")
    assert mine.rectified_note == "已向镇财政所交款" and mine.rectified_by == user
    done = page.locator(f"#mismatch-cards li[data-mismatch='{mine.pk}']")
    assert "已整改" in done.inner_text() and done.locator("summary").count() == 0
