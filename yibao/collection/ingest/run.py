"""The ingest of one channel file: read, check, decide and write under the county's series lock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from django.db import transaction
from django.utils import timezone

from yibao.collection.ingest.decide import (
    _attach_facts,
    _classify,
    _gate_rows,
    _person_facts,
    _quote_rows,
    employee_years,
    gate_births,
    slice_facts,
)
from yibao.collection.ingest.frames import (
    STAGE,
    STAGE_RES,
    copy_rows,
    fetch,
    sqlite_cache,
    stage_create,
    stage_drop,
    stage_index,
)
from yibao.collection.ingest.rows import (
    FLAG_KINDS,
    ISSUE_SCHEMA,
    KIND,
    IngestError,
    _issue,
    check_rows,
    county_of,
    ingest_county_check,
    ingest_slice_rows,
)
from yibao.collection.ingest.write import (
    _write,
)
from yibao.collection.models import (
    Payment,
)
from yibao.core.progress import NullProgress, Progress
from yibao.core.services import job_outcome_record
from yibao.enrollment.models import Campaign
from yibao.regions.selectors import county_label
from yibao.registry.models import Resident

# ---------------------------------------------------------------- the ingest


def payments_ingest(
    *, path: str | Path, actor=None, county_code: str | None = None, job=None, progress: Progress | None = None,
    report_path: str | Path | None = None, now: dt.datetime | None = None,
) -> dict:
    """Ingest one channel file (CSV or xlsx); returns the counts and the report path."""
    from yibao.imports.readers import read_table

    progress = progress or NullProgress()
    now = now or timezone.now()
    county_code = ingest_county_check(county_code) or None  # an unknown county is refused before the file is read
    progress.step("读取文件")
    table = read_table(path, KIND)
    total_rows = table.df.height
    progress.start(total_rows, "校验各行")
    rows, issues, in_file_repeats = check_rows(table, now=now)
    table.df = table.df.clear()  # the checked lines are all that is needed from here on
    if county_code is None:
        if rows.height == 0:
            raise IngestError("文件中没有可入账的行（全部行都有错误），也无法确定所属县。请指定县级区划代码后重新导入以取得错误报告。")
        county_code = county_of(rows)
    county_code = str(county_code)
    progress.advance(total_rows // 5)

    counts = {"rows": total_rows, "booked": 0, "flagged": 0, "flagged_by_kind": {k: 0 for k in FLAG_KINDS},
              "unchanged": in_file_repeats, "rejected": 0, "warnings": 0, "report": "", "county_code": county_code}
    title = f"渠道缴费明细导入报告：{table.label('external_id')} 等，共{total_rows}行"
    with sqlite_cache(), transaction.atomic():
        handed = [rows]
        del rows  # held from here on only by the slices
        written, extra_issues = _ingest_rows(rows=handed.pop(), county_code=county_code, actor=actor, job=job,
                                             progress=progress)
        counts.update({k: v for k, v in written.items() if k in ("booked", "flagged", "flagged_by_kind", "years")})
        counts["unchanged"] += written["unchanged"]
        issues = pl.concat([issues, extra_issues]).sort("_row", "level", maintain_order=True) if extra_issues.height else issues
        counts["rejected"] = issues.filter(pl.col("level") == "error").get_column("_row").n_unique()
        rejected_rows = issues.filter(pl.col("level") == "error").get_column("_row").unique().implode()
        # 警告 counts rows that went in with a warning: a rejected row is counted once, under 拒绝
        counts["warnings"] = issues.filter((pl.col("level") == "warning") & ~pl.col("_row").is_in(rejected_rows)) \
            .get_column("_row").n_unique()
        # the job's counts and report lines commit with the payments (a crash after this isn't "nothing written")
        job_outcome_record(job=job, result=counts, issues=issues, report_kind="缴费明细", report_title=title)
    if counts["booked"]:
        from yibao.progress.services import progress_refresh_enqueue

        for year in counts.get("years") or ():
            progress_refresh_enqueue(county_code=county_code, benefit_year=year, actor=actor)
    if issues.height:
        from yibao.imports.reports import report_path as default_report_path
        from yibao.imports.reports import report_write

        progress.step(f"写入错误报告（{issues.height} 条）")
        target = Path(report_path) if report_path else default_report_path(job_id=job.pk if job else None, kind="缴费明细")
        report_write(issues=issues, path=target, title=title)
        counts["report"] = str(target)
    progress.step("完成")
    return counts


def _ingest_rows(*, rows: pl.DataFrame, county_code: str, actor, job, progress: Progress):
    """Everything after the file check, inside the file's transaction: the file's years and gate at
    once, then its lines a slice at a time (all lines of one ID number in the same slice, so the
    earliest good payment of a person still books and the later ones are duplicates)."""
    empty_issues = pl.DataFrame(schema=ISSUE_SCHEMA)
    result = {"booked": 0, "flagged": 0, "flagged_by_kind": {k: 0 for k in FLAG_KINDS}, "unchanged": 0, "years": []}
    if rows.height == 0:
        return result, empty_issues

    # campaigns: a year the county has not opened cannot be booked (nor stored: a payment names its campaign)
    years = sorted(rows.get_column("year").unique().to_list())
    campaigns = {c.benefit_year: c for c in Campaign.objects.filter(county_code=county_code, benefit_year__in=years)}
    missing = [y for y in years if y not in campaigns]
    issues = [empty_issues]
    if missing:
        lost = rows.filter(pl.col("year").is_in(missing))
        issues.append(_issue(lost, pl.lit(True), "缴费年度",
                             pl.format("{}尚未开启{}年度征缴，不能入账；请县医保局先开启征缴年度后重新导入",
                                       pl.lit(county_label(county_code)), pl.col("year")),
                             value=pl.col("year").cast(pl.String)))
        rows = rows.filter(~pl.col("year").is_in(missing))
    result["years"] = sorted(campaigns)
    if rows.height == 0:
        return result, issues[-1]
    rows = _gate_rows(rows, campaigns)

    # the county's receipt series of each year: taken first, as the counter does (see services.receipt_series_lock)
    from yibao.collection.services import receipt_series_lock

    for year in sorted(campaigns):
        receipt_series_lock(county_code=county_code, benefit_year=year)

    progress.step("查找缴费人")
    lines = rows.height
    rows, facts, unchanged, repeat_issues = _file_lookup(rows, county_code)
    result["unchanged"] += unchanged
    issues.append(repeat_issues)
    progress.advance(lines // 10)
    years_asked = employee_years(campaigns)

    parts = slices(rows, ingest_slice_rows())
    del rows
    quoted: dict = {}  # decision keys already quoted in an earlier slice, by year
    for i in range(len(parts)):
        part, parts[i] = parts[i], None  # a written slice is let go
        counts, part_issues = _ingest_slice(rows=part, county_code=county_code, campaigns=campaigns, facts=facts,
                                            employee_years=years_asked, actor=actor, job=job, progress=progress,
                                            quoted=quoted)
        del part
        for key in ("booked", "flagged", "unchanged"):
            result[key] += counts[key]
        for kind, n in counts["flagged_by_kind"].items():
            result["flagged_by_kind"][kind] += n
        issues.append(part_issues)
    issues = [i for i in issues if i.height] or [empty_issues]
    return result, pl.concat(issues, how="vertical_relaxed") if len(issues) > 1 else issues[0]


def _file_lookup(rows: pl.DataFrame, county_code: str):
    """Once for the whole file, not per slice (each lookup reads the county's range of a table once):
    the payment ids already stored, the payers in the register, and their facts as the file began.
    Returns (rows to decide, with their resident columns; facts; lines unchanged; their warnings)."""
    issues = pl.DataFrame(schema=ISSUE_SCHEMA)
    stage_create(STAGE, {"row_no": "bigint", "external_id": "varchar(64)", "id_number": "varchar(18)", "year": "integer",
                         "amount": "numeric(12, 2)"})
    copy_rows(STAGE, rows.select(pl.col("_row").alias("row_no"), "external_id", "id_number", "year", "amount"))
    stage_index(STAGE, ["external_id", "id_number"])

    P = Payment._meta.db_table
    # repeats across files: the payment id is already stored for this county (the lines whose content
    # differs from what is stored get a warning each)
    stored = fetch(
        f"SELECT s.row_no, CASE WHEN p.id_number <> s.id_number OR p.amount <> s.amount THEN 1 ELSE 0 END "
        f"FROM {STAGE} s JOIN {P} p ON p.county_code = %s AND p.external_id = s.external_id",
        [county_code], {"_row": pl.Int64, "differs": pl.Boolean},
    )
    if stored.height:
        changed = stored.filter(pl.col("differs")).get_column("_row").to_list()
        if changed:
            detail = fetch(
                f"SELECT s.row_no, p.id_number, p.amount FROM {STAGE} s JOIN {P} p "
                f"ON p.county_code = %s AND p.external_id = s.external_id WHERE s.row_no IN ({', '.join(['%s'] * len(changed[:5000]))})",
                [county_code, *changed[:5000]], {"_row": pl.Int64, "stored_id_number": pl.String, "stored_amount": pl.String},
            )
            issues = _issue(
                rows.join(detail, on="_row"), pl.lit(True), "缴费流水号",
                pl.format("该缴费流水号已入库（身份证号码 {}，金额 {}），本行内容不同，未重复入账，请核实",
                          pl.col("stored_id_number"), pl.col("stored_amount")),
                level="warning", value=pl.col("external_id"))
        rows = rows.filter(~pl.col("_row").is_in(stored.get_column("_row").implode()))

    R = Resident._meta.db_table
    residents = fetch(
        f"SELECT DISTINCT r.id, r.id_number, r.birth_date, r.township_code, r.village_code, r.relation_to_head, r.status "
        f"FROM {R} r WHERE r.county_code = %s AND r.id_number IN (SELECT id_number FROM {STAGE})",
        [county_code],
        {"resident_id": pl.Int64, "id_number": pl.String, "birth_date": pl.Date, "township_code": pl.String,
         "village_code": pl.String, "relation_to_head": pl.String, "resident_status": pl.String},
    )
    rows = gate_births(rows.join(residents, on="id_number", how="left", maintain_order="left"))
    stage_create(STAGE_RES, {"resident_id": "bigint"})
    copy_rows(STAGE_RES, residents.select("resident_id"))
    stage_index(STAGE_RES, ["resident_id"])
    del residents
    facts = _person_facts(county_code)
    stage_drop(STAGE)
    stage_drop(STAGE_RES)
    return rows, facts, stored.height, issues


def slices(rows: pl.DataFrame, size: int) -> list[pl.DataFrame]:
    """The checked lines in slices of about `size`, every line of one ID number in one slice, each in file order."""
    n = -(-rows.height // size)
    if n <= 1:
        return [rows]
    keyed = rows.with_columns((pl.col("id_number").hash(seed=14) % n).alias("_slice"))
    return [part.sort("_row") for part in keyed.partition_by("_slice", maintain_order=True, include_key=False)]


def _ingest_slice(*, rows: pl.DataFrame, county_code: str, campaigns: dict, facts: dict, employee_years: dict,
                  actor, job, progress: Progress, quoted: dict):
    """One slice of the file: attach its people's facts, quote, classify and write it (in the file's transaction)."""
    result = {"booked": 0, "flagged": 0, "flagged_by_kind": {}, "unchanged": 0}
    issues = pl.DataFrame(schema=ISSUE_SCHEMA)
    lines = rows.height
    if lines == 0:
        return result, issues
    part_facts = slice_facts(facts, rows)
    rows = _attach_facts(rows, part_facts, employee_years)

    progress.step("按政策测算应缴金额")
    rows, explanations = _quote_rows(rows, campaigns, quoted=quoted)
    progress.advance(lines // 5)

    progress.step("核对缴费状态")
    rows = _classify(rows, county_code, part_facts)
    del part_facts
    flags = rows.get_column("flag")
    for kind, n in flags.filter(flags != "").value_counts().iter_rows():
        result["flagged_by_kind"][kind] = n
    result["flagged"] = int((flags != "").sum())
    result["booked"] = rows.height - result["flagged"]

    progress.step("写入数据库")
    _write(rows=rows, county_code=county_code, campaigns=campaigns, explanations=explanations,
           actor=actor, job=job, progress=_Share(progress, lines * 7 // 10 - lines // 5))  # of the bar: check 2/10, lookup 1/10, slices 7/10
    return result, issues


class _Share:
    """Advance the job's bar by a slice's remaining share as its tables are written."""

    def __init__(self, progress: Progress, share: int):
        self.progress, self.share = progress, share

    def step(self, message):
        self.progress.step(message)
        self.progress.advance(self.share // 2)  # payments, then events

    def advance(self, k):
        pass
