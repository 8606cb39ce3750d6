"""The channel file's columns, its reading and row checks, and the county it belongs to."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from yibao.collection.models import (
    Payment,
)
from yibao.core.inputs import CONTROL_CHARACTERS
from yibao.imports.columns import ID_SYNONYMS, KIND_COLUMNS, NAME_SYNONYMS, Column
from yibao.policy.engine import cn_money
from yibao.registry.models import Resident

SHANGHAI = "Asia/Shanghai"
EXCEL_EPOCH = dt.datetime(1899, 12, 30)

PAYMENT_COLUMNS = (
    Column("external_id", "缴费流水号",
           ("缴费流水号", "交易流水号", "流水号", "缴费单号", "订单号", "交易单号", "业务流水号", "支付流水号", "缴款流水号",
            "缴费编号", "缴费记录编号", "支付订单号", "缴费订单号", "申报序号", "payment_id"), True),
    Column("id_number", "身份证号码", (*ID_SYNONYMS, "缴费人身份证号码", "缴费人证件号码", "参保人身份证号码"), True),
    Column("name", "姓名", (*NAME_SYNONYMS, "缴费人姓名", "缴费人")),
    Column("year", "缴费年度",
           ("缴费年度", "所属年度", "待遇年度", "参保年度", "年度", "费款所属期", "费款所属年度", "所属期", "征收年度"), True),
    Column("amount", "缴费金额", ("缴费金额", "金额", "实缴金额", "缴费额", "交易金额", "实收金额", "缴款金额", "支付金额", "缴费金额（元）",
                            "金额（元）", "实缴金额（元）"), True),
    Column("channel", "缴费渠道", ("缴费渠道", "渠道", "支付方式", "缴费方式", "支付渠道", "缴款方式", "缴费途径")),
    Column("paid_at", "缴费时间",
           ("缴费时间", "缴费日期", "交易时间", "交易日期", "支付时间", "缴款时间", "缴款日期", "入库时间", "到账时间",
            "入库日期", "到账日期", "扣款时间"), True),
    Column("ticket_no", "票据号",
           ("票据号", "电子票据号", "票据号码", "电子票据号码", "完税凭证号", "凭证号", "票号", "收据号", "收据号码", "电子缴税付款凭证号",
            "电子税票号码", "税票号码", "完税证明号码", "票证号码", "缴费凭证号")),
)
KIND = "payments"
KIND_COLUMNS.setdefault(KIND, PAYMENT_COLUMNS)  # the readers find a kind's columns in this registry
KIND_LABEL = "渠道缴费明细"

# first match wins: a channel text containing the word is that channel
CHANNEL_WORDS = (
    ("现金", "cash"),
    ("微信", "wechat"), ("财付通", "wechat"),
    ("支付宝", "alipay"),
    ("POS", "pos"), ("刷卡", "pos"),
    ("税务", "tax_app"), ("APP", "tax_app"), ("皖事通", "tax_app"), ("楚税通", "tax_app"), ("鄂税", "tax_app"),
    ("渝快办", "tax_app"), ("晋税", "tax_app"), ("小程序", "tax_app"), ("云闪付", "bank"),
    ("银行", "bank"), ("农商", "bank"), ("邮储", "bank"), ("信用社", "bank"), ("代扣", "bank"), ("网银", "bank"),
    ("柜台", "bank"), ("银联", "bank"),
)
FLAG_KINDS = ("unknown_person", "duplicate", "blocked", "not_accepted", "under", "over")
SLICE_ROWS = 50_000  # lines at a time when settings say nothing (YIBAO_INGEST_SLICE_ROWS)


class IngestError(ValueError):
    """The file as a whole cannot be ingested; the message is Chinese."""


def channel_code(text: str | None) -> tuple[str, str | None]:
    """(channel code, warning) for a channel text: '微信小程序' → wechat; an unknown word → other + warning."""
    raw = "".join(str(text or "").split())
    if not raw:
        return Payment.Channel.OTHER.value, None
    if raw in Payment.Channel.values:
        return raw, None
    upper = raw.upper()
    for code, label in Payment.Channel.choices:
        if raw == label:
            return code, None
    for word, code in CHANNEL_WORDS:
        if word.upper() in upper:
            return code, None
    return Payment.Channel.OTHER.value, f"未识别的缴费渠道“{raw}”，按“其他”记录"


def money_text(value: Decimal) -> str:
    return cn_money(Decimal(value))


# ---------------------------------------------------------------- reading and checking the file


def _issue(df: pl.DataFrame, when: pl.Expr, column: str, reason, level: str = "error", value: pl.Expr | None = None,
           key: str | None = None):
    """Issue rows (row, column label, value, reason, level) for the rows where `when` holds."""
    value = pl.col(key) if value is None and key else (pl.lit(None, dtype=pl.String) if value is None else value)
    reason = pl.lit(reason) if isinstance(reason, str) else reason
    return df.filter(when).select(
        pl.col("_row").cast(pl.Int64),
        pl.lit(column).alias("column"),
        value.cast(pl.String).alias("value"),
        reason.cast(pl.String).alias("reason"),
        pl.lit(level).alias("level"),
    )


ISSUE_SCHEMA = {"_row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String, "level": pl.String}

_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M",
    "%Y.%m.%d %H:%M:%S",
)
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")


def _paid_at_expr(column: str, excel: bool) -> pl.Expr:
    text = pl.col(column).str.replace(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})[+-]\d{2}:?\d{2}$", "$1")
    parsed = [text.str.strptime(pl.Datetime("us"), f, strict=False) for f in _DATETIME_FORMATS]
    parsed += [text.str.strptime(pl.Date, f, strict=False).cast(pl.Datetime("us")) for f in _DATE_FORMATS]
    if excel:
        serial = pl.when(text.str.contains(r"^\d{5}(\.\d+)?$")).then(text.cast(pl.Float64, strict=False))
        parsed.append(pl.lit(EXCEL_EPOCH, dtype=pl.Datetime("us")) + pl.duration(microseconds=(serial * 86_400_000_000).round(0).cast(pl.Int64)))
    return pl.coalesce(parsed).dt.replace_time_zone(SHANGHAI, ambiguous="earliest", non_existent="null")


def check_rows(table, *, now: dt.datetime, slice_rows: int | None = None) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(valid rows, issues, identical repeats within the file) for the rows of a payments Table.

    The row checks run a slice of lines at a time (their working columns are many and wide); the
    one check across rows, a payment id repeated in the file, runs on the narrow result."""
    size = slice_rows or ingest_slice_rows()
    goods, issue_parts, warning_parts = [], [], []
    for offset in range(0, max(table.df.height, 1), size):
        good, issues, warnings = _check_slice(table, table.df.slice(offset, size), now=now)
        goods.append(good)
        issue_parts.append(issues)
        warning_parts += warnings
    good = pl.concat(goods, how="vertical_relaxed") if len(goods) > 1 else goods[0]
    issues = pl.concat(issue_parts, how="vertical_relaxed") if len(issue_parts) > 1 else issue_parts[0]
    return _repeats_in_file(good, issues, warning_parts, table.label)


def ingest_slice_rows() -> int:
    """Lines checked, decided and written at a time (settings.YIBAO_INGEST_SLICE_ROWS)."""
    from django.conf import settings

    return max(1, int(getattr(settings, "YIBAO_INGEST_SLICE_ROWS", SLICE_ROWS)))


def _check_slice(table, df: pl.DataFrame, *, now: dt.datetime) -> tuple[pl.DataFrame, pl.DataFrame, list[pl.DataFrame]]:
    from yibao.imports.idcheck import id_columns

    for key in ("name", "channel", "ticket_no"):
        if key not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(key))
    label = table.label
    parts: list[pl.DataFrame] = []
    df = id_columns(df, "id_number", "idn_", today=now.date())
    parts.append(_issue(df, pl.col("idn_error").is_not_null(), label("id_number"), pl.col("idn_error"),
                        value=pl.col("id_number")))

    ext = pl.col("external_id")
    parts.append(_issue(df, ext.is_null(), label("external_id"), "缴费流水号为空", value=ext))
    parts.append(_issue(df, ext.str.len_chars() > 64, label("external_id"), "缴费流水号超过64个字符", key="external_id"))
    from yibao.imports.readers import stored_as_number

    for key in ("external_id", "ticket_no"):  # a long number held by Excel as a number lost its last digits
        when, reason = stored_as_number(key, label(key))
        parts.append(_issue(df, when, label(key), reason, key=key))

    year_text = pl.col("year").str.extract(r"((?:19|20|21)\d{2})", 1)
    df = df.with_columns(year_text.cast(pl.Int32, strict=False).alias("_year"))
    parts.append(_issue(df, pl.col("_year").is_null(), label("year"),
                        pl.when(pl.col("year").is_null()).then(pl.lit("缴费年度为空"))
                        .otherwise(pl.lit("缴费年度无法识别，应为 2025 这样的四位年份")), value=pl.col("year")))

    amount_text = pl.col("amount").str.replace_all(r"[¥￥,，元\s]", "")
    well_formed = amount_text.str.contains(r"^-?\d+(\.\d{1,2})?$")
    df = df.with_columns(
        pl.when(well_formed).then(amount_text).otherwise(None).cast(pl.Decimal(12, 2), strict=False).alias("_amount")
    )
    parts.append(_issue(
        df, pl.col("_amount").is_null(), label("amount"),
        pl.when(pl.col("amount").is_null()).then(pl.lit("缴费金额为空"))
        .when(amount_text.str.contains(r"^-?\d+\.\d{3,}$")).then(pl.lit("缴费金额最多两位小数（元、角、分）"))
        .otherwise(pl.lit("缴费金额不是数字")), value=pl.col("amount"),
    ))
    parts.append(_issue(df, pl.col("_amount") < 0, label("amount"), "缴费金额不能为负数（退费请走退费流程）", key="amount"))
    parts.append(_issue(df, pl.col("_amount") > 100_000, label("amount"), "缴费金额超过10万元，明显有误", key="amount"))

    df = df.with_columns(_paid_at_expr("paid_at", table.file_format == "xlsx").alias("_paid_at"))
    parts.append(_issue(
        df, pl.col("_paid_at").is_null(), label("paid_at"),
        pl.when(pl.col("paid_at").is_null()).then(pl.lit("缴费时间为空"))
        .otherwise(pl.lit("缴费时间无法识别，应为 2024-10-08 09:30:00 这样的格式")), value=pl.col("paid_at"),
    ))
    latest = now + dt.timedelta(days=1)
    parts.append(_issue(df, pl.col("_paid_at") > pl.lit(latest).dt.convert_time_zone(SHANGHAI), label("paid_at"),
                        "缴费时间晚于今天", key="paid_at"))
    parts.append(_issue(df, pl.col("ticket_no").str.len_chars() > 64, label("ticket_no"), "票据号超过64个字符", key="ticket_no"))
    parts.append(_issue(df, pl.col("name").str.len_chars() > 50, label("name"), "姓名超过50个字", key="name"))
    parts.append(_issue(df, pl.col("name").str.contains(CONTROL_CHARACTERS), label("name"),
                        "姓名含有不可见的控制字符，请删除后重新导入", key="name"))
    parts.append(_issue(df, pl.col("_year").is_not_null() & pl.col("_paid_at").is_not_null()
                        & ((pl.col("_paid_at").dt.year() < pl.col("_year") - 2) | (pl.col("_paid_at").dt.year() > pl.col("_year"))),
                        label("year"), pl.format("缴费年度{}与缴费时间{}不符", pl.col("_year"), pl.col("_paid_at").dt.strftime("%Y-%m-%d")),
                        value=pl.col("year")))

    channels = df.get_column("channel").drop_nulls().unique().to_list()
    mapping = {value: channel_code(value) for value in channels}
    table_channels = pl.DataFrame(
        {"channel": list(mapping), "_channel": [v[0] for v in mapping.values()], "_channel_warning": [v[1] for v in mapping.values()]},
        schema={"channel": pl.String, "_channel": pl.String, "_channel_warning": pl.String},
    )
    df = df.join(table_channels, on="channel", how="left", maintain_order="left").with_columns(
        pl.col("_channel").fill_null(Payment.Channel.OTHER.value)
    )
    warnings = [_issue(df, pl.col("_channel_warning").is_not_null(), label("channel"), pl.col("_channel_warning"),
                       level="warning", key="channel"),
                _issue(df, pl.col("idn_warning").is_not_null(), label("id_number"), pl.col("idn_warning"),
                       level="warning", value=pl.col("id_number"))]

    issues = pl.concat([p for p in parts if p.height] or [pl.DataFrame(schema=ISSUE_SCHEMA)])
    bad_rows = issues.get_column("_row").unique()
    good = df.filter(~pl.col("_row").is_in(bad_rows.implode())).select(
        "_row",
        pl.col("external_id"),
        pl.col("idn_number").alias("id_number"),
        pl.col("name"),
        pl.col("_year").alias("year"),
        pl.col("_amount").alias("amount"),
        pl.col("_channel").alias("channel"),
        pl.col("_paid_at").alias("paid_at"),
        pl.col("_paid_at").dt.date().alias("paid_on"),
        pl.col("ticket_no").fill_null(""),
    )
    return good, issues, [w for w in warnings if w.height]


def _repeats_in_file(good: pl.DataFrame, issues: pl.DataFrame, warnings: list[pl.DataFrame], label):
    # the same payment id twice in one file: identical lines are one payment, different ones an error
    good = good.with_columns(
        pl.concat_str([pl.col("id_number"), pl.col("year").cast(pl.String), pl.col("amount").cast(pl.String),
                       pl.col("paid_at").cast(pl.String)], separator="|").alias("_content"),
    ).with_columns(
        pl.col("_row").first().over("external_id").alias("_first_row"),
        pl.col("_content").first().over("external_id").alias("_first_content"),
    )
    repeat = good.filter(pl.col("_row") != pl.col("_first_row"))
    conflicting = repeat.filter(pl.col("_content") != pl.col("_first_content"))
    if conflicting.height:
        issues = pl.concat([issues, _issue(
            conflicting, pl.lit(True), label("external_id"),
            pl.format("缴费流水号与第{}行相同，但身份证号码、年度、金额或时间不同", pl.col("_first_row")), key="external_id",
        )])
    repeats = repeat.height - conflicting.height
    good = good.filter(pl.col("_row") == pl.col("_first_row")).drop("_content", "_first_row", "_first_content")
    issues = pl.concat([issues, *warnings]).sort("_row", "level", maintain_order=True)
    return good, issues, repeats


# ---------------------------------------------------------------- the county of a file


def ingest_county_check(county_code) -> str:
    """"" when no county is given, else the given code once it names a county of the region list."""
    from yibao.regions.models import Region

    code = str(county_code or "").strip()
    if not code:
        return ""
    if not (code.isdigit() and len(code) == 6):
        raise IngestError(f"县级区划代码应为6位数字，收到：{code}")
    if not Region.objects.filter(code=code, level=Region.Level.COUNTY).exists():
        raise IngestError(f"未找到县级区划 {code}：请核对县级区划代码，或先导入行政区划。缴费明细未导入。")
    return code


def county_of(rows: pl.DataFrame, sample: int = 2000) -> str:
    """The one county whose residents the file's ID numbers belong to (from a sample of them)."""
    numbers = rows.get_column("id_number").unique().head(sample).to_list()
    counties = set()
    for offset in range(0, len(numbers), 500):
        counties |= set(
            Resident.objects.filter(id_number__in=numbers[offset : offset + 500]).values_list("county_code", flat=True).distinct()
        )
    if not counties:
        raise IngestError("无法确定缴费明细属于哪个县：文件中的身份证号码都不在任何县的户籍名单中。请指定县级区划代码（--county）。")
    if len(counties) > 1:
        raise IngestError(
            f"文件中的缴费人分属多个县（{'、'.join(sorted(counties))}）。请按县拆分文件，或指定县级区划代码（--county）。"
        )
    return counties.pop()
