"""Fixtures of the import tests: a small 怀远县 (and a neighbour county), and files to import."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from yibao.core.idnumber import check_character

COUNTY = "340321"
TOWN = "340321100"
VILLAGE = "340321100201"  # 王庄村
VILLAGE_2 = "340321100202"  # 张圩村
STREET_COMMUNITY = "340321001001"  # 望淮街道 新城社区
OTHER_COUNTY = "340322"
OTHER_VILLAGE = "340322100201"

REGIONS = [
    (COUNTY, "怀远县"), (TOWN, "榴城镇"), (VILLAGE, "王庄村"), (VILLAGE_2, "张圩村"),
    ("340321001", "望淮街道"), (STREET_COMMUNITY, "新城社区"),
    (OTHER_COUNTY, "五河县"), ("340322100", "城关镇"), (OTHER_VILLAGE, "王庄村"),
]


def make_id(birth=dt.date(1990, 5, 17), seq: int = 123, area: str = COUNTY) -> str:
    """A valid number; odd seq → man, even → woman. Born after 1983 so 340321 raises no area warning."""
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    return body + check_character(body)


def write_csv(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    with open(path, "w", newline="", encoding=encoding) as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list], start_row: int = 0, title: str | None = None) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("名单")
    text = book.add_format({"num_format": "@"})
    r = start_row
    if title:
        sheet.write(r, 0, title)
        r += 1
    sheet.write_row(r, 0, header)
    for i, row in enumerate(rows, start=r + 1):
        for j, value in enumerate(row):
            if isinstance(value, (dt.date, dt.datetime)):
                sheet.write_datetime(i, j, dt.datetime.combine(value, dt.time()), book.add_format({"num_format": "yyyy-mm-dd"}))
            elif isinstance(value, (int, float)):
                sheet.write_number(i, j, value)
            else:
                sheet.write_string(i, j, str(value), text)
    book.close()
    return path


@pytest.fixture
def regions(db):
    from yibao.regions.models import Region

    for code, name in REGIONS:
        Region.objects.update_or_create(
            code=code, defaults={"name": name, "level": len(code), "parent_id": Region.parent_code_of(code),
                                 "county_code": code[:6]},
        )
    return REGIONS


RESIDENT_HEADER = ["身份证号码", "姓名", "性别", "出生日期", "户号", "与户主关系", "村（社区）", "联系电话"]


@pytest.fixture
def family():
    """Rows of one household (head, wife, son) in 王庄村 and a single man in 新城社区."""
    head = make_id(dt.date(1985, 1, 2), 11)
    wife = make_id(dt.date(1986, 3, 4), 22)
    son = make_id(dt.date(2012, 6, 7), 31)
    single = make_id(dt.date(1990, 8, 9), 41)
    return [
        [head, "张大山", "男", "1985-01-02", "H001", "户主", VILLAGE, "13800000001"],
        [wife, "李秀兰", "女", "1986/3/4", "H001", "配偶", "王庄村", "13800000002"],
        [son, "张小山", "男", "20120607", "H001", "子", VILLAGE, ""],
        [single, "赵一人", "男", "", "H002", "户主", "望淮街道新城社区", "0552-1234567"],
    ]


@pytest.fixture
def imported_family(regions, family, tmp_path):
    """The family imported; returns (rows, result)."""
    from yibao.imports.services import residents_import

    path = write_csv(tmp_path / "family.csv", RESIDENT_HEADER, family)
    return family, residents_import(path=path, county_code=COUNTY, actor="测试")


@pytest.fixture
def staff(regions):
    """One user per role in 怀远县 (township officer in 榴城镇, collector in 王庄村), plus an admin of 五河县."""
    from yibao.accounts.models import User
    from yibao.accounts.roles import Role

    homes = {
        Role.COUNTY_ADMIN: COUNTY, Role.TAX_OFFICER: COUNTY, Role.TOWNSHIP_OFFICER: TOWN,
        Role.VILLAGE_COLLECTOR: VILLAGE, Role.DEPARTMENT_CLERK: COUNTY, Role.AUDITOR: COUNTY,
    }
    users = {
        str(role): User.objects.create_user(
            username=str(role), password="pass-1234", role=role, region_code=region,
            department="minzheng" if role == Role.DEPARTMENT_CLERK else "", display_name=f"{Role(role).label}甲",
        )
        for role, region in homes.items()
    }
    users["other_admin"] = User.objects.create_user(
        username="other_admin", password="pass-1234", role=Role.COUNTY_ADMIN, region_code=OTHER_COUNTY,
        display_name="五河管理员",
    )
    return users
