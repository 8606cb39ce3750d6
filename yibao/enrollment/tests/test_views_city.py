"""The city's campaign page: choose a policy, see each county, confirm on the sheet, open."""

import pytest

from yibao.core.models import Event
from yibao.enrollment.models import Campaign
from yibao.enrollment.services import campaign_open
from yibao.enrollment.tests.shuozhou import CITY, POLICY, shuozhou

pytestmark = pytest.mark.django_db
URL = "/enrollment/campaigns/city-open/"


@pytest.fixture
def city_admin(client, make_user):
    shuozhou()
    user = make_user("sz_admin", role="city_admin", region_code=CITY)
    client.force_login(user)
    return user


def test_page_shows_each_county_then_opens_after_the_sheet(client, city_admin):
    campaign_open(county_code="140603", policy_id=POLICY, actor="平鲁区")
    page = client.get(URL)  # the only city-wide policy is chosen at once
    html = page.content.decode()
    assert page.status_code == 200 and "朔州市" in html and 'data-county="140602"' in html
    assert "跳过" in html and "开启全市2024年度征缴（2个县）" in html
    assert "anhui-huaiyuan-2025" not in html  # another place's policy is not offered
    assert 'href="/progress/targets/city/"' in html

    sheet = client.post(URL, {"city": CITY, "policy_id": POLICY})
    text = sheet.content.decode()
    assert sheet.status_code == 200 and "确认为朔州市开启2024年度征缴" in text
    assert "朔城区（140602）：开启" in text and "平鲁区（140603）：跳过" in text
    assert Campaign.objects.count() == 1  # nothing until confirmed
    token = sheet.context["sheet"].token

    done = client.post(URL, {"city": CITY, "policy_id": POLICY, "confirmed": "1", "confirm_token": token})
    assert done.status_code == 302
    assert sorted(Campaign.objects.values_list("county_code", flat=True)) == ["140602", "140603", "140621"]
    assert Event.objects.filter(entity="campaign_city").count() == 1
    again = client.post(URL, {"city": CITY, "policy_id": POLICY, "confirmed": "1", "confirm_token": token})
    assert again.status_code == 302 and Event.objects.filter(entity="campaign_city").count() == 1  # one booking only
    after = client.get(done["Location"]).content.decode()
    assert "已为朔州市开启2024年度征缴" in after and "均已开启" in after


def test_wrong_policy_is_refused_on_the_sheet(client, city_admin):
    page = client.get(URL + "?policy=anhui-huaiyuan-2025")
    assert "全市适用的政策" in page.content.decode()
    answer = client.post(URL, {"city": CITY, "policy_id": "anhui-huaiyuan-2025"})
    assert answer.status_code == 302  # a policy not offered to the city fails the form: back with the reason
    assert Campaign.objects.count() == 0


def test_county_admin_and_viewers_are_refused(client, make_user):
    shuozhou()
    client.force_login(make_user("sc_admin", role="county_admin", region_code="140602"))
    assert client.get(URL).status_code == 403
    client.force_login(make_user("sz_tax", role="city_tax", region_code=CITY))
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"city": CITY, "policy_id": POLICY}).status_code == 403
