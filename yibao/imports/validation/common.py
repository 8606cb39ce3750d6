"""What every list's check shares: the context, the issue log, value parsers run once per distinct
value, and the checks of ID numbers, area codes, lengths, dates and duplicates."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from yibao.accounts.roles import Department
from yibao.imports.idcheck import area_warnings, id_columns
from yibao.imports.readers import Table
from yibao.policy.vocabulary import IDENTITY_BY_CODE
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
