"""The seed task tables are kept exactly as printed in the notices."""

import csv

import pytest

from yibao.regions.models import TOWNSHIP_KINDS
from yibao.regions.seeds import TASK_TABLES, read_seed_regions, read_task_table


def test_xiaoling_table_totals_match_the_notice():
    rows, total = read_task_table("xiaoling-2024")
    assert [r["村名"] for r in rows] == ["白马", "锁石", "三角", "星桥", "大堰", "肖岭", "霞星", "台山", "泉陂", "金不"]
    assert sum(r["应参保人数"] for r in rows) == 31053 == total["应参保人数"]
    assert sum(r["总人口"] for r in rows) == 39140 == total["总人口"]
    assert sum(r["咸惠宝应参保人数"] for r in rows) == 7997 == total["咸惠宝应参保人数"]
    assert rows[0] == {"村名": "白马", "总人口": 4702, "应参保人数": 3731, "咸惠宝应参保人数": 961}
    assert rows[8]["应参保人数"] == 4773  # printed as "4773 " in the notice


def test_suixian_table_totals_match_the_notice():
    rows, total = read_task_table("suixian-2023")
    assert len(rows) == 18
    assert sum(r["合计"] for r in rows) == 643118 == total["合计"]
    assert sum(r["特群免缴"] for r in rows) == 23113 == total["特群免缴"]
    assert sum(r["其他居民"] for r in rows) == 620005 == total["其他居民"]
    for row in rows:
        assert row["合计"] == row["特群免缴"] + row["其他居民"], row["镇（场）"]
    assert rows[0]["镇（场）"] == "厉山镇（含经济开发区）" and rows[0]["合计"] == 59813
    assert rows[6]["镇（场）"] == "万和镇（含太白顶景区）"
    assert rows[-1] == {"序号": "18", "镇（场）": "万福店农场", "合计": 18357, "特群免缴": 476, "其他居民": 17881}


@pytest.mark.parametrize(
    "key, header",
    [
        ("xiaoling-2024", ["村名", "总人口", "应参保人数", "咸惠宝应参保人数"]),
        ("suixian-2023", ["序号", "镇（场）", "合计", "特群免缴", "其他居民"]),
    ],
)
def test_tables_keep_the_notices_column_layout(key, header):
    with open(TASK_TABLES[key].path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == header
    assert any("合计" in row for row in rows[1:]), "the printed 合计 row is kept"


def test_seed_regions_name_every_unit_of_both_tables():
    regions = dict(read_seed_regions())
    by_name = {name: code for code, name in regions.items()}
    villages, _ = read_task_table("xiaoling-2024")
    towns, _ = read_task_table("suixian-2023")
    for row in villages:
        code = by_name[row["村名"]]
        assert len(code) == 12 and code.startswith("421223200")
    for row in towns:
        code = by_name[row["镇（场）"]]
        assert len(code) == 9 and code.startswith("421321")
    assert regions["421223"] == "崇阳县" and regions["421321"] == "随县"
    assert regions["421223200"] == "肖岭乡"


def test_constructed_codes_follow_the_national_rule():
    kinds = dict(TOWNSHIP_KINDS)
    for code, name in read_seed_regions():
        if len(code) != 9:
            continue
        kind = kinds[code[6]]
        if name.endswith("乡"):
            assert kind == "乡", name
        elif "农场" in name:
            assert kind.startswith("农场"), name
        else:
            assert kind == "镇", name
