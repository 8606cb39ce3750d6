"""参保群体名单: a list of one enrollment group (新生儿, 大学生, 刑满释放人员, 退役军人 ...) from another office.

validate_groups checks every row at once (polars), groups_write upserts the residents' group facts
in bulk, and groups_reassess re-assesses the people whose group changed in every open campaign
that was assessed, listing those whose amount or benefit date changed (the review list: the
report's sheet 核定变化（待复核）and the change-log entries 参保群体变化后核定改变).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.db import connection
from django.utils import timezone

from yibao.core.progress import NullProgress, Progress
from yibao.core.services import event_bulk_record
from yibao.imports.readers import Table
from yibao.imports.validation import Checked, Context, IssueLog, map_distinct, row_hashes
from yibao.imports.validation.common import (
    _check_date,
    _check_duplicates,
    _check_ids,
    _check_length,
    _without_errors,
)
from yibao.imports.validation.lists import _join_residents
from yibao.policy.vocabulary import GROUPS, UnknownTerm, group_code, group_name
from yibao.registry.models import GroupFact

# what the one 事件日期 column means for each group (the notices' 出生/入学/毕业/释放/退役/离职)
EVENT_LABELS = {
    "newborn": "出生日期",
    "university_student": "入学日期",
    "university_freshman": "入学日期",
    "graduate": "毕业日期",
    "released_prisoner": "释放日期",
    "veteran": "退役日期",
    "employee_to_resident": "离职日期",
    "migrant_worker": "外出务工日期",
    "retired_fisher": "退捕日期",
}
# groups whose rules count days from the event: a row without it is imported with a warning
EVENT_NEEDED = {"university_freshman", "graduate", "released_prisoner", "veteran", "employee_to_resident"}
HASHED = ["event_date", "place", "end_date"]
REVIEW_ACTION = "group_reassessed"
REASSESS_CHUNK = 5000  # residents re-assessed at once (SQL parameter lists stay short)


def group_param(text: str) -> str:
    """--group 新生儿 / newborn → newborn; UnknownTerm (Chinese) otherwise."""
    return group_code(text)


def _row_group(text: str) -> tuple[str | None]:
    try:
        return (group_code(text),)
    except UnknownTerm:
        return (None,)


def validate_groups(table: Table, ctx: Context) -> Checked:
    log = IssueLog(table)
    present = set(table.present)
    group = ctx.group
    label = EVENT_LABELS.get(group, "事件日期")
    df = _check_ids(table.df, log, ctx)
    _check_length(df, log, "name", 50, "姓名")
    _check_length(df, log, "place", 200, "学校或单位")
    if "group" in present:
        df = map_distinct(df, "group", _row_group, {"row_group": pl.String})
        log.add(df, pl.col("group").is_not_null() & pl.col("row_group").is_null(), "group",
                pl.format("未知的参保群体“{}”：应为 {} 之一", pl.col("group"), pl.lit("、".join(GROUPS.values()))))
        log.add(df, pl.col("row_group").is_not_null() & (pl.col("row_group") != group), "group",
                f"与本次导入的参保群体（{group_name(group)}）不一致：一个文件只导入一个群体")
    df = _check_date(df, log, ctx, "event_date")
    df = _check_date(df, log, ctx, "end_date")
    if group == "newborn":  # a birth list: the birth date is the event; the ID number is authoritative
        log.add(df, (pl.col("event_date_date") != pl.col("idn_birth")).fill_null(False), "event_date",
                pl.format("出生日期与身份证号码中的出生日期（{}）不一致", pl.col("idn_birth")))
        df = df.with_columns(pl.coalesce("event_date_date", "idn_birth").alias("event_date_date"))
    log.add(df, (pl.col("event_date_date") > pl.lit(ctx.today)).fill_null(False), "event_date",
            f"{label}晚于今天（{ctx.today.isoformat()}）")
    log.add(df, (pl.col("event_date_date") < pl.col("idn_birth")).fill_null(False), "event_date",
            pl.format(f"{label}早于出生日期（{{}}）", pl.col("idn_birth")))
    log.add(df, (pl.col("end_date_date") < pl.col("event_date_date")).fill_null(False), "end_date",
            f"终止日期早于{label}")
    if group in EVENT_NEEDED:
        blank = pl.col("event_date").is_null() if "event_date" in df.columns else pl.lit(True)
        log.add(df, pl.col("event_date_date").is_null() & blank, "event_date",
                f"没有{label}：政策中按{label}起算的规定（如90天内参保）对此人不适用，请补填", level="warning")
    data = [c for c in ("event_date_date", "place", "end_date_date") if c in df.columns]
    _check_duplicates(df, log, ["idn_number"], data, "id_number", "同一人")
    df = _join_residents(df, log, ctx)
    none = pl.lit(None, dtype=pl.String)
    rows = _without_errors(df, log).select(
        "_row",
        pl.col("idn_number").alias("id_number"),
        "resident_id",
        pl.lit(group).alias("group"),
        pl.col("event_date_date").alias("event_date"),
        (pl.col("place") if "place" in present else none).fill_null("").alias("place"),
        pl.col("end_date_date").alias("end_date"),
    )
    return log.checked(rows, table.present)


def _iso(value):
    return value.isoformat() if value is not None else None


def groups_write(
    *, rows: pl.DataFrame, county_code: str, job=None, source_name: str = "", actor=None, reason: str = "",
    progress: Progress | None = None,
) -> tuple[dict, pl.DataFrame]:
    """Add new (resident, group) facts and update changed ones (event date, school or employer, end
    date); identical rows are left alone. Returns the counts and the rows that changed (_row, resident_id)."""
    progress = progress or NullProgress()
    from yibao.imports.writers import BATCH, fetch_by_keys

    rows = rows.with_columns(row_hashes(rows, HASHED))
    table = GroupFact._meta.db_table
    group = rows["group"][0] if rows.height else ""
    existing = fetch_by_keys(
        f'SELECT id, resident_id, event_date, place, end_date, row_hash FROM {table} '
        f'WHERE county_code = %s AND "group" = %s AND resident_id IN ({{keys}})',
        rows["resident_id"].unique().to_list(),
        {"fact_id": pl.Int64, "resident_id": pl.Int64, "old_event_date": pl.Date, "old_place": pl.String,
         "old_end_date": pl.Date, "old_hash": pl.String},
        [county_code, group],
    )
    joined = rows.join(existing, on="resident_id", how="left", maintain_order="left")
    new = joined.filter(pl.col("fact_id").is_null())
    # a fact entered by hand has no hash: it counts as changed only if its values differ
    same_values = (
        (pl.col("old_event_date").eq_missing(pl.col("event_date")))
        & (pl.col("old_place").fill_null("") == pl.col("place"))
        & (pl.col("old_end_date").eq_missing(pl.col("end_date")))
    )
    stale_hash = pl.col("fact_id").is_not_null() & (pl.col("old_hash") != pl.col("row_hash"))
    changed = joined.filter(stale_hash & ~same_values)
    rehash = joined.filter(stale_hash & same_values)
    now = timezone.now()
    progress.step(f"新增 {new.height} 条参保群体")
    objs = [
        GroupFact(county_code=county_code, resident_id=r["resident_id"], group=r["group"], event_date=r["event_date"],
                  place=r["place"][:200], end_date=r["end_date"], source_job=job, source_name=source_name[:255],
                  row_hash=r["row_hash"], created_at=now, updated_at=now)
        for r in new.iter_rows(named=True)
    ]
    for offset in range(0, len(objs), BATCH):
        GroupFact.objects.bulk_create(objs[offset: offset + BATCH])
        progress.advance(min(BATCH, len(objs) - offset))
    stamp = connection.ops.adapt_datetimefield_value(now)
    updates = [(_iso(r["event_date"]), r["place"][:200], _iso(r["end_date"]), job.pk if job else None,
                source_name[:255], r["row_hash"], stamp, r["fact_id"]) for r in changed.iter_rows(named=True)]
    updates += [(_iso(r["event_date"]), r["place"][:200], _iso(r["end_date"]), job.pk if job else None,
                 source_name[:255], r["row_hash"], stamp, r["fact_id"]) for r in rehash.iter_rows(named=True)]
    if updates:
        progress.step(f"更新 {changed.height} 条参保群体")
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET event_date = %s, place = %s, end_date = %s, source_job_id = %s, source_name = %s, "
                f"row_hash = %s, updated_at = %s WHERE id = %s",
                updates,
            )
    event_bulk_record(
        rows=[
            {"county_code": county_code, "entity": "resident", "entity_id": r["resident_id"], "action": "group_add",
             "after": {"group": r["group"], "event_date": _iso(r["event_date"]), "place": r["place"] or None,
                       "end_date": _iso(r["end_date"])}, "reason": reason}
            for r in new.iter_rows(named=True)
        ] + [
            {"county_code": county_code, "entity": "resident", "entity_id": r["resident_id"],
             "action": "group_import_update",
             "before": {"group": r["group"], "event_date": _iso(r["old_event_date"]), "place": r["old_place"] or None,
                        "end_date": _iso(r["old_end_date"])},
             "after": {"group": r["group"], "event_date": _iso(r["event_date"]), "place": r["place"] or None,
                       "end_date": _iso(r["end_date"])}, "reason": reason}
            for r in changed.iter_rows(named=True)
        ],
        actor=actor,
    )
    touched = pl.concat([new.select("_row", "resident_id"), changed.select("_row", "resident_id")])
    counts = {"imported": new.height, "updated": changed.height,
              "unchanged": rows.height - new.height - changed.height}
    return counts, touched


# ---- flags for change ---------------------------------------------------------------------------

REVIEW_SCHEMA = {"_row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String, "level": pl.String}


def _money(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def _day(value) -> str:
    return "—" if value is None else value.isoformat()


def groups_reassess(*, county_code: str, touched: pl.DataFrame, group: str, actor=None, reason: str = "",
                    progress: Progress | None = None) -> pl.DataFrame:
    """Re-assess the residents whose group fact was added or changed, in every open campaign of the
    county that has been assessed (like 重新核定此人, for many at once). Each person whose 应缴,
    whether accepted, or 待遇起始日 changed gets a change-log entry (resident.group_reassessed) and
    a line of the review list, returned as report lines (level "review")."""
    from yibao.enrollment.models import Assessment, Campaign
    from yibao.enrollment.services import assessment_date
    from yibao.enrollment.services.assessment import _assess

    progress = progress or NullProgress()
    ids = touched.get_column("resident_id").unique().to_list() if touched.height else []
    lines: list[tuple] = []
    if not ids:
        return pl.DataFrame(schema=REVIEW_SCHEMA)
    row_of = dict(touched.select("resident_id", "_row").iter_rows())
    campaigns = Campaign.objects.filter(county_code=county_code, status=Campaign.Status.OPEN, imported=False,
                                        last_assessed_on__isnull=False).order_by("benefit_year")
    events = []
    fields = ("resident_id", "accepted", "payable", "benefit_start", "rule")
    for campaign, chunk in ((c, ids[i:i + REASSESS_CHUNK]) for c in campaigns for i in range(0, len(ids), REASSESS_CHUNK)):
        progress.step(f"重新核定 {len(chunk)} 人（{campaign.benefit_year}年度）")
        stored = Assessment.objects.filter(campaign=campaign, resident_id__in=chunk)
        before = {r[0]: r for r in stored.values_list(*fields)}
        _assess(campaign=campaign, on=assessment_date(campaign=campaign), resident_ids=chunk)
        after = {r[0]: r for r in stored.values_list(*fields)}
        for rid in chunk:
            old, new = before.get(rid), after.get(rid)
            if old is None or new is None or old[1:4] == new[1:4]:
                continue  # never assessed before (a newcomer): nothing to compare
            what = []
            if old[1] != new[1]:
                what.append("由不予受理变为可受理" if new[1] else "由可受理变为不予受理")
            if old[2] != new[2]:
                what.append(f"应缴由 {_money(old[2])} 元变为 {_money(new[2])} 元")
            if old[3] != new[3]:
                what.append(f"待遇起始日由 {_day(old[3])} 变为 {_day(new[3])}")
            text = f"{campaign.benefit_year}年度核定已改变：{'，'.join(what)}，请复核"
            lines.append((row_of.get(rid, 0), "参保群体", group_name(group), text, "review"))
            events.append({
                "county_code": county_code, "entity": "resident", "entity_id": rid, "action": REVIEW_ACTION,
                "before": {"benefit_year": campaign.benefit_year, "accepted": old[1], "payable": _money(old[2]),
                           "benefit_start": _iso(old[3]), "rule": old[4]},
                "after": {"benefit_year": campaign.benefit_year, "accepted": new[1], "payable": _money(new[2]),
                          "benefit_start": _iso(new[3]), "rule": new[4]},
                "reason": reason,
            })
    event_bulk_record(rows=events, actor=actor)
    return pl.DataFrame(lines, schema=REVIEW_SCHEMA, orient="row")


def today_default() -> dt.date:
    from yibao.core.clock import business_today

    return business_today()
