"""ID numbers that a sheet holds as Excel numbers: named as such, never taken for a real number."""

import datetime as dt

import polars as pl

from yibao.imports.readers import read_table
from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, VILLAGE, make_id, write_csv, write_xlsx
from yibao.imports.validation import Context, validate_residents

VILLAGES = [(VILLAGE, "王庄村", "榴城镇")]


def resident(id_number, name="张三"):
    return [id_number, name, "", "", "", "户主", VILLAGE, ""]


def exactly_held_by_a_float() -> str:
    """A valid 18-digit number that a float holds exactly (so Excel shows it rounded, yet the number
    read back from the cell passes the check character: without the fix it is taken as an ID)."""
    for seq in range(0, 1000):
        for day in range(1, 28):
            number = make_id(dt.date(1990, 5, day), seq)
            if number[-1] != "X" and float(int(number)) == int(number):
                return number
    raise AssertionError("no such number")


def issues_by_row(checked) -> dict[int, list[tuple[str, str]]]:
    out: dict[int, list] = {}
    for r in checked.issues.to_dicts():
        out.setdefault(r["_row"], []).append((r["level"], r["reason"]))
    return out


def test_ids_held_as_numbers_are_named_as_such(tmp_path):
    lucky = exactly_held_by_a_float()
    text_id = make_id(seq=125)
    old_eighteen = make_id(dt.date(1990, 6, 1), 127)
    old_fifteen = old_eighteen[:6] + old_eighteen[8:17]
    ending_x = next(make_id(seq=s) for s in range(200, 999) if make_id(seq=s).endswith("X"))
    rows = [
        resident(int(make_id(seq=123)), "数字十八位"),  # row 2: 4.21223…E+17, last digits lost
        resident(int(lucky), "碰巧校验通过"),  # row 3: a float that still passes the check
        resident(int(ending_x[:17]), "丢了X"),  # row 4: a 17-digit number, the X dropped
        resident(int(old_fifteen), "十五位数字"),  # row 5: 15 digits are exact: upgraded, with a warning
        resident(text_id, "文本"),  # row 6: a text cell, as it should be
    ]
    path = write_xlsx(tmp_path / "numbers.xlsx", RESIDENT_HEADER, rows)
    table = read_table(path, "residents")
    checked = validate_residents(table, Context(county_code=COUNTY, villages=VILLAGES, file_format="xlsx"))
    issues = issues_by_row(checked)
    for row in (2, 3, 4):
        [(level, reason)] = issues[row]
        assert level == "error"
        assert reason.startswith("身份证号码在 Excel 中存成了数字（显示为 "), reason
        assert "出生日期" not in reason and "校验位" not in reason
        assert "设为“文本”格式" in reason
    assert "是一个18位的数" in issues[2][0][1] and "是一个18位的数" in issues[3][0][1]
    assert "是一个17位的数" in issues[4][0][1] and "X" in issues[4][0][1]
    # the value in the report is what Excel shows, not a made-up 18-digit number
    values = checked.issues.filter(pl.col("_row") == 2)["value"].to_list()
    assert values == [f"{float(make_id(seq=123)):.15G}"]
    assert issues[5] == [("warning", f"15位旧身份证号码 {old_fifteen} 已按 GB 11643 升为18位：{old_eighteen}"
                                     "（请核对，并在户籍信息中改用18位号码）")]
    assert 6 not in issues
    assert sorted(checked.rows["id_number"].to_list()) == sorted([old_eighteen, text_id])


def test_numbers_in_a_sheet_that_starts_lower_and_further_right(tmp_path):
    """Rows and columns line up when the sheet's first used cell is not A1."""
    import xlsxwriter

    path = tmp_path / "offset.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(2, 2, RESIDENT_HEADER)
    sheet.write_row(3, 2, resident(make_id(seq=131)))
    sheet.write_row(5, 2, resident(make_id(seq=133)))
    sheet.write_number(5, 2, int(make_id(seq=133)))
    book.close()
    table = read_table(path, "residents")
    assert table.df["_row"].to_list() == [4, 6]
    assert table.df["id_number"].to_list() == [make_id(seq=131), f"{float(make_id(seq=133)):.15G}"]


def test_scientific_notation_in_a_csv_saved_from_excel(tmp_path):
    path = write_csv(tmp_path / "sci.csv", RESIDENT_HEADER, [resident("4.21223E+17"), resident("3.40321E+16")])
    checked = validate_residents(read_table(path, "residents"), Context(county_code=COUNTY, villages=VILLAGES))
    issues = issues_by_row(checked)
    assert issues[2][0][1].startswith("身份证号码在 Excel 中存成了数字（显示为 4.21223E+17，是一个18位的数）")
    assert issues[3][0][1].startswith("身份证号码在 Excel 中存成了数字（显示为 3.40321E+16，是一个17位的数）")


def test_channel_payment_file_with_numeric_ids(tmp_path):
    """The channel files read through the same reader: the payment line names the cause too."""
    import datetime as _dt

    from yibao.collection.ingest import KIND, check_rows

    eighteen = make_id(dt.date(1988, 3, 1), 141)
    fifteen = eighteen[:6] + eighteen[8:17]
    header = ["缴费流水号", "身份证号码", "姓名", "缴费年度", "缴费金额", "缴费时间", "缴费渠道"]
    rows = [["P1", int(make_id(seq=123)), "张三", "2026", "400", "2025-10-08 09:30:00", "微信"],
            ["P2", int(fifteen), "李四", "2026", "400", "2025-10-08 09:31:00", "微信"]]
    path = write_xlsx(tmp_path / "pay.xlsx", header, rows)
    table = read_table(path, KIND)
    good, issues, _repeats = check_rows(table, now=_dt.datetime(2025, 10, 9, tzinfo=_dt.timezone.utc))
    by_row = {(r["_row"], r["level"]): r["reason"] for r in issues.to_dicts()}
    assert by_row[(2, "error")].startswith("身份证号码在 Excel 中存成了数字")
    assert by_row[(3, "warning")].startswith(f"15位旧身份证号码 {fifteen} 已按 GB 11643 升为18位：{eighteen}")
    assert good["id_number"].to_list() == [eighteen]


def test_long_payment_numbers_held_as_numbers_are_refused(tmp_path):
    """A 20-digit 流水号 or 票据号 held as a number lost its last digits: the line is refused, never booked under
    a number that belongs to nobody (or to another payment)."""
    import datetime as _dt

    from yibao.collection.ingest import KIND, check_rows

    header = ["缴费流水号", "身份证号码", "姓名", "缴费年度", "缴费金额", "缴费时间", "缴费渠道", "票据号"]
    rows = [[20251008093000123456, make_id(seq=123), "张三", "2026", "400", "2025-10-08 09:30:00", "微信", "T1"],
            ["P2", make_id(seq=125), "李四", "2026", "400", "2025-10-08 09:31:00", "微信", 34032120250000012345],
            ["P3", make_id(seq=127), "王五", "2026", "400", "2025-10-08 09:32:00", "微信", 12345]]
    table = read_table(write_xlsx(tmp_path / "pay.xlsx", header, rows), KIND)
    good, issues, _repeats = check_rows(table, now=_dt.datetime(2025, 10, 9, tzinfo=_dt.timezone.utc))
    by_row = {r["_row"]: r["reason"] for r in issues.to_dicts() if r["level"] == "error"}
    assert by_row[2] == (f"缴费流水号在 Excel 中存成了数字（显示为 {float(20251008093000123456):.15G}）："
                         "Excel 的数字只保留15位有效数字，末几位已丢失。请把该列设为“文本”格式，重新填写完整后再导入")
    assert by_row[3].startswith(f"票据号在 Excel 中存成了数字（显示为 {float(34032120250000012345):.15G}）")
    assert good["external_id"].to_list() == ["P3"] and good["ticket_no"].to_list() == ["12345"]


def test_household_number_held_as_a_number(tmp_path):
    rows = [[make_id(seq=123), "张三", "", "", 340321100201000123456, "户主", VILLAGE, ""],
            [make_id(seq=125), "李四", "", "", 1001, "户主", VILLAGE, ""]]
    path = write_xlsx(tmp_path / "hh.xlsx", RESIDENT_HEADER, rows)
    checked = validate_residents(read_table(path, "residents"),
                                 Context(county_code=COUNTY, villages=VILLAGES, file_format="xlsx"))
    errors = [(r["_row"], r["column"], r["reason"]) for r in checked.issues.to_dicts() if r["level"] == "error"]
    assert errors == [(2, "户号", f"户号在 Excel 中存成了数字（显示为 {float(340321100201000123456):.15G}）："
                                 "Excel 的数字只保留15位有效数字，末几位已丢失。请把该列设为“文本”格式，重新填写完整后再导入")]
    assert checked.rows["_row"].to_list() == [3]
