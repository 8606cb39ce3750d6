"""The city's page of county targets: a table of its counties, edited together after the sheet, or imported."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yibao.core.models import Event
from yibao.enrollment.tests.shuozhou import CITY, shuozhou
from yibao.progress.models import Target
from yibao.progress.tests.test_city_targets import TABLE

pytestmark = pytest.mark.django_db
URL = "/progress/targets/city/"


@pytest.fixture
def city_admin(client, make_user):
    shuozhou()
    user = make_user("sz_admin", role="city_admin", region_code=CITY)
    client.force_login(user)
    return user


def totals():
    return dict(Target.objects.values_list("region_code", "total"))


def test_table_edit_confirm_and_sum(client, city_admin):
    assert client.get("/progress/targets/")["Location"] == URL  # the city's targets are its counties'
    page = client.get(URL + "?year=2024").content.decode()
    assert "朔州市各县目标任务（2024年度）" in page and 'name="t_140602"' in page and 'name="t_140621"' in page
    assert 'href="/enrollment/campaigns/city-open/"' in page
    form = {"city": CITY, "year": "2024", "reason": "市政府任务分解", "t_140602": "300000", "t_140603": "150000", "t_140621": ""}
    sheet = client.post(URL, form)
    text = sheet.content.decode()
    assert "确认设定朔州市2024年度各县目标任务" in text and "朔城区（140602）：未设定 → 300000" in text
    assert "山阴县" not in text.split("confirm-changes")[1].split("</ul>")[0]  # left blank: unchanged
    assert totals() == {}
    token = sheet.context["sheet"].token
    done = client.post(URL, form | {"confirmed": "1", "confirm_token": token})
    assert done.status_code == 302 and totals() == {"140602": 300000, "140603": 150000}
    assert Event.objects.filter(entity="target", action="adjust").count() == 2
    after = client.get(done["Location"]).content.decode()
    assert "已设定2个县的2024年度目标任务" in after and 'data-field="city-total">450000<' in after and "1 个县未设定" in after


def test_bad_values_are_named_on_the_sheet_and_nothing_is_written(client, city_admin):
    bad_year = client.get(URL + "?year=99999").content.decode()
    assert "待遇年度应为" in bad_year and "已显示默认年度" in bad_year
    form = {"city": CITY, "year": "2024", "reason": "分解", "t_140602": "300000", "t_140603": "十五万"}
    sheet = client.post(URL, form, HTTP_X_CONFIRM_SHEET="1").content.decode()
    assert "平鲁区的应参保人数应为人数" in sheet and totals() == {}
    no_reason = client.post(URL, form | {"reason": "", "t_140603": "1"}, follow=True).content.decode()
    assert "须填写原因" in no_reason and totals() == {}


def test_import_a_city_table_from_the_page(client, city_admin):
    upload = SimpleUploadedFile("朔州任务.csv", TABLE.encode())
    page = client.post(URL + "import/", {"file": upload, "city": CITY, "year": "2024"}, follow=True).content.decode()
    assert "已导入朔州任务.csv：3个县" in page and 'data-field="city-total">630000<' in page
    broken = SimpleUploadedFile("朔州任务.csv", TABLE.replace("平鲁区", "怀仁市").encode())
    refused = client.post(URL + "import/", {"file": broken, "city": CITY, "year": "2024"}, follow=True).content.decode()
    assert "第5行：“怀仁市”不是朔州市（1406）已导入的县" in refused
    assert totals() == {"140602": 300000, "140603": 150000, "140621": 180000}


def test_who_may_see_and_set(client, make_user):
    shuozhou()
    client.force_login(make_user("sz_tax", role="city_tax", region_code=CITY))
    page = client.get(URL + "?year=2024").content.decode()
    assert "朔城区" in page and 'name="t_140602"' not in page and "city-open" not in page
    assert client.post(URL, {"city": CITY, "year": "2024", "reason": "x", "t_140602": "1"}).status_code == 403
    client.force_login(make_user("sc_admin", role="county_admin", region_code="140602"))
    assert client.get(URL).status_code == 403
    client.force_login(make_user("xn_admin", role="city_admin", region_code="4212"))
    page = client.get(URL + "?city=1406").content.decode()
    assert "朔城区" not in page  # its own city, 咸宁市, whatever ?city= says
    assert totals() == {}
