"""The demo county's 参保群体 lists, as other offices send them: 公安's birth registrations, a school
roll (在校大学生) and 司法's release list (刑满释放人员). Written as files and imported through the real
group-list job (`yibao import groups`), before the year's assessment. Deterministic for a seed;
importing them again changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path

from yibao.demo.county import COUNTY_CODE

DEMO_ACTOR = "演示数据"
SCHOOLS = ("安徽财经大学", "蚌埠医学院", "蚌埠学院", "安徽科技学院", "合肥工业大学")

# group code -> (file name, header as the office spells it)
LISTS = {
    "newborn": ("公安局出生登记名单.csv", ["身份证号码", "姓名", "出生日期"]),
    "university_student": ("在校大学生名册.csv", ["身份证号码", "姓名", "入学日期", "学校"]),
    "released_prisoner": ("司法局刑满释放人员名单.csv", ["身份证号码", "姓名", "释放日期"]),
}


def group_rows(*, county_code: str, benefit_year: int, seed: int) -> dict[str, list[list]]:
    """Rows per group: everyone born in the year before the benefit year, a few residents of college
    age, and two adults released in that year."""
    from yibao.registry.models import Resident

    rng = random.Random(seed + 13)
    year = benefit_year - 1
    people = list(
        Resident.objects.filter(county_code=county_code, status=Resident.Status.ACTIVE)
        .order_by("id").values_list("id_number", "name", "birth_date")
    )
    births = [[n, name, birth.isoformat()] for n, name, birth in people if birth.year == year]
    college = [p for p in people if 18 <= year - p[2].year <= 21]
    students = []
    for n, name, birth in rng.sample(college, min(len(college), max(2, len(college) // 3))):
        entered = dt.date(max(birth.year + 18, year - 3), 9, 1)
        students.append([n, name, entered.isoformat(), rng.choice(SCHOOLS)])
    adults = [p for p in people if 25 <= year - p[2].year <= 55]
    released = [[n, name, dt.date(year, rng.randint(1, 6), rng.randint(1, 28)).isoformat()]
                for n, name, _birth in rng.sample(adults, min(2, len(adults)))]
    return {"newborn": births, "university_student": students, "released_prisoner": released}


def demo_groups(county_code: str = COUNTY_CODE, benefit_year: int = 2025, seed: int = 2024, *,
                actor: str = DEMO_ACTOR, progress_factory=None, keep_files: Path | None = None) -> dict:
    """Write and import the three lists; returns {group: the import's counts}."""
    from yibao.demo.build import import_file

    rows = group_rows(county_code=county_code, benefit_year=benefit_year, seed=seed)
    summary = {}
    with tempfile.TemporaryDirectory(prefix="yibao-demo-groups-") as tmp:
        folder = Path(keep_files or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for group, (name, header) in LISTS.items():
            if not rows[group]:
                continue
            path = folder / name
            with open(path, "w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow(header)
                writer.writerows(rows[group])
            job = import_file("groups", path, progress_factory, actor=actor, county_code=county_code, group=group)
            summary[group] = {k: job.result.get(k) for k in ("rows", "imported", "unchanged", "rejected", "review")}
    return summary
