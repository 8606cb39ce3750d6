"""The checks of the region list and the household register (residents)."""

from __future__ import annotations


import polars as pl

from yibao.imports.idcheck import id_columns
from yibao.imports.readers import Table, stored_as_number
from yibao.imports.validation.common import (
    HEAD_RELATIONS,
    SEX_LABELS,
    SEX_VALUES,
    Checked,
    Context,
    IssueLog,
    _check_area_codes,
    _check_date,
    _check_duplicates,
    _check_ids,
    _check_length,
    _without_errors,
    map_distinct,
)


# ---- regions ------------------------------------------------------------------------------------


def _region_code(text: str) -> tuple[str | None, str | None]:
    """The 2/4/6/9/12-digit code (the 12-digit statistical form 340321101000 becomes 340321101, 340300000000
    蚌埠市 3403, 340000000000 安徽省 34)."""
    code = "".join(text.split())
    if not code.isascii() or not code.isdigit():
        return None, "区划代码只能由数字组成"
    if len(code) == 12:
        for keep in (2, 4, 6, 9):
            if code[keep:] == "0" * (12 - keep):
                code = code[:keep]
                break
    if len(code) not in (2, 4, 6, 9, 12):
        return None, f"区划代码应为2位（省）、4位（市）、6位（县）、9位（乡镇）或12位（村、社区）数字，实际为{len(code)}位"
    return code, None


def validate_regions(table: Table, ctx: Context) -> Checked:
    log = IssueLog(table)
    df = table.df
    log.add(df, pl.col("code").is_null(), "code", "区划代码为空")
    log.add(df, pl.col("name").is_null(), "name", "名称为空")
    _check_length(df, log, "name", 100, "名称")
    df = map_distinct(df, "code", _region_code, {"region_code": pl.String, "_code_error": pl.String})
    log.add(df, pl.col("_code_error").is_not_null(), "code", pl.col("_code_error"))
    if ctx.allowed_prefix:
        log.add(
            df, pl.col("region_code").is_not_null() & ~pl.col("region_code").str.starts_with(ctx.allowed_prefix),
            "code", f"不在当前账号管辖的区划（{ctx.allowed_prefix}）内",
        )
    _check_duplicates(df, log, ["region_code"], ["name"], "code", "区划代码")
    good = _without_errors(df, log)
    # a parent must exist already or come in the same file (and be valid itself)
    known = set(ctx.known_regions) | set(good["region_code"].to_list())
    df = df.with_columns(
        pl.when(pl.col("region_code").str.len_chars() == 12).then(pl.col("region_code").str.slice(0, 9))
        .when(pl.col("region_code").str.len_chars() == 9).then(pl.col("region_code").str.slice(0, 6))
        .otherwise(None).alias("parent_code")
    )
    log.add(
        df, pl.col("parent_code").is_not_null() & ~pl.col("parent_code").is_in(list(known)), "code",
        pl.format("上级区划 {} 不存在：请先导入上级（县、乡镇），或把它列在同一文件中", pl.col("parent_code")),
    )
    # a county's city and a city's province are its parent when they are loaded (they need not be)
    upper = (
        pl.when(pl.col("region_code").str.len_chars() == 6).then(pl.col("region_code").str.slice(0, 4))
        .when(pl.col("region_code").str.len_chars() == 4).then(pl.col("region_code").str.slice(0, 2))
        .otherwise(None)
    )
    df = df.with_columns(
        pl.when(pl.col("parent_code").is_null() & upper.is_in(list(known))).then(upper)
        .otherwise(pl.col("parent_code")).alias("parent_code")
    )
    rows = _without_errors(df, log).select(
        "_row", pl.col("region_code").alias("code"), "name", "parent_code",
        pl.col("region_code").str.slice(0, 6).alias("county_code"),
        pl.col("region_code").str.len_chars().cast(pl.Int16).alias("level"),
    )
    return log.checked(rows, table.present)


# ---- residents (the household register) ---------------------------------------------------------


def _village_resolver(ctx: Context):
    codes = {code: name for code, name, _t in ctx.villages}
    by_name: dict[str, list[str]] = {}
    by_full: dict[str, str] = {}
    township_of = {code: t for code, _n, t in ctx.villages}
    for code, name, township in ctx.villages:
        by_name.setdefault(name, []).append(code)
        for sep in ("", "/", "-", "·"):
            by_full[f"{township}{sep}{name}"] = code
    county = ctx.county_code

    def resolve(text: str) -> tuple[str | None, str | None]:
        value = "".join(text.split())
        if value.isascii() and value.isdigit():
            if len(value) in (6, 9) or (len(value) == 12 and value.endswith("000")):
                return None, "应填写村（社区）的12位区划代码，不能只填县或乡镇代码"
            if len(value) != 12:
                return None, f"村（社区）区划代码应为12位数字，实际为{len(value)}位"
            if not value.startswith(county):
                return None, f"区划代码 {value} 不属于本县（{county}）"
            if value not in codes:
                return None, f"区划代码 {value} 不在本县的区划中（请先导入行政区划）"
            return value, None
        if value in by_full:
            return by_full[value], None
        found = by_name.get(value, [])
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            towns = "、".join(sorted({township_of[c] for c in found}))
            return None, f"村（社区）名称“{value}”在本县有重名（{towns}），请填写12位区划代码或“乡镇+村名”"
        return None, f"村（社区）“{value}”不在本县（{county}）的区划中"

    return resolve


def _residence_resolver(ctx: Context):
    village = _village_resolver(ctx)

    def resolve(text: str) -> tuple[str | None, str | None]:
        value = "".join(text.split())
        if value.isascii() and value.isdigit():
            if len(value) in (6, 9, 12):
                return value, None
            return None, "居住地区划代码应为6、9或12位数字"
        code, _error = village(value)
        if code:
            return code, None
        return None, f"居住地“{value}”无法识别为本县的村（社区），已留空"

    return resolve


def _sex_label(expr: pl.Expr) -> pl.Expr:
    return expr.replace_strict(SEX_LABELS, default="")


_PHONE = r"^(1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?|[0-9]{7,8})$"


def validate_residents(table: Table, ctx: Context) -> Checked:
    log = IssueLog(table)
    present = set(table.present)
    df = _check_ids(table.df, log, ctx)
    log.add(df, pl.col("name").is_null(), "name", "姓名为空")
    _check_length(df, log, "name", 50, "姓名")

    if "sex" in present:
        df = map_distinct(df, "sex", lambda v: (SEX_VALUES.get(v.strip()),), {"sex_code": pl.String})
        log.add(df, pl.col("sex").is_not_null() & pl.col("sex_code").is_null(), "sex", "性别应为“男”或“女”")
        log.add(
            df, pl.col("sex_code").is_not_null() & pl.col("idn_sex").is_not_null() & (pl.col("sex_code") != pl.col("idn_sex")),
            "sex", pl.format("性别与身份证号码不符（号码显示为{}）", _sex_label(pl.col("idn_sex"))),
        )
    if "birth_date" in present:
        df = _check_date(df, log, ctx, "birth_date")
        log.add(
            df,
            pl.col("birth_date_date").is_not_null() & pl.col("idn_birth").is_not_null()
            & (pl.col("birth_date_date") != pl.col("idn_birth")),
            "birth_date", pl.format("出生日期与身份证号码不符（号码中为{}）", pl.col("idn_birth").dt.strftime("%Y-%m-%d")),
        )

    df = map_distinct(df, "region", _village_resolver(ctx), {"village_code": pl.String, "_region_error": pl.String})
    log.add(df, pl.col("region").is_null(), "region", "村（社区）为空")
    log.add(df, pl.col("_region_error").is_not_null(), "region", pl.col("_region_error"))

    if "residence" in present:
        df = map_distinct(
            df, "residence", _residence_resolver(ctx), {"residence_code": pl.String, "_residence_error": pl.String}
        )
        log.add(df, pl.col("_residence_error").is_not_null(), "residence", pl.col("_residence_error"), level="warning")
    if "phone" in present:
        log.add(df, pl.col("phone").str.len_chars() > 20, "phone", "联系电话超过20位")
        log.add(
            df, (pl.col("phone").str.len_chars() <= 20) & ~pl.col("phone").str.contains(_PHONE), "phone",
            "联系电话格式异常（手机号应为11位数字，座机如 0552-1234567）", level="warning",
        )

    # households: 户号, or the head's ID number when the list has no 户号
    has_household = bool({"household", "head_id_number"} & present)
    if "head_id_number" in present:
        df = id_columns(df, "head_id_number", "hd_", ctx.today)
        log.add(
            df, pl.col("head_id_number").is_not_null() & pl.col("hd_error").is_not_null(), "head_id_number",
            pl.format("户主身份证号码无效：{}", pl.col("hd_error")),
        )
    else:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("hd_number"))
    _check_length(df, log, "household", 40, "户号")
    if "household" in present:
        when, reason = stored_as_number("household", table.label("household"))
        log.add(df, when, "household", reason)
    _check_length(df, log, "relation", 20, "与户主关系")
    household = pl.col("household") if "household" in present else pl.lit(None, dtype=pl.String)
    relation = pl.col("relation") if "relation" in present else pl.lit(None, dtype=pl.String)
    df = df.with_columns(
        pl.coalesce(household, pl.col("hd_number")).alias("household_number"),
        (relation.is_in(list(HEAD_RELATIONS)).fill_null(False) | (pl.col("idn_number") == pl.col("hd_number")).fill_null(False))
        .alias("is_head"),
    )
    if has_household:
        heads = df.filter(pl.col("is_head") & pl.col("household_number").is_not_null() & pl.col("idn_number").is_not_null())
        heads = heads.with_columns(
            pl.col("_row").min().over("household_number").alias("_head_row"),
            pl.col("idn_number").sort_by("_row").first().over("household_number").alias("_first_head"),
        )
        log.add(
            heads, pl.col("idn_number") != pl.col("_first_head"), "relation" if "relation" in present else "head_id_number",
            pl.format("户号 {} 已有户主（第{}行），本行也标为户主", pl.col("household_number"), pl.col("_head_row")),
            level="warning",
        )
        first_heads = heads.filter(pl.col("_row") == pl.col("_head_row")).select(
            "household_number", pl.col("idn_number").alias("_head_of_row")
        )
        df = df.join(first_heads, on="household_number", how="left", maintain_order="left")
        # the head named by 户主身份证号码 wins over the one marked 户主 in 与户主关系
        head_column = pl.col("hd_number").drop_nulls().first().over("household_number")
        df = df.with_columns(
            pl.when(pl.col("household_number").is_null()).then(None)
            .otherwise(pl.coalesce(head_column, pl.col("_head_of_row"))).alias("head_number")
        )
        no_head = df.filter(pl.col("household_number").is_not_null() & pl.col("head_number").is_null())
        if no_head.height:
            no_head = no_head.filter(pl.col("_row") == pl.col("_row").min().over("household_number"))
            log.add(
                no_head, pl.lit(True), "household" if "household" in present else "head_id_number",
                pl.format("户号 {} 没有标明户主（与户主关系应有一人为“户主”）", pl.col("household_number")),
                level="warning",
            )
    else:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("head_number"))

    _check_area_codes(df, log)
    data_columns = [c for c in table.present if c != "id_number"]
    _check_duplicates(df, log, ["idn_number"], data_columns, "id_number", "身份证号码")

    good = _without_errors(df, log)
    if has_household:
        # one row per household carries its region: the head's row, else the first member's
        good = (
            good.with_columns((pl.col("idn_number") != pl.col("head_number")).fill_null(True).alias("_not_head"))
            .sort("household_number", "_not_head", "_row", nulls_last=True)
            .with_columns(
                (pl.col("household_number").is_not_null() & pl.col("household_number").is_first_distinct())
                .alias("is_household_row")
            )
            .sort("_row")
        )
    else:
        good = good.with_columns(pl.lit(False).alias("is_household_row"))
    village = pl.col("village_code")
    rows = good.select(
        "_row",
        pl.col("idn_number").alias("id_number"),
        "name",
        pl.col("idn_sex").alias("sex"),
        pl.col("idn_birth").alias("birth_date"),
        village.str.slice(0, 6).alias("county_code"),
        village.str.slice(0, 9).alias("township_code"),
        village.alias("village_code"),
        village.alias("hukou_region_code"),
        (pl.col("residence_code") if "residence" in present else pl.lit(None, dtype=pl.String)).fill_null("")
        .alias("residence_region_code"),
        (pl.col("phone") if "phone" in present else pl.lit(None, dtype=pl.String)).fill_null("").alias("phone"),
        pl.col("household_number").fill_null(""),
        relation.fill_null("").alias("relation_to_head"),
        pl.col("head_number").fill_null("").alias("head_id_number"),
        pl.col("is_household_row"),
    ).sort("_row")
    fields = ["id_number", "name", "sex", "birth_date", "county_code", "township_code", "village_code", "hukou_region_code"]
    if "residence" in present:
        fields.append("residence_region_code")
    if "phone" in present:
        fields.append("phone")
    if has_household:
        fields.append("household_number")
    if "relation" in present:
        fields.append("relation_to_head")
    return log.checked(rows, tuple(fields))
