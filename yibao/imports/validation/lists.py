"""The checks of a department's identity list and the 职工医保 list, matched to registered residents."""

from __future__ import annotations


import polars as pl

from yibao.accounts.roles import Department
from yibao.imports.readers import Table
from yibao.policy.vocabulary import IDENTITY_BY_CODE, identity_lookup
from yibao.imports.validation.common import (
    Checked,
    Context,
    IssueLog,
    _check_date,
    _check_duplicates,
    _check_ids,
    _check_length,
    _without_errors,
    department_code,
    department_name,
    identity_department,
    map_distinct,
)


# ---- identities (a department's list) ------------------------------------------------------------


def validate_identities(table: Table, ctx: Context) -> Checked:
    log = IssueLog(table)
    present = set(table.present)
    df = _check_ids(table.df, log, ctx)
    _check_length(df, log, "name", 50, "姓名")
    lookup = identity_lookup()
    df = map_distinct(df, "identity", lambda v: (lookup.get(v.strip()),), {"code": pl.String})
    log.add(df, pl.col("identity").is_null(), "identity", "身份类别为空")
    log.add(
        df, pl.col("identity").is_not_null() & pl.col("code").is_null(), "identity",
        pl.format("未知的资助身份“{}”：应为词汇表中的身份名称或代码，如 低保对象、特困人员、dibao", pl.col("identity")),
    )
    importer = ctx.department or Department.YIBAO.value
    importer_name = department_name(importer)
    code_department = {code: identity_department(code) for code in IDENTITY_BY_CODE}
    df = df.with_columns(
        pl.col("code").replace_strict(code_department, default=None, return_dtype=pl.String).alias("code_department")
    )
    if "department" in present:
        df = map_distinct(df, "department", lambda v: (department_code(v),), {"row_department": pl.String})
        log.add(
            df, pl.col("department").is_not_null() & pl.col("row_department").is_null(), "department",
            pl.format("未知的认定部门“{}”（应为 民政、残联、卫健、乡村振兴、退役军人事务 等）", pl.col("department")),
        )
        if importer != Department.YIBAO:
            log.add(
                df, pl.col("row_department").is_not_null() & (pl.col("row_department") != importer), "department",
                f"认定部门与本次导入的部门（{importer_name}）不一致",
            )
    else:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("row_department"))
    if importer == Department.YIBAO:
        # the 医保局's summary list: each row keeps its certifying department
        df = df.with_columns(pl.coalesce("row_department", "code_department").alias("certified_by"))
    else:
        df = df.with_columns(pl.lit(importer).alias("certified_by"))
        names = {v: department_name(v) for v in Department.values}
        log.add(
            df, pl.col("code_department").is_not_null() & (pl.col("code_department") != importer), "identity",
            pl.format(
                "“{}”由{}认定，不属于{}的名单", pl.col("identity"),
                pl.col("code_department").replace_strict(names, default=""), pl.lit(importer_name),
            ),
        )
    df = _check_date(df, log, ctx, "valid_from")
    df = _check_date(df, log, ctx, "valid_to")
    log.add(
        df, (pl.col("valid_to_date") < pl.col("valid_from_date")).fill_null(False), "valid_to", "终止日期早于起始日期"
    )
    _check_duplicates(
        df, log, ["idn_number", "code"], ["valid_from_date", "valid_to_date", "certified_by"], "id_number",
        "同一人的同一身份",
    )
    df = _join_residents(df, log, ctx)
    rows = _without_errors(df, log).select(
        "_row",
        pl.col("idn_number").alias("id_number"),
        "resident_id",
        "code",
        pl.col("certified_by").alias("department"),
        pl.col("valid_from_date").alias("valid_from"),
        pl.col("valid_to_date").alias("valid_to"),
    )
    return log.checked(rows, table.present)


def _join_residents(df: pl.DataFrame, log: IssueLog, ctx: Context) -> pl.DataFrame:
    numbers = df.get_column("idn_number").drop_nulls().unique().to_list()
    found = ctx.resident_lookup(numbers) if ctx.resident_lookup else pl.DataFrame(
        schema={"id_number": pl.String, "resident_id": pl.Int64, "resident_name": pl.String}
    )
    df = df.join(found.rename({"id_number": "idn_number"}), on="idn_number", how="left", maintain_order="left")
    log.add(
        df, pl.col("idn_number").is_not_null() & pl.col("resident_id").is_null(), "id_number",
        f"本县（{ctx.county_code}）户籍库中没有该身份证号码：请先导入户籍名单，或核对号码",
    )
    if "name" in df.columns:
        log.add(
            df, pl.col("resident_id").is_not_null() & pl.col("name").is_not_null()
            & (pl.col("name") != pl.col("resident_name")),
            "name", pl.format("姓名与户籍库不一致（户籍库为 {}）", pl.col("resident_name")), level="warning",
        )
    return df


# ---- employees (the 职工医保 list) ----------------------------------------------------------------


def validate_employees(table: Table, ctx: Context) -> Checked:
    log = IssueLog(table)
    present = set(table.present)
    df = _check_ids(table.df, log, ctx)
    _check_length(df, log, "name", 50, "姓名")
    _check_length(df, log, "employer", 200, "单位名称")
    df = _check_date(df, log, ctx, "insured_from")
    df = _check_whole_number(df, log, "months_paid", 0, 12, "缴费月数应为0至12的整数")
    df = _check_whole_number(df, log, "months_year", 2000, 2100, "缴费年度应为四位年份，如 2025")
    log.add(df, pl.col("months_paid_value").is_not_null() & pl.col("months_year_value").is_null(), "months_year",
            "写了缴费月数，须同时写缴费年度（月数属于哪一年）")
    data = [c for c in ("name", "employer", "insured_from_date", "months_paid_value", "months_year_value") if c in df.columns]
    _check_duplicates(df, log, ["idn_number"], data, "id_number", "身份证号码")
    none = pl.lit(None, dtype=pl.String)
    rows = _without_errors(df, log).select(
        "_row",
        pl.col("idn_number").alias("id_number"),
        (pl.col("name") if "name" in present else none).fill_null("").alias("name"),
        (pl.col("employer") if "employer" in present else none).fill_null("").alias("employer"),
        pl.col("insured_from_date").alias("insured_from"),
        pl.col("months_paid_value").alias("months_paid"),
        pl.col("months_year_value").alias("months_year"),
    )
    return log.checked(rows, table.present)


def _check_whole_number(df: pl.DataFrame, log: IssueLog, key: str, low: int, high: int, message: str) -> pl.DataFrame:
    """Adds <key>_value (Int64); a value that is not a whole number in [low, high] is an error."""
    if key not in df.columns:
        return df.with_columns(pl.lit(None, dtype=pl.Int64).alias(f"{key}_value"))
    text = pl.col(key).cast(pl.String).str.strip_chars().str.replace(r"\.0+$", "")
    df = df.with_columns(text.cast(pl.Int64, strict=False).alias(f"{key}_value"))
    bad = pl.col(f"{key}_value").is_null() | (pl.col(f"{key}_value") < low) | (pl.col(f"{key}_value") > high)
    log.add(df, pl.col(key).is_not_null() & (text != "") & bad, key, message)
    return df.with_columns(pl.when(bad).then(None).otherwise(pl.col(f"{key}_value")).alias(f"{key}_value"))
