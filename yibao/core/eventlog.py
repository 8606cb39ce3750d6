"""The change log's filters (page, API and CLI read them alike) and its audit export (xlsx)."""

from __future__ import annotations

from pathlib import Path

from yibao.core.eventtext import ACTION_LABELS, event_rows
from yibao.core.inputs import BadInput, parse_date

EXPORT_LIMIT = 200_000
CHUNK = 2000
EXPORT_COLUMNS = ["时间", "操作人", "角色", "区划", "动作", "变更内容", "原因", "请求编号"]


def event_filters(data) -> dict:
    """The change log's filters from a query (GET, API or CLI values), checked: BadInput with a Chinese message."""
    def text(key: str, limit: int) -> str:
        return str(data.get(key) or "").strip()[:limit]

    action = text("action", 60)
    if action and action not in ACTION_LABELS:
        raise BadInput(f"未知的动作：{action}", "action")
    date_from = parse_date(data.get("from") or None, label="起始日期", field="from")
    date_to = parse_date(data.get("to") or None, label="截止日期", field="to")
    if date_from and date_to and date_to < date_from:
        raise BadInput(f"截止日期 {date_to} 早于起始日期 {date_from}。", "to")
    return {"person": text("person", 50) or None, "user": text("user", 150) or None, "action": action or None,
            "date_from": date_from, "date_to": date_to, "request_id": text("request", 64) or None}


def action_choices() -> list[tuple[str, str]]:
    """The filter's select: Chinese action names, sorted by the entity they act on."""
    return list(ACTION_LABELS.items())


def county_title(code: str) -> str:
    """'怀远县（340321）', or '全部县' for an unrestricted reader."""
    if not code:
        return "全部县"
    from yibao.regions.selectors import region_name

    name = region_name(code)
    return f"{name}（{code}）" if name != code else code


def export_file_name(scope, day) -> str:
    return f"变更记录_{county_title(scope.region_code[:6])}_{day:%Y%m%d}.xlsx"


def events_export(*, events, path: str | Path, title: str = "变更记录") -> int:
    """Write the events (a queryset, newest first) as an xlsx for audit; returns the number of rows."""
    import xlsxwriter
    from django.utils import timezone

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("变更记录")
    bold = book.add_format({"bold": True, "bg_color": "#F0F4F8", "border": 1})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet.write(0, 0, title, book.add_format({"bold": True, "font_size": 14}))
    for i, label in enumerate(EXPORT_COLUMNS):
        sheet.write(1, i, label, bold)
    for i, width in enumerate([18, 12, 16, 18, 14, 70, 40, 36]):
        sheet.set_column(i, i, width, wrap if i in (5, 6) else None)
    count, start = 0, 0
    while count < EXPORT_LIMIT:
        chunk = list(events[start:start + CHUNK])
        if not chunk:
            break
        for row in event_rows(chunk):
            values = [timezone.localtime(row["at"]).strftime("%Y-%m-%d %H:%M:%S"), row["actor"], row["role"],
                      row["region"], row["action"], row["what"], row["reason"], row["request_id"]]
            for col, value in enumerate(values):
                sheet.write_string(2 + count, col, str(value or ""))
            count += 1
        start += CHUNK
    sheet.freeze_panes(2, 0)
    book.close()
    return count
