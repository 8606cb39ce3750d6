from yibao.accounts.models import User
from yibao.registry.tests.fixtures import BAIMA, SUOSHI, XIAOLING


def test_me(client, collector):
    client.force_login(collector)
    body = client.get("/api/me").json()
    assert body["username"] == "village_collector" and body["role"] == "village_collector"
    assert body["region_code"] == BAIMA and body["region_name"] == "崇阳县 / 肖岭乡 / 白马"
    assert body["full_id"] is True and "registry.edit" in body["capabilities"]
    assert "accounts.manage" not in body["capabilities"]


def test_me_needs_a_login(client, regions):
    assert client.get("/api/me").status_code == 401


def test_admin_manages_users_through_the_api(client, admin):
    client.force_login(admin)
    created = client.post("/api/users", {"username": "wang", "password": "pass-5678x", "role": "village_collector",
                                         "region_code": SUOSHI}, content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert body["region_label"] == "肖岭乡 / 锁石" and body["is_active"] is True
    listed = {u["username"] for u in client.get("/api/users").json()}
    assert "wang" in listed and "county_admin" in listed
    patched = client.patch(f"/api/users/{body['id']}", {"role": "township_officer", "region_code": XIAOLING,
                                                         "is_active": False, "reason": "调岗"},
                           content_type="application/json")
    assert patched.status_code == 200
    user = User.objects.get(username="wang")
    assert (user.role, user.region_code, user.is_active) == ("township_officer", XIAOLING, False)


def test_api_refuses_bad_accounts_with_field_messages(client, admin):
    client.force_login(admin)
    response = client.post("/api/users", {"username": "wang", "password": "x", "role": "village_collector",
                                          "region_code": XIAOLING}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["password"] == ["密码至少需要8位。"]
    assert "须绑定到村（社区）" in body["errors"]["region_code"][0]
    assert "密码至少需要8位。" in body["detail"]
    assert not User.objects.filter(username="wang").exists()


def test_non_admins_cannot_manage_users(client, staff):
    client.force_login(staff["township_officer"])
    assert client.get("/api/users").status_code == 403
    response = client.patch(f"/api/users/{staff['village_collector'].pk}", {"display_name": "x"},
                            content_type="application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "当前账号无权管理本县账号（创建、修改、停用、重置密码）。"


def test_a_failed_patch_changes_nothing(client, admin, staff):
    client.force_login(admin)
    target = staff["village_collector"]
    response = client.patch(f"/api/users/{target.pk}", {"display_name": "新名", "region_code": XIAOLING},
                            content_type="application/json")
    assert response.status_code == 400
    target.refresh_from_db()
    assert target.display_name != "新名" and target.region_code == BAIMA
