import pytest

from yibao.registry.tests.factories import make_household
from yibao.registry.tests.fixtures import BAIMA, SUOSHI, XIAOLING


def test_anonymous_is_asked_to_log_in(client, regions):
    response = client.get("/api/regions")
    assert response.status_code == 401
    assert response.json()["detail"] == "请先登录。"


def test_list_is_limited_to_the_scope(client, staff):
    client.force_login(staff["township_officer"])
    codes = [r["code"] for r in client.get("/api/regions").json()]
    assert codes[0] == XIAOLING and len(codes) == 11
    villages = client.get("/api/regions", {"level": 12}).json()
    assert {v["code"] for v in villages} == {c for c in codes if len(c) == 12}
    assert villages[0] | {} == {
        "code": BAIMA, "name": "白马", "level": 12, "level_label": "村（社区）", "kind": "村（村委会）",
        "parent_code": XIAOLING, "county_code": "421223",
    }


def test_children_of_a_parent_outside_the_scope_are_refused(client, collector):
    client.force_login(collector)
    response = client.get("/api/regions", {"parent": XIAOLING})
    assert response.status_code == 403
    assert "不在当前账号的管辖范围内" in response.json()["detail"]


def test_detail_gives_children_with_counts(client, admin):
    make_household(BAIMA, "H1", "甲", "乙")
    client.force_login(admin)
    body = client.get(f"/api/regions/{XIAOLING}").json()
    assert body["name"] == "肖岭乡" and body["residents"] == 2 and body["households"] == 1
    assert [p["code"] for p in body["path"]] == ["42", "4212", "421223", XIAOLING]  # province and city above
    children = {c["code"]: c for c in body["children"]}
    assert children[BAIMA]["residents"] == 2 and children[SUOSHI]["residents"] == 0
    assert len(children) == 10


@pytest.mark.parametrize("code, status", [("421223200299", 404), ("421321", 403)])
def test_detail_of_unknown_or_foreign_regions(client, admin, code, status):
    client.force_login(admin)
    assert client.get(f"/api/regions/{code}").status_code == status
