"""The xlsx export of a run's mismatches: a summary sheet and one line per mismatch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import xlsxwriter

from yibao.reconciliation import selectors
from yibao.reconciliation.models import ReconciliationRun
from yibao.regions.selectors import county_label

SHEET_ROWS = 1_000_000


def mismatches_xlsx(*, scope, run: ReconciliationRun, target, **filters) -> int:
    """Write the export to `target` (a path or a file object); returns the number of mismatch lines."""
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#F0F4F8", "border": 1})
    money = book.add_format({"num_format": "0.00"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    title = book.add_format({"bold": True, "font_size": 13})

    summary = book.add_worksheet("汇总")
    summary.set_column(0, 0, 26)
    summary.set_column(1, 3, 16)
    summary.write(0, 0, f"{county_label(run.county_code)}（{run.county_code}） {run.benefit_year}年度对账（截止 {run.as_of:%Y-%m-%d}，{run.ran_on:%Y-%m-%d} 执行）", title)
    summary.write_row(2, 0, ("差异类型", "条数", "其中新发现", "差额合计（医保−对方）"), bold)
    row = 3
    for item in selectors.mismatch_counts(scope=scope, run=run):
        summary.write_string(row, 0, item["label"])
        summary.write_number(row, 1, item["count"])
        summary.write_number(row, 2, item["new"])
        summary.write_number(row, 3, float(item["difference"]), money)
        row += 1
    row += 1
    summary.write_row(row, 0, ("各方金额", "金额（元）"), bold)
    labels = {"tax": "税务缴费记录合计", "booked": "医保入账合计", "matched": "已核对一致", "receipted": "有效票据票面合计",
              "counter": "窗口收款合计", "cash_collected": "窗口现金收款", "cash_handed_over": "已登记交款",
              "cash_pending": "宽限期内未交现金"}
    for key, label in labels.items():
        row += 1
        summary.write_string(row, 0, label)
        summary.write_number(row, 1, float(Decimal(run.totals.get(key, "0"))), money)
    row += 2
    summary.write_string(row, 0, f"税务文件：{run.tax_file_name}（SHA-256 {run.tax_file_sha256[:16]}…）")

    sheet = None
    count = 0
    for count, values in enumerate(selectors.mismatch_export_rows(scope=scope, run=run, **filters), start=1):
        line = (count - 1) % SHEET_ROWS + 1
        if line == 1:
            name = "差异明细" if count == 1 else f"差异明细{(count - 1) // SHEET_ROWS + 1}"
            sheet = book.add_worksheet(name)
            sheet.set_column(0, 2, 14)
            sheet.set_column(3, 6, 14)
            sheet.set_column(8, 10, 21)
            sheet.set_column(20, 21, 60)
            sheet.write_row(0, 0, selectors.EXPORT_COLUMNS, bold)
            sheet.freeze_panes(1, 0)
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, Decimal):
                sheet.write_number(line, col, float(value), money)
            elif isinstance(value, dt.date):
                sheet.write_datetime(line, col, dt.datetime.combine(value, dt.time()), day)
            elif isinstance(value, int):
                sheet.write_number(line, col, value)
            else:
                sheet.write_string(line, col, str(value))
    if sheet is None:
        sheet = book.add_worksheet("差异明细")
        sheet.write_row(0, 0, selectors.EXPORT_COLUMNS, bold)
        sheet.write(1, 0, "没有差异：人、票、款和录入信息四相符。")
    book.close()
    return count
