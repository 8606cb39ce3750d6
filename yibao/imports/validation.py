"""Check every row of a list at once (polars), collecting Chinese reasons per row and column.

Each `validate_<kind>` takes the Table from readers.py and a Context, and returns a Checked:
the rows that may be written (canonical columns) and the issues (row, column, value, reason,
level "error" or "warning"). A row with any error is rejected; warnings never reject.
Distinct values (villages, identities, dates, departments) are resolved once each in Python.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from yibao.accounts.roles import Department
from yibao.imports.idcheck import area_warnings, id_columns
from yibao.imports.readers import Table, stored_as_number
from yibao.policy.vocabulary import IDENTITY_BY_CODE, identity_lookup
from yibao.core.inputs import CONTROL_CHARACTERS

ISSUE_SCHEMA = {"_row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String, "level": pl.String}
HEAD_RELATIONS = {"户主", "本人", "户主本人", "本人（户主）", "本人(户主)"}
EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass
class Context:
    county_code: str = ""
    department: str = ""  # a Department value (minzheng, ...), identities only
    group: str = ""  # a group code (vocabulary.GROUPS), group lists only
    file_format: str = "csv"
    today: dt.date = field(default_factory=dt.date.today)
    villages: list[tuple[str, str, str]] = field(default_factory=list)  # (code, name, township name) of the county
    known_regions: set[str] = field(default_factory=set)  # regions import: codes already stored
    allowed_prefix: str = ""  # the importer's region; "" = anywhere
    # identities: id numbers → DataFrame(id_number, resident_id, resident_name) of residents of the county
    resident_lookup: Callable[[list[str]], pl.DataFrame] | None = None
    # enrollments: years opened in Yibao (year → policy id), and id numbers → DataFrame(id_number,
    # benefit_year, county_code) of live enrollments (claims) in other counties, the county as messages name it
    opened_years: dict[int, str] = field(default_factory=dict)
    claim_lookup: Callable[[list[str]], pl.DataFrame] | None = None


@dataclass
class Checked:
    rows: pl.DataFrame
    issues: pl.DataFrame
    total: int
    present: tuple[str, ...] = ()
    covered: pl.Series | None = None  # rows whose warning is reported in a summary line, not one by one
    extra: dict = field(default_factory=dict)  # what a kind's import needs beyond the rows

    @property
    def rejected(self) -> int:
        return self.issues.filter(pl.col("level") == "error")["_row"].n_unique()

    @property
    def skipped(self) -> int:
        """Rows left out on purpose (not an error): another 险种 in a roster."""
        return self.issues.filter(pl.col("level") == "skipped")["_row"].n_unique()

    @property
    def warned(self) -> int:
        rows = self.issues.filter(pl.col("level") == "warning")["_row"]
        if self.covered is not None and self.covered.len():
            rows = pl.concat([rows, self.covered.cast(pl.Int64)])
        return rows.n_unique()


class IssueLog:
    def __init__(self, table: Table):
        self.table = table
        self.parts: list[pl.DataFrame] = []
        self.covered: list[pl.Series] = []

    def add(self, df: pl.DataFrame, when: pl.Expr, key: str, reason, level: str = "error", value: pl.Expr | None = None):
        if value is None:
            value = pl.col(key) if key in df.columns else pl.lit(None, dtype=pl.String)
        reason = pl.lit(reason) if isinstance(reason, str) else reason
        part = df.filter(when).select(
            pl.col("_row").cast(pl.Int64),
            pl.lit(self.table.label(key)).alias("column"),
            value.cast(pl.String).alias("value"),
            reason.cast(pl.String).alias("reason"),
            pl.lit(level).alias("level"),
        )
        if part.height:
            self.parts.append(part)

    def frame(self) -> pl.DataFrame:
        if not self.parts:
            return pl.DataFrame(schema=ISSUE_SCHEMA)
        return pl.concat(self.parts).sort("_row", "level", maintain_order=True)

    def checked(self, rows: pl.DataFrame, present: tuple[str, ...]) -> Checked:
        issues = self.frame()
        # a row left out (an error, another 险种) is not imported: a warning about it goes with the row's
        # other lines (错误/跳过，未导入), not under 警告（已导入）, and the row is counted once
        errors = issues.filter(pl.col("level") == "error")["_row"].unique().implode()
        skipped = issues.filter(pl.col("level") == "skipped")["_row"].unique().implode()
        out = pl.concat([errors.explode(), skipped.explode()])
        warning = pl.col("level") == "warning"
        issues = issues.with_columns(
            pl.when(warning & pl.col("_row").is_in(errors)).then(pl.lit("error"))
            .when(warning & pl.col("_row").is_in(skipped)).then(pl.lit("skipped"))
            .otherwise(pl.col("level")).alias("level")
        ).sort("_row", "level", maintain_order=True)
        covered = pl.concat(self.covered) if self.covered else None
        if covered is not None:
            covered = covered.filter(~covered.cast(pl.Int64).is_in(out.implode()))
        return Checked(rows=rows, issues=issues, total=self.table.df.height, present=present, covered=covered)

    def error_rows(self) -> pl.Series:
        frame = self.frame()
        return frame.filter(pl.col("level") == "error")["_row"].unique()


# ---- value parsers, run once per distinct value --------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date_text(text: str, allow_serial: bool = False) -> dt.date | None:
    """2024-01-05, 2024/1/5, 2024.1.5, 2024年1月5日, 20240105 (and an Excel serial day in xlsx)."""
    text = text.strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(*(int(g) for g in match.groups()))
            except ValueError:
                return None
    if allow_serial and re.fullmatch(r"\d{4,5}(\.0+)?", text):
        days = int(float(text))
        if 1 <= days <= 2958465:
            return EXCEL_EPOCH + dt.timedelta(days=days)
    return None


SEX_VALUES = {"男": "M", "女": "F", "男性": "M", "女性": "F", "M": "M", "F": "F", "m": "M", "f": "F", "1": "M", "2": "F"}
SEX_LABELS = {"M": "男", "F": "女"}

_DEPARTMENT_ALIASES = {
    Department.MINZHENG: ("民政", "民政局", "县民政局", "民政部门"),
    Department.CANLIAN: ("残联", "残疾人联合会", "县残联", "残联部门"),
    Department.WEIJIAN: ("卫健", "卫健委", "卫生健康委", "卫生健康委员会", "卫生健康局", "县卫健委", "卫健局"),
    Department.XIANGCUN: ("乡村振兴", "乡村振兴局", "农业农村", "农业农村局", "农业农村部门", "县乡村振兴局"),
    Department.TUIYI: ("退役军人事务", "退役军人事务局", "退役军人", "县退役军人事务局"),
    Department.GONGAN: ("公安", "公安局", "派出所"),
    Department.YIBAO: ("医保", "医保局", "医疗保障局", "县医保局", "医疗保障"),
    Department.SHUIWU: ("税务", "税务局"),
}
DEPARTMENT_LOOKUP: dict[str, str] = {}
for _value, _aliases in _DEPARTMENT_ALIASES.items():
    DEPARTMENT_LOOKUP[_value.value] = _value.value
    for _alias in _aliases:
        DEPARTMENT_LOOKUP[_alias] = _value.value


def department_code(text: str | None) -> str | None:
    """'民政', '民政局' or 'minzheng' → 'minzheng'; None when unknown."""
    return DEPARTMENT_LOOKUP.get("".join(str(text or "").split()))


def department_name(code: str) -> str:
    return Department(code).label if code in Department.values else code


def identity_department(code: str) -> str:
    """The department that certifies an identity (glossary), as a Department value."""
    return department_code(IDENTITY_BY_CODE[code].department) or ""


def map_distinct(df: pl.DataFrame, column: str, func, outputs: dict[str, pl.DataType]) -> pl.DataFrame:
    """Join the result of func(value) -> tuple for each distinct non-null value of column."""
    values = df.get_column(column).drop_nulls().unique().to_list()
    rows = [(v, *func(v)) for v in values]
    mapping = pl.DataFrame(rows, schema={"_key": pl.String, **outputs}, orient="row")
    return df.join(mapping, left_on=column, right_on="_key", how="left", maintain_order="left")


# ---- shared checks ------------------------------------------------------------------------------


def _check_ids(df: pl.DataFrame, log: IssueLog, ctx: Context, key: str = "id_number", prefix: str = "idn_") -> pl.DataFrame:
    """Adds idn_number (18 characters, null when invalid), idn_error, idn_birth and idn_sex."""
    df = id_columns(df, key, prefix, ctx.today)
    reason = pl.col(f"{prefix}error")
    if ctx.file_format == "xlsx":
        reason = pl.when(reason.str.contains("校验位")).then(
            pl.concat_str([reason, pl.lit("；若该列在 Excel 中是数字格式，号码末几位可能已丢失，请将该列设为文本格式后重新填写")])
        ).otherwise(reason)
    log.add(df, pl.col(f"{prefix}error").is_not_null(), key, reason)
    log.add(df, pl.col(f"{prefix}warning").is_not_null(), key, pl.col(f"{prefix}warning"), level="warning")
    return df


def _check_area_codes(df: pl.DataFrame, log: IssueLog) -> None:
    """stdnum's birth-place check as warnings. Half a county may carry a code created after their
    birth (340321 dates from 1983), so the report gets one summary line per area code, while
    every such row still counts as a row with a warning."""
    warnings = area_warnings(df, "idn_number")
    if not warnings.height:
        return
    keyed = df.with_columns(
        pl.col("idn_number").str.slice(0, 6).alias("area"),
        pl.col("idn_number").str.slice(6, 4).cast(pl.Int32, strict=False).alias("year"),
    ).join(warnings, on=["area", "year"], how="inner")
    log.covered.append(keyed["_row"].cast(pl.Int64))
    summary = keyed.sort("_row").group_by("area", maintain_order=True).agg(
        pl.col("_row").first(),
        pl.len().alias("n"),
        pl.col("_row").head(10).cast(pl.String).str.join("、").alias("rows"),
        pl.col("year").min().alias("ymin"),
        pl.col("year").max().alias("ymax"),
        pl.col("warning").first(),
    )
    log.add(
        summary, pl.lit(True), "id_number",
        pl.format("{}。共 {} 行（出生年份 {}—{}），如第 {} 行", pl.col("warning"), pl.col("n"), pl.col("ymin"),
                  pl.col("ymax"), pl.col("rows")),
        level="warning", value=pl.col("area"),
    )


def _check_length(df, log, key, limit, label):
    if key in df.columns:
        log.add(df, pl.col(key).str.len_chars() > limit, key, f"{label}超过{limit}个字")
        log.add(df, pl.col(key).str.contains(CONTROL_CHARACTERS), key, f"{label}含有不可见的控制字符，请删除后重新导入")


def _check_date(df: pl.DataFrame, log: IssueLog, ctx: Context, key: str) -> pl.DataFrame:
    """Adds <key>_date; an unreadable date is an error."""
    if key not in df.columns:
        return df.with_columns(pl.lit(None, dtype=pl.Date).alias(f"{key}_date"))
    xlsx = ctx.file_format == "xlsx"
    df = map_distinct(df, key, lambda v: (parse_date_text(v, xlsx),), {f"{key}_date": pl.Date})
    log.add(
        df, pl.col(key).is_not_null() & pl.col(f"{key}_date").is_null(), key,
        "日期无法识别（应为 2024-01-31、2024/1/31 或 20240131 这样的格式）",
    )
    return df


def _check_duplicates(df: pl.DataFrame, log: IssueLog, keys: list[str], data: list[str], label_key: str, what: str) -> None:
    """Identical repeats: the first is kept, the others rejected. Differing repeats: all rejected."""
    candidates = df.filter(pl.all_horizontal([pl.col(k).is_not_null() for k in keys]))
    if candidates.height == 0:
        return
    rows = (
        candidates.with_columns(
            pl.col("_row").min().over(keys).alias("_first"),
            pl.col("_row").count().over(keys).alias("_count"),
            pl.struct(data).n_unique().over(keys).alias("_variants"),
        ).filter(pl.col("_count") > 1)
    )
    if rows.height == 0:
        return
    row_lists = rows.group_by(keys).agg(pl.col("_row").sort().cast(pl.String).str.join("、").alias("_rows"))
    rows = rows.join(row_lists, on=keys, how="left", maintain_order="left")
    log.add(
        rows, (pl.col("_variants") == 1) & (pl.col("_row") != pl.col("_first")), label_key,
        pl.format(f"{what}与第{{}}行完全相同，重复行不再导入", pl.col("_first")),
    )
    log.add(
        rows, pl.col("_variants") > 1, label_key,
        pl.format(f"{what}在文件中出现多次且内容不一致（第{{}}行），请核实后保留一行", pl.col("_rows")),
    )


def _without_errors(df: pl.DataFrame, log: IssueLog) -> pl.DataFrame:
    bad = log.error_rows()
    return df.filter(~pl.col("_row").is_in(bad.implode()))


def row_hashes(df: pl.DataFrame, columns: list[str]) -> pl.Series:
    """A stable digest per row of the given columns (md5 of the canonical text); 32 hex characters."""
    text = pl.concat_str(
        [pl.lit("|".join(columns))] + [pl.col(c).cast(pl.String).fill_null("") for c in columns], separator="\x1f"
    )
    digests: list[str] = []
    for offset in range(0, df.height, 100_000):  # a slice at a time: no million-string list at once
        canonical = df.slice(offset, 100_000).select(text.alias("t"))["t"].to_list()
        digests.extend(hashlib.md5(t.encode("utf-8"), usedforsecurity=False).hexdigest() for t in canonical)
    return pl.Series("row_hash", digests, dtype=pl.String)


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


VALIDATORS = {
    "regions": validate_regions,
    "residents": validate_residents,
    "identities": validate_identities,
    "employees": validate_employees,
    "enrollments": validate_enrollments,
}
