"""Reading and checking the tax bureau's payment records."""

import datetime as dt

import polars as pl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from yibao.imports.readers import ImportFileError
from yibao.reconciliation.taxfile import channel_code, error_report_write, tax_records_read
from yibao.registry.tests.factories import make_id

AS_OF = dt.date(2024, 12, 31)


def write_csv(path, lines, encoding="utf-8"):
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def read(path, year=2025, as_of=AS_OF):
    return tax_records_read(path, benefit_year=year, as_of=as_of, today=dt.date(2025, 1, 5))


def test_headers_by_their_synonyms_and_values_normalised(tmp_path):
    a, b = make_id("340321"), make_id("340321")
    path = write_csv(tmp_path / "t.csv", [
        "交易流水号,证件号码,缴费人姓名,所属年度,缴款金额,支付方式,交易时间,完税凭证号",
        f"T1,{a},张三,2025年度,¥400.00,微信支付,2024/10/8 09:31:22,P001",
        f"T2,{b.lower()},李四,2025,\"1,200\",农商银行代扣,20241009,",
    ])
    records = read(path)
    assert records.rejected == 0 and records.total == 2
    rows = records.rows.sort("tax_row").to_dicts()
    assert [r["tax_row"] for r in rows] == [2, 3]
    expected = {"external_id": "T1", "id_number": a, "cents": 40000, "paid_on": dt.date(2024, 10, 8), "channel": "wechat",
                "ticket_no": "P001", "name": "张三"}
    assert {k: rows[0][k] for k in expected} == expected
    assert rows[1]["id_number"] == b.upper() and rows[1]["cents"] == 120000 and rows[1]["channel"] == "bank"
    assert rows[1]["paid_on"] == dt.date(2024, 10, 9)


def test_gbk_file_is_read(tmp_path):
    a = make_id("340321")
    path = write_csv(tmp_path / "t.csv", ["身份证号码,缴费金额", f"{a},400"], encoding="gbk")
    assert read(path).rows["cents"].to_list() == [40000]


def test_missing_required_column_fails_the_file(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["身份证号码,姓名", f"{make_id('340321')},张三"])
    with pytest.raises(ImportFileError, match="缺少必需的列：缴费金额"):
        read(path)


def test_broken_rows_are_left_out_with_reasons(tmp_path):
    good = make_id("340321")
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    path = write_csv(tmp_path / "t.csv", [
        "缴费流水号,身份证号码,缴费金额,缴费时间,缴费年度",
        f"A,{good},400,2024-10-08,2025",
        f"B,{bad_check},400,2024-10-08,2025",
        f"C,{good},四百,2024-10-08,2025",
        f"D,{good},-400,2024-10-08,2025",
        f"E,{good},400.005,2024-10-08,2025",
        f"F,{good},400,2024-13-45,2025",
        f"G,{good},400,2024-10-08,二五",
        f"A,{good},400,2024-10-09,2025",
        f"H,{good},400,2026-01-01,2025",
    ])
    records = read(path)
    assert records.total == 9 and records.rejected == 8
    assert records.rows["external_id"].to_list() == ["A"]
    reasons = {r["_row"]: r["reason"] for r in records.issues.to_dicts()}
    assert "校验位错误" in reasons[3]
    assert "缴费金额无法识别" in reasons[4]
    assert "不能为负数" in reasons[5]
    assert "最多两位小数" in reasons[6]
    assert "缴费时间无法识别" in reasons[7]
    assert "缴费年度无法识别" in reasons[8]
    assert reasons[9] == "缴费流水号与第2行重复：同一笔缴费只应出现一次，请税务核实"
    assert reasons[10] == "缴费时间晚于今天"
    assert records.rejected_external_ids.filter(pl.col("external_id") == "B")["tax_row"].to_list() == [3]


def test_other_years_and_later_payments_are_left_out_but_counted(tmp_path):
    a = make_id("340321")
    path = write_csv(tmp_path / "t.csv", [
        "身份证号码,缴费金额,缴费日期,缴费年度",
        f"{a},400,2024-10-08,2025", f"{a},380,2023-10-08,2024", f"{a},400,2024-12-20,2025", f"{a},400,2024-10-10,",
    ])
    records = read(path, as_of=dt.date(2024, 12, 1))
    assert (records.other_year, records.after_as_of, records.rows.height) == (1, 1, 2)


def test_xlsx_with_numbers_dates_and_a_title_row(tmp_path):
    a = make_id("340321")
    path = tmp_path / "t.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("缴费明细")
    sheet.write_row(0, 0, ["某县城乡居民医保缴费明细"])
    sheet.write_row(1, 0, ["缴费流水号", "公民身份号码", "实缴金额", "入库日期", "缴费渠道"])
    sheet.write_string(2, 0, "X1")
    sheet.write_string(2, 1, a)
    sheet.write_number(2, 2, 400)
    sheet.write_datetime(2, 3, dt.datetime(2024, 10, 8, 9, 30), book.add_format({"num_format": "yyyy-mm-dd hh:mm"}))
    sheet.write_string(2, 4, "POS机")
    book.close()
    records = read(path)
    assert records.rejected == 0, records.issues.to_dicts()
    row = records.rows.row(0, named=True)
    assert (row["tax_row"], row["cents"], row["paid_on"], row["channel"]) == (3, 40000, dt.date(2024, 10, 8), "pos")


def test_channel_words():
    assert [channel_code(t) for t in ("现金", "微信", "支付宝", "楚税通APP", "邮储银行", "POS刷卡", "??", None)] == [
        "cash", "wechat", "alipay", "tax_app", "bank", "pos", "other", "other"]


def test_error_report_lists_each_fault(tmp_path):
    good = make_id("340321")
    path = write_csv(tmp_path / "t.csv", ["身份证号码,缴费金额", f"{good[:17]},400", f"{good},abc"])
    records = read(path)
    report = error_report_write(issues=records.issues, path=tmp_path / "r.xlsx", title="测试")
    rows = CalamineWorkbook.from_path(str(report)).get_sheet_by_name("未参与对账的行").to_python()
    assert rows[0] == ["行号", "列", "值", "原因"]
    assert [(int(r[0]), r[1]) for r in rows[1:]] == [(2, "身份证号码"), (3, "缴费金额")]
    assert "18位" in rows[1][3]


def _id_like():
    from hypothesis import strategies as st

    from yibao.core.idnumber import check_character

    def valid(day_offset, seq, area):
        body = f"{area}{(dt.date(1930, 1, 1) + dt.timedelta(days=day_offset)):%Y%m%d}{seq:03d}"
        return body + check_character(body)

    good = st.builds(valid, st.integers(0, 36000), st.integers(0, 999), st.sampled_from(["340321", "421223", "110101"]))
    broken = st.one_of(
        good.map(lambda s: s[:-1] + ("X" if s[-1] != "X" else "0")),
        good.map(lambda s: s.lower()),
        good.map(lambda s: s[:6] + "2099" + s[10:]),
        good.map(lambda s: s[:10] + "1340" + s[14:]),
        good.map(lambda s: " " + s),
        good.map(lambda s: s[:15]),
        st.text(alphabet="0123456789Xx ", min_size=0, max_size=20),
    )
    return st.lists(st.one_of(good, broken), min_size=1, max_size=40)


def test_fast_id_check_agrees_with_the_import_check():
    from hypothesis import given, settings

    from yibao.imports.idcheck import id_columns
    from yibao.reconciliation.taxfile import _check_ids

    @settings(max_examples=60, deadline=None)
    @given(_id_like())
    def check(numbers):
        today = dt.date(2025, 1, 5)
        df = pl.DataFrame({"_row": list(range(2, len(numbers) + 2)), "id_number": [n or None for n in numbers]},
                          schema={"_row": pl.Int64, "id_number": pl.String})
        ours = _check_ids(df, today).sort("_row").select("idn_number", "idn_error", "idn_warning")
        theirs = id_columns(df, "id_number", "idn_", today).sort("_row").select("idn_number", "idn_error", "idn_warning")
        assert ours.to_dicts() == theirs.to_dicts()

    check()


def test_xlsx_float_noise_and_serial_days(tmp_path):
    from yibao.imports.validation import EXCEL_EPOCH

    a, b = make_id("340321"), make_id("340321")
    path = tmp_path / "t.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["身份证号码", "缴费金额", "缴费时间"])
    sheet.write_string(1, 0, a)
    sheet.write_number(1, 1, 400.00000000001)  # what a spreadsheet sum may leave behind
    sheet.write_number(1, 2, 45573.396)  # a date and time kept as a plain number
    sheet.write_string(2, 0, b)
    sheet.write_number(2, 1, 380.004)  # a real fraction of a cent: refused
    sheet.write_number(2, 2, 45573)
    book.close()
    records = read(path)
    assert records.rows["cents"].to_list() == [40000]
    assert records.rows["paid_on"].to_list() == [EXCEL_EPOCH + dt.timedelta(days=45573)]
    assert "缴费金额无法识别" in records.issues.filter(pl.col("_row") == 3)["reason"].item()


def test_a_fifteen_digit_id_is_upgraded_with_a_warning_row(tmp_path):
    eighteen = make_id("340321", birth=dt.date(1980, 1, 1))
    fifteen = eighteen[:6] + eighteen[8:17]
    path = write_csv(tmp_path / "t.csv", ["缴费流水号,身份证号码,缴费金额", f"T1,{fifteen},400"])
    records = read(path)
    assert records.rejected == 0
    assert records.rows["id_number"].to_list() == [eighteen]
    warnings = records.issues.filter(pl.col("level") == "warning")
    assert warnings["_row"].to_list() == [2] and "15位" in warnings["reason"][0]


def test_long_serial_numbers_stored_as_excel_numbers_are_refused_with_the_cause(tmp_path):
    a = make_id("340321")
    path = tmp_path / "t.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["缴费流水号", "身份证号码", "缴费金额", "票据号"])
    sheet.write_number(1, 0, 42122319880510123456)
    sheet.write_string(1, 1, a)
    sheet.write_number(1, 2, 400)
    sheet.write_string(1, 3, "P1")
    sheet.write_string(2, 0, "T2")
    sheet.write_string(2, 1, a)
    sheet.write_number(2, 2, 400)
    sheet.write_number(2, 3, 98765432109876543210)
    book.close()
    records = read(path)
    errors = records.issues.filter(pl.col("level") == "error").sort("_row").to_dicts()
    assert [(e["_row"], e["column"]) for e in errors] == [(2, "缴费流水号"), (3, "票据号")]
    assert all("存成了数字" in e["reason"] for e in errors)
    assert records.rejected == 2
