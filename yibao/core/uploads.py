"""Limits on uploaded files, checked before any parser sees them (docs/imports.md, “文件大小与行数上限”).

Every upload path (imports, channel payment files, tax files, target tables, policy files) calls
`upload_check` on the uploaded file, and every table reader calls `table_file_check` on the bytes
before calamine or polars parses them:

- the upload itself: at most YIBAO_UPLOAD_MAX_BYTES (`SizeLimitUploadHandler` stops storing an
  upload past the limit, so a huge body never fills the disk or the memory);
- xlsx (a zip of XML parts): the unzipped size of all parts (YIBAO_XLSX_MAX_UNZIPPED_BYTES), the
  compression ratio of each large part (YIBAO_XLSX_MAX_RATIO), the <dimension ref> each sheet
  claims, and, streamed without keeping the XML, the real rows and the area from A1 to the
  farthest cell (calamine allocates that whole area) against YIBAO_IMPORT_MAX_ROWS and
  YIBAO_IMPORT_MAX_CELLS;
- CSV: the number of lines against YIBAO_IMPORT_MAX_ROWS.

A refusal is a `FileRefused` (a ValidationError) whose message is one Chinese sentence.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

MB = 1024 * 1024
DEFAULTS = {
    "YIBAO_UPLOAD_MAX_BYTES": 200 * MB,  # a 1,000,000-row CSV register is about 100 MB
    "YIBAO_XLSX_MAX_UNZIPPED_BYTES": 1536 * MB,  # 1,048,576 rows × 15 columns of inline text is about 1 GB
    "YIBAO_XLSX_MAX_RATIO": 100,  # real sheets unzip 5–30 times; a zip bomb hundreds or thousands of times
    "YIBAO_IMPORT_MAX_ROWS": 1_500_000,
    "YIBAO_IMPORT_MAX_CELLS": 40_000_000,  # 1,048,576 rows × 38 columns
}
RATIO_FLOOR = 8 * MB  # a part smaller than this unzipped is harmless whatever its ratio
CHUNK = 4 * MB
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"


class FileRefused(ValidationError):
    """A file refused before parsing; str() is the Chinese message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.text = message

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Limits:
    upload_bytes: int
    unzipped_bytes: int
    ratio: int
    rows: int
    cells: int


def limits() -> Limits:
    value = {name: int(getattr(settings, name, default)) for name, default in DEFAULTS.items()}
    return Limits(
        upload_bytes=value["YIBAO_UPLOAD_MAX_BYTES"], unzipped_bytes=value["YIBAO_XLSX_MAX_UNZIPPED_BYTES"],
        ratio=value["YIBAO_XLSX_MAX_RATIO"], rows=value["YIBAO_IMPORT_MAX_ROWS"], cells=value["YIBAO_IMPORT_MAX_CELLS"],
    )


def _mb(size: int) -> str:
    if size < MB:
        return f"{max(size // 1024, 1)} KB"
    return f"{size / MB:.1f} MB" if size < 10 * MB else f"{size // MB} MB"


# ---- the upload ---------------------------------------------------------------------------------


class RefusedUpload(UploadedFile):
    """What the view gets for a file larger than YIBAO_UPLOAD_MAX_BYTES: its name and size, no content."""

    refused = True

    def __init__(self, name: str, size: int, content_type: str = "", charset=None):
        super().__init__(io.BytesIO(b""), name=name, content_type=content_type, size=size, charset=charset)


class SizeLimitUploadHandler(FileUploadHandler):
    """First of FILE_UPLOAD_HANDLERS: passes chunks on until a file passes the limit, then keeps only
    its size (the later handlers get no more data), and hands the view a RefusedUpload."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.seen = 0
        self.over = False
        self.limit = limits().upload_bytes

    def receive_data_chunk(self, raw_data, start):
        self.seen += len(raw_data)
        if self.over or self.seen > self.limit:
            self.over = True
            return None
        return raw_data

    def file_complete(self, file_size):
        if not self.over:
            return None
        for handler in getattr(self.request, "upload_handlers", ()) if self.request is not None else ():
            partial = getattr(handler, "file", None) if handler is not self else None
            if partial is not None and hasattr(partial, "close"):
                partial.close()  # the temporary file of the part received before the limit is deleted
        return RefusedUpload(self.file_name or "", self.seen, self.content_type or "", self.charset)


def upload_check(uploaded, *, what: str = "文件") -> None:
    """The per-file size cap, for every upload path (call it before reading the file)."""
    if uploaded is None:
        return
    cap = limits().upload_bytes
    size = getattr(uploaded, "size", None) or 0
    if getattr(uploaded, "refused", False) or size > cap:
        name = Path(getattr(uploaded, "name", "") or "").name
        raise FileRefused(
            f"{what}“{name}”有 {_mb(size)}，超过单个文件的上传上限 {_mb(cap)}：请按乡镇（或月份）拆分成几个文件后分别上传。"
        )


def validate_upload_size(uploaded) -> None:
    """A FileField validator: the same cap on a form."""
    upload_check(uploaded)


# ---- the content --------------------------------------------------------------------------------


def table_file_check(source: str | Path | bytes, *, deep: bool = True) -> None:
    """Refuse a table file (xlsx, xls or CSV; a path or the bytes) that is too large to parse safely.

    deep=False looks only at the zip directory and the start of each sheet (fast, for the upload
    request); deep=True also streams each sheet's XML to count its rows and farthest cell.
    """
    lim = limits()
    if isinstance(source, (bytes, bytearray)):
        size, head = len(source), bytes(source[:8])
        opener = lambda: io.BytesIO(source)  # noqa: E731
    else:
        path = Path(source)
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
        opener = lambda: open(path, "rb")  # noqa: E731
    if size > lim.upload_bytes:
        raise FileRefused(f"文件有 {_mb(size)}，超过单个文件的上限 {_mb(lim.upload_bytes)}：请拆分成几个文件后分别导入。")
    if head.startswith(ZIP_MAGIC):
        with opener() as fh:
            _check_zip(fh, lim, deep)
    elif head.startswith(OLE_MAGIC):
        return  # xls: at most 65,536 rows × 256 columns, bounded by the byte cap
    elif deep:
        with opener() as fh:
            _check_text(fh, lim)


def _check_text(fh, lim: Limits) -> None:
    lines = 0
    for chunk in iter(lambda: fh.read(CHUNK), b""):
        lines += chunk.count(b"\n")
        if lines > lim.rows + 1:
            raise FileRefused(
                f"文件超过 {lim.rows:,} 行（单个文件的上限）：请按乡镇拆分成几个文件后分别导入。"
            )


_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]{1,3})?([0-9]{1,7})?(?::([A-Z]{1,3})([0-9]{1,7}))?\"")
_ROOT_PREFIX = re.compile(rb"<(\w+:)?worksheet[\s>]")


def _column_number(letters: bytes | str) -> int:
    number = 0
    for ch in letters.decode() if isinstance(letters, bytes) else letters:
        number = number * 26 + ord(ch) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_label(name: str) -> str:
    number = Path(name).stem.replace("sheet", "")
    return f"第{number}个工作表" if number.isdigit() else f"工作表 {Path(name).name} "


def _check_zip(fh, lim: Limits, deep: bool) -> None:
    broken = "无法读取该表格：文件已损坏，或不是 Excel（xlsx）格式。请在 Excel/WPS 中另存为 xlsx 或 CSV 后重新上传。"
    try:
        book = zipfile.ZipFile(fh)
        parts = book.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise FileRefused(broken) from None
    names = {p.filename for p in parts}
    sheets = [p for p in parts if _SHEET_PART.match(p.filename)]
    if not sheets:
        if "content.xml" in names or any(n.startswith("xl/worksheets/") for n in names):
            raise FileRefused("只支持 xlsx（Excel 2007 及以后）、xls 和 CSV 格式：请在 Excel/WPS 中把文件另存为 xlsx 后重新上传。")
        raise FileRefused(broken)
    unzipped = sum(p.file_size for p in parts)
    if unzipped > lim.unzipped_bytes:
        raise FileRefused(
            f"表格解压后有 {_mb(unzipped)}，超过上限 {_mb(lim.unzipped_bytes)}：文件过大或结构异常，请拆分成几个文件后分别导入。"
        )
    for part in parts:
        if part.file_size > RATIO_FLOOR and part.file_size > lim.ratio * max(part.compress_size, 1):
            ratio = part.file_size // max(part.compress_size, 1)
            raise FileRefused(
                f"表格结构异常：其中的 {part.filename} 压缩了 {ratio:,} 倍（正常表格不超过 {lim.ratio} 倍），"
                f"解压后有 {_mb(part.file_size)}。可能是恶意构造的文件（压缩炸弹），已拒绝读取。"
                "若确为正常表格，请在 Excel/WPS 中打开后另存为 xlsx 或 CSV 再上传。"
            )
    try:
        total = 0
        for part in sheets:
            total += _check_sheet(book, part, lim, deep)
            if total > lim.cells:  # many sheets each under the limit are read one after another
                raise FileRefused(
                    f"表格的 {len(sheets)} 个工作表合计超过 {lim.cells:,} 个单元格（单个文件的上限）："
                    "请删除不需要的工作表，或拆分成几个文件后分别导入。"
                )
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        raise FileRefused(broken) from None


def _refuse_area(label: str, rows: int, cols: int, lim: Limits, claimed: bool = False) -> None:
    cells = rows * cols
    if rows > lim.rows:
        raise FileRefused(
            f"{label}有 {rows:,} 行，超过单个文件的上限 {lim.rows:,} 行：请按乡镇拆分成几个文件后分别导入。"
        )
    if cells > lim.cells:
        where = "标明的数据区域" if claimed else "的数据区域"
        raise FileRefused(
            f"{label}{where}从 A1 到 {_column_letters(cols)}{rows}（{rows:,} 行 × {cols:,} 列 = {cells:,} 个单元格），"
            f"超过上限 {lim.cells:,} 个单元格：请删除远处多余的单元格、空行和空列（或拆分文件）后再导入。"
        )


def _greater(value: str, alphabet: str) -> str:
    """A regex for the strings over `alphabet` (no leading zero) that sort after `value` as numbers do:
    longer ones, or the same length and larger. Used to ask one fast question of a chunk."""
    first, last = alphabet[0], alphabet[-1]
    lead = alphabet[1] if alphabet[0] == "0" else first
    alts = [f"[{lead}-{last}][{first}-{last}]{{{len(value)},}}"]
    for i, ch in enumerate(value):
        if ch != last:
            nxt = alphabet[alphabet.index(ch) + 1]
            alts.append(f"{re.escape(value[:i])}[{nxt}-{last}][{first}-{last}]{{{len(value) - i - 1}}}")
    return "(?:" + "|".join(alts) + ")"


def _sheet_area(data: bytes, cell_ref, row_ref) -> tuple[int, int]:
    """(max row, max column) of the cells and rows in one chunk: the exact, slower pass."""
    max_row = max_col = 0
    refs = cell_ref.findall(data)
    if refs:
        max_col = max(_column_number(c) for c in {c for c, _n in refs})
        max_row = max(map(int, {n for _c, n in refs}))
    rows = row_ref.findall(data)
    if rows:
        max_row = max(max_row, max(map(int, rows)))
    return max_row, max_col


def _check_sheet(book: zipfile.ZipFile, part: zipfile.ZipInfo, lim: Limits, deep: bool) -> int:
    """The sheet's area in cells (as claimed when not deep); refuses one over the limits."""
    label = _sheet_label(part.filename)
    with book.open(part) as stream:
        first = stream.read(64 * 1024)
        prefix = b""
        root = _ROOT_PREFIX.search(first)
        if root and root.group(1):
            prefix = root.group(1)
        dimension = _DIMENSION.search(first)
        claimed = 0
        if dimension and dimension.group(4):
            rows = int(dimension.group(4))
            cols = _column_number(dimension.group(3))
            _refuse_area(label, rows, cols, lim, claimed=True)
            claimed = rows * cols
        if not deep:
            return claimed
        p = re.escape(prefix)
        cell_ref = re.compile(rb"<" + p + rb"c\s[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
        row_ref = re.compile(rb"<" + p + rb"row\s[^>]*?\br=\"([0-9]{1,7})\"")
        row_ref_fast = re.compile(rb"<" + p + rb"row r=\"([0-9]{1,7})\"")
        row_tag, cell_tag, cell_r = b"<" + prefix + b"row", b"<" + prefix + b"c", b"<" + prefix + b'c r="'
        max_row = max_col = row_count = cell_count = 0
        carry = b""
        chunk = first
        while chunk:
            data = carry + chunk
            cut = data.rfind(b"<")
            if cut < 0 or len(data) - cut > 512:  # no tag is cut in two at the chunk's end
                cut = len(data)
            data, carry = data[:cut], data[cut:]
            rows_here = data.count(row_tag)  # also counts the odd <rowBreaks>: an upper bound
            cells_here = data.count(cell_tag)  # also <col>, <cfRule>…: an upper bound
            row_count += rows_here
            cell_count += cells_here
            if cell_count > lim.cells:
                raise FileRefused(
                    f"{label}有超过 {lim.cells:,} 个单元格（单个文件的上限）：请删除多余的行和列，或拆分成几个文件后分别导入。"
                )
            tags = row_ref_fast.findall(data)
            chunk_row = max(map(int, tags)) if tags else 0
            exact = not max_col or len(tags) < rows_here or data.count(cell_r) + 64 < cells_here
            if not exact:  # one fast question: does any cell lie right of the columns or below the rows seen?
                beyond = re.compile(
                    rb"<" + p + rb'c r="(?:' + _greater(_column_letters(max_col), "ABCDEFGHIJKLMNOPQRSTUVWXYZ").encode()
                    + rb"[0-9]|[A-Z]{1,3}" + _greater(str(max(chunk_row, max_row, 1)), "0123456789").encode() + rb'")'
                )
                exact = beyond.search(data) is not None
            if exact:
                chunk_row, chunk_col = _sheet_area(data, cell_ref, row_ref)
                max_col = max(max_col, chunk_col)
            max_row = max(max_row, chunk_row, row_count)
            _refuse_area(label, max_row, max(max_col, 1), lim)
            chunk = stream.read(CHUNK)
        if carry:  # the last tag of the part
            tail_row, tail_col = _sheet_area(carry, cell_ref, row_ref)
            max_row, max_col = max(max_row, tail_row), max(max_col, tail_col)
            _refuse_area(label, max_row, max(max_col, 1), lim)
    return max(max_row * max(max_col, 1), cell_count)


def stored_upload_check(path: str | Path) -> None:
    """The quick content check of an upload just stored (zip directory, each sheet's <dimension>);
    a refused file is deleted. The full streamed check runs again when the job reads it."""
    try:
        table_file_check(path, deep=False)
    except FileRefused:
        Path(path).unlink(missing_ok=True)
        raise


TABLE_SUFFIXES = frozenset({".csv", ".txt", ".xlsx", ".xlsm", ".xls"})


def table_upload_store(*, uploaded, area: str) -> Path:
    """Keep an uploaded table under MEDIA_ROOT/<area>/<yyyymm>/ (the job or run points at it, so
    nothing is lost), after its type and size are checked and before any parser reads it.
    FileRefused (Chinese) when its type, size or contents are refused; nothing is kept then."""
    import uuid

    from django.utils import timezone

    name = Path(uploaded.name or f"{area}.csv").name
    suffix = Path(name).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise FileRefused(f"不支持的文件类型“{suffix or name}”：请上传 CSV 或 xlsx 表格。")
    upload_check(uploaded)
    folder = Path(settings.MEDIA_ROOT) / area / timezone.localtime().strftime("%Y%m")
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.\-（）()]+", "_", name)[-120:]
    path = folder / f"{uuid.uuid4().hex[:12]}-{safe}"
    with open(path, "wb") as fh:
        for chunk in uploaded.chunks():
            fh.write(chunk)
    stored_upload_check(path)
    return path
