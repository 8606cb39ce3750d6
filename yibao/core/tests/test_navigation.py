"""The menu by role (yibao/core/navigation.py) and the back-link tag."""

import re

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import resolve, reverse

from yibao.accounts.roles import Role
from yibao.accounts.scope import Scope
from yibao.core.navigation import NAV_ITEMS, can_open, nav_for, nav_groups, view_capability

COUNTY, TOWNSHIP, VILLAGE = "340321", "340321100", "340321100201"


def labels(scope):
    return [i["label"] for i in nav_for(scope)]


def test_village_collector_menu_is_her_work():
    scope = Scope(role=Role.VILLAGE_COLLECTOR, region_code=VILLAGE)
    assert labels(scope) == [
        "户籍与参保人", "多重身份", "参保登记", "缴费测算", "缴费政策", "收款", "缴费记录", "退费", "先缴后补",
        "对账", "现金交款", "征缴进度", "催缴",
    ]
    # the pages themselves still open from links (参保登记 → 参保核定)
    assert can_open(scope, "enrollment:campaigns") and can_open(scope, "progress:targets")


def test_county_admin_menu_in_six_groups():
    groups = nav_groups(nav_for(Scope(role=Role.COUNTY_ADMIN, region_code=COUNTY)))
    assert [g["heading"] for g in groups] == ["名单", "核定", "收款", "对账", "进度", "系统"]
    by_group = {g["heading"]: [i["label"] for i in g["items"]] for g in groups}
    assert by_group["名单"] == ["户籍与参保人", "多重身份", "重复参保", "名单导入"]
    assert by_group["系统"] == ["行政区划", "账号管理", "变更记录"]
    assert sum(len(g["items"]) for g in groups) == len(NAV_ITEMS) == 21


def test_township_tax_clerk_and_auditor():
    township = labels(Scope(role=Role.TOWNSHIP_OFFICER, region_code=TOWNSHIP))
    assert "目标任务" in township and not {"名单导入", "参保核定", "行政区划", "账号管理"} & set(township)
    tax = labels(Scope(role=Role.TAX_OFFICER, region_code=COUNTY))
    assert {"导入缴费明细", "参保核定", "行政区划", "目标任务"} <= set(tax)
    assert "名单导入" not in tax and "收款" not in tax  # imports no lists, collects at no counter
    clerk = nav_for(Scope(role=Role.DEPARTMENT_CLERK, region_code=COUNTY, department="minzheng"))
    assert [i["label"] for i in clerk] == ["多重身份", "名单导入", "缴费测算", "缴费政策"]
    assert nav_groups(clerk) == [{"heading": "", "items": clerk}]  # a short menu has no headings
    auditor = labels(Scope(role=Role.AUDITOR, region_code=COUNTY))
    assert "名单导入" in auditor and "收款" not in auditor and "账号管理" not in auditor
    village_auditor = labels(Scope(role=Role.AUDITOR, region_code=VILLAGE))
    assert not {"名单导入", "参保核定", "目标任务", "行政区划"} & set(village_auditor)


def test_every_menu_item_opens_for_whoever_sees_it():
    """The menu's page capability is the one the view's decorator demands, so no menu item leads to a 403."""
    for item in NAV_ITEMS:
        assert view_capability(resolve(reverse(item.url_name)).func) == item.capability, item.url_name
    for role in Role.values:
        scope = Scope(role=role, region_code=COUNTY)
        for entry in nav_for(scope):
            assert can_open(scope, entry["url"]), (role, entry)


def _render(source, scope, **context):
    request = RequestFactory().get("/")
    request.scope = scope
    return Template("{% load navigation %}" + source).render(Context({"request": request, **context}))


def test_back_link_only_when_the_target_opens():
    tax = Scope(role=Role.TAX_OFFICER, region_code=COUNTY)
    admin = Scope(role=Role.COUNTY_ADMIN, region_code=COUNTY)
    clerk = Scope(role=Role.DEPARTMENT_CLERK, region_code=COUNTY, department="minzheng")
    tag = "{% back_link 'collection:counter' '继续收款' %}"
    assert _render(tag, tax) == ""
    assert _render(tag, admin) == '<p class="back"><a href="/collection/">← 继续收款</a></p>'.replace(
        "/collection/", reverse("collection:counter"))
    resident = "{% back_link 'registry:resident' name 7 %}"
    assert _render(resident, clerk, name="张三") == ""
    assert f'href="{reverse("registry:resident", args=[7])}"' in _render(resident, admin, name="张三")
    runs = "{% back_link 'reconciliation:runs' '对账记录' year=year village=none %}"
    html = _render(runs, admin, year=2025, none=None)
    assert f'href="{reverse("reconciliation:runs")}?year=2025"' in html and "← 对账记录" in html
    assert _render("{% back_link 'no:such' 'x' %}", admin) == ""
    assert _render("{% back_link 'registry:residents' label %}", admin, label="<b>") .count("&lt;b&gt;") == 1


@pytest.mark.django_db
def test_pages_render_the_grouped_menu(client, make_user):
    make_user("admin", role="county_admin", region_code=COUNTY)
    make_user("cunji", role="village_collector", region_code=VILLAGE)
    client.login(username="admin", password="pass-1234")
    html = client.get(reverse("accounts:me")).content.decode()
    assert html.count('class="nav-heading"') == 2 * 6  # phone menu and side menu
    client.login(username="cunji", password="pass-1234")
    html = client.get(reverse("accounts:me")).content.decode()
    side = html[html.index('<nav class="sidenav"'):html.index('<main')]
    assert "收款" in side and not {"名单导入", "行政区划", "目标任务", "参保核定"} & set(re.findall(r">(\S+)</a>", side))
    assert 'aria-label="收款"' in side


@pytest.mark.django_db
def test_home_tiles_are_grouped_like_the_menu(client, make_user):
    make_user("admin", role="county_admin", region_code=COUNTY)
    client.login(username="admin", password="pass-1234")
    html = client.get(reverse("core:home")).content.decode()
    main = html[html.index("<main"):]
    headings = re.findall(r'<h2 class="tile-heading">(\S+)</h2>', main)
    assert headings == ["名单", "核定", "收款", "对账", "进度", "系统"]
    assert main.count('class="tile"') == 21
