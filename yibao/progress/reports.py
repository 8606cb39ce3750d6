"""The weekly publication table (per village), the two-weekly report (per township) and the 催缴 list,
as xlsx (xlsxwriter) and printable PDF (reportlab, an embedded subset of 文泉驿微米黑: yibao.core.pdffonts).

Columns start with the seed's own layout (肖岭乡: 村名/总人口/应参保人数/咸惠宝应参保人数;
随县: 序号/镇（场）/合计/特群免缴/其他居民), followed by the progress columns.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field, replace
from decimal import Decimal

from yibao.core import pdffonts
from yibao.progress import selectors
from yibao.progress.pace import percent
from yibao.progress.selectors import Unit, _rank

FONT = pdffonts.FONT


@dataclass(frozen=True)
class Column:
    label: str
    key: str
    kind: str = "int"  # text | int | money | rate | yesno
    width: int = 10


@dataclass
class Report:
    title: str
    subtitle: str
    columns: list[Column]
    rows: list[dict]
    total: dict | None
    notes: list[str] = field(default_factory=list)
    filename: str = "report"
    sheet: str = "进度"


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _pace_text(tree) -> str:
    if tree.window is None or tree.share is None:
        return "未找到征缴期，无法计算序时进度"
    w = tree.window
    return (f"序时进度 {percent(tree.share)}（征缴期 {_cn_date(w.start)}至{_cn_date(w.deadline)}，"
            f"已过 {w.open_days(tree.on)}/{w.open_days()} 个征缴日）")


def _refreshed_text(tree) -> str:
    if tree.refreshed_at is None:
        return ""
    from yibao.core.clock import business_time

    return f"；统计时间 {business_time(tree.refreshed_at):%Y-%m-%d %H:%M}"


PROGRESS_COLUMNS = [
    Column("已缴人数", "paid"),
    Column("参保人数", "enrolled"),
    Column("参保率", "rate", "rate"),
    Column("序时进度", "pace", "rate"),
    Column("序时人数", "expected"),
    Column("达到序时进度", "on_pace", "yesno", 8),
    Column("未参保人数", "gap"),
    Column("特殊群体人数", "special_people"),
    Column("特殊群体参保人数", "special_enrolled", width=12),
    Column("特殊群体参保率", "special_rate", "rate", 12),
]


def _row(unit: Unit, tree, new: int | None, **extra) -> dict:
    return {
        "name": unit.name, "code": unit.code, "population": unit.population, "total": unit.target,
        "special": unit.special_target, "others": unit.others_target, "supplementary": unit.supplementary,
        "paid": unit.paid, "enrolled": unit.enrolled, "rate": unit.rate, "pace": tree.share, "expected": unit.expected,
        "on_pace": unit.on_pace, "gap": unit.gap, "special_people": unit.special_people,
        "special_enrolled": unit.special_enrolled, "special_rate": unit.special_rate, "new": new, "rank": unit.rank,
        **extra,
    }


def _total_row(unit: Unit, tree, new_total: int, label: str = "合计") -> dict:
    """The 合计 row is the figure of the whole (the township or county the report covers), as the API,
    pages and CLI give it: its own target, rate and 序时人数 (pace.standing on the whole's target),
    never a sum of the rows' rounded 序时人数."""
    return _row(unit, tree, new_total, serial=label, name="", township="", rank=None)


def _ranked(units: list[Unit]) -> list[Unit]:
    copies = [replace(u, children=list(u.children)) for u in units]
    _rank(copies)
    return copies


def weekly_report(*, scope, region_code: str | None = None, benefit_year: int | None = None,
                  on: dt.date | None = None) -> Report:
    """每周统计公布各村（社区）参保缴费进度: one row per village of a township (or of the whole county)."""
    overview = selectors.progress_overview(scope=scope, region_code=region_code, benefit_year=benefit_year, on=on)
    tree, unit = overview["tree"], overview["unit"]
    if unit.level == 12:
        units = [unit]
    else:
        units = tree.descendants(unit.code, 12)
    units = _ranked(units)
    new = selectors.new_since(county_code=tree.county_code, benefit_year=tree.benefit_year, region_code=unit.code,
                              since=tree.on - dt.timedelta(days=overview["goals"]["publish_every_days"]), until=tree.on)
    layout = next((u.layout for u in units if u.layout), "")
    label = next((u.supplementary_label for u in units if u.supplementary_label), "")
    by_township = unit.level == 6
    lead: list[Column] = [Column("乡镇（街道）", "township", "text", 16)] if by_township else []
    if layout == "villages":
        columns = lead + [Column("村名", "name", "text", 12), Column("总人口", "population"), Column("应参保人数", "total")]
        if label or any(u.supplementary is not None for u in units):
            columns.append(Column(label or "补充保险应参保人数", "supplementary", width=14))
    else:
        columns = [Column("序号", "serial", "text", 6)] + lead + [
            Column("村（社区）", "name", "text", 14), Column("合计", "total"), Column("特群免缴", "special"),
            Column("其他居民", "others"),
        ]
    columns += PROGRESS_COLUMNS + [Column("本周新增", "new"), Column("排名", "rank", width=6)]
    names = {u.code: u.name for u in tree.units.values() if u.level == 9}
    rows = [
        _row(u, tree, new.get(u.code, 0), serial=str(i), township=names.get(u.code[:9], u.code[:9]))
        for i, u in enumerate(units, start=1)
    ]
    total = _total_row(unit, tree, sum(new.get(u.code, 0) for u in units)) if len(units) > 1 else None
    period = overview["goals"]["publish_every_days"]
    return Report(
        title=f"{unit.name}{tree.benefit_year}年度城乡居民医保参保缴费进度公布表",
        subtitle=f"截至{_cn_date(tree.on)}；{_pace_text(tree)}{_refreshed_text(tree)}",
        columns=columns, rows=rows, total=total,
        notes=_notes(overview["goals"], f"本周新增为截至日前{period}天内完成参保的人数。", tree),
        filename=f"{unit.name}-{unit.code}-参保缴费进度公布表-{tree.on:%Y%m%d}", sheet="进度公布表",
    )


def biweekly_report(*, scope, region_code: str | None = None, benefit_year: int | None = None,
                    on: dt.date | None = None) -> Report:
    """每两周参保缴费进度统计通报 to the county: one row per township, in 随县's layout."""
    overview = selectors.progress_overview(scope=scope, region_code=region_code, benefit_year=benefit_year, on=on)
    tree, unit = overview["tree"], overview["unit"]
    units = [unit] if unit.level >= 9 else tree.descendants(unit.code, 9)
    units = _ranked(units)
    every = overview["goals"]["report_every_days"]
    new = selectors.new_since(county_code=tree.county_code, benefit_year=tree.benefit_year, region_code=unit.code,
                              since=tree.on - dt.timedelta(days=every), until=tree.on)
    columns = [
        Column("序号", "serial", "text", 6), Column("镇（场）", "name", "text", 20), Column("合计", "total"),
        Column("特群免缴", "special"), Column("其他居民", "others"),
        *PROGRESS_COLUMNS, Column("较上期新增", "new"), Column("排名", "rank", width=6),
    ]
    rows = [
        _row(u, tree, sum(n for v, n in new.items() if v.startswith(u.code)), serial=str(i))
        for i, u in enumerate(units, start=1)
    ]
    total = _total_row(unit, tree, sum(new.values()))
    issue = ""
    if tree.window is not None and tree.on >= tree.window.start:
        issue = f"第{(tree.on - tree.window.start).days // every + 1}期，"
    return Report(
        title=f"{unit.name}{tree.benefit_year}年度城乡居民医保参保缴费进度通报",
        subtitle=f"{issue}截至{_cn_date(tree.on)}；{_pace_text(tree)}{_refreshed_text(tree)}",
        columns=columns, rows=rows, total=total,
        notes=_notes(overview["goals"], f"较上期新增为截至日前{every}天内完成参保的人数。", tree),
        filename=f"{unit.name}-{unit.code}-参保缴费进度通报-{tree.on:%Y%m%d}", sheet="进度通报",
    )


def _notes(goals: dict, extra: str, tree=None) -> list[str]:
    notes = [
        "参保人数为本年度正常参保人数（含特困等全额资助免缴人员）；已缴人数为已入账的个人缴费笔数；参保率 = 参保人数 ÷ 应参保人数。",
        "序时进度为征缴期已过天数占征缴期总天数的比例（保留四位小数，即表中百分数）；序时人数 = 应参保人数 × 序时进度（向上取整）。",
        "合计行为本乡镇（县）的数字：参保率、序时人数按其应参保人数计算，不是各行序时人数之和。",
        "特殊群体为本年度核定时享受资助、补贴身份的居民（未核定的按征缴期内有效的资助身份计），目标为全员参保。",
        extra,
    ]
    if goals.get("reference"):
        notes.append(f"依据：“{goals['reference']}”")
    if tree is not None and tree.notice:  # a day before the campaign, or figures computed from dates
        notes.append(tree.notice)
    return notes


# ---------------------------------------------------------------- writers


def _value(row: dict, column: Column):
    value = row.get(column.key)
    if column.kind == "yesno":
        return "" if value is None else ("是" if value else "否")
    return value


def report_xlsx(report: Report) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    write_report_sheet(book, report)
    book.close()
    return buffer.getvalue()


def write_report_sheet(book, report: Report, sheet_name: str | None = None):
    """One report as one sheet of `book` (title, subtitle, header, rows, 合计, notes)."""
    sheet = book.add_worksheet(sheet_name or report.sheet)
    title = book.add_format({"bold": True, "font_size": 14, "align": "center", "valign": "vcenter"})
    sub = book.add_format({"font_size": 10, "align": "left"})
    head = book.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True,
                            "bg_color": "#E6F4EE"})
    cell = book.add_format({"border": 1})
    text = book.add_format({"border": 1, "num_format": "@"})
    pct = book.add_format({"border": 1, "num_format": "0.00%"})
    money = book.add_format({"border": 1, "num_format": "#,##0.00"})
    bold = {k: book.add_format({**v, "bold": True}) for k, v in (
        ("cell", {"border": 1}), ("text", {"border": 1, "num_format": "@"}), ("pct", {"border": 1, "num_format": "0.00%"}),
        ("money", {"border": 1, "num_format": "#,##0.00"}),
    )}
    last = len(report.columns) - 1
    sheet.merge_range(0, 0, 0, last, report.title, title)
    sheet.merge_range(1, 0, 1, last, report.subtitle, sub)
    sheet.set_row(0, 24)
    for c, column in enumerate(report.columns):
        sheet.write_string(2, c, column.label, head)
        sheet.set_column(c, c, column.width)
    sheet.set_row(2, 30)

    def write_row(r: int, row: dict, emphasis: bool):
        for c, column in enumerate(report.columns):
            value = _value(row, column)
            fmt_cell, fmt_text, fmt_pct = (bold["cell"], bold["text"], bold["pct"]) if emphasis else (cell, text, pct)
            if value is None or value == "":
                sheet.write_blank(r, c, None, fmt_cell)
            elif column.kind == "rate":
                sheet.write_number(r, c, float(value), fmt_pct)
            elif column.kind == "money":
                sheet.write_number(r, c, float(value), bold["money"] if emphasis else money)
            elif column.kind in ("text", "yesno"):
                sheet.write_string(r, c, str(value), fmt_text)
            else:
                sheet.write_number(r, c, int(value), fmt_cell)

    r = 3
    for row in report.rows:
        write_row(r, row, False)
        r += 1
    if report.total is not None:
        total = dict(report.total)
        first = report.columns[0]
        if first.kind == "text" and not total.get(first.key):
            total[first.key] = "合计"
        write_row(r, total, True)
        r += 1
    for note in report.notes:
        r += 1
        sheet.write_string(r, 0, note, sub)
    sheet.freeze_panes(3, 0)
    sheet.repeat_rows(2)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    return sheet


def _register_font() -> None:
    pdffonts.cjk_font()


def _pdf_text(row: dict, column: Column) -> str:
    value = _value(row, column)
    if value is None:
        return ""
    if column.kind == "rate":
        return percent(Decimal(value))
    if column.kind == "money":
        return f"{Decimal(value):,.2f}"
    return str(value)


def report_pdf(report: Report, *, compress: bool = True) -> bytes:
    """A printable A4 landscape table; the header repeats on each page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_font()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm, topMargin=12 * mm, bottomMargin=12 * mm,
        title=report.title, author="医保征缴", pageCompression=1 if compress else 0,
    )
    title = ParagraphStyle("title", fontName=FONT, fontSize=15, leading=20, alignment=1)
    small = ParagraphStyle("small", fontName=FONT, fontSize=8, leading=11)
    head = ParagraphStyle("head", fontName=FONT, fontSize=7.5, leading=9, alignment=1)
    data = [[Paragraph(c.label, head) for c in report.columns]]
    for row in report.rows:
        data.append([_pdf_text(row, c) for c in report.columns])
    if report.total is not None:
        total = dict(report.total)
        first = report.columns[0]
        if first.kind == "text" and not total.get(first.key):
            total[first.key] = "合计"
        data.append([_pdf_text(total, c) for c in report.columns])
    widths = [c.width for c in report.columns]
    scale = (doc.width) / sum(widths)
    table = Table(data, colWidths=[w * scale for w in widths], repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E6F4EE")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 1), (-1, -1), "RIGHT"),
    ]
    for c, column in enumerate(report.columns):
        if column.kind in ("text", "yesno"):
            style.append(("ALIGN", (c, 1), (c, -1), "LEFT" if column.kind == "text" else "CENTER"))
    if report.total is not None:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#F0F4F8")))
    table.setStyle(TableStyle(style))
    story = [Paragraph(report.title, title), Spacer(1, 2 * mm), Paragraph(report.subtitle, small), Spacer(1, 3 * mm), table,
             Spacer(1, 3 * mm)]
    story += [Paragraph(note, small) for note in report.notes]

    def footer(canvas, doc_):
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawRightString(doc_.pagesize[0] - 10 * mm, 6 * mm, f"第 {doc_.page} 页")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


# ---------------------------------------------------------------- 催缴 list

REMIND_COLUMNS = [
    Column("序号", "serial", "text", 6), Column("户号", "household", "text", 14), Column("户主", "head", "text", 10),
    Column("姓名", "name", "text", 10), Column("与户主关系", "relation", "text", 8), Column("身份证号码", "id", "text", 22),
    Column("联系电话", "phone", "text", 14), Column("上年参保状态", "last_status", "text", 12),
    Column("本年状态", "this_status", "text", 12), Column("应缴金额（元）", "owed", "text", 12),
    Column("金额依据", "basis", "text", 8), Column("资助身份/说明", "owed_note", "text", 18),
    Column("催缴结果", "mark", "text", 12), Column("标记时间", "marked_at", "text", 16), Column("标记人", "marked_by", "text", 12),
    Column("催缴说明", "note", "text", 24),
]


def remind_json(rows) -> list[dict]:
    from yibao.core.clock import business_time
    from yibao.policy.vocabulary import identity_name

    out = []
    for r in rows:
        note = r.owed_note
        if r.owed_basis in ("核定", "测算") and note:
            try:
                note = identity_name(note)
            except Exception:  # an unknown code stays as it is
                pass
        out.append({
            "resident_id": r.resident.pk, "name": r.resident.name, "id_number": r.shown_id,
            "household_number": r.household_number, "head_name": r.head_name, "relation": r.resident.relation_to_head,
            "phone": r.resident.phone, "last_status": r.last_status, "this_status": r.this_status,
            "register_status": r.resident.get_status_display(),
            "owed": r.owed, "owed_basis": r.owed_basis, "owed_note": note,
            "mark": r.mark.get_outcome_display() if r.mark else "", "mark_code": r.mark.outcome if r.mark else "",
            "marked_at": business_time(r.mark.marked_at).strftime("%Y-%m-%d %H:%M") if r.mark else "",
            "marked_by": r.mark.marked_by_name if r.mark else "", "mark_note": r.mark.note if r.mark else "",
            "closed": r.closed, "refused": r.refused,
        })
    return out


def remind_table_rows(rows) -> list[dict]:
    return [
        {
            "serial": str(i), "household": p["household_number"], "head": p["head_name"], "name": p["name"],
            "relation": p["relation"], "id": p["id_number"], "phone": p["phone"], "last_status": p["last_status"],
            "this_status": p["this_status"] if p["register_status"] == "正常" else f"{p['this_status']}（{p['register_status']}）",
            "owed": f"{p['owed']}" if p["owed"] is not None else "", "basis": p["owed_basis"], "owed_note": p["owed_note"],
            "mark": p["mark"], "marked_at": p["marked_at"], "marked_by": p["marked_by"], "note": p["mark_note"],
        }
        for i, p in enumerate(remind_json(rows), start=1)
    ]


REMIND_NOTE = "应缴金额：已核定的取核定金额，未核定的按缴费政策即时测算（上年已参保，无断缴）。"


def remind_report(rows, *, village_code: str, benefit_year: int, label: str | None = None) -> Report:
    """One village's 催缴 list as a Report (the title names the village beside its code)."""
    from yibao.core.clock import business_now
    from yibao.regions.selectors import region_label

    label = label or region_label(village_code)
    refused = sum(1 for r in rows if r.refused)
    refused = f"，其中拒缴 {refused} 人" if refused else ""
    return Report(
        title=f"{label}（{village_code}） {benefit_year}年度城乡居民医保催缴名单",
        subtitle=f"上年度参保、本年度尚未缴费的居民，共 {len(rows)} 人{refused}；导出时间 {business_now():%Y-%m-%d %H:%M}",
        columns=REMIND_COLUMNS, rows=remind_table_rows(rows), total=None, notes=[REMIND_NOTE],
        filename=f"催缴名单_{village_code}_{benefit_year}", sheet="催缴名单",
    )


def write_remind_xlsx(rows, *, village_code: str, benefit_year: int) -> bytes:
    return report_xlsx(remind_report(rows, village_code=village_code, benefit_year=benefit_year))
