"""Below the county a scope filters by the county code as well as the township's or village's code, so
every read of a township or village account names the shard key (docs/scale.md)."""

import pytest

from yibao.accounts.scope import Scope
from yibao.collection.models import Payment
from yibao.registry.models import Flag, Resident


def _where(queryset) -> str:
    return str(queryset.query).split(" WHERE ", 1)[1]


@pytest.mark.parametrize(("role", "code", "field"), [
    ("village_collector", "421223200201", "village_code"),
    ("township_officer", "421223200", "township_code"),
])
def test_township_and_village_scopes_name_the_county(role, code, field):
    where = _where(Scope(role=role, region_code=code).filter(Payment.objects.all()))
    assert '"collection_payment"."county_code" = 421223' in where
    assert f'"collection_payment"."{field}" = {code}' in where


def test_the_county_code_goes_through_a_relation_too():
    scope = Scope(role="village_collector", region_code="421223200201")
    where = _where(scope.filter(Flag.objects.all(), prefix="resident__"))
    assert '"registry_resident"."county_code" = 421223' in where
    assert '"registry_resident"."village_code" = 421223200201' in where


def test_county_scope_is_one_equality_and_a_city_scope_a_prefix():
    county = _where(Scope(role="county_admin", region_code="421223").filter(Resident.objects.all()))
    assert county == '"registry_resident"."county_code" = 421223'
    city = _where(Scope(role="city_admin", region_code="4212").filter(Resident.objects.all()))
    assert '"registry_resident"."county_code"' in city and "LIKE" in city


@pytest.mark.django_db
def test_a_village_scope_still_finds_its_own_people_and_no_others():
    from yibao.collection.tests import factories as f

    mine = f.resident(village="340321100001")
    f.resident(village="340321100002", name="钱二")
    scope = Scope(role="village_collector", region_code="340321100001")
    assert list(scope.filter(Resident.objects.all())) == [mine]
