"""The check of 历年参保名单 from the national platform (insurance type, status, year, amount)."""

from __future__ import annotations

import re
from decimal import Decimal

import polars as pl

from yibao.imports.readers import Table
from yibao.imports.validation.common import (
    Checked,
    Context,
    IssueLog,
    _check_date,
    _check_duplicates,
    _check_ids,
    _check_length,
    _without_errors,
    map_distinct,
)
from yibao.imports.validation.lists import _join_residents


# ---- enrollments (历年参保名单 from the national platform) ------------------------------------------

RESIDENT_INSUTYPE = "390"
INSUTYPE_NAMES = {
    "城乡居民基本医疗保险": "390", "城乡居民医疗保险": "390", "城乡居民医保": "390", "居民基本医疗保险": "390",
    "居民医保": "390", "城乡居民基本医疗": "390", "城镇居民基本医疗保险": "390", "新型农村合作医疗": "390",
    "城乡居民大病医疗保险": "392", "城乡居民大病保险": "392", "大病保险": "392", "居民大病保险": "392",
    "职工基本医疗保险": "310", "职工医保": "310", "城镇职工基本医疗保险": "310",
}
INSUTYPE_LABELS = {"390": "城乡居民基本医疗保险", "392": "城乡居民大病医疗保险", "310": "职工基本医疗保险"}
# psn_insu_stas of the national platform: 1 正常参保, 2 暂停参保, 3 终止参保 (../shared/national-rules.md)
ENROLLMENT_STATUS = {
    "1": "paid", "正常参保": "paid", "参保缴费": "paid", "正常": "paid", "参保": "paid", "正常缴费": "paid",
    "已参保": "paid", "在保": "paid",
    "2": "suspended", "暂停参保": "suspended", "参保暂停": "suspended", "暂停": "suspended", "暂停缴费": "suspended",
    "3": "terminated", "终止参保": "terminated", "参保终止": "terminated", "终止": "terminated", "终止缴费": "terminated",
}
ENROLLMENT_STATUS_LABELS = {"paid": "正常参保", "suspended": "暂停参保", "terminated": "终止参保"}
FIRST_ROSTER_YEAR = 2000
_YEAR = re.compile(r"^(\d{4})(?:年度?|年?\.0+|-\d{2}(?:-\d{2})?|\d{2})?$")
_AMOUNT = re.compile(r"^-?\d+(?:\.\d+)?$")


def _insutype(text: str) -> tuple[str | None, str | None]:
    """'390', '城乡居民基本医疗保险', '390-城乡居民基本医疗保险' → ('390', label); unknown → (None, None)."""
    value = "".join(text.split())
    digits = re.match(r"^(\d{3})(?:\D.*)?$", value)
    if digits:
        code = digits.group(1)
        return code, INSUTYPE_LABELS.get(code, value)
    name = re.sub(r"[（(]?\d{3}[)）]?$", "", value)
    code = INSUTYPE_NAMES.get(name)
    return (code, INSUTYPE_LABELS[code]) if code else (None, None)


def _enrollment_status(text: str) -> tuple[str | None]:
    value = "".join(text.split())
    if value in ENROLLMENT_STATUS:
        return (ENROLLMENT_STATUS[value],)
    if re.fullmatch(r"\d(\.0+)?", value):  # a code stored as a number in xlsx
        return (ENROLLMENT_STATUS.get(value[0]),)
    both = re.fullmatch(r"(\d)[-－、.:：]?(\D+)|(\D+?)[（(](\d)[)）]", value)  # 1-正常参保, 正常参保（1）
    if both:
        code = both.group(1) or both.group(4)
        name = both.group(2) or both.group(3)
        if ENROLLMENT_STATUS.get(code) and ENROLLMENT_STATUS.get(code) == ENROLLMENT_STATUS.get(name):
            return (ENROLLMENT_STATUS[code],)
    return (None,)


def _roster_year(text: str) -> tuple[int | None]:
    """2024, 2024年, 2024年度, 2024.0, 202401 (费款所属期) → 2024."""
    match = _YEAR.match("".join(text.split()))
    return (int(match.group(1)) if match else None,)


def _amount(text: str) -> tuple[str | None, str | None]:
    value = "".join(text.split()).replace(",", "").replace("，", "").removesuffix("元").removeprefix("¥").removeprefix("￥")
    if not _AMOUNT.match(value):
        return None, "缴费金额应为数字（元），如 380 或 380.00"
    amount = Decimal(value)
    if amount < 0:
        return None, "缴费金额不能为负数"
    if amount != amount.quantize(Decimal("0.01")):
        return None, "缴费金额最多两位小数（元、角、分）"
    if amount >= Decimal("1000000"):
        return None, "缴费金额过大"
    return f"{amount.quantize(Decimal('0.01'))}", None


def validate_enrollments(table: Table, ctx: Context) -> Checked:
    """One row per person and year: 390 rows are checked and kept, other 险种 are skipped with a note."""
    log = IssueLog(table)
    present = set(table.present)
    df = table.df
    if "insutype" in present:
        df = map_distinct(df, "insutype", _insutype, {"insutype_code": pl.String, "insutype_label": pl.String})
        other = pl.col("insutype_code").is_not_null() & (pl.col("insutype_code") != RESIDENT_INSUTYPE)
        log.add(
            df, other, "insutype",
            pl.format("险种为{}（{}），不是城乡居民基本医疗保险（390），本行跳过", pl.col("insutype_label"),
                      pl.col("insutype_code")),
            level="skipped",
        )
        df = df.filter(~other.fill_null(False))
        log.add(
            df, pl.col("insutype").is_not_null() & pl.col("insutype_code").is_null(), "insutype",
            pl.format("无法识别的险种类型“{}”（城乡居民基本医疗保险为 390）", pl.col("insutype")),
        )
        log.add(df, pl.col("insutype").is_null(), "insutype", "险种类型为空，按城乡居民基本医疗保险导入", level="warning")
    df = _check_ids(df, log, ctx)
    _check_length(df, log, "name", 50, "姓名")

    df = map_distinct(df, "year", _roster_year, {"year_value": pl.Int32})
    log.add(df, pl.col("year").is_null(), "year", "参保年度为空")
    log.add(df, pl.col("year").is_not_null() & pl.col("year_value").is_null(), "year",
            "参保年度应为四位年份，如 2024 或 2024年度")
    latest = ctx.today.year + 1
    refused: dict[int, str] = {}
    first_opened = min(ctx.opened_years) if ctx.opened_years else None
    for year in sorted(set(df["year_value"].drop_nulls().to_list())):
        if year < FIRST_ROSTER_YEAR or year > latest:
            refused[year] = f"参保年度 {year} 不在 {FIRST_ROSTER_YEAR}—{latest} 年之间"
        elif year in ctx.opened_years:
            refused[year] = (f"{year}年度已在本系统开启征缴（政策 {ctx.opened_years[year]}），参保记录以本系统为准，"
                             "不能导入历史名单")
        elif first_opened is not None and year > first_opened:
            refused[year] = (f"{year}年度晚于本系统开启征缴的{first_opened}年度：历史名单只能导入{first_opened}年度"
                             "以前的年度")
    if refused:
        df = df.with_columns(
            pl.col("year_value").replace_strict(refused, default=None, return_dtype=pl.String).alias("_year_error")
        )
        log.add(df, pl.col("_year_error").is_not_null(), "year", pl.col("_year_error"))

    df = map_distinct(df, "status", _enrollment_status, {"status_code": pl.String})
    log.add(df, pl.col("status").is_null(), "status", "参保状态为空")
    log.add(
        df, pl.col("status").is_not_null() & pl.col("status_code").is_null(), "status",
        pl.format("未知的参保状态“{}”（应为 正常参保、暂停参保、终止参保，或代码 1、2、3）", pl.col("status")),
    )

    df = _check_date(df, log, ctx, "benefit_start")
    df = _check_date(df, log, ctx, "benefit_end")
    log.add(
        df, (pl.col("benefit_end_date") < pl.col("benefit_start_date")).fill_null(False), "benefit_end",
        "待遇终止日期早于待遇开始日期",
    )
    # cover not given: 正常 and 暂停 cover the whole benefit year; a 终止 without dates never began
    covers = pl.col("status_code").is_in(["paid", "suspended"])
    year_first = pl.date(pl.col("year_value"), 1, 1)
    year_last = pl.date(pl.col("year_value"), 12, 31)
    df = df.with_columns(
        pl.when(pl.col("benefit_start_date").is_null() & covers & pl.col("year_value").is_not_null())
        .then(year_first).otherwise(pl.col("benefit_start_date")).alias("start_value"),
        pl.when(pl.col("benefit_end_date").is_null() & covers & pl.col("year_value").is_not_null())
        .then(year_last).otherwise(pl.col("benefit_end_date")).alias("end_value"),
    )
    log.add(
        df,
        pl.col("year_value").is_not_null()
        & ((pl.col("benefit_start_date").dt.year() != pl.col("year_value")).fill_null(False)
           | (pl.col("benefit_end_date").dt.year() != pl.col("year_value")).fill_null(False)),
        "benefit_start" if "benefit_start" in present else "benefit_end",
        pl.format("待遇享受期不在{}年度内，请核对", pl.col("year_value")), level="warning",
    )
    if "amount" in present:
        df = map_distinct(df, "amount", _amount, {"amount_value": pl.String, "_amount_error": pl.String})
        log.add(df, pl.col("_amount_error").is_not_null(), "amount", pl.col("_amount_error"))
    else:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("amount_value"))

    _check_duplicates(
        df, log, ["idn_number", "year_value"], ["status_code", "start_value", "end_value", "amount_value"], "id_number",
        "同一人同一年度",
    )
    df = _join_residents(df, log, ctx)

    # one live enrollment per person and year across counties (looked up by ID number, never joined)
    numbers = df.filter(pl.col("status_code") == "paid").get_column("idn_number").drop_nulls().unique().to_list()
    if numbers and ctx.claim_lookup:
        claims = ctx.claim_lookup(numbers).rename({"id_number": "idn_number", "benefit_year": "year_value",
                                                   "county_code": "claim_county"})
        claims = claims.with_columns(pl.col("year_value").cast(pl.Int32)).group_by("idn_number", "year_value").agg(
            pl.col("claim_county").sort().str.join("、"))
        df = df.join(claims, on=["idn_number", "year_value"], how="left", maintain_order="left")
        log.add(
            df, (pl.col("status_code") == "paid") & pl.col("claim_county").is_not_null(), "id_number",
            pl.format("该身份证号码{}年度已在{}参保，同一年度不能在两地参保：请核实名单", pl.col("year_value"),
                      pl.col("claim_county")),
        )

    rows = _without_errors(df, log).select(
        "_row",
        pl.col("idn_number").alias("id_number"),
        "resident_id",
        pl.col("year_value").alias("benefit_year"),
        pl.col("status_code").alias("status"),
        pl.col("start_value").alias("benefit_start"),
        pl.col("end_value").alias("benefit_end"),
        pl.col("amount_value").alias("amount"),
    )
    checked = log.checked(rows, table.present)
    checked.extra = {"years": sorted(set(df["year_value"].drop_nulls().to_list())), "refused_years": refused}
    return checked
