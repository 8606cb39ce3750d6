import datetime as dt

import polars as pl
import pytest

from yibao.imports.readers import read_table
from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, VILLAGE, VILLAGE_2, make_id, write_csv
from yibao.imports.validation import (
    Context, parse_date_text, row_hashes, validate_employees, validate_identities, validate_regions, validate_residents,
)

VILLAGES = [(VILLAGE, "王庄村", "榴城镇"), (VILLAGE_2, "张圩村", "榴城镇"), ("340321001001", "新城社区", "望淮街道"),
            ("340321101201", "王庄村", "龙亢镇")]


def check(tmp_path, kind, header, rows, **ctx):
    path = write_csv(tmp_path / f"{kind}.csv", header, rows)
    table = read_table(path, kind)
    validator = {"residents": validate_residents, "identities": validate_identities,
                 "employees": validate_employees, "regions": validate_regions}[kind]
    return validator(table, Context(**ctx))


def reasons(checked, row=None):
    issues = checked.issues if row is None else checked.issues.filter(pl.col("_row") == row)
    return [(r["column"], r["reason"], r["level"]) for r in issues.to_dicts()]


@pytest.mark.parametrize(
    "text,expected",
    [("2024-01-05", dt.date(2024, 1, 5)), ("2024/1/5", dt.date(2024, 1, 5)), ("2024.01.05", dt.date(2024, 1, 5)),
     ("2024年1月5日", dt.date(2024, 1, 5)), ("20240105", dt.date(2024, 1, 5)), ("2024-01-05 00:00:00", dt.date(2024, 1, 5)),
     ("2024-02-30", None), ("明年", None), ("45296", None)],
)
def test_date_formats(text, expected):
    assert parse_date_text(text) == expected


def test_excel_serial_dates_only_from_xlsx():
    assert parse_date_text("45296", allow_serial=True) == dt.date(2024, 1, 5)


def resident(id_number=None, name="张三", sex="男", birth="", household="", relation="户主", region=VILLAGE, phone=""):
    return [id_number or make_id(), name, sex, birth, household, relation, region, phone]


def test_every_fault_is_named_by_row_and_column(tmp_path):
    good = make_id(dt.date(1990, 5, 17), 123)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows = [
        resident(good),
        resident(bad_check),
        resident(make_id(seq=125), sex="女"),
        resident(make_id(seq=127), birth="1990-05-18"),
        resident(make_id(seq=129), region="340321100299"),
        resident(make_id(seq=131), region="340322100201"),
        resident(make_id(seq=133), region="王庄村"),
        resident(make_id(seq=135), region="340321100"),
        resident(make_id(seq=137), sex="未知"),
        resident(make_id(seq=139), name=""),
        resident(make_id(seq=141), phone="12345"),
    ]
    checked = check(tmp_path, "residents", RESIDENT_HEADER, rows, county_code=COUNTY, villages=VILLAGES)
    assert reasons(checked, 2) == []
    assert reasons(checked, 3) == [("身份证号码", f"身份证号码校验位错误（末位应为 {good[-1]}）", "error")]
    assert reasons(checked, 4) == [("性别", "性别与身份证号码不符（号码显示为男）", "error")]
    assert reasons(checked, 5) == [("出生日期", "出生日期与身份证号码不符（号码中为1990-05-17）", "error")]
    assert "不在本县的区划中" in reasons(checked, 6)[0][1]
    assert reasons(checked, 7)[0][1] == "区划代码 340322100201 不属于本县（340321）"
    assert "重名（榴城镇、龙亢镇）" in reasons(checked, 8)[0][1]
    assert "不能只填县或乡镇代码" in reasons(checked, 9)[0][1]
    assert reasons(checked, 10) == [("性别", "性别应为“男”或“女”", "error")]
    assert reasons(checked, 11) == [("姓名", "姓名为空", "error")]
    assert reasons(checked, 12)[0][2] == "warning"
    assert checked.rows["_row"].to_list() == [2, 12]
    assert checked.rejected == 9 and checked.warned == 1


def test_region_by_township_and_village_name(tmp_path):
    rows = [resident(make_id(seq=123), region="龙亢镇王庄村"), resident(make_id(seq=125), region="张圩村")]
    checked = check(tmp_path, "residents", RESIDENT_HEADER, rows, county_code=COUNTY, villages=VILLAGES)
    assert checked.rows["village_code"].to_list() == ["340321101201", VILLAGE_2]
    assert checked.rows["township_code"].to_list() == ["340321101", "340321100"]


def test_fifteen_digit_numbers_are_upgraded(tmp_path):
    eighteen = make_id(dt.date(1975, 4, 3), 124)
    fifteen = eighteen[:6] + eighteen[8:17]
    checked = check(tmp_path, "residents", RESIDENT_HEADER, [resident(fifteen, sex="女")], county_code=COUNTY,
                    villages=VILLAGES)
    assert checked.rows["id_number"].to_list() == [eighteen]
    assert checked.rows["birth_date"].to_list() == [dt.date(1975, 4, 3)]
    # the upgrade itself leaves a warning row naming both numbers, so nobody wonders where the 18 came from
    warnings = [r for _c, r, level in reasons(checked) if level == "warning"]
    assert checked.rejected == 0 and checked.warned == 1 and len(reasons(checked)) == 2
    assert [w for w in warnings if w.startswith("15位旧身份证号码")] == [
        f"15位旧身份证号码 {fifteen} 已按 GB 11643 升为18位：{eighteen}（请核对，并在户籍信息中改用18位号码）"
    ]
    # 340321 was created in 1983: a 1975 birth gets stdnum's warning, not a rejection
    assert any("1983" in w for w in warnings)


def test_duplicates_identical_keep_the_first_and_differing_reject_all(tmp_path):
    a, b = make_id(seq=123), make_id(seq=125)
    rows = [resident(a), resident(a), resident(b, name="王五", household="H2"),
            resident(b, name="王六", household="H2")]
    checked = check(tmp_path, "residents", RESIDENT_HEADER, rows, county_code=COUNTY, villages=VILLAGES)
    assert checked.rows["_row"].to_list() == [2]
    assert reasons(checked, 3) == [("身份证号码", "身份证号码与第2行完全相同，重复行不再导入", "error")]
    assert "内容不一致（第4、5行）" in reasons(checked, 4)[0][1]
    assert "内容不一致（第4、5行）" in reasons(checked, 5)[0][1]


def test_household_head_by_relation_or_by_head_column(tmp_path):
    head, wife, other = make_id(seq=123), make_id(seq=124), make_id(seq=125)
    rows = [resident(wife, name="妻", sex="女", household="H1", relation="配偶"), resident(head, household="H1"),
            resident(other, household="H2", relation="子")]
    checked = check(tmp_path, "residents", RESIDENT_HEADER, rows, county_code=COUNTY, villages=VILLAGES)
    by_row = {r["_row"]: r for r in checked.rows.to_dicts()}
    assert by_row[2]["head_id_number"] == head and by_row[3]["is_household_row"] and not by_row[2]["is_household_row"]
    assert by_row[4]["head_id_number"] == "" and by_row[4]["is_household_row"]
    assert ("户号", "户号 H2 没有标明户主（与户主关系应有一人为“户主”）", "warning") in reasons(checked, 4)

    header = ["身份证号码", "姓名", "户主身份证号码", "与户主关系", "村（社区）"]
    rows = [[wife, "妻", head, "妻", VILLAGE], [head, "夫", head, "本人", VILLAGE]]
    checked = check(tmp_path, "residents", header, rows, county_code=COUNTY, villages=VILLAGES)
    assert checked.rows["household_number"].to_list() == [head, head]
    assert checked.rows["is_household_row"].to_list() == [False, True]


def test_identities_codes_aliases_departments_and_dates(tmp_path):
    people = {make_id(seq=s): 100 + s for s in (123, 125, 127, 129, 131, 133)}

    def lookup(numbers):
        return pl.DataFrame(
            [(n, people[n], "张三") for n in numbers if n in people],
            schema={"id_number": pl.String, "resident_id": pl.Int64, "resident_name": pl.String}, orient="row",
        )

    ids = list(people)
    header = ["身份证号码", "姓名", "资助类别", "起始日期", "终止日期"]
    rows = [
        [ids[0], "张三", " 最低生活保障对象 ", "2024-01-01", "2024-12-31"],
        [ids[1], "张三", "dibao", "", ""],
        [ids[2], "张三", "低保户口", "", ""],
        [ids[3], "张三", "重度残疾人", "", ""],
        [ids[4], "李四", "特困人员", "2024-05-01", "2024-01-01"],
        [make_id(seq=199), "张三", "低保", "", ""],
        [ids[5], "张三", "低保", "下个月", ""],
    ]
    checked = check(tmp_path, "identities", header, rows, county_code=COUNTY, department="minzheng",
                    resident_lookup=lookup)
    assert checked.rows.select("_row", "code", "department").rows() == [(2, "dibao", "minzheng"), (3, "dibao", "minzheng")]
    assert "未知的资助身份“低保户口”" in reasons(checked, 4)[0][1]
    assert reasons(checked, 5) == [("资助类别", "“重度残疾人”由残联认定，不属于民政的名单", "error")]
    assert ("终止日期", "终止日期早于起始日期", "error") in reasons(checked, 6)
    # the row is out: its name mismatch is listed with its error, not as a warning of an imported row
    assert ("姓名", "姓名与户籍库不一致（户籍库为 张三）", "error") in reasons(checked, 6)
    assert "户籍库中没有该身份证号码" in reasons(checked, 7)[0][1]
    assert "日期无法识别" in reasons(checked, 8)[0][1]


def test_summary_list_of_the_yibao_bureau_keeps_each_certifying_department(tmp_path):
    a, b = make_id(seq=123), make_id(seq=125)

    def lookup(numbers):
        return pl.DataFrame([(n, 1, "张三") for n in numbers],
                            schema={"id_number": pl.String, "resident_id": pl.Int64, "resident_name": pl.String},
                            orient="row")

    header = ["身份证号码", "身份类别", "认定部门"]
    checked = check(tmp_path, "identities", header, [[a, "重度残疾人", "县残联"], [b, "特困人员", ""]],
                    county_code=COUNTY, department="yibao", resident_lookup=lookup)
    assert checked.rows["department"].to_list() == ["canlian", "minzheng"]


def test_regions_level_parent_and_statistical_form(tmp_path):
    header = ["统计用区划代码", "名称"]
    rows = [["340321000000", "怀远县"], ["340321100000", "榴城镇"], ["340321100201", "王庄村"],
            ["340321999201", "无上级"], ["3403211", "坏代码"], ["340322100201", "外县"]]
    checked = check(tmp_path, "regions", header, rows, allowed_prefix="340321")
    assert checked.rows.select("code", "level", "parent_code").rows() == [
        ("340321", 6, None), ("340321100", 9, "340321"), ("340321100201", 12, "340321100")]
    assert "上级区划 340321999 不存在" in reasons(checked, 5)[0][1]
    assert "实际为7位" in reasons(checked, 6)[0][1]
    assert "不在当前账号管辖的区划" in reasons(checked, 7)[0][1]


def test_row_hash_is_stable_and_sensitive():
    df = pl.DataFrame({"a": ["x", "x", "y"], "b": [None, "", ""]})
    hashes = row_hashes(df, ["a", "b"]).to_list()
    assert hashes[0] == hashes[1] != hashes[2]
    assert all(len(h) == 32 for h in hashes)
    assert row_hashes(df, ["a"]).to_list()[0] != hashes[0]  # the column set is part of the digest
    assert row_hashes(df, ["a", "b"]).to_list() == hashes


def test_names_with_control_or_direction_characters_are_row_errors(tmp_path):
    rows = [resident(make_id(seq=151), name="张\u202e三"), resident(make_id(seq=153), name="李\x07四"),
            resident(make_id(seq=155), name="王\u2066五\u2069"), resident(make_id(seq=157), name="赵六")]
    checked = check(tmp_path, "residents", RESIDENT_HEADER, rows, county_code=COUNTY, villages=VILLAGES)
    assert reasons(checked, 2) == [("姓名", "姓名含有不可见的控制字符，请删除后重新导入", "error")]
    assert reasons(checked, 3) == [("姓名", "姓名含有不可见的控制字符，请删除后重新导入", "error")]
    assert reasons(checked, 4) == [("姓名", "姓名含有不可见的控制字符，请删除后重新导入", "error")]
    assert reasons(checked, 5) == []
