"""Small builders for tests: valid ID numbers, regions, households with members."""

from __future__ import annotations

import datetime as dt
import itertools

from yibao.core.idnumber import check_character
from yibao.regions.models import Region
from yibao.registry.models import Household, Identity, Resident

_seq = itertools.count(101)


def make_id(area: str = "421223", birth: dt.date = dt.date(1980, 5, 17), seq: str | None = None, sex: str = "M") -> str:
    """A valid 18-character ID number; the 17th digit is odd for men, even for women."""
    if seq is None:
        n = next(_seq)
        while (n % 2 == 1) != (sex == "M"):
            n = next(_seq)
        seq = f"{n % 1000:03d}"
    last = int(seq[-1])
    if (sex == "M") != (last % 2 == 1):
        seq = seq[:-1] + str((last + 1) % 10)
    body = f"{area}{birth:%Y%m%d}{seq}"
    return body + check_character(body)


def add_region(code: str, name: str) -> Region:
    region, _ = Region.objects.update_or_create(
        code=code,
        defaults={"name": name, "level": len(code), "parent_id": Region.parent_code_of(code), "county_code": code[:6]},
    )
    return region


def seed_regions() -> None:
    from yibao.regions.services import regions_load_seed

    regions_load_seed(actor="测试")


def make_resident(village_code: str, name: str, *, household: Household | None = None, relation: str = "户主",
                  birth: dt.date = dt.date(1980, 5, 17), sex: str = "M", id_number: str | None = None, **extra) -> Resident:
    return Resident.objects.create(
        county_code=village_code[:6], township_code=village_code[:9], village_code=village_code,
        id_number=id_number or make_id(village_code[:6], birth, sex=sex), name=name, sex=sex, birth_date=birth,
        hukou_region_code=village_code, residence_region_code=village_code, household=household,
        relation_to_head=relation, **extra,
    )


def make_household(village_code: str, number: str, head_name: str, *others: str, birth=dt.date(1980, 5, 17)):
    """A household with a head and members (relation 子/女 by turns); returns (household, [head, *members])."""
    household = Household.objects.create(
        county_code=village_code[:6], township_code=village_code[:9], village_code=village_code, number=number
    )
    head = make_resident(village_code, head_name, household=household, birth=birth)
    members = [head]
    for i, name in enumerate(others):
        sex = "M" if i % 2 == 0 else "F"
        members.append(make_resident(village_code, name, household=household, relation="子" if sex == "M" else "女",
                                     birth=dt.date(2005 + i, 3, 9), sex=sex))
    household.head = head
    household.save(update_fields=["head"])
    return household, members


def give_identity(resident: Resident, code: str, department: str = "minzheng", valid_from=None, valid_to=None) -> Identity:
    return Identity.objects.create(
        county_code=resident.county_code, resident=resident, code=code, department=department,
        valid_from=valid_from, valid_to=valid_to,
    )
