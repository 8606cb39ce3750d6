"""The 催缴 workbook of a county or a township: one sheet per village (named by the village) and a 汇总 sheet.

A village's sheet is the same table as the village's own 催缴 export; ID numbers are masked as there
(`scope.show_id` in remind.remind_rows).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from django.http import Http404

from yibao.progress import remind, reports

SHEET_MAX = 31
_BAD = re.compile(r"[\[\]:*?/\\]")
SUMMARY = "汇总"
STATES = (("open", "待催缴"), ("refused", "其中拒缴"), ("closed", "已核实不再参保"), ("all", "全部"))


@dataclass
class VillageList:
    code: str
    name: str
    township: str
    rows: list = field(default_factory=list)

    @property
    def refused(self) -> int:
        """其中拒缴: listed people whose newest mark is 拒缴."""
        return sum(1 for r in self.rows if r.refused)

    @property
    def owed_total(self):
        return sum((r.owed for r in self.rows if r.owed is not None), start=0)


def sheet_names(names: list[str], reserved: tuple[str, ...] = (SUMMARY,)) -> list[str]:
    """Excel sheet names for `names`, in order: no []:*?/\\, at most 31 characters, unique ignoring case
    (a repeated name gets （2）, （3）…; 'History' is reserved by Excel)."""
    taken = {r.casefold() for r in (*reserved, "history")}
    out = []
    for raw in names:
        base = (_BAD.sub("_", raw or "").strip("' ") or "村")[:SHEET_MAX]
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            suffix = f"（{n}）"
            name = base[:SHEET_MAX - len(suffix)] + suffix
        taken.add(name.casefold())
        out.append(name)
    return out


def remind_book_lists(*, scope, region_code: str, benefit_year: int, state: str = "open", on=None) -> list[VillageList]:
    """The 催缴 lists of every village in a county (6 digits) or township (9) within the scope, in code order."""
    from yibao.regions.models import Region

    if not (region_code and region_code.isdigit() and len(region_code) in (6, 9, 12)):
        raise Http404("请指定6位县级或9位乡镇级区划代码。")
    scope.require_region(region_code)
    villages = list(Region.objects.filter(level=12, code__startswith=region_code).order_by("code").values_list("code", "name"))
    villages = [(c, n) for c, n in villages if scope.contains(c)]
    if not villages:
        raise Http404(f"区划 {region_code} 下没有村（社区）。")
    townships = dict(Region.objects.filter(level=9, code__startswith=region_code[:6]).values_list("code", "name"))
    with_rows = set(
        remind.remind_base(county_code=region_code[:6], benefit_year=benefit_year)
        .filter(resident__village_code__startswith=region_code).values_list("resident__village_code", flat=True).distinct()
    )
    out = []
    for code, name in villages:
        rows = (remind.remind_rows(scope=scope, village_code=code, benefit_year=benefit_year, state=state, on=on)
                if code in with_rows else [])
        out.append(VillageList(code=code, name=name, township=townships.get(code[:9], code[:9]), rows=rows))
    return out


def remind_book_xlsx(lists: list[VillageList], *, region_code: str, region_name: str, benefit_year: int,
                     state_label: str = "待催缴") -> bytes:
    import xlsxwriter

    from yibao.core.clock import business_now

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    names = sheet_names([v.name for v in lists])
    summary = book.add_worksheet(SUMMARY)
    title = book.add_format({"bold": True, "font_size": 14})
    head = book.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#E6F4EE"})
    cell = book.add_format({"border": 1})
    text = book.add_format({"border": 1, "num_format": "@"})
    money = book.add_format({"border": 1, "num_format": "#,##0.00"})
    link = book.add_format({"border": 1, "font_color": "blue", "underline": 1})
    bold = book.add_format({"border": 1, "bold": True})
    bold_money = book.add_format({"border": 1, "bold": True, "num_format": "#,##0.00"})
    summary.write_string(0, 0, f"{region_name}（{region_code}） {benefit_year}年度城乡居民医保催缴名单汇总", title)
    summary.write_string(1, 0, f"{state_label}；共 {len(lists)} 个村（社区），{sum(len(v.rows) for v in lists)} 人；"
                               f"导出时间 {business_now():%Y-%m-%d %H:%M}")
    headers = ("序号", "乡镇（街道）", "村（社区）", "区划代码", "人数", "其中拒缴", "应缴金额合计（元）", "工作表")
    for c, (label, width) in enumerate(zip(headers, (6, 16, 18, 14, 8, 10, 16, 18))):
        summary.write_string(3, c, label, head)
        summary.set_column(c, c, width)
    r = 4
    for i, (village, sheet) in enumerate(zip(lists, names), start=1):
        summary.write_number(r, 0, i, cell)
        summary.write_string(r, 1, village.township, text)
        summary.write_string(r, 2, village.name, text)
        summary.write_string(r, 3, village.code, text)
        summary.write_number(r, 4, len(village.rows), cell)
        summary.write_number(r, 5, village.refused, cell)
        summary.write_number(r, 6, float(village.owed_total), money)
        summary.write_url(r, 7, f"internal:'{sheet}'!A1", link, string=sheet)
        r += 1
    summary.write_string(r, 1, "合计", bold)
    for c in (0, 2, 3, 7):
        summary.write_blank(r, c, None, bold)
    summary.write_number(r, 4, sum(len(v.rows) for v in lists), bold)
    summary.write_number(r, 5, sum(v.refused for v in lists), bold)
    summary.write_number(r, 6, float(sum(v.owed_total for v in lists)), bold_money)
    summary.freeze_panes(4, 0)
    for village, sheet in zip(lists, names):
        report = reports.remind_report(village.rows, village_code=village.code, benefit_year=benefit_year,
                                       label=f"{village.township} / {village.name}")
        reports.write_report_sheet(book, report, sheet)
    book.close()
    return buffer.getvalue()


def remind_export(*, scope, code: str, year: int, state: str, on=None) -> tuple[bytes, int, str]:
    """The 催缴 export of a village (one sheet) or of a township/county (a sheet per village and 汇总):
    (xlsx bytes, people, file name). Shared by the page, the API and the CLI."""
    from yibao.core.downloads import region_file_name
    from yibao.regions.selectors import region_name

    state = state if state in dict(STATES) else "open"
    if len(code) == 12:
        rows = remind.remind_rows(scope=scope, village_code=code, benefit_year=year, state=state, on=on)
        content, people = reports.write_remind_xlsx(rows, village_code=code, benefit_year=year), len(rows)
    else:
        lists = remind_book_lists(scope=scope, region_code=code, benefit_year=year, state=state, on=on)
        content = remind_book_xlsx(lists, region_code=code, region_name=region_name(code), benefit_year=year,
                                   state_label=dict(STATES)[state])
        people = sum(len(v.rows) for v in lists)
    from yibao.core.clock import business_today

    return content, people, region_file_name(code, "催缴名单", year, extra=f"{business_today():%Y%m%d}")
