"""Pytest fixtures shared by the regions, accounts and registry tests (imported by their conftest.py)."""

import pytest

from yibao.accounts.roles import Role

XIAOLING = "421223200"  # 肖岭乡 (constructed code)
BAIMA, SUOSHI, SANJIAO = "421223200201", "421223200202", "421223200203"
TIANCHENG, CHENGDONG = "421223100", "421223100201"
LISHAN, SHENNONG = "421321100", "421321100201"


@pytest.fixture
def regions(db):
    """The seed regions plus a second township in 崇阳县 and a village in 随县."""
    from yibao.registry.tests.factories import add_region, seed_regions

    seed_regions()
    add_region(TIANCHENG, "天城镇")
    add_region(CHENGDONG, "城东")
    add_region(SHENNONG, "神农")


@pytest.fixture
def staff(regions):
    """One user per role in 崇阳县 (collector in 白马, township officer in 肖岭乡), password pass-1234."""
    from yibao.accounts.models import User

    homes = {
        Role.COUNTY_ADMIN: "421223", Role.TAX_OFFICER: "421223", Role.TOWNSHIP_OFFICER: XIAOLING,
        Role.VILLAGE_COLLECTOR: BAIMA, Role.DEPARTMENT_CLERK: "421223", Role.AUDITOR: "421223",
    }
    return {
        str(role): User.objects.create_user(
            username=str(role), password="pass-1234", role=role, region_code=region,
            department="minzheng" if role == Role.DEPARTMENT_CLERK else "", display_name=f"{Role(role).label}甲",
        )
        for role, region in homes.items()
    }


@pytest.fixture
def admin(staff):
    return staff["county_admin"]


@pytest.fixture
def collector(staff):
    return staff["village_collector"]
