"""Helpers for tests across apps: write a 历年参保名单 (the national platform's roster) and import it."""

from __future__ import annotations

import csv
from pathlib import Path

ROSTER_HEADER = ["公民身份号码", "姓名", "参保年度", "参保状态", "待遇开始日期", "待遇终止日期", "缴费金额", "险种类型"]


def write_roster(path: Path, rows: list[list], header: list[str] = ROSTER_HEADER) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def roster_import(folder: Path, rows: list[list], *, county: str = "340321", header: list[str] = ROSTER_HEADER,
                  name: str = "上年参保名单.csv", actor="测试") -> dict:
    """Import rows through the real service (the job runner calls the same)."""
    from yibao.imports.services import enrollments_import

    path = write_roster(Path(folder) / name, rows, header)
    return enrollments_import(path=path, county_code=county, actor=actor)


def paid(resident, year: int = 2024, amount: str = "380") -> list:
    """A 正常参保 line of a resident for a year, 险种 390."""
    return [resident.id_number, resident.name, year, "正常参保", "", "", amount, "390"]
