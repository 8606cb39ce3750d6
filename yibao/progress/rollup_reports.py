"""The city's 周报 (a province's likewise): its counties' (cities') figures side by side, one row each, and the
whole as the last row, as xlsx and PDF with the county weekly report's writers (reports.py)."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Sum

from yibao.progress import rollup
from yibao.progress.pace import percent
from yibao.progress.reports import Column, Report, _cn_date, report_pdf, report_xlsx


def _columns(part: str) -> list[Column]:
    return [
        Column("序号", "serial", "text", 6), Column(part, "name", "text", 14), Column("区划代码", "code", "text", 9),
        Column("应参保人数", "total"), Column("参保人数", "enrolled"), Column("已缴人数", "paid"),
        Column("已缴金额（元）", "amount", "money", 14), Column("参保率", "rate", "rate", 9),
        Column("序时进度", "pace", "rate", 9), Column("序时人数", "expected"), Column("达到序时进度", "on_pace", "yesno", 8),
        Column("差序时人数", "behind"), Column("未参保人数", "gap"), Column("特殊群体参保率", "special_rate", "rate", 10),
        Column("上年参保人数", "last_year"), Column("已续保", "renewed"), Column("续保率", "renewal_rate", "rate", 9),
        Column("待催缴", "remind_open"), Column("其中拒缴", "remind_refused", width=8),
        Column("本周新增", "new"), Column("对账", "reconcile", "text", 14), Column("排名", "rank", width=6),
        Column("备注", "marks", "text", 14),
    ]


def week_new(*, region_code: str, benefit_year: int, since: dt.date, until: dt.date) -> dict[str, int]:
    """Enrollments completed per county in (since, until], from the counties' own daily curves (AreaDay)."""
    from yibao.progress.models import AreaDay

    rows = (AreaDay.objects.filter(county_code__startswith=region_code, benefit_year=benefit_year,
                                   region_code=F("county_code"), day__gt=since, day__lte=until)
            .values("county_code").annotate(p=Sum("paid"), e=Sum("exempt")))
    return {r["county_code"]: (r["p"] or 0) + (r["e"] or 0) for r in rows}


def _row(r: rollup.RollupRow, new: int, serial: str = "") -> dict:
    return {
        "serial": serial, "name": r.name, "code": r.code, "total": r.target, "enrolled": r.enrolled, "paid": r.paid,
        "amount": r.amount, "rate": r.rate, "pace": r.share, "expected": r.expected, "on_pace": r.on_pace,
        "behind": r.behind, "gap": r.gap, "special_rate": r.special_rate, "last_year": r.last_year,
        "renewed": r.renewed, "renewal_rate": r.renewal_rate, "remind_open": r.remind_open,
        "remind_refused": r.remind_refused, "new": new, "reconcile": r.reconcile_label, "rank": r.rank,
        "marks": "、".join(r.marks),
    }


def rollup_weekly(*, scope, region_code: str, benefit_year: int | None = None, on: dt.date | None = None) -> Report:
    """周报 of a city (its counties) or a province (its cities), ranked by 参保率."""
    result = rollup.rollup(scope=scope, region_code=region_code, benefit_year=benefit_year, on=on)
    new = week_new(region_code=result.region_code, benefit_year=result.benefit_year,
                   since=result.on - dt.timedelta(days=7), until=result.on)

    def new_of(row):
        return sum(n for county, n in new.items() if county.startswith(row.code))

    rows = [_row(r, new_of(r), str(i)) for i, r in enumerate(result.rows, start=1)]
    total = _row(result.total, sum(new.values()), "合计") | {"name": "", "code": result.region_code, "rank": None}
    part = result.part_label
    notes = [
        f"各{part}的数字与其征缴进度页面相同；合计行为各{part}之和：应参保、参保、已缴、金额、序时人数、差序时人数、待催缴都是相加，"
        "参保率、续保率按相加后的人数计算（不是各行比率的平均）。",
        "序时人数按各县自己的征缴期和应参保人数计算（向上取整）；合计的序时进度 = 序时人数之和 ÷ 应参保人数之和；"
        "差序时人数为未达序时的县所差人数之和。",
        "未下达目标的县，参保人数计入合计，应参保人数不计入；未开征的县没有序时进度和对账要求。",
        "对账：按缴费政策规定的每月对账次数（未规定时每月 2 次），征缴期内已过去的月份都达到次数的为“达标”；没有对账记录的为“未对账”。",
        "本周新增为截至日前 7 天内完成参保的人数。",
    ]
    if result.past and result.source == "rebuilt":
        notes.append("有的县该日没有当日统计，按缴费日期和参保登记日期补算。")
    pace = f"；合计序时进度 {percent(result.total.share)}" if result.total.share is not None else ""
    return Report(
        title=f"{result.name}{result.benefit_year}年度城乡居民医保参保缴费进度周报（各{part}）",
        subtitle=f"截至{_cn_date(result.on)}；{result.total.counties} 个县（市、区），"
                 f"{result.total.counties_open} 个已开征{pace}",
        columns=_columns(part), rows=rows, total=total, notes=notes,
        filename=f"{result.name}-{result.region_code}-参保缴费进度周报-{result.on:%Y%m%d}", sheet="周报",
    )


def render(report: Report, fmt: str) -> bytes:
    return report_xlsx(report) if fmt == "xlsx" else report_pdf(report)


def record_export(*, code: str, year: int, fmt: str, report: Report, actor) -> None:
    from yibao.core.services import event_record

    event_record(county_code=code, entity="export", entity_id="progress_rollup_weekly", action="export", actor=actor,
                 after={"region": code, "benefit_year": year, "format": fmt, "rows": len(report.rows)},
                 reason=f"导出{report.title}")
