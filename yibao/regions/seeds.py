"""The seed notices' task tables, kept as printed (yibao/regions/fixtures/*.csv).

Each table is read in its own column layout; the printed 合计 row is kept apart so that a
reader can check it against the sum of the rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_REGIONS = FIXTURES / "seed_regions.csv"


@dataclass(frozen=True)
class TaskTable:
    key: str
    title: str
    county_code: str
    township_code: str  # "" when the table splits a whole county
    path: Path
    name_column: str  # the column that names the unit (村名 / 镇（场）)
    number_columns: tuple[str, ...]


TASK_TABLES = {
    "xiaoling-2024": TaskTable(
        key="xiaoling-2024",
        title="肖岭乡2024年城乡居民医疗保险和咸惠保征收任务表",
        county_code="421223",
        township_code="421223200",
        path=FIXTURES / "xiaoling_2024_tasks.csv",
        name_column="村名",
        number_columns=("总人口", "应参保人数", "咸惠宝应参保人数"),
    ),
    "suixian-2023": TaskTable(
        key="suixian-2023",
        title="2023 年城乡居民参保缴费目标分解表",
        county_code="421321",
        township_code="",
        path=FIXTURES / "suixian_2023_targets.csv",
        name_column="镇（场）",
        number_columns=("合计", "特群免缴", "其他居民"),
    ),
}


def _is_total(row: dict) -> bool:
    return any((value or "").strip() == "合计" for value in row.values())


def read_task_table(key: str) -> tuple[list[dict], dict]:
    """(rows, printed total) of a seed task table; numbers become int, names stay as printed."""
    table = TASK_TABLES[key]
    rows, total = [], {}
    with open(table.path, encoding="utf-8", newline="") as fh:
        for raw in csv.DictReader(fh):
            row = {k: (v or "").strip() for k, v in raw.items()}
            is_total = _is_total(row)
            for column in table.number_columns:
                row[column] = int(row[column])
            if is_total:
                total = row
            else:
                rows.append(row)
    return rows, total


def read_seed_regions() -> list[tuple[str, str]]:
    with open(SEED_REGIONS, encoding="utf-8", newline="") as fh:
        return [(r["区划代码"].strip(), r["名称"].strip()) for r in csv.DictReader(fh)]
