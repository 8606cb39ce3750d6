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


def test_a_department_clerk_has_no_cards(client, village, make_user):
    clerk = make_user("mz", role="department_clerk", region_code=f.COUNTY, department="minzheng")
    assert cards(client, clerk) == {}
