"""Read the small files a village or office sends back (xlsx or csv) as rows of header → text.

The header row is the first row that names the key column (身份证号码); rows are numbered as the
spreadsheet shows them, so a row error names the row a person can find.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from yibao.cli.common import fail

ENCODINGS = ("utf-8-sig", "gb18030")
ALIASES = {"身份证号": "身份证号码", "公民身份号码": "身份证号码", "证件号码": "身份证号码"}


@dataclass
class SheetRow:
    number: int  # the row number the spreadsheet shows
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "").strip()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cells(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls", ".xlsm"):
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(path))
            rows = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
        except Exception as exc:  # a damaged or foreign file: say so, never a traceback
            fail(f"无法读取 {path.name}：{exc}")
        return [[_text(c) for c in row] for row in rows]
    if suffix in (".csv", ".txt"):
        raw = path.read_bytes()
        for encoding in ENCODINGS:
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            fail(f"无法识别 {path.name} 的文字编码，请另存为 UTF-8 或 GBK 编码的 csv。")
        return [[_text(c) for c in row] for row in csv.reader(io.StringIO(text))]
    fail(f"只能读取 xlsx 或 csv 文件，收到：{path.name}")


def read_rows(path: Path, *, key: str, required: tuple[str, ...] = ()) -> list[SheetRow]:
    """The rows below the header row that names `key`; refuses (exit 2) a missing file or column."""
    if not path.exists():
        fail(f"找不到文件：{path}")
    cells = _cells(path)
    for index, row in enumerate(cells):
        names = [c.replace(" ", "").replace("\u3000", "") for c in row]
        names = [ALIASES.get(n, n) for n in names]
        if key in names:
            break
    else:
        fail(f"{path.name} 中没有“{key}”列（表头应含：{'、'.join((key, *required))}）。")
    missing = [c for c in required if c not in names]
    if missing:
        fail(f"{path.name} 缺少列：{'、'.join(missing)}。")
    out = []
    for offset, row in enumerate(cells[index + 1:], start=index + 2):
        values = {name: (row[i] if i < len(row) else "") for i, name in enumerate(names) if name}
        if any(v.strip() for v in values.values()):
            out.append(SheetRow(number=offset, values=values))
    if not out:
        fail(f"{path.name} 的表头下没有数据行。")
    return out
