"""GB 11643 居民身份证号码 checks over a whole polars column at once.

The rules are those of yibao.core.idnumber.check_id_number (python-stdnum); the hypothesis test in
tests/test_idcheck.py proves both give the same verdict, number, birth date and sex. stdnum's
birth-place check runs once per distinct (area code, birth year), never per row.
"""

from __future__ import annotations

import datetime as dt
import polars as pl

from yibao.core.idnumber import EXCEL_NUMBER_PATTERN, STORED_AS_NUMBER, UPGRADED
from yibao.core.idnumber import area_code_warning  # noqa: F401  (re-exported for the validation)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def normalize_expr(raw: pl.Expr) -> pl.Expr:
    """Drop every space (also full-width), upper-case the x."""
    return raw.cast(pl.String).str.replace_all(r"\s", "").str.to_uppercase()


def check_char_expr(body: pl.Expr) -> pl.Expr:
    """The MOD 11-2 check character of the first 17 digits (null when they are not digits)."""
    total = pl.sum_horizontal(
        [body.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(WEIGHTS)]
    )
    any_null = pl.any_horizontal([body.str.slice(i, 1).cast(pl.Int32, strict=False).is_null() for i in range(17)])
    return pl.when(any_null).then(None).otherwise(
        (total % 11).replace_strict(dict(enumerate(CHECK_CHARS)), return_dtype=pl.String)
    )


def id_columns(df: pl.DataFrame, column: str, prefix: str, today: dt.date | None = None) -> pl.DataFrame:
    """Add <prefix>number (18 characters), <prefix>error (Chinese reason or null),
    <prefix>birth (Date), <prefix>sex ("M"/"F") and <prefix>warning (a 15-digit number upgraded
    to 18, or null) for the raw ID numbers in `column`."""
    today = today or dt.date.today()
    n, err = f"{prefix}number", f"{prefix}error"
    raw = pl.col(column)
    out = df.with_columns(normalize_expr(raw).alias("_id_norm"))
    norm = pl.col("_id_norm")
    is15 = norm.str.contains(r"^[0-9]{15}$")
    body15 = pl.concat_str([norm.str.slice(0, 6), pl.lit("19"), norm.str.slice(6, 9)])
    out = out.with_columns(
        pl.when(is15).then(pl.concat_str([body15, check_char_expr(body15)])).otherwise(norm).alias(n)
    )
    number = pl.col(n)
    out = out.with_columns(check_char_expr(number.str.slice(0, 17)).alias("_id_check"))
    year = number.str.slice(6, 4)
    birth_text = pl.concat_str([year, pl.lit("-"), number.str.slice(10, 2), pl.lit("-"), number.str.slice(12, 2)])
    out = out.with_columns(
        pl.when(year == "0000").then(None).otherwise(birth_text.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
        .alias("_id_birth")
    )
    birth = pl.col("_id_birth")
    before, after = STORED_AS_NUMBER.split("{shown}")
    middle, after = after.split("{digits}")
    digits = norm.str.extract(r"E\+?([0-9]+)$", 1).cast(pl.Int32, strict=False) + 1
    error = (
        pl.when(norm.is_null() | (norm == ""))
        .then(pl.lit("身份证号码为空"))
        .when(norm.str.contains(EXCEL_NUMBER_PATTERN))
        .then(pl.concat_str([pl.lit(before), norm, pl.lit(middle), digits.cast(pl.String), pl.lit(after)]))
        .when((norm.str.len_chars() == 15) & ~is15)
        .then(pl.lit("15位身份证号码只能由数字组成"))
        .when(number.str.len_chars() != 18)
        .then(pl.format("身份证号码应为18位，实际为{}位", number.str.len_chars()))
        .when(~number.str.contains(r"^[0-9]{17}[0-9X]$"))
        .then(pl.lit("身份证号码含有非法字符"))
        .when(number.str.slice(17, 1) != pl.col("_id_check"))
        .then(pl.format("身份证号码校验位错误（末位应为 {}）", pl.col("_id_check")))
        .when(birth.is_null())
        .then(pl.format("身份证号码中的出生日期无效：{}", number.str.slice(6, 8)))
        .when(birth > pl.lit(today))
        .then(pl.format("身份证号码中的出生日期晚于今天：{}", birth.dt.strftime("%Y-%m-%d")))
        .otherwise(None)
    )
    out = out.with_columns(error.alias(err))
    ok = pl.col(err).is_null()
    out = out.with_columns(
        pl.when(ok).then(number).otherwise(None).alias(n),
        pl.when(ok).then(birth).otherwise(None).alias(f"{prefix}birth"),
        pl.when(ok)
        .then(pl.when(number.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1).then(pl.lit("M")).otherwise(pl.lit("F")))
        .otherwise(None)
        .alias(f"{prefix}sex"),
    )
    old_text, new_text = UPGRADED.split("{old}")[0], UPGRADED.split("{old}")[1].split("{new}")
    out = out.with_columns(
        pl.when(ok & is15)
        .then(pl.concat_str([pl.lit(old_text), norm, pl.lit(new_text[0]), number, pl.lit(new_text[1])]))
        .otherwise(None)
        .alias(f"{prefix}warning")
    )
    return out.drop("_id_norm", "_id_check", "_id_birth")


def area_warnings(df: pl.DataFrame, number_column: str) -> pl.DataFrame:
    """(area, year, warning) for the distinct area codes and birth years whose check fails."""
    pairs = (
        df.select(
            pl.col(number_column).str.slice(0, 6).alias("area"),
            pl.col(number_column).str.slice(6, 4).cast(pl.Int32).alias("year"),
        )
        .drop_nulls()
        .unique()
    )
    rows = [(a, y, area_code_warning(a, y)) for a, y in pairs.iter_rows()]
    return pl.DataFrame(
        [r for r in rows if r[2]], schema={"area": pl.String, "year": pl.Int32, "warning": pl.String}, orient="row"
    )
