"""Reading task tables (目标任务表) in the notices' own layouts, from CSV or xlsx. No ORM here.

Two layouts come from the seeds, and the reader knows them by their column names:
  肖岭乡 (000): 村名 | 总人口 | 应参保人数 | 咸惠宝应参保人数        (villages of one township)
  随县   (002): 序号 | 镇（场） | 合计 | 特群免缴 | 其他居民          (townships of one county)
Rows above the header (the title, "单位：人") are kept as the title; blank rows are skipped; the
row named 合计 is the printed total and is checked against the sum of the rows; rows after it
(备注 …) are ignored.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from yibao.core.inputs import is_control

# Header words → the field they fill. Compared after normalising (no spaces, full-width brackets).
NAME_COLUMNS = {
    "村名": 12, "村": 12, "村（社区）": 12, "村（居）": 12, "村（居）委会": 12, "社区": 12, "村委会": 12, "村（社区）名称": 12,
    "县（市、区）": 6, "县（区）": 6, "县（市）": 6, "县区": 6, "县（市、区）名称": 6, "县": 6,
    "镇（场）": 9, "乡镇": 9, "乡镇（街道）": 9, "镇": 9, "乡（镇）": 9, "乡镇名称": 9, "镇（场、景区、开发区）": 9, "单位": 9,
}
NUMBER_COLUMNS = {
    "应参保人数": "total", "合计": "total", "目标任务": "total", "任务数": "total", "参保任务": "total",
    "特群免缴": "special", "特殊群体": "special", "特殊群体免缴": "special",
    "其他居民": "others", "其他人员": "others",
    "总人口": "population", "户籍人口": "population",
}
FIELD_LABELS = {"total": "应参保人数", "special": "特群免缴", "others": "其他居民", "population": "总人口"}
TOTAL_WORDS = {"合计", "总计", "全乡合计", "全县合计", "全镇合计", "全市合计"}


SUPPLEMENTARY_LABEL_MAX = 40  # Target.supplementary_label


class TaskTableError(ValueError):
    """A task table that cannot be read; `errors` holds one Chinese message per fault, naming row and column."""

    def __init__(self, errors: list[str]):
        super().__init__("；".join(errors[:8]) + (f"……共{len(errors)}处错误" if len(errors) > 8 else ""))
        self.errors = errors


@dataclass
class TaskRow:
    line: int  # 1-based row number in the file, as a spreadsheet shows it
    name: str
    total: int | None = None
    special: int | None = None
    others: int | None = None
    population: int | None = None
    supplementary: int | None = None


@dataclass
class TaskTable:
    level: int  # 12: rows are villages, 9: townships, 6: counties (a city's table)
    layout: str  # "villages" (肖岭乡式) or "towns" (随县式)
    title: str
    name_header: str
    headers: list[str]  # the header row as printed
    rows: list[TaskRow]
    printed_total: TaskRow | None
    supplementary_label: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def year_hint(self) -> int | None:
        """The benefit year a title names: '2024年（2025年度）' → 2025, '肖岭乡2024年…' → 2024."""
        match = re.search(r"(20\d\d)\s*年度", self.title) or re.search(r"(20\d\d)\s*年", self.title)
        return int(match.group(1)) if match else None

    def sums(self) -> dict[str, int]:
        out = {}
        for key in ("total", "special", "others", "population", "supplementary"):
            values = [getattr(r, key) for r in self.rows]
            if any(v is not None for v in values):
                out[key] = sum(v or 0 for v in values)
        return out

    def label(self, key: str) -> str:
        return self.supplementary_label if key == "supplementary" else FIELD_LABELS[key]


def normalise(text) -> str:
    """'镇(场)' and '镇（场）', ' 村 名 ' and '村名' compare equal."""
    text = "" if text is None else str(text)
    text = text.replace("(", "（").replace(")", "）").replace("\u3000", "")
    return re.sub(r"\s+", "", text)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_cells(content: bytes, filename: str) -> list[list[str]]:
    """Every row of the first sheet (xlsx/xls/ods) or of a CSV file (UTF-8 or GBK), as text."""
    suffix = Path(filename).suffix.lower()
    from yibao.core.uploads import FileRefused, table_file_check

    try:  # size, rows and cells before calamine parses anything
        table_file_check(content)
    except FileRefused as exc:
        raise TaskTableError([f"“{filename}”：{exc}"]) from None
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_filelike(io.BytesIO(content))
            sheet = book.get_sheet_by_index(0)
            return [[_cell(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
        except Exception as exc:  # calamine raises its own error types
            raise TaskTableError([f"无法读取表格文件“{filename}”：{exc}"]) from None
    if suffix in (".csv", ".txt", ""):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise TaskTableError([f"“{filename}”不是 UTF-8 或 GBK 编码的 CSV 文件"])
        dialect = "excel-tab" if text.count("\t") > text.count(",") else "excel"
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect=dialect)]
    raise TaskTableError([f"不支持的文件类型“{suffix}”：请上传 xlsx 或 csv 文件"])


def _header_index(cells: list[list[str]]) -> int:
    for i, row in enumerate(cells[:20]):
        names = [normalise(c) for c in row]
        if any(n in NAME_COLUMNS for n in names) and any(n in NUMBER_COLUMNS or n.endswith("应参保人数") for n in names):
            return i
    raise TaskTableError([
        "找不到表头：任务表应有名称列（村名、镇（场）等）和人数列（应参保人数、合计、特群免缴、其他居民、总人口等）"
    ])


def _number(text: str, line: int, label: str, errors: list[str]) -> int | None:
    text = normalise(text).replace(",", "").replace("，", "")
    if text in ("", "-", "—", "/"):
        return None
    if re.fullmatch(r"\d{1,9}(\.0+)?", text):
        return int(text.split(".")[0])
    errors.append(f"第{line}行“{label}”应为人数（非负整数），收到：{text}")
    return None


def parse_task_table(content: bytes, filename: str) -> TaskTable:
    """Read a task table and check it: every row's numbers, 合计 = 特群免缴 + 其他居民, and the printed 合计 row.

    Raises TaskTableError listing every fault. A 合计 row that differs from the sum is an error
    here too; the caller may accept it as a warning (`accept_total_mismatch`).
    """
    cells = read_cells(content, filename)
    head = _header_index(cells)
    headers = cells[head]
    names = [normalise(c) for c in headers]
    title = " ".join(c for row in cells[:head] for c in row if c)
    name_col = next(i for i, n in enumerate(names) if n in NAME_COLUMNS)
    level = NAME_COLUMNS[names[name_col]]
    columns: dict[str, int] = {}
    supplementary_label = ""
    serial_col = next((i for i, n in enumerate(names) if n in ("序号", "编号")), None)
    for i, n in enumerate(names):
        if i == name_col or not n:
            continue
        key = NUMBER_COLUMNS.get(n)
        if key is None and n.endswith("应参保人数"):
            key, supplementary_label = "supplementary", headers[i].strip()
        if key and key not in columns:
            columns[key] = i
    if "total" not in columns:
        raise TaskTableError(["表头缺少应参保人数列（“应参保人数”或“合计”）"])
    if len(supplementary_label) > SUPPLEMENTARY_LABEL_MAX:
        raise TaskTableError([f"表头“{supplementary_label[:20]}…”过长：补充保险列名最多 {SUPPLEMENTARY_LABEL_MAX} 个字"])
    if any(is_control(ch) for ch in supplementary_label):
        raise TaskTableError(["补充保险列名含有不可见的控制字符，请删除后重新导入"])
    layout = "towns" if ("special" in columns or "others" in columns) else "villages"

    errors: list[str] = []
    rows: list[TaskRow] = []
    printed_total: TaskRow | None = None
    seen: dict[str, int] = {}
    for offset, raw in enumerate(cells[head + 1:], start=head + 2):
        row = raw + [""] * (len(headers) - len(raw))
        if not any(c.strip() for c in row):
            continue
        name = row[name_col].strip()
        serial = row[serial_col].strip() if serial_col is not None else ""
        is_total = normalise(name) in TOTAL_WORDS or normalise(serial) in TOTAL_WORDS
        if printed_total is not None:
            continue  # 备注 and signatures after the 合计 row
        if not is_total and re.match(r"^(备注|注[:：]|说明)", normalise(name) or normalise(row[0])):
            continue
        parsed = TaskRow(line=offset, name="合计" if is_total else name)
        for key, col in columns.items():
            label = headers[col].strip() or FIELD_LABELS.get(key, key)
            setattr(parsed, key, _number(row[col] if col < len(row) else "", offset, label, errors))
        if is_total:
            printed_total = parsed
            continue
        if not name:
            errors.append(f"第{offset}行：缺少{headers[name_col].strip()}")
            continue
        if parsed.total is None:
            errors.append(f"第{offset}行（{name}）：缺少“{headers[columns['total']].strip()}”")
        if parsed.special is not None and parsed.others is not None and parsed.total is not None:
            if parsed.special + parsed.others != parsed.total:
                errors.append(
                    f"第{offset}行（{name}）：{headers[columns['total']].strip()} {parsed.total} ≠ "
                    f"特群免缴 {parsed.special} + 其他居民 {parsed.others}（相差 {parsed.total - parsed.special - parsed.others}）"
                )
        if name in seen:
            errors.append(f"第{offset}行：“{name}”与第{seen[name]}行重复")
        seen[name] = offset
        rows.append(parsed)
    if not rows and not errors:
        errors.append("任务表没有数据行")
    if errors:
        raise TaskTableError(errors)
    table = TaskTable(
        level=level, layout=layout, title=title, name_header=headers[name_col].strip(), headers=[h.strip() for h in headers],
        rows=rows, printed_total=printed_total, supplementary_label=supplementary_label,
    )
    for row in rows:
        if row.population is not None and row.total is not None and row.total > row.population:
            table.warnings.append(f"第{row.line}行（{row.name}）：应参保人数 {row.total} 大于总人口 {row.population}")
    if printed_total is None:
        table.warnings.append("任务表没有“合计”行，未能核对合计")
    return table


def total_mismatches(table: TaskTable) -> list[str]:
    """Chinese sentences for each column whose printed 合计 differs from the sum of the rows."""
    if table.printed_total is None:
        return []
    out = []
    for key, summed in table.sums().items():
        printed = getattr(table.printed_total, key)
        if printed is not None and printed != summed:
            out.append(
                f"第{table.printed_total.line}行合计与各行之和不符：“{table.label(key)}”合计行印为 {printed}，"
                f"各行相加为 {summed}（相差 {printed - summed}）"
            )
    return out
