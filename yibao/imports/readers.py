"""Read a CSV (UTF-8, UTF-8 with BOM, GBK) or Excel list into polars, whatever its header spelling.

The result has one String column per recognised key (see columns.py), trimmed, empty cells as
null, plus `_row`: the row number the user sees in Excel or a text editor. A file that can't be
read raises ImportFileError with a Chinese message that says what is wrong.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from yibao.core.uploads import FileRefused, table_file_check
from yibao.imports.columns import KIND_COLUMNS, column, header_lookup, normalize_header

HEADER_SEARCH_ROWS = 20
# columns of long digit strings besides the ID numbers: a number cell there loses its last digits
LONG_NUMBER_KEYS = {"external_id", "ticket_no", "household"}
EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


class ImportFileError(ValueError):
    """The file as a whole can't be imported; the message is Chinese and names the fault."""


@dataclass
class Table:
    df: pl.DataFrame  # _row (Int64) + one String column per key present
    present: tuple[str, ...]  # keys found in the header
    headers: dict[str, str]  # key → the header text as written in the file
    header_row: int  # 1-based row of the header
    file_format: str  # "csv" or "xlsx"
    encoding: str = ""
    sheet: str = ""
    ignored: list[str] = field(default_factory=list)  # headers we did not recognise
    kind: str = ""

    def label(self, key: str) -> str:
        """The column's header as the user wrote it (for the error report)."""
        return self.headers.get(key) or column(self.kind, key).label


def read_table(path: str | Path, kind: str) -> Table:
    path = Path(path)
    if not path.exists():
        raise ImportFileError(f"找不到文件：{path}")
    if path.stat().st_size == 0:
        raise ImportFileError("文件是空的（0 字节）。")
    try:  # the size, rows and cells are checked before calamine or polars parses anything
        table_file_check(path)
    except FileRefused as exc:
        raise ImportFileError(str(exc)) from None
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(EXCEL_MAGIC) or path.suffix.lower() in EXCEL_SUFFIXES:
        table = _read_excel(path, kind)
    else:
        table = _read_csv(path, kind)
    table.kind = kind
    if table.df.height == 0:
        raise ImportFileError(f"文件只有表头（第{table.header_row}行），没有数据行。")
    return table


# ---- header detection ---------------------------------------------------------------------------


def _match_header(cells: list, kind: str) -> tuple[dict[int, str], list[str]]:
    """Which cell positions carry which key; the first of two synonyms wins."""
    lookup = header_lookup(kind)
    found: dict[int, str] = {}
    ignored = []
    for position, cell in enumerate(cells):
        key = lookup.get(normalize_header(cell))
        if key and key not in found.values():
            found[position] = key
        elif normalize_header(cell):
            ignored.append(str(cell).strip())
    return found, ignored


def _find_header(rows: list[list], kind: str) -> tuple[int, dict[int, str], list[str]]:
    """The index of the header row among the first rows, with its column map."""
    required = [c.key for c in KIND_COLUMNS[kind] if c.required]
    best = (-1, {}, [])
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found, ignored = _match_header(cells, kind)
        if all(key in found.values() for key in required):
            return index, found, ignored
        if len(found) > len(best[1]):
            best = (index, found, ignored)
    index, found, _ignored = best
    labels = {c.key: c for c in KIND_COLUMNS[kind]}
    if index < 0:
        names = "、".join(labels[k].label for k in required)
        raise ImportFileError(
            f"在前{HEADER_SEARCH_ROWS}行中找不到表头行。第一行应是列名，至少包括：{names}。"
        )
    missing = [labels[k] for k in required if k not in found.values()]
    header_text = "、".join(str(c).strip() for c in rows[index] if str(c or "").strip())
    hints = "；".join(f"“{c.label}”可写作 {'/'.join(c.synonyms[:4])}" for c in missing)
    raise ImportFileError(
        f"缺少必需的列：{'、'.join(c.label for c in missing)}（表头在第{index + 1}行：{header_text}）。{hints}。"
    )


def _finish(df: pl.DataFrame, columns: dict[int, str], names: list[str]) -> pl.DataFrame:
    """Keep the recognised columns under their keys, trim cells, drop empty rows."""
    picked = [pl.col(names[pos]).alias(key) for pos, key in columns.items() if pos < len(names)]
    df = df.select(pl.col("_row"), *picked)
    keys = [key for pos, key in columns.items() if pos < len(names)]
    cleaned = [
        pl.col(k).cast(pl.String).str.strip_chars().str.strip_chars("\u3000\ufeff\u200b").alias(k) for k in keys
    ]
    df = df.with_columns(cleaned).with_columns(
        [pl.when(pl.col(k) == "").then(None).otherwise(pl.col(k)).alias(k) for k in keys]
    )
    if keys:
        df = df.filter(pl.any_horizontal([pl.col(k).is_not_null() for k in keys]))
    return df


# ---- CSV ----------------------------------------------------------------------------------------


def _detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030 (a superset of GBK and GB2312)."""
    with open(path, "rb") as fh:
        start = fh.read(3)
        if start == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    with open(path, "rb") as fh:
        sample = fh.read(1 << 20)
    try:
        sample.decode("gb18030")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # a cut multi-byte character at the end is fine
            raise ImportFileError("无法识别文件编码：CSV 文件应为 UTF-8 或 GBK 编码的文本，或上传 xlsx 表格。") from None
    return "gb18030"


def stored_as_number(key: str, label: str) -> tuple[pl.Expr, pl.Expr]:
    """(when, reason) for cells of a long-number column (流水号, 票据号, 户号) that Excel held as a
    number: readers.py gives them as Excel shows them (4.21223198805101E+19), digits already lost."""
    from yibao.core.idnumber import EXCEL_NUMBER_PATTERN

    when = pl.col(key).str.to_uppercase().str.contains(EXCEL_NUMBER_PATTERN)
    reason = pl.format(
        f"{label}在 Excel 中存成了数字（显示为 {{}}）：Excel 的数字只保留15位有效数字，末几位已丢失。"
        "请把该列设为“文本”格式，重新填写完整后再导入",
        pl.col(key),
    )
    return when, reason


def _read_csv(path: Path, kind: str) -> Table:
    encoding = _detect_encoding(path)
    with open(path, "rb") as fh:
        sample_bytes = fh.read(256 * 1024)
    if b"\x00" in sample_bytes:
        raise ImportFileError("文件不是文本格式的 CSV，也不是 xlsx 表格，无法读取。")
    sample = sample_bytes.decode(encoding, errors="ignore")
    lines = sample.splitlines()[:HEADER_SEARCH_ROWS]
    separator = _sniff_separator(lines, kind)
    rows = list(csv.reader(lines, delimiter=separator))
    index, columns, ignored = _find_header(rows, kind)
    width = max(len(rows[index]), max(columns) + 1)
    names = [f"c{i}" for i in range(width)]
    if encoding == "gb18030":
        source = io.BytesIO(path.read_bytes().decode("gb18030").encode("utf-8"))
    else:
        source = path
    try:
        df = pl.read_csv(
            source,
            has_header=False,
            skip_lines=index + 1,
            separator=separator,
            schema={n: pl.String for n in names},
            truncate_ragged_lines=True,
            raise_if_empty=False,
            row_index_name="_row",
            row_index_offset=index + 2,
            encoding="utf8-lossy",
        )
    except pl.exceptions.PolarsError as exc:
        raise ImportFileError(f"CSV 文件格式有误，无法解析：{str(exc).splitlines()[0]}") from None
    headers = {key: str(rows[index][pos]).strip() for pos, key in columns.items()}
    return Table(
        df=_finish(df, columns, names),
        present=tuple(columns.values()),
        headers=headers,
        header_row=index + 1,
        file_format="csv",
        encoding={"utf-8-sig": "UTF-8（带 BOM）", "utf-8": "UTF-8", "gb18030": "GBK"}[encoding],
        ignored=ignored,
    )


def _sniff_separator(lines: list[str], kind: str) -> str:
    for separator in (",", "\t", ";", "|"):
        rows = list(csv.reader(lines, delimiter=separator))
        try:
            _find_header(rows, kind)
            return separator
        except ImportFileError:
            continue
    return ","


# ---- Excel --------------------------------------------------------------------------------------


def _excel_number_text(value: float) -> str | None:
    """How Excel shows a number it holds in an ID column, when that number can't be the whole ID:
    it keeps 15 significant digits, so from 16 digits on the number is no longer exact
    (421223198805101234 is held as 4.21223198805101E+17) and a final X can't be held at all.
    None for a whole number of at most 15 digits (an old 15-digit ID stays exact)."""
    if value != value or value in (float("inf"), float("-inf")):
        return format(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return None
    return format(value, ".15G")


def _numbers_as_excel_shows(raw: pl.DataFrame, cells, positions: list[int]) -> pl.DataFrame:
    """ID cells the sheet holds as numbers (not text) become the text Excel shows for them
    (4.21223198805101E+17), so that the ID check names the cause instead of a wrong birth date or
    check character, and a rounded number that happens to pass the check is not taken as an ID."""
    found: dict[int, tuple[list[int], list[str]]] = {pos: ([], []) for pos in positions}
    count = 0
    for count, row in enumerate(cells.iter_rows(), start=1):
        for pos in positions:
            if pos < len(row):
                value = row[pos]
                if isinstance(value, (float, int)) and not isinstance(value, bool):
                    text = _excel_number_text(float(value))
                    if text is not None:
                        found[pos][0].append(count - 1)
                        found[pos][1].append(text)
    leading = count - cells.height  # iter_rows starts at the sheet's first row, the frame at the first used one
    names = raw.columns
    for pos, (rows, texts) in found.items():
        keep = [(r - leading, t) for r, t in zip(rows, texts) if 0 <= r - leading < raw.height]
        if keep:
            column = raw.get_column(names[pos]).scatter([r for r, _t in keep], [t for _r, t in keep])
            raw = raw.with_columns(column)
    return raw


def _read_excel(path: Path, kind: str) -> Table:
    import fastexcel
    import python_calamine

    try:
        reader = fastexcel.read_excel(path)
    except Exception:  # calamine raises its own error types for every broken file
        raise ImportFileError(
            "无法读取该表格：文件已损坏，或不是 Excel（xlsx）格式。请在 Excel/WPS 中另存为 xlsx 或 CSV 后重新上传。"
        ) from None
    first_error = None
    for sheet_index, sheet_name in enumerate(reader.sheet_names):
        try:
            sheet = reader.load_sheet(sheet_index, header_row=None, dtypes="string", skip_whitespace_tail_rows=True)
            raw = sheet.to_polars()
        except Exception:
            continue
        if raw.width == 0 or raw.height == 0:
            continue
        names = raw.columns
        top = [[row[i] for i in range(len(names))] for row in raw.head(HEADER_SEARCH_ROWS).iter_rows()]
        try:
            index, columns, ignored = _find_header([[c if c is not None else "" for c in r] for r in top], kind)
        except ImportFileError as exc:
            first_error = first_error or exc
            continue
        # calamine drops empty rows above the first used cell; row numbers must match Excel's
        try:
            cells = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(sheet_index)
            offset = cells.start[0]
        except Exception:
            cells, offset = None, 0
        id_positions = [
            pos for pos, key in columns.items()
            if (key.endswith("id_number") or key in LONG_NUMBER_KEYS) and pos < len(names)
        ]
        if cells is not None and id_positions:
            raw = _numbers_as_excel_shows(raw, cells, id_positions)
        df = raw.slice(index + 1).with_row_index("_row", offset=offset + index + 2)
        df = df.with_columns(pl.col("_row").cast(pl.Int64))
        headers = {key: str(top[index][pos]).strip() for pos, key in columns.items()}
        return Table(
            df=_finish(df, columns, names),
            present=tuple(columns.values()),
            headers=headers,
            header_row=offset + index + 1,
            file_format="xlsx",
            sheet=sheet_name,
            ignored=ignored,
        )
    if first_error:
        raise first_error
    raise ImportFileError("表格中没有任何数据（所有工作表都是空的）。")
