"""The tax bureau's payment records (税务缴费明细): columns, reading and row checks.

Reading goes through yibao.imports.readers (CSV in UTF-8/GBK or xlsx, Chinese headers with
synonyms). Checks are row level: a row with a broken field is left out of the reconciliation and
listed in an xlsx error report; the other rows are reconciled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from yibao.imports.columns import ID_SYNONYMS, KIND_COLUMNS, KIND_LABELS, NAME_SYNONYMS, Column
from yibao.imports.idcheck import id_columns
from yibao.imports.readers import read_table, stored_as_number
from yibao.imports.validation import IssueLog, map_distinct, parse_date_text

KIND = "tax_payments"

TAX_COLUMNS = (
    Column(
        "external_id", "缴费流水号",
        ("缴费流水号", "流水号", "交易流水号", "缴费单号", "业务流水号", "缴款流水号", "缴费记录编号", "缴费编号",
         "订单号", "支付订单号", "缴费订单号", "申报序号", "缴费ID", "payment_id"),
    ),
    Column("id_number", "身份证号码", ID_SYNONYMS + ("缴费人证件号码", "缴费人身份证号码", "缴费人证件号", "参保人证件号码"), True),
    Column("name", "姓名", NAME_SYNONYMS + ("缴费人姓名", "缴费人名称", "缴费人")),
    Column(
        "year", "缴费年度",
        ("缴费年度", "所属年度", "费款所属年度", "费款所属期", "待遇年度", "参保年度", "征收年度", "年度", "所属期"),
    ),
    Column(
        "amount", "缴费金额",
        ("缴费金额", "金额", "实缴金额", "缴款金额", "实缴费额", "交易金额", "实收金额", "缴费额", "实缴金额（元）",
         "缴费金额（元）", "金额（元）"),
        True,
    ),
    Column("channel", "缴费渠道", ("缴费渠道", "渠道", "缴费方式", "支付方式", "征收方式", "缴款方式", "支付渠道", "缴费途径")),
    Column(
        "paid_at", "缴费时间",
        ("缴费时间", "缴费日期", "缴款日期", "缴款时间", "入库日期", "交易时间", "交易日期", "支付时间", "扣款时间",
         "到账时间", "到账日期"),
    ),
    Column(
        "ticket_no", "票据号码",
        ("票据号码", "票据号", "电子税票号码", "税票号码", "完税凭证号", "完税证明号码", "票证号码", "收据号", "收据号码",
         "缴费凭证号"),
    ),
)

# the readers find a kind's columns in this registry
KIND_COLUMNS.setdefault(KIND, TAX_COLUMNS)
KIND_LABELS.setdefault(KIND, "税务缴费明细")

CHANNEL_WORDS = (
    ("cash", ("现金", "村窗口", "窗口现金", "柜台现金")),
    ("pos", ("POS", "pos", "刷卡", "银联")),
    ("wechat", ("微信",)),
    ("alipay", ("支付宝",)),
    ("tax_app", ("税务", "楚税通", "掌上", "电子税务局", "APP", "App", "app", "小程序", "公众号", "粤税通", "皖税通")),
    ("bank", ("银行", "农商", "信用社", "邮储", "代扣", "批扣")),
)

ISSUE_COLUMNS = ("行号", "列", "值", "原因")
FRAME_SCHEMA = {
    "tax_row": pl.Int64, "external_id": pl.String, "id_number": pl.String, "name": pl.String,
    "cents": pl.Int64, "paid_on": pl.Date, "channel": pl.String, "channel_text": pl.String, "ticket_no": pl.String,
}


@dataclass
class TaxRecords:
    rows: pl.DataFrame  # FRAME_SCHEMA: the rows of the run's year up to as_of, fit to reconcile
    issues: pl.DataFrame  # _row, column, value, reason, level
    total: int  # data rows in the file
    rejected: int  # rows with an error (not reconciled)
    other_year: int  # rows of another benefit year (left out)
    after_as_of: int  # rows paid after the as-of date (left out)
    rejected_external_ids: pl.DataFrame  # external_id, tax_row of rejected rows (hints)
    file_format: str = "csv"


def channel_code(text: str | None) -> str:
    value = (text or "").strip()
    for code, words in CHANNEL_WORDS:
        if any(word in value for word in words):
            return code
    return "other"


AMOUNT_NOISE = r"[¥￥,，元\s]"


def _amount_cents(df: pl.DataFrame) -> pl.DataFrame:
    """Add _amount (the text without ¥/元/commas) and cents (null when it is not a money amount)."""
    text = pl.col("amount")
    if df["amount"].str.contains(AMOUNT_NOISE).any():
        text = text.str.replace_all(AMOUNT_NOISE, "")
    df = df.with_columns(text.alias("_amount"))
    exact = pl.col("_amount").str.contains(r"^\d+(\.\d{0,2})?$")
    df = df.with_columns(
        pl.when(exact).then(pl.col("_amount").cast(pl.Decimal(18, 2), strict=False).to_physical().cast(pl.Int64))
        .otherwise(None).alias("cents")
    )
    # xlsx numbers read as text may carry float noise (400.00000000001): accept within a ten-thousandth of a cent
    noisy = pl.col("cents").is_null() & pl.col("_amount").str.contains(r"^\d+\.\d{3,}$")
    if df.select(noisy.any()).item():
        as_float = pl.col("_amount").cast(pl.Float64, strict=False) * 100
        df = df.with_columns(
            pl.when(noisy & ((as_float - as_float.round(0)).abs() < 1e-4)).then(as_float.round(0).cast(pl.Int64))
            .otherwise(pl.col("cents")).alias("cents")
        )
    return df


def _day_of(value: str, xlsx: bool):
    """The date of a 缴费时间 cell's first word: 2024-10-08, 2024/10/8, 20241008, 2024年10月8日, or an Excel serial."""
    if xlsx and re.fullmatch(r"\d{4,5}\.\d+", value):
        value = value.split(".")[0]
    return parse_date_text(value, xlsx)


WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def _check_ids(df: pl.DataFrame, today) -> pl.DataFrame:
    """idn_number (18 characters, null when invalid) and idn_error, as yibao.imports.idcheck.id_columns gives.

    The common case, an 18-character number as written, is checked with integer arithmetic on
    the first 17 digits; only the rows that fail go through id_columns for its exact reason.
    """
    raw = pl.col("id_number")
    df = df.with_columns(raw.str.slice(0, 17).cast(pl.Int64, strict=False).alias("_body"))
    total = pl.sum_horizontal([(pl.col("_body") // (10 ** (16 - i))) % 10 * w for i, w in enumerate(WEIGHTS)])
    check = (total % 11).replace_strict(dict(enumerate(CHECK_CHARS)), return_dtype=pl.String)
    birth = raw.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    number = raw.str.to_uppercase()
    valid = (
        raw.str.contains(r"^[0-9]{17}[0-9Xx]$") & (number.str.slice(17, 1) == check) & (raw.str.slice(6, 4) != "0000")
        & (birth <= pl.lit(today))
    ).fill_null(False)
    df = df.with_columns(pl.when(valid).then(number).otherwise(None).alias("idn_number"),
                         pl.lit(None, dtype=pl.String).alias("idn_error"),
                         pl.lit(None, dtype=pl.String).alias("idn_warning")).drop("_body")
    rest = df.filter(pl.col("idn_number").is_null())
    if rest.height == 0:
        return df
    checked = id_columns(rest.drop("idn_number", "idn_error", "idn_warning"), "id_number", "idn_", today).drop(
        "idn_birth", "idn_sex")
    return pl.concat([df.filter(pl.col("idn_number").is_not_null()), checked.select(df.columns)])


def tax_records_read(path: str | Path, *, benefit_year: int, as_of, today=None) -> TaxRecords:
    """Read and check a tax file; raises ImportFileError when the file as a whole can't be read."""
    import datetime as dt

    today = today or dt.date.today()
    table = read_table(path, KIND)
    present = set(table.present)
    df = table.df
    for key, _dtype in (("external_id", None), ("name", None), ("year", None), ("channel", None), ("paid_at", None),
                        ("ticket_no", None)):
        if key not in present:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(key))
    log = IssueLog(table)
    total = df.height

    df = _check_ids(df, today)
    reason = pl.col("idn_error")
    if table.file_format == "xlsx":
        reason = pl.when(reason.str.contains("校验位")).then(
            pl.concat_str([reason, pl.lit("；若该列在 Excel 中是数字格式，号码末几位可能已丢失，请设为文本格式")])
        ).otherwise(reason)
    log.add(df, pl.col("idn_error").is_not_null(), "id_number", reason)
    log.add(df, pl.col("idn_warning").is_not_null(), "id_number", pl.col("idn_warning"), level="warning")
    for key in ("external_id", "ticket_no"):  # a long number Excel held as a number lost its last digits
        if key in present:
            when, why = stored_as_number(key, table.label(key))
            log.add(df, when.fill_null(False), key, why)

    df = _amount_cents(df)
    log.add(df, pl.col("amount").is_null(), "amount", "缴费金额为空")
    log.add(
        df, pl.col("amount").is_not_null() & pl.col("cents").is_null(), "amount",
        pl.when(pl.col("_amount").str.starts_with("-")).then(pl.lit("缴费金额不能为负数（退费、冲正记录请勿放入缴费明细）"))
        .otherwise(pl.lit("缴费金额无法识别（应为数字，最多两位小数，如 400 或 400.00）")),
    )

    # year: 2025, 2025年, 2025年度; missing means the run's year
    year_text = pl.col("year").str.extract(r"^(\d{4})", 1)
    df = df.with_columns(year_text.cast(pl.Int32, strict=False).alias("year_value"))
    log.add(df, pl.col("year").is_not_null() & pl.col("year_value").is_null(), "year", "缴费年度无法识别（应为4位年份，如 2025）")

    # dates: the day part of a date or time (or an Excel serial day), parsed once per distinct day
    xlsx = table.file_format == "xlsx"
    df = df.with_columns(pl.col("paid_at").str.extract(r"^([^ T]+)", 1).alias("_day"))
    days = {v: _day_of(v, xlsx) for v in df["_day"].drop_nulls().unique().to_list()}
    df = df.with_columns(
        pl.col("_day").replace_strict(days, default=None, return_dtype=pl.Date).alias("paid_on") if days
        else pl.lit(None, dtype=pl.Date).alias("paid_on")
    )
    log.add(
        df, pl.col("paid_at").is_not_null() & pl.col("paid_on").is_null(), "paid_at",
        "缴费时间无法识别（应为 2024-10-08、2024/10/8 09:30:00 或 20241008 这样的格式）",
    )
    log.add(df, pl.col("paid_on") > pl.lit(today), "paid_at", "缴费时间晚于今天")

    if "external_id" in present:
        log.add(df, pl.col("external_id").str.len_chars() > 64, "external_id", "缴费流水号超过64个字符")
        dup = (
            df.filter(pl.col("external_id").is_not_null() & pl.col("external_id").is_duplicated())
            .with_columns(
                pl.len().over("external_id").alias("_n"),
                pl.col("_row").min().over("external_id").alias("_first"),
            )
            .filter(pl.col("_n") > 1)
        )
        if dup.height:
            log.add(
                dup, pl.col("_row") != pl.col("_first"), "external_id",
                pl.format("缴费流水号与第{}行重复：同一笔缴费只应出现一次，请税务核实", pl.col("_first")),
            )

    issues = log.frame()
    bad = issues.filter(pl.col("level") == "error")["_row"].unique()
    rejected_rows = df.filter(pl.col("_row").is_in(bad.implode()))
    good = df.filter(~pl.col("_row").is_in(bad.implode()))
    in_year = pl.col("year_value").is_null() | (pl.col("year_value") == benefit_year)
    other_year = good.filter(~in_year).height
    good = good.filter(in_year)
    late = pl.col("paid_on").is_not_null() & (pl.col("paid_on") > pl.lit(as_of))
    after_as_of = good.filter(late).height
    good = good.filter(~late)
    channel_map = map_distinct(good.select("channel").unique(), "channel", lambda v: (channel_code(v),),
                               {"channel_code": pl.String})
    good = good.join(channel_map, on="channel", how="left", nulls_equal=True, maintain_order="left")
    rows = good.select(
        pl.col("_row").cast(pl.Int64).alias("tax_row"),
        pl.col("external_id"),
        pl.col("idn_number").alias("id_number"),
        pl.col("name"),
        pl.col("cents"),
        pl.col("paid_on"),
        pl.col("channel_code").fill_null("other").alias("channel"),
        pl.col("channel").alias("channel_text"),
        pl.col("ticket_no"),
    )
    return TaxRecords(
        rows=rows.cast(FRAME_SCHEMA),
        issues=issues,
        total=total,
        rejected=bad.len(),
        other_year=other_year,
        after_as_of=after_as_of,
        rejected_external_ids=rejected_rows.filter(pl.col("external_id").is_not_null())
        .select("external_id", pl.col("_row").cast(pl.Int64).alias("tax_row")),
        file_format=table.file_format,
    )


def error_report_write(*, issues: pl.DataFrame, path: Path, title: str) -> Path:
    """The rows of the tax file that were left out, one line per fault (行号, 列, 值, 原因)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#F0F4F8", "border": 1})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet("未参与对账的行")
    sheet.set_column(0, 0, 8)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, 2, 26, text)
    sheet.set_column(3, 3, 70)
    sheet.write_row(0, 0, ISSUE_COLUMNS, bold)
    sheet.freeze_panes(1, 0)
    rows = issues.filter(pl.col("level") == "error").sort("_row", maintain_order=True)
    for i, (row, column, value, reason) in enumerate(rows.select("_row", "column", "value", "reason").iter_rows(), start=1):
        if i > 1_000_000:
            break
        sheet.write_number(i, 0, row)
        sheet.write_string(i, 1, column or "")
        sheet.write_string(i, 2, value or "")
        sheet.write_string(i, 3, reason or "")
    about = book.add_worksheet("说明")
    about.set_column(0, 0, 100)
    about.write(0, 0, title)
    about.write(1, 0, "这些行有错误，没有参与本次对账；其余各行已正常对账。")
    about.write(2, 0, "请税务按“原因”更正后重新导出缴费记录，再对账一次。与这些行相关的缴费可能在本次结果中显示为“已入账未到账”。")
    about.write(3, 0, "行号是原文件中的行号（含表头行），可在 Excel/WPS 中直接定位。")
    book.close()
    return path
