"""Synthetic people of the demo county: households of realistic size, valid ID numbers (Faker zh_CN
names), the department lists in realistic proportions and a 职工医保 list that overlaps a little."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from yibao.core.idnumber import check_character
from yibao.demo.county import COUNTY_CODE

# most people carry the county's own area code; some were born elsewhere in 安徽
OTHER_AREAS = ("340322", "340323", "340302", "340304", "341321", "340121")
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5, 6)
HOUSEHOLD_WEIGHTS = (14, 25, 23, 20, 12, 6)
TODAY = dt.date(2024, 9, 1)  # the demo campaign's collection start (seed 004)


@dataclass
class Person:
    id_number: str
    name: str
    sex: str  # M/F
    birth: dt.date
    relation: str
    village: str
    household: str
    phone: str = ""
    identities: list[tuple[str, str]] = field(default_factory=list)  # (department label, list spelling)


class IdFactory:
    def __init__(self, rng: random.Random, home: str = COUNTY_CODE):
        self.rng = rng
        self.home = home
        self.others = tuple(a for a in OTHER_AREAS if a != home) + ((COUNTY_CODE,) if home != COUNTY_CODE else ())
        self.used: set[str] = set()

    def make(self, birth: dt.date, sex: str, area: str | None = None) -> str:
        if area is None:
            area = self.home if self.rng.random() < 0.95 else self.rng.choice(self.others)
        while True:
            seq = self.rng.randrange(0, 1000)
            if (seq % 2 == 1) != (sex == "M"):
                seq = (seq + 1) % 1000
            body = f"{area}{birth:%Y%m%d}{seq:03d}"
            number = body + check_character(body)
            if number not in self.used:
                self.used.add(number)
                return number


def _birth(rng: random.Random, age_from: int, age_to: int) -> dt.date:
    age = rng.randint(max(0, age_from), max(0, age_to))
    day = rng.randint(0, 364)
    birth = dt.date(TODAY.year - age, 1, 1) + dt.timedelta(days=day)
    return min(birth, TODAY - dt.timedelta(days=30))


def households(total: int, villages: list[str], seed: int = 2024, home: str = COUNTY_CODE) -> list[Person]:
    """`total` residents in households: head, spouse, children, sometimes a parent or grandchildren."""
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    ids = IdFactory(rng, home)
    weights = [rng.randint(1, 5) for _ in villages]  # villages differ in size
    people: list[Person] = []
    number = 0
    while len(people) < total:
        number += 1
        size = min(rng.choices(HOUSEHOLD_SIZES, HOUSEHOLD_WEIGHTS)[0], total - len(people))
        village = rng.choices(villages, weights)[0]
        household = f"{village[6:]}{number:05d}"
        surname = fake.last_name()
        head_sex = "M" if rng.random() < 0.8 or size == 1 and rng.random() < 0.5 else "F"
        head_age = rng.randint(60, 88) if size == 1 else rng.randint(28, 75)
        head_birth = _birth(rng, head_age, head_age)

        def person(sex, birth, relation, family_name=surname, area=None):
            given = fake.first_name_male() if sex == "M" else fake.first_name_female()
            adult = (TODAY - birth).days > 18 * 365
            phone = fake.phone_number() if adult and rng.random() < 0.85 else ""
            return Person(ids.make(birth, sex, area), family_name + given, sex, birth, relation, village, household, phone)

        members = [person(head_sex, head_birth, "户主")]
        if size >= 2:
            spouse_sex = "F" if head_sex == "M" else "M"
            members.append(person(spouse_sex, _birth(rng, head_age - 5, head_age + 3), "配偶", fake.last_name()))
        kids = size - len(members)
        if kids and head_age > 62 and rng.random() < 0.5:
            parents_gen = False
            for _ in range(kids):
                if not parents_gen and rng.random() < 0.3:
                    members.append(person("M", _birth(rng, head_age - 30, head_age - 22), "子"))
                    parents_gen = True
                else:
                    sex = rng.choice("MF")
                    members.append(person(sex, _birth(rng, 1, 17), "孙子" if sex == "M" else "孙女"))
        else:
            if kids and head_age < 55 and size >= 5 and rng.random() < 0.6:
                sex = rng.choice("MF")
                members.append(person(sex, _birth(rng, head_age + 22, min(head_age + 35, 95)), "父亲" if sex == "M" else "母亲"))
                kids -= 1
            for _ in range(kids):
                sex = rng.choice("MF")
                members.append(person(sex, _birth(rng, 0, max(0, min(head_age - 20, 40))), "子" if sex == "M" else "女"))
        people.extend(members)
    return people[:total]


# (department label, spelling on the list, share of residents, who qualifies)
LISTS = (
    ("民政", "最低生活保障对象", 0.035, "household"),
    ("民政", "特困供养人员", 0.010, "elderly_single"),
    ("民政", "孤儿", 0.0008, "child"),
    ("民政", "低保边缘家庭成员", 0.010, "household"),
    ("民政", "低收入家庭成员", 0.006, "household"),
    ("乡村振兴", "防止返贫监测对象", 0.020, "household"),
    ("乡村振兴", "稳定脱贫人口", 0.045, "household"),
    ("残联", "重度残疾人", 0.012, "anyone"),
    ("卫健", "严重精神障碍患者", 0.004, "adult"),
    ("卫健", "计划生育特殊困难家庭成员", 0.002, "elderly"),
    ("卫健", "独女户", 0.005, "household"),
    ("卫健", "独男户", 0.002, "household"),
    ("退役军人事务", "重点优抚对象", 0.003, "adult"),
)


def assign_identities(people: list[Person], seed: int = 2024) -> None:
    """Put people on the department lists; a few end up on two lists (the policy picks one subsidy)."""
    rng = random.Random(seed + 1)
    by_household: dict[str, list[Person]] = {}
    for p in people:
        by_household.setdefault(p.household, []).append(p)
    households = list(by_household.values())
    age = {id(p): (TODAY - p.birth).days // 365 for p in people}
    pools = {
        "anyone": people,
        "adult": [p for p in people if age[id(p)] >= 18],
        "elderly": [p for p in people if age[id(p)] >= 55],
        "child": [p for p in people if age[id(p)] < 16],
        "elderly_single": [h[0] for h in households if len(h) <= 2 and age[id(h[0])] >= 60],
    }
    total = len(people)
    for department, spelling, share, who in LISTS:
        wanted = max(1, round(total * share)) if total >= 200 else (1 if share >= 0.01 else 0)
        if who == "household":
            chosen: list[Person] = []
            for household in rng.sample(households, len(households)):
                if len(chosen) >= wanted:
                    break
                if spelling in ("独女户", "独男户") and len(household) < 3:
                    continue
                chosen.extend(household)
        else:
            pool = pools[who]
            chosen = rng.sample(pool, min(wanted, len(pool)))
        for p in chosen:
            if not any(s == spelling for _d, s in p.identities):
                p.identities.append((department, spelling))


def employees(people: list[Person], seed: int = 2024, share: float = 0.015) -> list[tuple[str, str, str, dt.date]]:
    """A 职工医保 list: some residents of working age (they will be flagged) and outsiders."""
    from faker import Faker

    rng = random.Random(seed + 2)
    fake = Faker("zh_CN")
    fake.seed_instance(seed + 2)
    working = [p for p in people if 20 <= (TODAY - p.birth).days // 365 <= 58]
    insiders = rng.sample(working, min(len(working), max(1, round(len(people) * share))))
    ids = IdFactory(rng)
    ids.used = {p.id_number for p in people}
    rows = [(p.id_number, p.name, fake.company(), _birth(rng, 1, 15)) for p in insiders]
    for _ in range(len(insiders) * 3):
        sex = rng.choice("MF")
        birth = _birth(rng, 22, 58)
        name = fake.last_name() + (fake.first_name_male() if sex == "M" else fake.first_name_female())
        rows.append((ids.make(birth, sex, "340302"), name, fake.company(), _birth(rng, 1, 20)))
    rng.shuffle(rows)
    return rows
