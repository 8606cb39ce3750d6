"""The home page's cards: what needs doing in the user's own area."""

import datetime as dt

import pytest

from yibao.reconciliation import services as reconciliation
from yibao.reconciliation.models import Mismatch
from yibao.reconciliation.tests import factories as f

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2024, 11, 30)


def cards(client, user) -> dict[str, str]:
    client.force_login(user)
    page = client.get("/").content.decode()
    found = {}
    for chunk in page.split('data-card="')[1:]:
        key, rest = chunk.split('"', 1)
        found[key] = " ".join(rest.split("</a>", 1)[0].replace("<", " <").split())
    return found


@pytest.fixture
def village(make_user, settings, tmp_path):
    settings.YIBAO_TODAY = "2024-12-02"
    campaign = f.world()
    li = make_user("li", role="village_collector", region_code=f.VILLAGE, display_name="李征收")
    cash = f.payment(campaign, f.person(name="甲"), source="counter", channel="cash", collector=li,
                     collector_name="李征收", paid_on=dt.date(2024, 10, 8))
    f.receipt([cash])
    f.payment(campaign, f.person(name="乙", village=f.VILLAGE_3), source="counter", channel="cash",
              collector_name="河溜收款员", paid_on=dt.date(2024, 10, 9))
    tax = f.tax_file(tmp_path / "tax.csv", [f.tax_row(cash)])
    reconciliation.run_now(county_code=f.COUNTY, benefit_year=f.YEAR, tax_file=tax, as_of=AS_OF, actor="测试")
    return {"li": li, "campaign": campaign}


def test_a_collector_sees_the_cash_in_hand_and_the_mismatches_naming_them(client, village, make_user):
    mine = cards(client, village["li"])
    assert {"progress", "cash", "reconcile"} <= set(mine)
    assert "尚未下达目标任务" in mine["progress"]  # the county has no targets yet
    assert "手中现金" in mine["cash"] and "400.00 元" in mine["cash"]
    # 李's cash is not handed over: one mismatch in 东村, and it names 李; 河溜村's is not shown
    assert "1 条" in mine["reconcile"] and "其中 1 条由你整改" in mine["reconcile"]
    assert "refunds" not in mine  # a collector does not approve refunds


def test_the_cash_card_empties_once_the_handover_is_recorded(client, village, make_user):
    town = make_user("town", role="township_officer", region_code=f.TOWN, display_name="城关经办")
    reconciliation.handover_record(
        actor=town, village_code=f.VILLAGE, benefit_year=f.YEAR, collector=village["li"], collector_name="李征收",
        period_start=dt.date(2024, 10, 7), period_end=dt.date(2024, 10, 13), handed_on=dt.date(2024, 10, 14),
        amount="400.00",
    )
    assert "0.00 元" in cards(client, village["li"])["cash"]
    township = cards(client, town)
    assert "征收员未交现金" in township["cash"] and "0.00 元" in township["cash"]
    assert "由你整改" not in township["reconcile"]


def test_another_village_sees_only_its_own(client, village, make_user):
    heliu = cards(client, make_user("heliu", role="village_collector", region_code=f.VILLAGE_3))
    assert "cash" not in heliu  # no cash taken under this account
    own = Mismatch.objects.filter(village_code=f.VILLAGE_3).count()
    assert own == 3  # not booked by tax, no receipt, cash not handed over
    assert f"{own} 条" in heliu["reconcile"] and "由你整改" not in heliu["reconcile"]
    county = cards(client, make_user("admin", role="county_admin", region_code=f.COUNTY))
    assert f"{Mismatch.objects.count()} 条" in county["reconcile"] and own + 1 == Mismatch.objects.count()
    assert "cash" not in county  # the county reads cash per collector on the 现金交款 page


def test_a_department_clerk_sees_its_latest_list_and_its_contents(client, village, make_user):
    from yibao.core.models import Job
    from yibao.registry.models import Identity

    clerk = make_user("mz", role="department_clerk", region_code=f.COUNTY, department="minzheng")
    assert set(cards(client, clerk)) == {"list"} and "尚未报送" in cards(client, clerk)["list"]
    old = Job.objects.create(kind="import_identities", county_code=f.COUNTY, status="succeeded", input_name="旧名单.xlsx",
                             params={"department": "minzheng"}, result={"rows": 9})
    job = Job.objects.create(kind="import_identities", county_code=f.COUNTY, status="succeeded", input_name="民政10月.xlsx",
                             params={"department": "minzheng"},
                             result={"rows": 3, "imported": 2, "updated": 0, "unchanged": 0, "rejected": 1, "warnings": 4})
    Job.objects.create(kind="import_identities", county_code=f.COUNTY, status="succeeded", input_name="残联.xlsx",
                       params={"department": "canlian"}, result={"rows": 50})
    for name in ("低保甲", "低保乙"):
        Identity.objects.create(county_code=f.COUNTY, resident=f.person(name=name), code="dibao", department="minzheng",
                                source_job=job)
    Identity.objects.create(county_code=f.COUNTY, resident=f.person(name="残疾丙"), code="disabled_1_2", department="canlian",
                            source_job=old)
    mine = cards(client, clerk)
    assert "民政10月.xlsx" in mine["list"] and "已完成" in mine["list"]
    assert "共 3 行：新增 2" in mine["list"] and "有错 1 行" in mine["list"] and "提示 4 条" in mine["list"]
    assert "2 人" in mine["list_contents"] and f"?job={job.pk}" in client.get("/").content.decode()
    assert "残联" not in mine["list"]
    page = client.get("/imports/identities/").content.decode()
    assert "低保甲" in page and "低保乙" in page and "残疾丙" not in page  # only its own department
    assert f.person(name="x").id_number not in page and "********" in page  # masked
    assert "共 2 人次" in client.get(f"/imports/identities/?job={job.pk}").content.decode()
    assert "共 0 人次" in client.get(f"/imports/identities/?job={old.pk}&department=canlian").content.decode()
    assert client.get("/imports/identities/?job=abc").status_code == 400


def test_the_tax_officer_sees_channel_lines_waiting_and_the_next_reconciliation(client, village, make_user):
    from yibao.collection.models import Payment, Refund

    campaign = village["campaign"]
    for flag in ("unknown_person", "unknown_person", "blocked"):
        p = f.payment(campaign, f.person(name="渠道"), status="flagged")
        Payment.objects.filter(pk=p.pk).update(flag=flag)
    refunded = f.payment(campaign, f.person(name="已退"), status="flagged")
    Payment.objects.filter(pk=refunded.pk).update(flag="unknown_person")
    Refund.objects.create(county_code=f.COUNTY, township_code=f.TOWN, village_code=f.VILLAGE, payment=refunded,
                          benefit_year=f.YEAR, amount=refunded.amount, reason="unbooked", enrollment_action="none")
    f.payment(campaign, f.person(name="窗口"), status="flagged", source="counter")  # not a channel line
    tax = cards(client, make_user("tax", role="tax_officer", region_code=f.COUNTY))
    assert "3 笔" in tax["channel"] and "查无此人 2" in tax["channel"] and "参保受限 1" in tax["channel"]
    assert "待重新匹配 3 笔" in tax["channel"]
    # default twice a month; one run on 12-02, so the second is due by the month's end; Sep-Nov had none
    assert "12-31 前" in tax["reconcile_due"] and "本月已对账 1 次" in tax["reconcile_due"]
    assert "往月有 3 个月未达标" in tax["reconcile_due"]
    collector = cards(client, village["li"])
    assert "channel" not in collector and "reconcile_due" not in collector


def test_the_due_date_splits_the_month():
    from yibao.progress.home import _deadlines

    assert _deadlines(dt.date(2024, 12, 1), 2) == [dt.date(2024, 12, 16), dt.date(2024, 12, 31)]
    assert _deadlines(dt.date(2024, 2, 1), 1) == [dt.date(2024, 2, 29)]
    assert _deadlines(dt.date(2024, 11, 1), 3) == [dt.date(2024, 11, 10), dt.date(2024, 11, 20), dt.date(2024, 11, 30)]


def test_the_collector_home_has_the_counter_search_and_todays_takings(client, village, make_user):
    from yibao.reconciliation import rectify

    li, campaign = village["li"], village["campaign"]
    today = dt.date(2024, 12, 2)
    f.payment(campaign, f.person(name="今甲"), source="counter", channel="cash", collector=li, paid_on=today)
    f.payment(campaign, f.person(name="今乙"), source="counter", channel="wechat", collector=li, paid_on=today,
              amount="1234.00")
    f.payment(campaign, f.person(name="别人"), source="counter", channel="cash", paid_on=today,
              collector=make_user("wang", role="village_collector", region_code=f.VILLAGE))
    client.force_login(li)
    page = client.get("/").content.decode()
    assert 'id="home-counter-search"' in page and 'action="/collection/"' in page
    mine = cards(client, li)
    assert list(mine) == ["takings", "cash", "reconcile", "progress"]  # no one to 催缴: no history year here
    assert "2 笔 · 1,634.00 元" in mine["takings"] and "微信 1 笔 1,234.00 元" in mine["takings"]
    assert "现金 1 笔 400.00 元" in mine["takings"]
    assert "800.00 元" in mine["cash"]  # October's 400 and today's cash 400 (not the WeChat), not handed over
    assert "我的对账差异" in mine["reconcile"] and "1 条" in mine["reconcile"]
    rectify.mismatch_rectify(mismatch=Mismatch.objects.get(village_code=f.VILLAGE), actor=li)
    assert "0 条" in cards(client, li)["reconcile"]
    admin = make_user("admin", role="county_admin", region_code=f.COUNTY)
    client.force_login(admin)
    assert 'id="home-counter-search"' not in client.get("/").content.decode()
