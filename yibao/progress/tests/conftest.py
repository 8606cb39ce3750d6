import datetime as dt

import pytest

from yibao.progress import services
from yibao.progress.tests import builders as b


@pytest.fixture
def county(db):
    """怀远县 2025: targets 东村 4 (3 特群 + 1), 西村 2, 南村 10; 东村 甲 paid, 丙 免缴 特困, 乙 and 丁 enrolled last year
    and not yet this year; 西村 戊、己 paid; 南村 庚 paid."""
    b.huaiyuan_tree()
    b.campaign(2024)
    b.campaign(2025)
    b.set_targets(**{b.DONGCUN: 4, b.XICUN: 2, b.NANCUN: 10})
    household = b.Household.objects.create(county_code=b.COUNTY, township_code=b.LIUCHENG, village_code=b.DONGCUN, number="H1")
    people = {
        "a": b.person(b.DONGCUN, "甲", household=household, phone="13900000001"),
        "b": b.person(b.DONGCUN, "乙", identities=["dibao"], household=household, relation="子", birth=dt.date(1990, 3, 3)),
        "c": b.person(b.DONGCUN, "丙", identities=["tekun"]),
        "d": b.person(b.DONGCUN, "丁", phone="13900000004"),
        "e": b.person(b.XICUN, "戊"), "f": b.person(b.XICUN, "己"), "g": b.person(b.NANCUN, "庚"),
    }
    household.head = people["a"]
    household.save(update_fields=["head"])
    for key in ("a", "b", "d", "e"):
        b.enroll(people[key], 2024)
    b.pay(people["a"], dt.date(2024, 9, 2))
    b.pay(people["e"], dt.date(2024, 9, 2))
    b.pay(people["f"], dt.date(2024, 9, 3))
    b.pay(people["g"], dt.date(2024, 10, 1))
    b.enroll(people["c"], 2025, at=b.timezone.make_aware(dt.datetime(2024, 9, 3, 9)))
    services.progress_refresh(county_code=b.COUNTY, benefit_year=2025)
    return people


@pytest.fixture
def login(client, make_user):
    """Log the client in as a new user of a role and region; returns the user."""

    def as_user(role="county_admin", region=b.COUNTY, username=None):
        user = make_user(username or f"{role}_{region}", role=role, region_code=region)
        client.force_login(user)
        return user

    return as_user
