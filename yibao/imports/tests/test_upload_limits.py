"""Files that could take the server down are refused before any parser sees them (docs/imports.md)."""

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from yibao.core.models import Job
from yibao.core.uploads import FileRefused, table_file_check
from yibao.imports.readers import ImportFileError, read_table
from yibao.imports.tests.conftest import COUNTY, RESIDENT_HEADER, VILLAGE, make_id, write_csv, write_xlsx

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<dimension ref="{dimension}"/><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"


def crafted_xlsx(path: Path, rows, dimension: str = "A1:B2", more_sheets: int = 0) -> Path:
    """A hand-made xlsx whose sheet XML is streamed from `rows` (strings), so a huge sheet costs no memory."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD.format(dimension=dimension).encode())
            for row in rows:
                sheet.write(row.encode())
            sheet.write(SHEET_TAIL.encode())
        for number in range(2, 2 + more_sheets):
            book.writestr(f"xl/worksheets/sheet{number}.xml", SHEET_HEAD.format(dimension="A1:J100")
                          + "".join(f'<row r="{r}"><c r="J{r}"><v>1</v></c></row>' for r in range(1, 101)) + SHEET_TAIL)
    return path


@pytest.fixture
def no_parser(monkeypatch):
    """Fails the test if calamine or polars is asked to parse the file."""
    import fastexcel
    import python_calamine

    def boom(*args, **kwargs):
        raise AssertionError("the file reached the parser")

    monkeypatch.setattr(fastexcel, "read_excel", boom)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", boom)


def test_a_zip_bomb_is_refused_before_parsing_with_little_memory(tmp_path, no_parser):
    # 600 MB of repeated cells, about 1 MB compressed
    block = "<row>" + '<c t="inlineStr"><is><t>炸弹炸弹炸弹</t></is></c>' * 100 + "</row>"
    path = crafted_xlsx(tmp_path / "bomb.xlsx", (block * 100 for _ in range(1000)))
    assert path.stat().st_size < 3 * 1024 * 1024
    assert zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml").file_size > 500 * 1024 * 1024
    tracemalloc.start()
    with pytest.raises(ImportFileError) as refused:
        read_table(path, "residents")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "压缩炸弹" in str(refused.value) and "已拒绝读取" in str(refused.value)
    assert peak < 32 * 1024 * 1024


def test_unzipped_size_over_the_limit_is_refused(tmp_path, settings, no_parser):
    settings.YIBAO_XLSX_MAX_UNZIPPED_BYTES = 50_000
    rows = [[make_id(seq=s), f"居民{s}", "", "", "", "户主", VILLAGE, ""] for s in range(1, 999)]
    path = write_xlsx(tmp_path / "big.xlsx", RESIDENT_HEADER, rows)
    with pytest.raises(ImportFileError, match="表格解压后有 .*超过上限 .*请拆分成几个文件"):
        read_table(path, "residents")


def test_too_many_cells_counted_while_streaming(tmp_path, settings, no_parser):
    """The <dimension> claims two cells; the streamed count finds the rest."""
    settings.YIBAO_IMPORT_MAX_CELLS = 5_000
    rows = (f'<row r="{r}">' + "".join(f'<c r="{col}{r}"><v>{r}</v></c>' for col in "ABCDEFGHIJ") + "</row>"
            for r in range(1, 1001))
    path = crafted_xlsx(tmp_path / "cells.xlsx", rows)
    with pytest.raises(ImportFileError) as refused:
        read_table(path, "residents")
    assert "个单元格" in str(refused.value) and "5,000" in str(refused.value)


def test_many_sheets_are_counted_together(tmp_path, settings, no_parser):
    settings.YIBAO_IMPORT_MAX_CELLS = 2_500  # each sheet has 100 rows × 10 columns = 1,000
    path = crafted_xlsx(tmp_path / "sheets.xlsx", ['<row r="1"><c r="A1"><v>1</v></c></row>'], more_sheets=3)
    with pytest.raises(ImportFileError, match="表格的 4 个工作表合计超过 2,500 个单元格"):
        read_table(path, "residents")
    with pytest.raises(FileRefused, match="合计超过"):
        table_file_check(path, deep=False)


def test_one_far_cell_is_refused_whatever_the_dimension_says(tmp_path, no_parser):
    """calamine allocates the whole area from A1 to the farthest cell: one cell at XFD1048576 is 17 billion."""
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>身份证号码</t></is></c></row>',
            '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>']
    path = crafted_xlsx(tmp_path / "far.xlsx", rows, dimension="A1:B2")
    with pytest.raises(ImportFileError, match="从 A1 到 XFD1048576（1,048,576 行 × 16,384 列"):
        read_table(path, "residents")
    # a cell far to the right in a row the row tags don't reach is found too
    rows = ['<row r="1"><c r="A1"><v>1</v></c></row>', '<row r="2"><c r="A2"><v>1</v></c><c r="ZZ900000"><v>1</v></c></row>']
    with pytest.raises(ImportFileError, match="从 A1 到 ZZ900000"):
        read_table(crafted_xlsx(tmp_path / "far2.xlsx", rows), "residents")


def test_a_far_cell_deep_in_a_large_sheet_is_found(tmp_path, settings, no_parser):
    """Past the first chunks only cells beyond the area seen so far are looked at closely: they are still found."""
    settings.YIBAO_IMPORT_MAX_CELLS = 1_000_000

    def rows(far: str, far_row: int):
        for r in range(1, 120_001):  # about 7 MB of XML, several chunks
            yield f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>2</v></c></row>'
            if r == 100_000:
                yield f'<row r="{far_row}"><c r="{far}"><v>1</v></c></row>'

    path = crafted_xlsx(tmp_path / "right.xlsx", rows("AAA100000", 100_000))
    with pytest.raises(ImportFileError, match="第1个工作表的数据区域从 A1 到 AAA[0-9]+（[0-9,]+ 行 × 703 列"):
        read_table(path, "residents")
    path = crafted_xlsx(tmp_path / "below.xlsx", rows("B1000000", 100_000))
    with pytest.raises(ImportFileError, match="从 A1 到 B1000000（1,000,000 行 × 2 列"):
        read_table(path, "residents")
    settings.YIBAO_IMPORT_MAX_CELLS = 2_000_000
    table_file_check(path)  # the same file under a larger limit passes


def test_a_claimed_dimension_over_the_limit_is_refused_at_upload(tmp_path, no_parser):
    import xlsxwriter

    path = tmp_path / "claimed.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write(0, 0, "身份证号码")
    sheet.write(1048575, 16383, "远处的格子")
    book.close()
    with pytest.raises(FileRefused, match="标明的数据区域从 A1 到 XFD1048576"):
        table_file_check(path, deep=False)


def test_csv_with_too_many_rows(tmp_path, settings):
    settings.YIBAO_IMPORT_MAX_ROWS = 100
    rows = [[make_id(seq=s), f"居民{s}", "", "", "", "户主", VILLAGE, ""] for s in range(1, 151)]
    path = write_csv(tmp_path / "many.csv", RESIDENT_HEADER, rows)
    with pytest.raises(ImportFileError, match="文件超过 100 行（单个文件的上限）"):
        read_table(path, "residents")
    settings.YIBAO_IMPORT_MAX_ROWS = 200
    assert read_table(path, "residents").df.height == 150


def test_a_real_register_passes_the_checks(tmp_path):
    rows = [[make_id(seq=s), f"居民{s}", "", "", "", "户主", VILLAGE, ""] for s in range(1, 500)]
    path = write_xlsx(tmp_path / "ok.xlsx", RESIDENT_HEADER, rows)
    table_file_check(path)
    assert read_table(path, "residents").df.height == 499


def test_ods_and_xlsb_are_refused_with_the_way_out(tmp_path):
    path = tmp_path / "list.ods"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr("content.xml", "<office:document-content/>")
    with pytest.raises(ImportFileError, match="只支持 xlsx.*另存为 xlsx"):
        read_table(path, "residents")


# ---- every upload path: an over-size file gets a Chinese message, never a 5xx ---------------------


@pytest.fixture
def small_cap(settings):
    settings.YIBAO_UPLOAD_MAX_BYTES = 2_000


@pytest.fixture
def big_csv(tmp_path):
    rows = [[make_id(seq=s), f"居民{s}", "", "", "", "户主", VILLAGE, ""] for s in range(1, 200)]
    return write_csv(tmp_path / "大名单.csv", RESIDENT_HEADER, rows)


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_import_page_refuses_an_over_size_upload(client, staff, small_cap, big_csv, settings):
    client.force_login(staff["county_admin"])
    with open(big_csv, "rb") as fh:
        response = client.post("/imports/new/residents/", {"file": fh, "county_code": COUNTY})
    assert response.status_code == 200
    page = response.content.decode()
    assert "“大名单.csv”有 " in page and "超过单个文件的上传上限 1 KB" in page and "拆分" in page
    assert not Job.objects.exists() and stored_files(settings) == []


def test_import_api_refuses_an_over_size_upload(client, staff, small_cap, big_csv, settings):
    client.force_login(staff["county_admin"])
    with open(big_csv, "rb") as fh:
        response = client.post("/api/imports/jobs", {"file": fh, "kind": "residents", "county_code": COUNTY})
    assert response.status_code == 400
    assert "超过单个文件的上传上限" in response.json()["detail"]
    assert not Job.objects.exists() and stored_files(settings) == []


def test_channel_payment_file_page_and_api_refuse_an_over_size_upload(client, staff, small_cap, big_csv, settings):
    client.force_login(staff["tax_officer"])
    with open(big_csv, "rb") as fh:
        response = client.post("/collection/ingest/", {"file": fh})
    assert response.status_code == 400 and "超过单个文件的上传上限" in response.content.decode()
    with open(big_csv, "rb") as fh:
        response = client.post("/api/collection/payment-files", {"file": fh})
    assert response.status_code == 400 and "超过单个文件的上传上限" in response.json()["detail"]
    assert not Job.objects.exists() and stored_files(settings) == []


def test_tax_file_and_target_table_refuse_an_over_size_upload(client, staff, small_cap, big_csv, settings):
    client.force_login(staff["tax_officer"])
    with open(big_csv, "rb") as fh:
        response = client.post("/reconciliation/new/", {"tax_file": fh, "benefit_year": "2026", "as_of": "2025-12-31"})
    assert response.status_code == 200 and "超过单个文件的上传上限" in response.content.decode()
    client.force_login(staff["county_admin"])
    with open(big_csv, "rb") as fh:
        response = client.post("/progress/targets/import/", {"file": fh, "year": "2026"}, follow=True)
    assert response.status_code == 200 and "超过单个文件的上传上限" in response.content.decode()
    with open(big_csv, "rb") as fh:
        response = client.post("/api/progress/targets/import", {"file": fh, "benefit_year": "2026"})
    assert response.status_code == 400 and "超过单个文件的上传上限" in response.json()["detail"]
    with open(big_csv, "rb") as fh, open(big_csv, "rb") as cases:
        response = client.post("/policy/upload/", {"policy_file": fh, "cases_file": cases})
    assert response.status_code == 200 and "超过单个文件的上传上限" in response.content.decode()
    assert stored_files(settings) == []


def test_the_upload_handler_stops_storing_past_the_cap(rf, settings):
    """The body past the cap is not kept: the view gets the name and size only."""
    from django.core.files.uploadhandler import MemoryFileUploadHandler
    from django.http.multipartparser import MultiPartParser

    from yibao.core.uploads import SizeLimitUploadHandler

    settings.YIBAO_UPLOAD_MAX_BYTES = 1_000
    request = rf.post("/x/", {"file": _named(b"a" * 50_000, "大.csv")})
    handlers = [SizeLimitUploadHandler(request), MemoryFileUploadHandler(request)]
    _post, files = MultiPartParser(request.META, io.BytesIO(request.body), handlers).parse()
    upload = files["file"]
    assert upload.size == 50_000 and upload.read() == b"" and upload.name == "大.csv"


def _named(content: bytes, name: str):
    buffer = io.BytesIO(content)
    buffer.name = name
    return buffer


def test_a_large_upload_past_the_cap_is_not_kept_on_disk(client, staff, settings, tmp_path):
    """Above FILE_UPLOAD_MAX_MEMORY_SIZE uploads stream to a temporary file: past the cap nothing more is written."""
    settings.YIBAO_UPLOAD_MAX_BYTES = 1024 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 512 * 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads-tmp")
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    path = tmp_path / "huge.csv"
    path.write_bytes(b"x" * (12 * 1024 * 1024))
    client.force_login(staff["county_admin"])
    with open(path, "rb") as fh:
        response = client.post("/imports/new/residents/", {"file": fh, "county_code": COUNTY})
    assert response.status_code == 200
    assert "“huge.csv”有 12 MB，超过单个文件的上传上限 1.0 MB" in response.content.decode()
    assert not Job.objects.exists() and stored_files(settings) == []
    assert list(Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()) == []
