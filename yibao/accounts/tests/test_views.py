import re

from yibao.accounts.models import User
from yibao.core.models import Event
from yibao.registry.tests.fixtures import BAIMA, SUOSHI, XIAOLING


def form(**fields):
    data = {"display_name": "", "phone": "", "role": "village_collector", "region_code": SUOSHI, "department": ""}
    data.update(fields)
    return data


def test_user_list_shows_the_county_accounts(client, admin, staff):
    client.force_login(admin)
    html = client.get("/accounts/users/").content.decode()
    for username in staff:
        assert username in html
    assert "肖岭乡 / 白马" in html
    filtered = client.get("/accounts/users/", {"role": "auditor"}).content.decode()
    assert "auditor" in filtered and "village_collector</a>" not in filtered


def test_create_with_a_generated_password_shows_it_once(client, admin):
    client.force_login(admin)
    response = client.post("/accounts/users/new/", form(username="zhao", password=""), follow=True)
    html = response.content.decode()
    password = re.search(r"初始密码：(\w+)", html).group(1)
    assert User.objects.get(username="zhao").check_password(password)
    assert "只显示这一次" in html


def test_create_shows_field_errors_in_chinese(client, admin):
    client.force_login(admin)
    response = client.post("/accounts/users/new/", form(username="zhao", password="pass-5678x", region_code=XIAOLING))
    assert response.status_code == 200
    assert "村（社区）征收员须绑定到村（社区）（12位区划代码），“肖岭乡”是乡镇（街道）。" in response.content.decode()
    assert not User.objects.filter(username="zhao").exists()


def test_edit_deactivate_and_reset(client, admin, staff):
    target = staff["village_collector"]
    client.force_login(admin)
    response = client.post(f"/accounts/users/{target.pk}/", form(region_code=BAIMA, display_name="新名字", reason="更正"))
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.display_name == "新名字"
    page = client.get(f"/accounts/users/{target.pk}/").content.decode()
    assert "更正" in page  # the change history
    client.post(f"/accounts/users/{target.pk}/deactivate/", {"reason": "离职"})
    target.refresh_from_db()
    assert not target.is_active
    html = client.post(f"/accounts/users/{target.pk}/password/", {"password": ""}, follow=True).content.decode()
    password = re.search(r"新密码：(\w+)", html).group(1)
    target.refresh_from_db()
    assert target.check_password(password)
    assert Event.objects.filter(entity="user", entity_id=str(target.pk)).count() == 3


def test_admin_cannot_deactivate_self_on_the_page(client, admin):
    client.force_login(admin)
    html = client.post(f"/accounts/users/{admin.pk}/deactivate/", {"reason": ""}, follow=True).content.decode()
    assert "不能停用自己的账号。" in html
    admin.refresh_from_db()
    assert admin.is_active


def test_me_page_changes_password_and_keeps_the_session(client, collector):
    client.force_login(collector)
    html = client.get("/accounts/me/").content.decode()
    assert "村（社区）征收员" in html and "崇阳县 / 肖岭乡 / 白马" in html
    bad = client.post("/accounts/me/", {"action": "password", "old_password": "pass-1234", "password": "abcd1234x",
                                        "password2": "different1"})
    assert "两次输入的新密码不一致。" in bad.content.decode()
    ok = client.post("/accounts/me/", {"action": "password", "old_password": "pass-1234", "password": "abcd1234x",
                                       "password2": "abcd1234x"})
    assert ok.status_code == 302
    collector.refresh_from_db()
    assert collector.check_password("abcd1234x")
    assert client.get("/accounts/me/").status_code == 200  # still logged in
    client.post("/accounts/me/", {"action": "profile", "display_name": "王五", "phone": "13700000000"})
    collector.refresh_from_db()
    assert collector.display_name == "王五"


def test_user_pages_need_the_capability(client, staff):
    client.force_login(staff["auditor"])
    assert client.get("/accounts/users/").status_code == 403
    assert client.get("/accounts/me/").status_code == 200
