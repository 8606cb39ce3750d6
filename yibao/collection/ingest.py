"""Channel files: the payment detail of the tax bureau or a bank, booked in bulk.

Row-level: a row with a broken field (ID number, year, amount, time …) is rejected into the xlsx
error report (row, column, value, reason); every other row is written, all in one transaction
per file. Nothing loops the ORM: polars validates, residents and their identities are looked up
in bulk through a staging table, the policy engine's bulk form quotes each county-year once per
decision key, and rows are written by COPY on PostgreSQL or executemany on SQLite.

Each row ends up as one of:
  unchanged  — its payment id (缴费流水号) is already booked for the county, or repeats an
               identical line of the same file;
  booked     — the amount is what the policy gives on that day: enrollment registered or
               renewed and marked paid with the policy's benefit dates, 先缴后补 opened;
  flagged    — stored as a payment under 待处理 with a flag and advice, never booked silently:
               unknown_person, duplicate (already paid), blocked (may not enroll),
               not_accepted (the policy refuses that date, or the gate of every booking path
               does: dated after the business day, a closed or history year),
               under / over (amount differs);
  rejected   — broken fields, or a year the county has not opened: listed in the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from yibao.collection.models import (
    Payment,
    QuoteExplanation,
    Receipt,
    ReceiptLine,
    SubsidyRefund,
)
from yibao.core.clock import business_now
from yibao.core.progress import NullProgress, Progress
from yibao.core.services import actor_fields, job_outcome_record
from yibao.enrollment.models import Campaign, Enrollment, EnrollmentClaim
from yibao.imports.columns import ID_SYNONYMS, KIND_COLUMNS, NAME_SYNONYMS, Column
from yibao.policy.engine import cn_money, quote
from yibao.policy.loader import load_policy
from yibao.regions.selectors import county_label, county_labels
from yibao.registry.models import Flag, GroupFact, Identity, Resident
from yibao.core.inputs import CONTROL_CHARACTERS

BATCH = 20_000
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


# ---------------------------------------------------------------- database helpers


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _sql_values(df: pl.DataFrame) -> pl.DataFrame:
    """Dates as ISO text, datetimes as UTC text, decimals as text, booleans as 0/1: what both
    executemany on SQLite and COPY on PostgreSQL take."""
    casts = []
    for name, dtype in df.schema.items():
        if dtype == pl.Date:
            casts.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            text = pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
            casts.append((text + "+00:00") if _pg() else text)
        elif isinstance(dtype, pl.Decimal):
            casts.append(pl.col(name).cast(pl.String))
        elif dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Int8))
    return df.with_columns(casts) if casts else df


def copy_rows(table: str, df: pl.DataFrame, progress: Progress | None = None) -> int:
    """Append a DataFrame to a table whose columns it names (COPY on PostgreSQL, executemany on SQLite)."""
    if df.height == 0:
        return 0
    columns = ", ".join(f'"{c}"' for c in df.columns)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for offset in range(0, df.height, BATCH):
            chunk = _sql_values(df.slice(offset, BATCH))  # as text a batch at a time, not the whole frame
            if _pg():
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(chunk.write_csv(include_header=False))
            else:
                marks = ", ".join("?" * df.width)
                raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", chunk.iter_rows())
            if progress is not None:
                progress.advance(chunk.height)
    return df.height


def stage_create(name: str, columns: dict[str, str], indexes=()) -> None:
    with connection.cursor() as cursor:
        if _pg():
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
            cursor.execute(f"CREATE TEMP TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns.items())}) ON COMMIT DROP")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")
            cursor.execute(f"CREATE TEMP TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns.items())})")
        for column in indexes:
            cursor.execute(f"CREATE INDEX {name}_{column} ON {name} ({column})")


def stage_index(name: str, columns) -> None:
    """Index a filled staging table (cheaper than keeping the index during the insert), and on
    PostgreSQL analyze it: temporary tables get no statistics otherwise, and joins are planned blind."""
    with connection.cursor() as cursor:
        for column in columns:
            cursor.execute(f"CREATE INDEX {name}_{column} ON {name} ({column})")
        if _pg():
            cursor.execute(f"ANALYZE {name}")


def stage_drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {'pg_temp' if _pg() else 'temp'}.{name}")


def fetch(sql: str, params, schema: dict) -> pl.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    names = list(schema)
    columns = list(zip(*rows)) if rows else [()] * len(names)
    data = {}
    for name, values in zip(names, columns):
        dtype = schema[name]
        if dtype == pl.Date:  # SQLite answers text, PostgreSQL dates
            values = [v if v is None or isinstance(v, str) else v.isoformat() for v in values]
            data[name] = pl.Series(name, values, dtype=pl.String).str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d")
        elif dtype == pl.Boolean:  # SQLite answers 0/1, PostgreSQL True/False
            data[name] = pl.Series(name, [None if v is None else bool(v) for v in values], dtype=pl.Boolean)
        else:
            data[name] = pl.Series(name, values, dtype=dtype, strict=False)
    return pl.DataFrame(data)


@contextmanager
def sqlite_cache(kib: int = 256 * 1024):
    """A larger page cache on SQLite while a file is written: index updates of big tables stay in memory."""
    if _pg():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def model_defaults(model, provided) -> dict:
    """Python-side defaults of the model's other columns, so raw INSERTs stay valid as models grow."""
    provided = set(provided)
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in provided:
            continue
        value = field.get_default()
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        values[field.column] = value
    return values


def with_defaults(model, df: pl.DataFrame) -> pl.DataFrame:
    extra = model_defaults(model, df.columns)
    if not extra:
        return df
    columns = []
    for name, value in extra.items():
        if isinstance(value, bool):
            columns.append(pl.lit(int(value), dtype=pl.Int8).alias(name))
        elif isinstance(value, Decimal):
            columns.append(pl.lit(str(value)).alias(name))
        elif isinstance(value, dt.datetime):
            columns.append(pl.lit(value).alias(name))
        else:
            columns.append(pl.lit(value).alias(name))
    return df.with_columns(columns)


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


def check_rows(table, *, now: dt.datetime) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(valid rows, issues, identical repeats within the file) for the rows of a payments Table."""
    from yibao.imports.idcheck import id_columns

    df = table.df
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
    issues = pl.concat([issues, *[w for w in warnings if w.height]]).sort("_row", "level", maintain_order=True)
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


# ---------------------------------------------------------------- the ingest


STAGE = "collection_stage_payment"
STAGE_RES = "collection_stage_resident"


def _json_lines_key(lines) -> str:
    return hashlib.md5(json.dumps(list(lines), ensure_ascii=False).encode("utf-8")).hexdigest()


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
        written, extra_issues = _ingest_rows(rows=rows, county_code=county_code, actor=actor, job=job,
                                             progress=progress, total=total_rows)
        counts.update({k: v for k, v in written.items() if k in ("booked", "flagged", "flagged_by_kind", "years")})
        counts["unchanged"] += written["unchanged"]
        issues = pl.concat([issues, extra_issues]).sort("_row", "level", maintain_order=True) if extra_issues.height else issues
        counts["rejected"] = issues.filter(pl.col("level") == "error").get_column("_row").n_unique()
        counts["warnings"] = issues.filter(pl.col("level") == "warning").get_column("_row").n_unique()
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


def _ingest_rows(*, rows: pl.DataFrame, county_code: str, actor, job, progress: Progress, total: int):
    """Everything after the file check, inside the file's transaction."""
    empty_issues = pl.DataFrame(schema=ISSUE_SCHEMA)
    result = {"booked": 0, "flagged": 0, "flagged_by_kind": {k: 0 for k in FLAG_KINDS}, "unchanged": 0, "years": []}
    if rows.height == 0:
        return result, empty_issues

    # campaigns: a year the county has not opened cannot be booked (nor stored: a payment names its campaign)
    years = sorted(rows.get_column("year").unique().to_list())
    campaigns = {c.benefit_year: c for c in Campaign.objects.filter(county_code=county_code, benefit_year__in=years)}
    missing = [y for y in years if y not in campaigns]
    issues = empty_issues
    if missing:
        lost = rows.filter(pl.col("year").is_in(missing))
        issues = _issue(lost, pl.lit(True), "缴费年度",
                        pl.format("{}尚未开启{}年度征缴，不能入账；请县医保局先开启征缴年度后重新导入", pl.lit(county_label(county_code)),
                                  pl.col("year")),
                        value=pl.col("year").cast(pl.String))
        rows = rows.filter(~pl.col("year").is_in(missing))
    result["years"] = sorted(campaigns)
    if rows.height == 0:
        return result, issues
    rows = _gate_rows(rows, campaigns)

    # the county's receipt series of each year: taken first, as the counter does (see services.receipt_series_lock)
    from yibao.collection.services import receipt_series_lock

    for year in sorted(campaigns):
        receipt_series_lock(county_code=county_code, benefit_year=year)

    progress.step("查找缴费人")
    stage_create(STAGE, {"row_no": "bigint", "external_id": "varchar(64)", "id_number": "varchar(18)", "year": "integer",
                         "amount": "numeric(12, 2)"})
    copy_rows(STAGE, rows.select(pl.col("_row").alias("row_no"), "external_id", "id_number", "year", "amount"))
    stage_index(STAGE, ["external_id", "id_number"])

    P = Payment._meta.db_table
    # repeats across files: the payment id is already stored for this county (one pass; the lines
    # whose content differs from what is stored get a warning each)
    stored = fetch(
        f"SELECT s.row_no, CASE WHEN p.id_number <> s.id_number OR p.amount <> s.amount THEN 1 ELSE 0 END "
        f"FROM {STAGE} s JOIN {P} p ON p.county_code = %s AND p.external_id = s.external_id",
        [county_code], {"_row": pl.Int64, "differs": pl.Boolean},
    )
    if stored.height:
        result["unchanged"] = stored.height
        changed = stored.filter(pl.col("differs")).get_column("_row").to_list()
        if changed:
            detail = fetch(
                f"SELECT s.row_no, p.id_number, p.amount FROM {STAGE} s JOIN {P} p "
                f"ON p.county_code = %s AND p.external_id = s.external_id WHERE s.row_no IN ({', '.join(['%s'] * len(changed[:5000]))})",
                [county_code, *changed[:5000]], {"_row": pl.Int64, "stored_id_number": pl.String, "stored_amount": pl.String},
            )
            issues = pl.concat([issues, _issue(
                rows.join(detail, on="_row"), pl.lit(True), "缴费流水号",
                pl.format("该缴费流水号已入库（身份证号码 {}，金额 {}），本行内容不同，未重复入账，请核实",
                          pl.col("stored_id_number"), pl.col("stored_amount")),
                level="warning", value=pl.col("external_id"))])
        rows = rows.filter(~pl.col("_row").is_in(stored.get_column("_row").implode()))
    if rows.height == 0:
        return result, issues

    R = Resident._meta.db_table
    residents = fetch(
        f"SELECT DISTINCT r.id, r.id_number, r.birth_date, r.township_code, r.village_code, r.relation_to_head, r.status "
        f"FROM {R} r WHERE r.county_code = %s AND r.id_number IN (SELECT id_number FROM {STAGE})",
        [county_code],
        {"resident_id": pl.Int64, "id_number": pl.String, "birth_date": pl.Date, "township_code": pl.String,
         "village_code": pl.String, "relation_to_head": pl.String, "resident_status": pl.String},
    )
    rows = rows.join(residents, on="id_number", how="left", maintain_order="left")
    known_ids = residents.get_column("resident_id")
    stage_create(STAGE_RES, {"resident_id": "bigint"})
    copy_rows(STAGE_RES, residents.select("resident_id"))
    stage_index(STAGE_RES, ["resident_id"])
    progress.advance(total // 10)

    facts = _person_facts(county_code)
    rows = _attach_facts(rows, facts)

    progress.step("按政策测算应缴金额")
    rows, explanations = _quote_rows(rows, campaigns)
    progress.advance(total // 5)

    progress.step("核对缴费状态")
    rows = _classify(rows, county_code, facts)
    flagged = rows.filter(pl.col("flag") != "")
    booked = rows.filter(pl.col("flag") == "")
    for kind, n in flagged.group_by("flag").len().iter_rows():
        result["flagged_by_kind"][kind] = n
    result["flagged"] = flagged.height
    result["booked"] = booked.height

    progress.step("写入数据库")
    _write(rows=rows, booked=booked, county_code=county_code, campaigns=campaigns, explanations=explanations,
           actor=actor, job=job, progress=progress, known_ids=known_ids)
    stage_drop(STAGE)
    stage_drop(STAGE_RES)
    return result, issues


def _gate_rows(rows: pl.DataFrame, campaigns: dict) -> pl.DataFrame:
    """`gate`: why the row may not be booked whatever the person owes (dated after the business day,
    a history or closed year), from the one gate every booking path calls. Asked once per year and
    day, not per row. A closed year's line that passes is then booked, and registers the person,
    only where the quote accepts it (a late rule), as at the counter."""
    from yibao.collection.selectors import booking_refusal, business_today

    today = business_today()
    pairs = rows.select("year", "paid_on").unique()
    refusals = [booking_refusal(campaign=campaigns[year], paid_on=day, today=today) for year, day in pairs.iter_rows()]
    gate = pairs.with_columns(pl.Series("gate", refusals, dtype=pl.String))
    return rows.join(gate, on=["year", "paid_on"], how="left", maintain_order="left")


def _person_facts(county_code: str) -> dict[str, pl.DataFrame]:
    """Identities, group facts, enrollments, booked payments and flags of the staged residents."""
    I, G, E, P, F = (Identity._meta.db_table, GroupFact._meta.db_table, Enrollment._meta.db_table,
                     Payment._meta.db_table, Flag._meta.db_table)
    join = f"JOIN {STAGE_RES} x ON x.resident_id = t.resident_id WHERE t.county_code = %s"
    return {
        "identities": fetch(
            f"SELECT t.resident_id, t.code, t.valid_from, t.valid_to FROM {I} t {join}", [county_code],
            {"resident_id": pl.Int64, "code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date}),
        "groups": fetch(
            f'SELECT t.resident_id, t."group", t.event_date FROM {G} t {join}', [county_code],
            {"resident_id": pl.Int64, "group": pl.String, "event_date": pl.Date}),
        "enrollments": fetch(
            f"SELECT t.id, t.resident_id, t.benefit_year, t.status, t.tier, t.status_reason FROM {E} t {join}", [county_code],
            {"enrollment_id": pl.Int64, "resident_id": pl.Int64, "benefit_year": pl.Int32, "enrollment_status": pl.String,
             "tier": pl.Int64, "status_reason": pl.String}),
        "booked": fetch(
            f"SELECT t.resident_id, t.benefit_year, t.external_id, t.paid_on, CAST(t.amount AS TEXT), t.channel, rc.receipt_no FROM {P} t "
            f"LEFT JOIN {ReceiptLine._meta.db_table} rl ON rl.payment_id = t.id "
            f"LEFT JOIN {Receipt._meta.db_table} rc ON rc.id = rl.receipt_id {join} AND t.status = 'booked'",
            [county_code],
            {"resident_id": pl.Int64, "benefit_year": pl.Int32, "booked_external_id": pl.String, "booked_paid_on": pl.Date,
             "booked_amount": pl.String, "booked_channel": pl.String, "booked_receipt_no": pl.String}),
        "flags": fetch(
            f"SELECT t.resident_id, t.kind, t.detail, t.resolved_at IS NULL, t.outcome, t.resolution FROM {F} t {join}",
            [county_code],
            {"resident_id": pl.Int64, "kind": pl.String, "detail": pl.String, "open": pl.Boolean, "outcome": pl.String,
             "resolution": pl.String}),
    }


def _attach_facts(rows: pl.DataFrame, facts: dict) -> pl.DataFrame:
    """The engine's inputs per row, from the one builder that enrollment.selectors.person_for and
    核定 use (yibao.policy.facts.person_facts), plus this year's enrollment."""
    from yibao.policy.facts import person_facts

    keyed = rows.filter(pl.col("resident_id").is_not_null()).select(
        pl.col("_row").alias("_key"), "resident_id", pl.col("paid_on").alias("on"), "year",
        pl.col("relation_to_head").alias("relation"))
    enrollments = facts["enrollments"]
    covered = enrollments.filter(pl.col("enrollment_status").is_in(["paid", "suspended"])).select(
        "resident_id", "benefit_year")
    engine_facts = person_facts(keyed, facts["identities"], facts["groups"], covered).select(
        pl.col("_key").alias("_row"), "identities", "groups", "event_date", "gap_years", "first_time", "renewal",
        "household_role")
    this_year = enrollments.rename({"benefit_year": "year"}).with_columns(pl.col("year").cast(pl.Int32))
    rows = (
        rows.join(engine_facts, on="_row", how="left", maintain_order="left")
        .join(this_year.select("resident_id", "year", "enrollment_id", "enrollment_status", "tier", "status_reason"),
              on=["resident_id", "year"], how="left", maintain_order="left")
    )
    return rows.with_columns(
        pl.col("identities").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.col("groups").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.col("tier").fill_null(1),
        pl.col("gap_years").fill_null(0),
        pl.col("first_time").fill_null(True),
        pl.col("renewal").fill_null(False),
    )


EVENT_CHUNK = 100_000  # payments whose events are built and written at once
QUOTE_CHUNK = 10_000  # representatives quoted with their explanations at once (about 6 KB each in flight)
QUOTE_SCHEMA = {
    "accepted": pl.Boolean, "reason": pl.String, "standard": pl.Decimal(12, 2), "subsidy": pl.Decimal(12, 2),
    "payable": pl.Decimal(12, 2), "refund_later": pl.Decimal(12, 2), "subsidy_identity": pl.String,
    "benefit_start": pl.Date, "benefit_end": pl.Date, "rule": pl.String, "policy_version": pl.String,
    "explanation_key": pl.String,
}
QUOTE_COLUMNS = ("accepted", "reason", "standard", "subsidy", "payable", "refund_later", "subsidy_identity",
                 "benefit_start", "benefit_end", "rule", "policy_version", "explanation_key")


def _quote_rows(rows: pl.DataFrame, campaigns: dict) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """Quote every known person at their payment date with the campaign's policy, once per decision key.

    The engine's inputs are taken as a narrow frame and the answers joined back once: the rows
    are wide, and each copy of them costs hundreds of MB for a million lines."""
    from yibao.policy.bulk import decision_keys, quote_frame

    explanations: dict[str, list[str]] = {}
    known = rows.filter(pl.col("resident_id").is_not_null()).select(
        "_row", "year", "birth_date", "identities", "groups", "event_date", "tier", "gap_years", "household_role",
        "first_time", "paid_on")
    quoted_parts = []
    for year, campaign in campaigns.items():
        if campaign.imported:  # no policy: its rows are refused at the gate, never quoted
            continue
        policy = load_policy(campaign.policy_id)
        part = known.filter(pl.col("year") == year)
        if part.height == 0:
            continue
        several = part.filter(pl.col("groups").list.len() > 1)
        simple = part.filter(pl.col("groups").list.len() <= 1)
        inputs = simple.select(
            "_row", "birth_date",
            pl.col("identities").cast(pl.List(pl.String)),
            pl.col("groups").list.first().cast(pl.String).alias("group"),
            pl.col("event_date").cast(pl.Date), pl.col("tier").cast(pl.Int64), pl.col("gap_years").cast(pl.Int64),
            pl.lit(0, dtype=pl.Int64).alias("backpaid_years"), pl.col("household_role").cast(pl.String),
            pl.col("first_time").cast(pl.Boolean), pl.col("paid_on").cast(pl.Date),
        )
        keyed = decision_keys(policy, inputs).rename({"_decision_key": "_key"})
        reps = keyed.unique(subset=["_key"], keep="first", maintain_order=True).drop(
            "_age_paid", "_age_subsidy", "_exact_birth", "_identity_set")
        answered = []
        for offset in range(0, max(reps.height, 1), QUOTE_CHUNK):  # explanations are wide: a slice at a time
            answers = quote_frame(policy, reps.slice(offset, QUOTE_CHUNK), explain=True)
            keys = []
            for lines in answers.get_column("explanation").to_list():
                key = _json_lines_key(lines)
                explanations.setdefault(key, list(lines))
                keys.append(key)
            answered.append(answers.with_columns(pl.Series("explanation_key", keys, dtype=pl.String)).select(
                "_key", *QUOTE_COLUMNS))
        answers = pl.concat(answered, how="vertical_relaxed")
        quoted_parts.append(keyed.select("_row", "_key").join(answers, on="_key", how="left").drop("_key"))
        if several.height:
            quoted_parts.append(_quote_scalar(policy, several, explanations))
    quoted = (pl.concat(quoted_parts, how="vertical_relaxed") if quoted_parts
              else pl.DataFrame(schema={"_row": pl.Int64, **QUOTE_SCHEMA}))
    return rows.join(quoted, on="_row", how="left", maintain_order="left"), explanations


def _quote_scalar(policy, part: pl.DataFrame, explanations: dict) -> pl.DataFrame:
    """Persons with several group facts: the scalar engine, as person_for would see them."""
    from yibao.policy.facts import person_from_row

    out = []
    for row in part.iter_rows(named=True):
        person = person_from_row(row, tier=row["tier"])
        answer = quote(policy, person, row["paid_on"])
        key = _json_lines_key(answer.explanation)
        explanations.setdefault(key, list(answer.explanation))
        out.append({
            "_row": row["_row"], "accepted": answer.accepted, "reason": answer.reason, "standard": answer.standard,
            "subsidy": answer.subsidy, "payable": answer.payable, "refund_later": answer.refund_later,
            "subsidy_identity": answer.subsidy_identity, "benefit_start": answer.benefit_start,
            "benefit_end": answer.benefit_end, "rule": answer.rule, "policy_version": answer.policy_version,
            "explanation_key": key,
        })
    return pl.DataFrame(out, schema={"_row": pl.Int64, **QUOTE_SCHEMA})


def _block_reasons(rows: pl.DataFrame, county_code: str, facts: dict) -> pl.DataFrame:
    """(_row, block) for persons who may not enroll: the checks of enrollment_register and
    enrollment_mark_paid, over the whole file at once."""
    E, C = Enrollment._meta.db_table, EnrollmentClaim._meta.db_table
    elsewhere = fetch(
        f"SELECT s.row_no, c.county_code FROM {STAGE} s JOIN {C} c ON c.id_number = s.id_number "
        f"AND c.benefit_year = s.year AND c.released_at IS NULL WHERE c.county_code <> %s",
        [county_code], {"_row": pl.Int64, "claim_county": pl.String},
    ).unique(subset="_row", keep="first")
    previous = fetch(
        f"SELECT s.row_no, e.county_code FROM {STAGE} s JOIN {E} e ON e.id_number = s.id_number "
        f"AND e.benefit_year = s.year - 1 WHERE e.county_code <> %s AND e.status IN ('paid', 'registered')",
        [county_code], {"_row": pl.Int64, "previous_county": pl.String},
    ).unique(subset="_row", keep="first")
    flags = facts["flags"].with_columns(pl.col("kind").replace_strict(dict(Flag.Kind.choices), default=pl.col("kind")).alias("kind_label"))
    detail = pl.when(pl.col("detail").fill_null("") != "").then(pl.format("（{}）", pl.col("detail"))).otherwise(pl.lit(""))
    flag_text = flags.with_columns(
        pl.when(pl.col("open")).then(pl.format("{}{}，待县医保局核实处理", pl.col("kind_label"), detail))
        .when(pl.col("outcome") == Flag.Outcome.CONFIRMED.value)
        .then(pl.format("经核实{}{}，不能在本县参加城乡居民医保（{}）", pl.col("kind_label"), detail, pl.col("resolution")))
        .otherwise(None).alias("flag_text")
    ).filter(pl.col("flag_text").is_not_null()).group_by("resident_id").agg(pl.col("flag_text").str.join("；"))
    status_labels = dict(Resident.Status.choices)
    out = rows.select("_row", "resident_id", "resident_status", "enrollment_status", "status_reason", "year").join(
        flag_text, on="resident_id", how="left").join(elsewhere, on="_row", how="left").join(previous, on="_row", how="left")
    labels = county_labels(set(out.get_column("claim_county").drop_nulls()) | set(out.get_column("previous_county").drop_nulls()))
    out = out.with_columns(pl.col(c).replace_strict(labels, default=pl.col(c), return_dtype=pl.String)
                           for c in ("claim_county", "previous_county"))  # named, not by code
    new_enrollment = pl.col("enrollment_status").is_null()
    block = (
        pl.when(pl.col("enrollment_status") == "terminated")
        .then(pl.format("{}年度参保关系已终止（{}），不能再缴费", pl.col("year"), pl.col("status_reason").fill_null("")))
        .when(pl.col("enrollment_status") == "suspended")
        .then(pl.format("参保状态为“参保暂停”（{}），不能入账", pl.col("status_reason").fill_null("")))
        .when(new_enrollment & (pl.col("resident_status") != "active"))
        .then(pl.format("户籍状态为“{}”，不能参保",
                        pl.col("resident_status").replace_strict(status_labels, default=pl.col("resident_status"))))
        .when(new_enrollment & pl.col("flag_text").is_not_null())
        .then(pl.format("暂不能参保：{}", pl.col("flag_text")))
        .when(new_enrollment & pl.col("claim_county").is_not_null())
        .then(pl.format("已在{}登记{}年度居民医保，不得重复参保", pl.col("claim_county"), pl.col("year")))
        .when(new_enrollment & pl.col("previous_county").is_not_null())
        .then(pl.format("上年在{}参保，须先在原参保地办理“参保暂停”，再在本地登记", pl.col("previous_county")))
        .otherwise(None)
    )
    return out.select("_row", block.alias("block"))


def _money_labels(values) -> dict:
    return {v: money_text(v) for v in values if v is not None}


def _classify(rows: pl.DataFrame, county_code: str, facts: dict) -> pl.DataFrame:
    booked_before = facts["booked"].rename({"benefit_year": "year"}).with_columns(pl.col("year").cast(pl.Int32)).unique(
        subset=["resident_id", "year"], keep="first")
    rows = rows.join(booked_before, on=["resident_id", "year"], how="left", maintain_order="left")
    rows = rows.join(_block_reasons(rows, county_code, facts), on="_row", how="left", maintain_order="left")
    diff = (pl.col("amount") - pl.col("payable"))
    rows = rows.with_columns(diff.alias("_diff"))
    labels = _money_labels(set(rows.get_column("_diff").drop_nulls().abs().to_list()) | set(rows.get_column("amount").to_list()))
    label_table = pl.DataFrame({"_value": [str(k) for k in labels], "_label": list(labels.values())},
                               schema={"_value": pl.String, "_label": pl.String})
    rows = rows.with_columns(pl.col("_diff").abs().cast(pl.String).alias("_diff_key"), pl.col("amount").cast(pl.String).alias("_amount_key"))
    rows = rows.join(label_table.rename({"_value": "_diff_key", "_label": "_diff_label"}), on="_diff_key", how="left", maintain_order="left")
    rows = rows.join(label_table.rename({"_value": "_amount_key", "_label": "_amount_label"}), on="_amount_key", how="left", maintain_order="left")
    paid_before = pl.col("booked_external_id").is_not_null() | (pl.col("enrollment_status") == "paid")
    # the gate first, whoever the person and whatever they paid before, as on every booking path
    flag = (
        pl.when(pl.col("gate").is_not_null()).then(pl.lit("not_accepted"))
        .when(pl.col("resident_id").is_null()).then(pl.lit("unknown_person"))
        .when(paid_before).then(pl.lit("duplicate"))
        .when(pl.col("block").is_not_null()).then(pl.lit("blocked"))
        .when(~pl.col("accepted")).then(pl.lit("not_accepted"))
        .when(pl.col("_diff") < 0).then(pl.lit("under"))
        .when(pl.col("_diff") > 0).then(pl.lit("over"))
        .otherwise(pl.lit(""))
    )
    rows = rows.with_columns(flag.alias("flag"))
    # two good payments for one person and year in the file: the earliest books, the rest are duplicates
    candidates = rows.filter(pl.col("flag") == "").sort("paid_at", "_row").with_columns(
        pl.int_range(pl.len()).over(["resident_id", "year"]).alias("_nth"),
        pl.col("external_id").first().over(["resident_id", "year"]).alias("_first_external_id"),
        pl.col("paid_on").first().over(["resident_id", "year"]).alias("_first_paid_on"),
        pl.col("amount").cast(pl.String).first().over(["resident_id", "year"]).alias("_first_amount"),
        pl.col("channel").first().over(["resident_id", "year"]).alias("_first_channel"),
    ).filter(pl.col("_nth") > 0).select("_row", "_first_external_id", "_first_paid_on", "_first_amount", "_first_channel")
    rows = rows.join(candidates, on="_row", how="left", maintain_order="left").with_columns(
        pl.when(pl.col("_first_external_id").is_not_null()).then(pl.lit("duplicate")).otherwise(pl.col("flag")).alias("flag"),
        pl.coalesce("booked_external_id", "_first_external_id").alias("booked_external_id"),
        pl.coalesce("booked_paid_on", "_first_paid_on").alias("booked_paid_on"),
        pl.coalesce("booked_amount", "_first_amount").alias("booked_amount"),
        pl.coalesce("booked_channel", "_first_channel").alias("booked_channel"),
    )
    # what was paid before, as the counter says it (yibao.collection.selectors.paid_text)
    paid_labels = {v: money_text(Decimal(v)) for v in rows.get_column("booked_amount").drop_nulls().unique().to_list()}
    channel_labels = dict(Payment.Channel.choices)
    rows = rows.with_columns(
        pl.col("booked_amount").replace_strict(paid_labels, default=None, return_dtype=pl.String).alias("_booked_amount_label"),
        pl.col("booked_channel").replace_strict(channel_labels, default=pl.col("booked_channel"), return_dtype=pl.String)
        .alias("_booked_channel_label"),
    )
    where = (pl.when(pl.col("booked_receipt_no").is_not_null()).then(pl.format("票据号 {}", pl.col("booked_receipt_no")))
             .otherwise(pl.format("缴费流水号 {}", pl.col("booked_external_id"))))
    paid_day = pl.format("{}年{}月{}日", pl.col("booked_paid_on").dt.year(), pl.col("booked_paid_on").dt.month(),
                         pl.col("booked_paid_on").dt.day())
    advice = (
        pl.when(pl.col("flag") == "unknown_person")
        .then(pl.lit("本县户籍名单中查无此身份证号码：请核实缴费人身份，先登记户籍后由县税务局重新匹配，或办理退费。"))
        .when((pl.col("flag") == "duplicate") & pl.col("booked_external_id").is_not_null())
        .then(pl.format("该人员已于{}缴纳{}年度居民医保费{}（{}，{}），本笔{}为重复缴费，请办理退费。", paid_day, pl.col("year"),
                        pl.col("_booked_amount_label"), pl.col("_booked_channel_label"), where, pl.col("_amount_label")))
        .when(pl.col("flag") == "duplicate")
        .then(pl.format("该人员{}年度已是正常参保状态，本笔{}为重复缴费，请办理退费。", pl.col("year"), pl.col("_amount_label")))
        .when(pl.col("flag") == "blocked").then(pl.format("{}。本笔款项暂不入账，请核实处理或办理退费。", pl.col("block")))
        .when((pl.col("flag") == "not_accepted") & pl.col("gate").is_not_null()).then(pl.format("不予受理：{}", pl.col("gate")))
        .when(pl.col("flag") == "not_accepted").then(pl.format("不予受理：{}", pl.col("reason")))
        .when(pl.col("flag") == "under").then(pl.format("少缴{}，请补缴差额", pl.col("_diff_label")))
        .when(pl.col("flag") == "over").then(pl.format("多缴{}，请办理退费", pl.col("_diff_label")))
        .otherwise(pl.lit(""))
    )
    return rows.with_columns(advice.str.slice(0, 300).alias("flag_advice"))


def _write(*, rows, booked, county_code, campaigns, explanations, actor, job, progress, known_ids) -> None:
    who = actor_fields(actor)
    now = timezone.now()
    P, E, C, S = (Payment._meta.db_table, Enrollment._meta.db_table, EnrollmentClaim._meta.db_table,
                  SubsidyRefund._meta.db_table)

    existing = set(QuoteExplanation.objects.filter(key__in=list(explanations)).values_list("key", flat=True))
    QuoteExplanation.objects.bulk_create(
        [QuoteExplanation(key=k, lines=v) for k, v in explanations.items() if k not in existing], batch_size=1000
    )

    campaign_ids = pl.DataFrame({"year": list(campaigns), "campaign_id": [c.pk for c in campaigns.values()]},
                                schema={"year": pl.Int32, "campaign_id": pl.Int64})
    rows = rows.join(campaign_ids, on="year", how="left", maintain_order="left")
    booked = booked.join(campaign_ids, on="year", how="left", maintain_order="left")

    # enrollments: register the new ones already paid, mark the registered ones paid
    fresh = booked.filter(pl.col("enrollment_id").is_null())
    waiting = booked.filter(pl.col("enrollment_id").is_not_null())
    if fresh.height:
        frame = fresh.select(
            pl.lit(county_code).alias("county_code"), "township_code", "village_code", "campaign_id",
            pl.col("year").alias("benefit_year"), "resident_id", "id_number",
            pl.when(pl.col("renewal")).then(pl.lit("renewal")).otherwise(pl.lit("first")).alias("kind"),
            pl.col("tier").cast(pl.Int64), pl.lit("paid").alias("status"),
            pl.format("渠道缴费入账（缴费流水号 {}）", pl.col("external_id")).str.slice(0, 200).alias("status_reason"),
            "benefit_start", "benefit_end",
            pl.lit(business_now()).alias("registered_at"), pl.lit(now).alias("updated_at"),  # 登记时间: the business day
        )
        copy_rows(E, with_defaults(Enrollment, frame))
        years = sorted(campaigns)
        created = fetch(
            f"SELECT e.id, e.resident_id, e.benefit_year FROM {E} e JOIN {STAGE_RES} x ON x.resident_id = e.resident_id "
            f"WHERE e.county_code = %s AND e.benefit_year IN ({', '.join(['%s'] * len(years))})",
            [county_code, *years],
            {"new_enrollment_id": pl.Int64, "resident_id": pl.Int64, "year": pl.Int32},
        )
        fresh = fresh.join(created, on=["resident_id", "year"], how="left")
        claims = fresh.select("id_number", pl.col("year").alias("benefit_year"), pl.lit(county_code).alias("county_code"),
                              pl.col("new_enrollment_id").alias("enrollment_id"), pl.lit(now).alias("claimed_at"),
                              pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("released_at"))
        copy_rows(C, with_defaults(EnrollmentClaim, claims))
        ids = fresh.select("_row", pl.col("new_enrollment_id").alias("enrollment_id"))
    else:
        ids = pl.DataFrame(schema={"_row": rows.schema["_row"], "enrollment_id": pl.Int64})  # as `waiting` has it
    if waiting.height:
        stage = "collection_stage_paid"
        stage_create(stage, {"enrollment_id": "bigint", "benefit_start": "date", "benefit_end": "date", "reason": "varchar(200)"})
        copy_rows(stage, waiting.select("enrollment_id", "benefit_start", "benefit_end",
                                        pl.format("渠道缴费入账（缴费流水号 {}）", pl.col("external_id")).str.slice(0, 200).alias("reason")))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {E} SET status = 'paid', benefit_start = s.benefit_start, benefit_end = s.benefit_end, "
                f"status_reason = s.reason, updated_at = %s FROM {stage} s WHERE {E}.id = s.enrollment_id",
                [connection.ops.adapt_datetimefield_value(now)],
            )
        stage_drop(stage)
        ids = pl.concat([ids, waiting.select("_row", "enrollment_id")])

    # payments: booked ones with their enrollment, flagged ones under 待处理
    is_booked = pl.col("flag") == ""
    rows = rows.join(ids.rename({"enrollment_id": "new_enrollment"}), on="_row", how="left", maintain_order="left")
    money = pl.Decimal(12, 2)
    payments = rows.select(
        pl.lit(county_code).alias("county_code"), pl.col("township_code").fill_null(""), pl.col("village_code").fill_null(""),
        "campaign_id", pl.col("year").alias("benefit_year"), "resident_id",
        pl.when(is_booked).then(pl.col("new_enrollment")).otherwise(None).alias("enrollment_id"),
        "id_number", pl.lit("file").alias("source"), "channel", "external_id", pl.col("amount").cast(money),
        pl.col("payable").cast(money).alias("expected_amount"), "paid_at", "paid_on",
        pl.when(is_booked).then(pl.lit("booked")).otherwise(pl.lit("flagged")).alias("status"),
        "flag", "flag_advice",
        pl.when(is_booked).then(pl.col("benefit_start")).otherwise(None).alias("benefit_start"),
        pl.when(is_booked).then(pl.col("benefit_end")).otherwise(None).alias("benefit_end"),
        pl.when(is_booked).then(pl.col("refund_later")).otherwise(pl.lit(Decimal("0.00"))).cast(money).alias("refund_later"),
        pl.col("subsidy_identity").fill_null(""), pl.col("policy_version").fill_null(""), pl.col("rule").fill_null(""),
        "ticket_no", pl.col("explanation_key").fill_null(""), pl.lit(None, dtype=pl.Int64).alias("collector_id"),
        pl.lit("").alias("collector_name"), pl.lit(job.pk if job else None, dtype=pl.Int64).alias("source_job_id"),
        pl.lit(now).alias("created_at"),
    )
    progress.step(f"写入 {payments.height} 笔缴费")
    copy_rows(P, with_defaults(Payment, payments), progress=_Share(progress, payments.height, rows.height))
    stored = fetch(
        f"SELECT p.id, s.row_no FROM {P} p JOIN {STAGE} s ON p.external_id = s.external_id WHERE p.county_code = %s",
        [county_code], {"payment_id": pl.Int64, "_row": pl.Int64},
    )
    rows = rows.join(stored, on="_row", how="left", maintain_order="left")

    # 先缴后补
    later = rows.filter(is_booked & (pl.col("refund_later") > 0))
    if later.height:
        refunds = later.select(
            pl.lit(county_code).alias("county_code"), "township_code", "village_code", "payment_id", "resident_id",
            pl.col("year").alias("benefit_year"), pl.col("subsidy_identity").fill_null("").alias("identity"),
            pl.col("refund_later").cast(money).alias("amount"), pl.lit("pending").alias("status"),
            pl.lit(now).alias("created_at"),
        )
        copy_rows(S, with_defaults(SubsidyRefund, refunds))

    # events: one per payment, one per enrollment made paid, one per 先缴后补 entry
    progress.step("写入变更记录")
    _write_events(rows=rows, fresh_rows=fresh.get_column("_row") if fresh.height else None, later=later,
                  county_code=county_code, who=who, now=now, job=job)


class _Share:
    """Advance the job's bar over the remaining share while payments are written."""

    def __init__(self, progress, n, total):
        self.progress, self.n, self.total = progress, n, total

    def advance(self, k):
        self.progress.advance(k // 2)


def _write_events(*, rows, fresh_rows, later, county_code, who, now, job) -> None:
    from yibao.core.models import Event
    from yibao.core.requestlog import request_id_get

    T = Event._meta.db_table
    source = f"渠道缴费明细（任务{job.pk}）" if job else "渠道缴费明细"
    is_booked = pl.col("flag") == ""
    base = [pl.lit(county_code).alias("county_code"), pl.lit(who["actor"].pk if who["actor"] else None, dtype=pl.Int64).alias("actor_id"),
            pl.lit(who["actor_name"]).alias("actor_name"), pl.lit(now).alias("at"),
            pl.lit(request_id_get()).alias("request_id")]  # the request (or the job's request) that sent the file
    fresh_list = fresh_rows.implode() if fresh_rows is not None else None
    for offset in range(0, rows.height, EVENT_CHUNK):  # the events' JSON is wide: a slice of payments at a time
        part = rows.slice(offset, EVENT_CHUNK)
        copy_rows(T, pl.concat(_payment_events(part, base, source, fresh_list), how="vertical_relaxed"))
    if later.height:
        later_ids = fetch(
            f"SELECT r.id, r.payment_id FROM {SubsidyRefund._meta.db_table} r JOIN {Payment._meta.db_table} p "
            f"ON p.id = r.payment_id JOIN {STAGE} s ON p.external_id = s.external_id WHERE p.county_code = %s",
            [county_code], {"entry_id": pl.Int64, "payment_id": pl.Int64},
        )
        entries = rows.filter(is_booked & (pl.col("refund_later") > 0)).join(later_ids, on="payment_id")
        copy_rows(T, entries.select(
            *base, pl.lit("subsidy_refund").alias("entity"), pl.col("entry_id").cast(pl.String).alias("entity_id"),
            pl.lit("created").alias("action"), pl.lit(None, dtype=pl.String).alias("before"),
            pl.struct(pl.lit("pending").alias("status"), pl.col("refund_later").cast(pl.String).alias("amount"),
                      pl.col("subsidy_identity").alias("identity"), pl.col("payment_id").alias("payment"))
            .struct.json_encode().alias("after"),
            pl.lit("先缴后补：全额缴费，日后退补").alias("reason"),
        ))


def _payment_events(rows: pl.DataFrame, base: list, source: str, fresh_list) -> list[pl.DataFrame]:
    """One event per payment and one per enrollment it made paid."""
    is_booked = pl.col("flag") == ""
    payment_events = rows.select(
        *base, pl.lit("payment").alias("entity"), pl.col("payment_id").cast(pl.String).alias("entity_id"),
        pl.when(is_booked).then(pl.lit("booked")).otherwise(pl.lit("flagged")).alias("action"),
        pl.lit(None, dtype=pl.String).alias("before"),
        pl.struct(
            pl.when(is_booked).then(pl.lit("booked")).otherwise(pl.lit("flagged")).alias("status"),
            pl.col("flag"), pl.col("amount").cast(pl.String).alias("amount"),
            pl.col("payable").cast(pl.String).alias("expected_amount"), pl.col("year").alias("benefit_year"),
            pl.col("external_id"),
            pl.when(is_booked).then(pl.col("benefit_start").cast(pl.String)).alias("benefit_start"),
            pl.when(is_booked).then(pl.col("benefit_end").cast(pl.String)).alias("benefit_end"),
            pl.col("rule"), pl.col("policy_version"),
        ).struct.json_encode().alias("after"),
        pl.when(is_booked).then(pl.lit(source)).otherwise(pl.format("{}：{}", pl.lit(source), pl.col("flag_advice"))).alias("reason"),
    )
    parts = [payment_events]
    booked = rows.filter(is_booked)
    if booked.height:
        fresh = pl.col("_row").is_in(fresh_list) if fresh_list is not None else pl.lit(False)
        parts.append(booked.select(
            *base, pl.lit("enrollment").alias("entity"), pl.col("new_enrollment").cast(pl.String).alias("entity_id"),
            pl.lit("paid").alias("action"),
            pl.when(fresh).then(pl.lit(None, dtype=pl.String)).otherwise(pl.lit('{"status": "registered"}')).alias("before"),
            pl.struct(pl.lit("paid").alias("status"), pl.col("benefit_start").cast(pl.String),
                      pl.col("benefit_end").cast(pl.String),
                      pl.when(fresh).then(pl.when(pl.col("renewal")).then(pl.lit("renewal")).otherwise(pl.lit("first")))
                      .alias("kind")).struct.json_encode().alias("after"),
            pl.format("{}入账（缴费流水号 {}）{}", pl.lit(source), pl.col("external_id"),
                      pl.when(fresh).then(pl.when(pl.col("renewal")).then(pl.lit("，续保")).otherwise(pl.lit("，首次参保登记")))
                      .otherwise(pl.lit(""))).alias("reason"),
        ))
    return parts
