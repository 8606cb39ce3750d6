"""Opening a city's year (朔州市 1406): every loaded county gets its own campaign, all or nothing."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from yibao.core.models import Event
from yibao.enrollment.city import campaign_city_plan, campaign_open_city
from yibao.enrollment.models import Campaign
from yibao.enrollment.services import CampaignError, campaign_open
from yibao.enrollment.tests import factories as f
from yibao.enrollment.tests.shuozhou import CITY, POLICY, YEAR, shuozhou

pytestmark = pytest.mark.django_db


@pytest.fixture
def city_admin(make_user):
    shuozhou()
    return make_user("sz_admin", role="city_admin", region_code=CITY)


def test_city_open_gives_each_county_its_own_campaign_and_event(city_admin):
    plan = campaign_open_city(city_code=CITY, policy_id=POLICY, actor=city_admin)
    campaigns = {c.county_code: c for c in Campaign.objects.all()}
    assert sorted(campaigns) == ["140602", "140603", "140621"]
    for c in campaigns.values():
        assert (c.benefit_year, c.policy_id, c.status) == (YEAR, POLICY, "open")
        assert (c.collection_start, c.collection_end) == (dt.date(2023, 9, 1), dt.date(2023, 12, 25))
        assert c.opened_by_name == "sz_admin"
    opened = Event.objects.filter(entity="campaign", action="opened")
    assert sorted(opened.values_list("county_code", flat=True)) == ["140602", "140603", "140621"]
    city_event = Event.objects.get(entity="campaign_city")
    assert city_event.county_code == CITY and city_event.after["opened"] == ["140602", "140603", "140621"]
    assert [c.outcome for c in plan.counties] == ["opened"] * 3
    assert plan.as_dict()["opened"] == 3


def test_counties_already_open_are_reported_and_skipped(city_admin):
    early = campaign_open(county_code="140603", policy_id=POLICY, actor="平鲁区先开")
    plan = campaign_open_city(city_code=CITY, policy_id=POLICY, actor=city_admin)
    by_code = {c.county_code: c for c in plan.counties}
    assert by_code["140603"].outcome == "skip" and "已于" in by_code["140603"].note and "跳过" in by_code["140603"].note
    assert by_code["140603"].campaign_id == early.pk
    assert by_code["140602"].outcome == "opened" and by_code["140621"].outcome == "opened"
    assert Campaign.objects.count() == 3
    assert Event.objects.get(entity="campaign_city").after["skipped"] == ["140603"]


def test_year_already_open_everywhere_is_refused(city_admin):
    campaign_open_city(city_code=CITY, policy_id=POLICY, actor=city_admin)
    with pytest.raises(CampaignError, match="均已开启"):
        campaign_open_city(city_code=CITY, policy_id=POLICY, actor=city_admin)
    assert Campaign.objects.count() == 3


def test_one_county_failing_opens_none(city_admin):
    # a window past the year's end fails in the first county: the whole city stays closed
    with pytest.raises(CampaignError, match="朔城区（140602）.*全市均未开启"):
        campaign_open_city(city_code=CITY, policy_id=POLICY, actor=city_admin,
                           collection_start=dt.date(2023, 9, 1), collection_end=dt.date(2025, 1, 5))
    assert Campaign.objects.count() == 0 and not Event.objects.filter(entity__startswith="campaign").exists()


def test_policy_not_for_this_city_is_refused(city_admin):
    with pytest.raises(CampaignError, match="不是朔州市（1406）全市适用的政策"):
        campaign_open_city(city_code=CITY, policy_id="anhui-huaiyuan-2025", actor=city_admin)
    assert Campaign.objects.count() == 0


def test_bad_city_code_and_empty_city_are_refused(city_admin):
    with pytest.raises(CampaignError, match="市级区划代码应为4位数字"):
        campaign_open_city(city_code="140602", policy_id=POLICY, actor="命令行")
    with pytest.raises(CampaignError, match="不是区划 1407"):
        campaign_city_plan(city_code="1407", policy_id=POLICY, actor="命令行")
    from yibao.regions.models import Region

    for level in (12, 9, 6):
        Region.objects.filter(level=level).delete()
    with pytest.raises(CampaignError, match="朔州市（1406）下还没有导入任何县"):
        campaign_city_plan(city_code=CITY, policy_id=POLICY, actor="命令行")


def test_county_admin_and_other_city_cannot_open_the_city(city_admin, make_user):
    county = make_user("sc_admin", role="county_admin", region_code="140602")
    with pytest.raises(PermissionDenied, match="1406"):
        campaign_open_city(city_code=CITY, policy_id=POLICY, actor=county)
    other = make_user("xn_admin", role="city_admin", region_code="4212")
    with pytest.raises(PermissionDenied):
        campaign_open_city(city_code=CITY, policy_id=POLICY, actor=other)
    viewer = make_user("sz_tax", role="city_tax", region_code=CITY)
    with pytest.raises(PermissionDenied):
        campaign_open_city(city_code=CITY, policy_id=POLICY, actor=viewer)
    assert Campaign.objects.count() == 0


def test_plan_shows_each_county_state_without_writing(city_admin):
    campaign_open(county_code="140621", policy_id=POLICY, actor="山阴县")
    plan = campaign_city_plan(city_code=CITY, policy_id=POLICY, actor=city_admin)
    assert [(c.county_code, c.outcome) for c in plan.counties] == [("140602", "open"), ("140603", "open"),
                                                                    ("140621", "skip")]
    assert Campaign.objects.count() == 1


def test_receipts_and_reconciliation_stay_per_county_after_a_city_open(city_admin, tmp_path):
    from yibao.collection.services import counter
    from yibao.reconciliation.services import reconcile
    from yibao.reconciliation.tests.factories import tax_file, tax_row

    campaign_open_city(city_code=CITY, policy_id=POLICY, actor=city_admin)
    paid_at = dt.datetime(2023, 10, 8, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    results = {}
    for village, name in (("140602100001", "朔城甲"), ("140603100001", "平鲁乙"), ("140602100001", "朔城丙")):
        person = f.resident(village=village, name=name, birth=dt.date(1980, 5, 17))
        results[name] = counter.payment_collect(residents=[person], channel="cash", actor="收款员", paid_at=paid_at)
    numbers = {name: r.receipt.receipt_no for name, r in results.items()}
    assert numbers == {"朔城甲": "140602-2024-0000001", "平鲁乙": "140603-2024-0000001", "朔城丙": "140602-2024-0000002"}

    payments = [p for r in results.values() for p in r.payments]
    path = tax_file(tmp_path / "税务.csv", [tax_row(p, 费款所属期="2024") for p in payments])
    run = reconcile(county_code="140602", benefit_year=YEAR, as_of=dt.date(2023, 12, 31), tax_file=path, actor="测试")
    assert run.county_code == "140602"
    assert run.inputs["bookings"]["rows"] == 2  # 平鲁区's payment is not 朔城区's to reconcile
    assert run.totals["booked"] == "760.00"
