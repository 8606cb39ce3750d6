from yibao.registry.tests.factories import make_household
from yibao.registry.tests.fixtures import BAIMA, SUOSHI, XIAOLING


def test_tree_starts_at_the_users_own_region(client, staff):
    client.force_login(staff["township_officer"])
    response = client.get("/regions/")
    assert response.status_code == 302 and response["Location"] == f"/regions/{XIAOLING}/"


def test_township_page_lists_villages_with_counts(client, admin):
    make_household(BAIMA, "H1", "甲", "乙", "丙")
    client.force_login(admin)
    response = client.get(f"/regions/{XIAOLING}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "肖岭乡" in html and "白马" in html and "金不" in html
    assert f'href="/regions/{BAIMA}/"' in html
    assert response.context["counts"]["residents"] == 3
    assert response.context["child_totals"]["residents"] == 3
    assert f'href="/registry/residents/?region={XIAOLING}"' in html


def test_collector_cannot_open_a_neighbours_village(client, collector):
    client.force_login(collector)
    assert client.get(f"/regions/{BAIMA}/").status_code == 200
    assert client.get(f"/regions/{SUOSHI}/").status_code == 403
    # the breadcrumb names the township but does not link to it
    html = client.get(f"/regions/{BAIMA}/").content.decode()
    assert "肖岭乡" in html and f'href="/regions/{XIAOLING}/"' not in html


def test_department_clerk_has_no_region_tree(client, staff):
    client.force_login(staff["department_clerk"])
    assert client.get("/regions/").status_code == 403


def test_superuser_starts_at_the_province_and_reaches_every_county(client, regions):
    from yibao.accounts.models import User

    root = User.objects.create_superuser(username="root", password="pass-1234")
    client.force_login(root)
    response = client.get("/regions/", follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/regions/42/" and "咸宁市" in html and "随州市" in html
    assert "崇阳县" in client.get("/regions/4212/").content.decode()
    assert "随县" in client.get("/regions/4213/").content.decode()
