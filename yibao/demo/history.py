"""Last year's roster (上年参保名单) of the demo county, as the national platform exports it, imported
through the real job: the county's first year on Yibao then has renewals, gap years, the
cross-county "suspend first" rule and a 催缴 list to work.

`demo_history(county_code=…, benefit_year=2024)` writes one line per active resident for most of
them (about `share` 正常参保, a few 暂停参保 and 终止参保, the rest not enrolled), plus the 城乡居民大病
医疗保险 (392) lines a real export carries for some people (the import skips them with a note).
Deterministic for a seed; running it again imports nothing new. Call it before the year's
collection so that payments register as 续保.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
from pathlib import Path

from yibao.demo.county import COUNTY_CODE

DEMO_ACTOR = "演示数据"
# the national platform's export: 证件号码, 人员姓名, 险种类型 …, codes or names as they come
HEADER = ["证件号码", "人员姓名", "险种类型", "参保状态", "待遇年度", "待遇开始日期", "待遇终止日期", "个人缴费金额"]
RESIDENT_INSURANCE = "390"
SERIOUS_ILLNESS = "392"
SUSPENDED_SHARE = 0.02
TERMINATED_SHARE = 0.01
ILLNESS_LINE_SHARE = 0.03
STANDARD = "380.00"  # 2024 individual contribution of the 怀远 notice


def roster_rows(*, county_code: str, benefit_year: int, share: float, seed: int) -> list[list]:
    """The roster lines for the county's active residents (not those on the 职工医保 list)."""
    from yibao.registry.models import Flag, Identity, Resident

    rng = random.Random(seed)
    first, last = dt.date(benefit_year, 1, 1), dt.date(benefit_year, 12, 31)
    employees = set(
        Flag.objects.filter(county_code=county_code, kind=Flag.Kind.EMPLOYEE_INSURANCE, resolved_at__isnull=True)
        .values_list("resident_id", flat=True)
    )
    subsidised = set(Identity.objects.filter(county_code=county_code).values_list("resident_id", flat=True))
    rows = []
    people = (
        Resident.objects.filter(county_code=county_code, status=Resident.Status.ACTIVE)
        .order_by("id").values_list("id", "id_number", "name", "birth_date")
    )
    for pk, number, name, birth in people:
        pick = rng.random()
        if pk in employees or birth > last:
            continue
        start = max(first, birth)
        amount = "" if pk in subsidised else STANDARD  # subsidised people's amounts vary; the export may leave it out
        if pick < share:
            rows.append([number, name, RESIDENT_INSURANCE, "正常参保", benefit_year, start, last, amount])
        elif pick < share + SUSPENDED_SHARE:
            rows.append([number, name, RESIDENT_INSURANCE, "暂停参保", benefit_year, start, last, amount])
        elif pick < share + SUSPENDED_SHARE + TERMINATED_SHARE:
            ended = min(last, start + dt.timedelta(days=rng.randrange(30, 330)))
            rows.append([number, name, RESIDENT_INSURANCE, "终止参保", benefit_year, start, ended, amount])
        else:
            continue
        if rng.random() < ILLNESS_LINE_SHARE:
            rows.append([number, name, SERIOUS_ILLNESS, "正常参保", benefit_year, start, last, ""])
    return rows


def demo_history(
    county_code: str = COUNTY_CODE, benefit_year: int = 2024, share: float = 0.9, seed: int = 2024, *,
    actor: str = DEMO_ACTOR, progress_factory=None, keep_files: Path | None = None,
) -> dict:
    """Write and import the roster; returns the import's counts with the job id and file name.

    `progress_factory`: makes a rich bar from a label (the CLI), or None. Raises RuntimeError with
    the job's Chinese reason when the import fails (say, `benefit_year` was opened in Yibao).
    """
    from yibao.demo.build import import_file

    rows = roster_rows(county_code=county_code, benefit_year=benefit_year, share=share, seed=seed)
    if not rows:
        raise RuntimeError(f"{county_code} 县没有可写入{benefit_year}年度参保名单的居民：请先导入户籍名单。")
    with tempfile.TemporaryDirectory(prefix="yibao-demo-history-") as tmp:
        folder = Path(keep_files or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{benefit_year}年度城乡居民医保参保名单.csv"
        with open(path, "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            writer.writerows([[c.isoformat() if isinstance(c, dt.date) else c for c in row] for row in rows])
        job = import_file("enrollments", path, progress_factory, actor=actor, county_code=county_code)
    return {**job.result, "job": job.pk, "file": path.name}
