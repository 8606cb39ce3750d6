"""Builders for collection tests: a Huaiyuan (340321) household in an open 2025 campaign."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

from yibao.core.idnumber import check_character
from yibao.enrollment.tests import factories as ef
from yibao.registry.models import Identity, Resident

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
VILLAGE = "340321100001"
OTHER_VILLAGE = "340321100002"


_serial = itertools.count(1)


def id_number(area: str = "340321", birth: dt.date = dt.date(1980, 5, 17), sex: str = "M") -> str:
    """A valid, never repeated ID number (sequence digits step by two, odd for men)."""
    n = next(_serial) % 500
    seq = 2 * n + (1 if sex == "M" else 0)
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + check_character(body)


def resident(village=VILLAGE, name="赵一", birth=dt.date(1980, 5, 17), identities=(), relation="户主", household=None,
             sex="M", id_no=None):
    ef.region_tree(village[:6], village[:9], village)
    person = Resident.objects.create(
        county_code=village[:6], township_code=village[:9], village_code=village,
        id_number=id_no or id_number(village[:6], birth, sex), name=name, sex=sex, birth_date=birth,
        hukou_region_code=village, household=household, relation_to_head=relation,
    )
    for code in identities:
        identity(person, code)
    return person


def at(day: str, time: str = "10:00") -> dt.datetime:
    """An aware Asia/Shanghai datetime: at('2024-10-08')."""
    return dt.datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=SHANGHAI)


def campaign(county="340321", policy_id="anhui-huaiyuan-2025"):
    from yibao.enrollment.models import Campaign

    found = Campaign.objects.filter(county_code=county).first()
    return found or ef.campaign(county=county, policy_id=policy_id)


def identity(person, code):
    return Identity.objects.create(county_code=person.county_code, resident=person, code=code, department="民政")


def family(village=VILLAGE, number="H001", head_identities=(), spouse_identities=(), child_identities=()):
    """Head (1970), spouse (1972) and a 10-year-old son: returns (household, head, spouse, child)."""
    home = ef.household(village=village, number=number)
    head = resident(village=village, name=f"王{number}", birth=dt.date(1970, 3, 3), identities=head_identities,
                       household=home, relation="户主")
    spouse = resident(village=village, name=f"李{number}", birth=dt.date(1972, 6, 1), identities=spouse_identities,
                         household=home, relation="配偶", sex="F")
    child = resident(village=village, name=f"王小{number}", birth=dt.date(2014, 5, 5), identities=child_identities,
                        household=home, relation="儿子")
    home.head = head
    home.save(update_fields=["head"])
    return home, head, spouse, child


def person(village=VILLAGE, name="赵一", birth=dt.date(1980, 5, 17), identities=()):
    return resident(village=village, name=name, birth=birth, identities=identities)
