"""Small builders for tests across apps: a county, a resident, a campaign."""

import datetime as dt
import itertools

from yibao.core.idnumber import check_character
from yibao.enrollment.models import Campaign
from yibao.policy.loader import load_policy
from yibao.regions.models import Region
from yibao.registry.models import Household, Identity, Resident

_sequence = itertools.count(100)


def id_number(area: str = "340321", birth: dt.date = dt.date(1980, 5, 17), sex: str = "M") -> str:
    seq = next(_sequence) * 2 % 1000 + (1 if sex == "M" else 0)  # odd for men, even for women; never repeats in 500
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + check_character(body)


def region_tree(county="340321", township="340321100", village="340321100001"):
    Region.objects.get_or_create(code=county, defaults={"name": "县", "level": 6, "county_code": county})
    Region.objects.get_or_create(code=township, defaults={"name": "镇", "level": 9, "county_code": county, "parent_id": county})
    Region.objects.get_or_create(code=village, defaults={"name": "村", "level": 12, "county_code": county, "parent_id": township})
    return village


def resident(village="340321100001", birth=dt.date(1980, 5, 17), name="张三", identities=(), relation="户主",
             household=None, sex="M"):
    region_tree(village[:6], village[:9], village)
    person = Resident.objects.create(
        county_code=village[:6], township_code=village[:9], village_code=village,
        id_number=id_number(village[:6], birth, sex), name=name, sex=sex, birth_date=birth,
        hukou_region_code=village, household=household, relation_to_head=relation,
    )
    for code in identities:
        Identity.objects.create(county_code=person.county_code, resident=person, code=code, department="民政")
    return person


def household(village="340321100001", number="H001"):
    region_tree(village[:6], village[:9], village)
    return Household.objects.create(county_code=village[:6], township_code=village[:9], village_code=village, number=number)


def campaign(county="340321", policy_id="anhui-huaiyuan-2025"):
    policy = load_policy(policy_id)
    window = policy.data.collection.main_window
    return Campaign.objects.create(
        county_code=county, benefit_year=policy.data.benefit_year, policy_id=policy.id,
        policy_version=policy.version, collection_start=window.start, collection_end=window.end,
    )
