import pytest

from yibao.imports.readers import ImportFileError, read_table
from yibao.imports.tests.conftest import RESIDENT_HEADER, make_id, write_csv, write_xlsx

ROW = [make_id(), "张三", "男", "1990-05-17", "H1", "户主", "340321100201", "13800000000"]


@pytest.mark.parametrize("encoding,label", [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8（带 BOM）"), ("gbk", "GBK")])
def test_csv_in_each_encoding_reads_the_same(tmp_path, encoding, label):
    path = write_csv(tmp_path / "r.csv", RESIDENT_HEADER, [ROW], encoding=encoding)
    table = read_table(path, "residents")
    assert table.encoding == label
    assert table.df.row(0, named=True)["name"] == "张三"
    assert table.df.row(0, named=True)["id_number"] == ROW[0]
    assert table.df["_row"].to_list() == [2]


def test_synonyms_title_rows_and_row_numbers(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "榴城镇户籍名单（2024年）\n"
        "\n"
        "公民身份号码, 姓名 ,村(社区)*,备注\n"
        f"{ROW[0]},张三,王庄村,无\n"
        ",,,\n"
        f" {make_id(seq=125)} ,李四, 王庄村 ,\n",
        encoding="utf-8",
    )
    table = read_table(path, "residents")
    assert table.header_row == 3
    assert set(table.present) == {"id_number", "name", "region"}
    assert table.ignored == ["备注"]
    assert table.headers["region"] == "村(社区)*"
    # the empty row is dropped, numbering follows the file; cells are trimmed
    assert table.df["_row"].to_list() == [4, 6]
    assert table.df["region"].to_list() == ["王庄村", "王庄村"]
    assert table.df["id_number"].to_list()[1] == make_id(seq=125)


def test_tab_separated_text_is_read(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("身份证号码\t姓名\t区划代码\n" + f"{ROW[0]}\t张三\t340321100201\n", encoding="utf-8")
    assert read_table(path, "residents").df["name"].to_list() == ["张三"]


def test_xlsx_rows_match_excel_numbering(tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", RESIDENT_HEADER, [ROW, ROW[:2] + ["", ""] + ROW[4:]], start_row=2, title="户籍名单")
    table = read_table(path, "residents")
    assert table.file_format == "xlsx"
    assert table.header_row == 4  # two empty rows, a title, then the header
    assert table.df["_row"].to_list() == [5, 6]
    assert table.df["name"].to_list() == ["张三", "张三"]


def test_xlsx_dates_and_numbers_become_text(tmp_path):
    import datetime as dt

    path = write_xlsx(tmp_path / "e.xlsx", ["身份证号码", "姓名", "参保日期"], [[ROW[0], "张三", dt.date(2020, 3, 1)]])
    row = read_table(path, "employees").df.row(0, named=True)
    assert row["insured_from"].startswith("2020-03-01")


def test_first_sheet_without_header_is_skipped(tmp_path):
    import xlsxwriter

    path = tmp_path / "two.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("说明").write(0, 0, "本表由民政局报送")
    sheet = book.add_worksheet("名单")
    sheet.write_row(0, 0, ["身份证号码", "资助类别"])
    sheet.write_row(1, 0, [ROW[0], "低保"])
    book.close()
    table = read_table(path, "identities")
    assert table.sheet == "名单" and table.df["identity"].to_list() == ["低保"]


@pytest.mark.parametrize(
    "content,suffix,fragment",
    [
        (b"", ".csv", "空的"),
        (b"PK\x03\x04 not really a zip", ".xlsx", "不是 Excel（xlsx）格式"),
        (b"%PDF-1.4 binary\x00\x01", ".csv", "不是文本格式"),
        ("随便写点什么\n没有列名\n".encode(), ".csv", "找不到表头行"),
        ("身份证号码,姓名\n".encode(), ".csv", "缺少必需的列：村（社区）"),
        ("身份证号码,姓名,村（社区）\n".encode(), ".csv", "没有数据行"),
        ("身份证号码,姓名,村（社区）\n".encode("utf-16"), ".csv", ""),
    ],
)
def test_broken_files_get_a_chinese_message(tmp_path, content, suffix, fragment):
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as info:
        read_table(path, "residents")
    assert fragment in str(info.value)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(info.value))


def test_missing_column_message_names_the_header_and_synonyms(tmp_path):
    path = write_csv(tmp_path / "r.csv", ["身份证号码", "村（社区）"], [[ROW[0], "王庄村"]])
    with pytest.raises(ImportFileError, match="缺少必需的列：姓名") as info:
        read_table(path, "residents")
    assert "表头在第1行：身份证号码、村（社区）" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ImportFileError, match="找不到文件"):
        read_table(tmp_path / "nope.csv", "residents")
