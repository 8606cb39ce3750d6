"""The collector's task-first home on a 390×844 phone: the 收款 search, today's takings, cash in hand,
my 催缴 and my differences, each leading to its page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from yibao.progress.tests import builders as b
from yibao.progress.tests.test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def difference(run, *, village, kind="cash_short", amount="1234.00", responsible="collector", name="东村征收员"):
    from yibao.reconciliation.models import Mismatch

    return Mismatch.objects.create(
        run=run, county_code=village[:6], township_code=village[:9], village_code=village, kind=kind,
        responsible=responsible, responsible_name=name, key=f"{kind}:{village}:{amount}", first_seen_run_id=run.pk,
        first_seen_on=run.ran_on, difference=Decimal(amount), yibao_amount=Decimal(amount), tax_amount=Decimal(0),
        detail="征收员窗口现金收款未登记交款", action="请向乡镇登记现金交款",
    )


@pytest.fixture
def collector_world(county, make_user, settings):
    from yibao.collection.models import Payment
    from yibao.reconciliation.models import ReconciliationRun

    settings.YIBAO_TODAY = "2024-10-31"
    user = make_user("cun", role="village_collector", region_code=b.DONGCUN, display_name="东村征收员")
    campaign = b.campaign(2025)
    today = dt.date(2024, 10, 31)
    for i, (channel, amount) in enumerate((("cash", "1234.00"), ("wechat", "400.00"))):
        resident = b.person(b.DONGCUN, f"今{i}")
        Payment.objects.create(
            county_code=b.COUNTY, township_code=b.LIUCHENG, village_code=b.DONGCUN, campaign=campaign, benefit_year=2025,
            resident=resident, id_number=resident.id_number, source="counter", channel=channel, external_id=f"HOME-T{i}",
            amount=Decimal(amount), paid_at=timezone.make_aware(dt.datetime(2024, 10, 31, 9 + i)), paid_on=today,
            status="booked", collector=user, collector_name="东村征收员",
        )
    run = ReconciliationRun.objects.create(
        county_code=b.COUNTY, benefit_year=2025, as_of=dt.date(2024, 10, 30), ran_on=dt.date(2024, 10, 30),
        started_at=timezone.now(), tax_file_name="tax.csv", tax_file_sha256="0" * 64,
    )
    difference(run, village=b.DONGCUN)
    difference(run, village=b.DONGCUN, kind="paid_not_booked", amount="400.00", responsible="tax", name="县税务局")
    difference(run, village=b.XICUN, name="西村征收员")
    return {"user": user, "run": run}


def test_the_collector_home_on_a_phone(page, live_server, collector_world):
    login(page, live_server, "cun")
    search = page.locator("#home-counter-search input[name=q]")
    assert search.is_visible()
    box = search.bounding_box()
    assert box["width"] > 200 and box["height"] >= 44  # a large box for a thumb
    takings = page.locator("[data-card=takings]")
    assert "2 笔 · 1,634.00 元" in takings.inner_text() and "现金 1 笔 1,234.00 元" in takings.inner_text()
    assert "1,234.00 元" in page.locator("[data-card=cash]").inner_text()
    remind = page.locator("[data-card=remind]")
    assert "我的催缴" in remind.inner_text() and "2 人" in remind.inner_text()
    mine = page.locator("[data-card=reconcile]")
    assert "我的对账差异" in mine.inner_text() and "2 条" in mine.inner_text()  # 西村's is not ours
    keys = page.locator("[data-card]").evaluate_all("els => els.map(e => e.dataset.card)")
    assert keys[:4] == ["takings", "cash", "remind", "reconcile"]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    search.fill("今0")
    search.press("Enter")
    page.wait_for_url(lambda url: "/collection/" in url and "q=" in url)
    page.go_back()
    page.locator("[data-card=reconcile]").click()
    page.wait_for_url(lambda url: "state=open" in url)
    assert page.locator("#mismatch-cards li.phone-card").count() == 2


def test_the_department_reporter_home_shows_its_latest_list_and_its_people(page, live_server, make_user):
    from yibao.core.models import Job
    from yibao.registry.models import Identity

    b.huaiyuan_tree()
    make_user("mz", role="department_clerk", region_code=b.COUNTY, department="minzheng")
    job = Job.objects.create(kind="import_identities", county_code=b.COUNTY, status="succeeded", input_name="民政低保.xlsx",
                             params={"department": "minzheng"},
                             result={"rows": 2, "imported": 2, "updated": 0, "unchanged": 0, "rejected": 0, "warnings": 1})
    people = [b.person(b.DONGCUN, "低保甲"), b.person(b.XICUN, "低保乙"), b.person(b.XICUN, "残联丙")]
    for person in people[:2]:
        Identity.objects.create(county_code=b.COUNTY, resident=person, code="dibao", department="minzheng", source_job=job)
    Identity.objects.create(county_code=b.COUNTY, resident=people[2], code="disabled_1_2", department="canlian")
    login(page, live_server, "mz")
    latest = page.locator("[data-card=list]")
    assert "民政低保.xlsx" in latest.inner_text() and "已完成" in latest.inner_text() and "提示 1 条" in latest.inner_text()
    assert page.locator("#home-counter-search").count() == 0
    page.locator("[data-card=list_contents]").click()
    page.wait_for_url(lambda url: "/imports/identities/" in url)
    cards = page.locator("#identity-cards li.phone-card")
    assert cards.count() == 2
    text = page.locator("#identity-cards").inner_text()
    assert "低保甲" in text and "残联丙" not in text and people[0].id_number not in text and "********" in text
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
