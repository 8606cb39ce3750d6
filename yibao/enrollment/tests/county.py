"""A generated county for the assessment tests: every kind of resident the registry can hold."""

from __future__ import annotations

import datetime as dt
import random

from yibao.enrollment.models import Campaign, Enrollment
from yibao.enrollment.tests import factories as f
from yibao.policy.vocabulary import GROUPS, IDENTITY_BY_CODE
from yibao.registry.models import Flag, GroupFact, Identity, Resident

RELATIONS = ["户主", "配偶", "子", "女", "女儿", "儿子", "孙子", "父亲", "", "其他", " 女 "]


def generate_county(*, county: str, benefit_year: int, on_dates: list[dt.date], size: int = 150, seed: int = 1,
                    tiers=(1,)) -> list[Resident]:
    """`size` residents in two townships of `county`, with identities valid or not on the dates,
    group facts (some several, some with event dates after the dates), enrollment history giving
    gap years, this year's enrollments (some tier 2, some ended), flags, and a few moved away."""
    rng = random.Random(seed)
    villages = [f"{county}100001", f"{county}100002", f"{county}200001"]
    for village in villages:
        f.region_tree(county, village[:9], village)
    earliest, latest = min(on_dates), max(on_dates)
    identity_codes = sorted(IDENTITY_BY_CODE)
    groups = sorted(GROUPS)
    old_campaign = Campaign.objects.create(
        county_code=county, benefit_year=benefit_year - 3, policy_id="history", policy_version="x",
        collection_start=dt.date(benefit_year - 4, 9, 1), collection_end=dt.date(benefit_year - 4, 12, 31),
        status=Campaign.Status.CLOSED,
    )
    people = []
    for n in range(size):
        kind = rng.random()
        if kind < 0.15:  # born shortly before or around the dates: newborn rules, 90-day limits
            birth = latest - dt.timedelta(days=rng.randint(0, 500))
            birth = min(birth, earliest) if rng.random() < 0.8 else birth
        elif kind < 0.3:  # around the age limits (18, 60)
            age = rng.choice([17, 18, 59, 60])
            birth = earliest.replace(year=earliest.year - age) + dt.timedelta(days=rng.randint(-40, 40))
        else:
            birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 90))
        village = rng.choice(villages)
        person = f.resident(village=village, birth=birth, name=f"居民{n}", relation=rng.choice(RELATIONS),
                            sex=rng.choice("MF"))
        people.append(person)
        for code in rng.sample(identity_codes, rng.choice([0, 0, 0, 1, 1, 2, 3])):
            start = end = None
            pick = rng.random()
            if pick < 0.2:
                end = earliest - dt.timedelta(days=rng.randint(1, 60))
            elif pick < 0.35:
                start = rng.choice(on_dates) + dt.timedelta(days=rng.choice([0, 1]))
            elif pick < 0.45:
                end = rng.choice(on_dates)
            Identity.objects.create(county_code=county, resident=person, code=code, department="民政",
                                    valid_from=start, valid_to=end)
        for group in rng.sample(groups, rng.choice([0, 0, 0, 0, 1, 1, 2])):
            event = None
            if rng.random() < 0.6:
                event = rng.choice(on_dates) - dt.timedelta(days=rng.choice([0, 0, 1, 30, 89, 90, 91, 150, 365, -1, -20]))
            GroupFact.objects.create(county_code=county, resident=person, group=group, event_date=event)
        for year in range(benefit_year - 3, benefit_year):
            if rng.random() < 0.5:
                Enrollment.objects.create(
                    county_code=county, township_code=village[:9], village_code=village, campaign=old_campaign,
                    benefit_year=year, resident=person, id_number=person.id_number, kind="first",
                    status=rng.choice(["paid", "paid", "suspended", "terminated", "registered"]),
                )
        if rng.random() < 0.05:
            Flag.objects.create(county_code=county, resident=person, kind=rng.choice(Flag.Kind.values),
                                detail=rng.choice(["", "某单位"]))
        if rng.random() < 0.03:
            Flag.objects.create(county_code=county, resident=person, kind=Flag.Kind.OTHER_COUNTY, detail="外县",
                                resolved_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
                                outcome=rng.choice(["cleared", "confirmed"]), resolution="核实")
        if rng.random() < 0.03:
            person.status = Resident.Status.MOVED_AWAY
            person.save(update_fields=["status"])
    # one identity code the glossary doesn't know, and a tier the policy doesn't have: input errors
    Identity.objects.create(county_code=county, resident=people[0], code="bogus_code", department="民政")
    return people


def add_this_year(*, campaign: Campaign, people: list[Resident], seed: int = 2, tiers=(1,)) -> None:
    """This year's enrollments for some residents: chosen tiers, a tier the policy lacks, an ended one."""
    rng = random.Random(seed)
    for person in people:
        if rng.random() < 0.2:
            status = rng.choice(["registered", "registered", "paid", "terminated", "suspended"])
            tier = rng.choice(list(tiers) + ([9] if rng.random() < 0.1 else []))
            Enrollment.objects.create(
                county_code=person.county_code, township_code=person.township_code, village_code=person.village_code,
                campaign=campaign, benefit_year=campaign.benefit_year, resident=person, id_number=person.id_number,
                kind="first", tier=tier, status=status, status_reason="测试" if status == "terminated" else "",
            )
