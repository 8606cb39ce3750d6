import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from yibao.accounts.scope import Scope, scope_for
from yibao.regions import selectors
from yibao.registry.models import Resident
from yibao.registry.tests.factories import make_household
from yibao.registry.tests.fixtures import BAIMA, SUOSHI, XIAOLING


@pytest.fixture
def people(regions):
    make_household(BAIMA, "H1", "甲", "乙", "丙")
    make_household(BAIMA, "H2", "丁")
    _, (head,) = make_household(SUOSHI, "H3", "戊")
    head.status = Resident.Status.DECEASED  # not counted on the register
    head.save()


def test_children_carry_resident_and_household_counts(people, admin):
    children = selectors.region_children(scope=scope_for(admin), code=XIAOLING)
    by_code = {c["region"].code: c for c in children}
    assert len(children) == 10
    assert (by_code[BAIMA]["residents"], by_code[BAIMA]["households"]) == (4, 2)
    assert (by_code[SUOSHI]["residents"], by_code[SUOSHI]["households"]) == (0, 1)
    county = {c["region"].code: c for c in selectors.region_children(scope=scope_for(admin), code="421223")}
    assert county[XIAOLING]["residents"] == 4
    assert selectors.region_counts(code=BAIMA) == {"residents": 4, "households": 2}


def test_a_collector_reaches_only_their_village(people, collector):
    scope = scope_for(collector)
    assert selectors.region_get(scope=scope, code=BAIMA).name == "白马"
    with pytest.raises(PermissionDenied):
        selectors.region_get(scope=scope, code=SUOSHI)
    with pytest.raises(PermissionDenied):
        selectors.region_children(scope=scope, code=XIAOLING)
    with pytest.raises(Http404):
        selectors.region_get(scope=scope, code="421223200299")
    assert [r.code for r in selectors.region_list(scope=scope)] == [BAIMA]
    assert [r.code for r in selectors.region_roots(scope=scope)] == [BAIMA]


def test_lists_and_options_stay_inside_the_scope(regions, staff):
    township = scope_for(staff["township_officer"])
    codes = [r.code for r in selectors.region_list(scope=township)]
    assert codes[0] == XIAOLING and len(codes) == 11 and all(c.startswith(XIAOLING) for c in codes)
    options = dict(selectors.region_options(scope=township, level=12))
    assert options[BAIMA] == "肖岭乡 / 白马（421223200201）"
    assert all(code.startswith(XIAOLING) for code in options)


def test_a_superuser_without_region_starts_from_the_top(regions):
    scope = Scope(role="county_admin", region_code="", superuser=True)
    assert [r.code for r in selectors.region_roots(scope=scope)] == ["42"]
    assert [c["region"].code for c in selectors.region_children(scope=scope, code="42")] == ["4212", "4213"]


def test_labels_and_paths(regions):
    assert [r.name for r in selectors.region_path(BAIMA)] == ["湖北省", "咸宁市", "崇阳县", "肖岭乡", "白马"]
    assert selectors.region_label(BAIMA) == "肖岭乡 / 白马"
    assert selectors.region_label(BAIMA, from_level=6) == "崇阳县 / 肖岭乡 / 白马"
    assert selectors.region_labels([BAIMA, XIAOLING, "999"]) == {BAIMA: "肖岭乡 / 白马", XIAOLING: "肖岭乡", "999": "999"}
    assert selectors.region_name("421321") == "随县" and selectors.region_name("000000") == "000000"
