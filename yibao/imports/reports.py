"""The downloadable xlsx report of an import: rejected rows and warnings, one line per fault."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import xlsxwriter

SHEET_ROWS = 1_000_000  # xlsx holds 1,048,576 rows a sheet
HEADERS = ("行号", "列", "值", "原因")


def report_path(*, job_id: int | None, kind: str) -> Path:
    from django.conf import settings
    from yibao.core.clock import business_now

    folder = Path(settings.VAR_DIR) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    import uuid

    stamp = business_now().strftime("%Y%m%d-%H%M%S")
    name = f"任务{job_id}" if job_id else f"{stamp}-{uuid.uuid4().hex[:6]}"
    return folder / f"{name}-{kind}-错误报告.xlsx"


def report_write(*, issues: pl.DataFrame, path: Path, title: str) -> Path:
    """Sheet 错误 (rows not imported) and sheet 警告 (imported, worth a look); columns 行号, 列, 值, 原因."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#F0F4F8", "border": 1})
    text = book.add_format({"num_format": "@"})
    sheets = [("error", "错误（未导入）"), ("warning", "警告（已导入）")]
    if issues.filter(pl.col("level") == "skipped").height:  # rows left out on purpose (another 险种)
        sheets.append(("skipped", "跳过（未导入）"))
    review = issues.filter(pl.col("level") == "review").height > 0  # 参保群体名单: 核定 changed by the list
    if review:
        sheets.append(("review", "核定变化（待复核）"))
    for level, sheet_name in sheets:
        part = issues.filter(pl.col("level") == level).sort("_row", maintain_order=True)
        chunks = max(1, (part.height + SHEET_ROWS - 1) // SHEET_ROWS)
        for chunk in range(chunks):
            name = sheet_name if chunk == 0 else f"{sheet_name}{chunk + 1}"
            sheet = book.add_worksheet(name)
            sheet.set_column(0, 0, 8)
            sheet.set_column(1, 1, 16)
            sheet.set_column(2, 2, 24, text)
            sheet.set_column(3, 3, 70)
            sheet.write_row(0, 0, HEADERS, bold)
            sheet.freeze_panes(1, 0)
            rows = part.slice(chunk * SHEET_ROWS, SHEET_ROWS).select("_row", "column", "value", "reason")
            for i, (row, column, value, reason) in enumerate(rows.iter_rows(), start=1):
                sheet.write_number(i, 0, row)
                sheet.write_string(i, 1, column or "")
                sheet.write_string(i, 2, value or "")
                sheet.write_string(i, 3, reason or "")
    about = book.add_worksheet("说明")
    about.set_column(0, 0, 100)
    about.write(0, 0, title)
    about.write(1, 0, "“错误（未导入）”中的行没有导入：请按“原因”改正后重新导入整个文件，已导入且未改动的行不会重复写入。")
    about.write(2, 0, "“警告（已导入）”中的行已经导入，但有需要核实的地方（如身份证地址码为旧代码、联系电话格式异常）。")
    about.write(3, 0, "行号是原文件中的行号（含表头行），可在 Excel/WPS 中直接定位。")
    if any(level == "skipped" for level, _ in sheets):
        about.write(4, 0, "“跳过（未导入）”中的行不属于本名单（如其他险种），不是错误，无需改正。")
    if review:
        about.write(5, 0, "“核定变化（待复核）”中的人已导入，因参保群体变化重新核定后应缴金额或待遇起始日改变了，请逐一复核。")
    book.close()
    return path


def report_read(path: str | Path) -> list[dict]:
    """Every line of a report as {sheet, 行号, 列, 值, 原因} (tests and the job page preview)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    lines = []
    for name in book.sheet_names:
        if name == "说明":
            continue
        rows = book.get_sheet_by_name(name).to_python()
        for row in rows[1:]:
            lines.append({"sheet": name, **dict(zip(HEADERS, [int(row[0]), *(str(c) for c in row[1:4])]))})
    return lines
