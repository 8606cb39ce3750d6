"""Bulk reads of Yibao's side of a reconciliation into polars frames.

One SQL statement per input, inside one county (the shard key): COPY … TO STDOUT on PostgreSQL,
a raw cursor on SQLite. Money comes out in cents, so polars never sees a float.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import polars as pl
from django.db import connection

from yibao.collection.models import Payment, Receipt, ReceiptLine
from yibao.reconciliation import matching
from yibao.reconciliation.models import CashHandover
from yibao.registry.models import Resident

P = Payment._meta.db_table
R = Receipt._meta.db_table
L = ReceiptLine._meta.db_table
H = CashHandover._meta.db_table
RES = Resident._meta.db_table


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def unindexed(column: str) -> str:
    """On SQLite, `+column` keeps the planner off an index on that column (the paid_on index would
    visit a county's rows in date order, one random page read each); PostgreSQL plans well alone."""
    return column if is_postgres() else f"+{column}"


def cents_sql(column: str) -> str:
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def read_frame(sql: str, params: list, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run a SELECT and return its rows as a frame of the given schema (dates as YYYY-MM-DD)."""
    if is_postgres():
        buffer = io.BytesIO()
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                for data in copy:
                    buffer.write(data)
        if buffer.tell() == 0:
            return pl.DataFrame(schema=schema)
        buffer.seek(0)
        df = pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=_wire(schema))
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        df = pl.DataFrame(rows, schema=_wire(schema), orient="row")
    dates = [pl.col(k).cast(pl.Date) for k, v in schema.items() if v == pl.Date]
    return df.with_columns(dates) if dates else df


def _wire(schema: dict) -> dict:
    """Dates travel as days since 1970-01-01 (see epoch_days)."""
    return {k: (pl.Int32 if v == pl.Date else v) for k, v in schema.items()}


def epoch_days(column: str) -> str:
    """A date column as days since 1970-01-01: what polars keeps a Date as, so no parsing."""
    if is_postgres():
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def bookings(*, county_code: str, benefit_year: int, as_of: dt.date) -> pl.DataFrame:
    """Every payment booked for the county and year up to as_of, whatever its status (money was received)."""
    sql = (
        f"SELECT id, external_id, id_number, {cents_sql('amount')}, {epoch_days('paid_on')} FROM {P} "
        f"WHERE county_code = %s AND benefit_year = %s AND {unindexed('paid_on')} <= %s"
    )
    return read_frame(sql, [county_code, benefit_year, as_of], matching.BOOKING_SCHEMA)


def _collector_key(alias: str = "") -> str:
    p = f"{alias}." if alias else ""
    return (
        f"CASE WHEN {p}collector_id IS NOT NULL THEN 'u' || CAST({p}collector_id AS TEXT) "
        f"ELSE 'n' || {p}collector_name END"
    )


def counter_payments(*, county_code: str, benefit_year: int, as_of: dt.date) -> pl.DataFrame:
    """Counter payments up to as_of, with what the cash and receipt checks need (COUNTER_SCHEMA).

    receipt_id is filled in from the valid receipts' lines; external_id, id_number and
    collector_name are left empty here and read only for the payments named by mismatches.
    """
    schema = {"payment_id": pl.Int64, "cents": pl.Int64, "paid_on": pl.Date, "channel": pl.String, "status": pl.String,
              "collector_key": pl.String, "village_code": pl.String}
    sql = (
        f"SELECT id, {cents_sql('amount')}, {epoch_days('paid_on')}, channel, status, {_collector_key()}, village_code "
        f"FROM {P} WHERE county_code = %s AND benefit_year = %s AND source = %s AND {unindexed('paid_on')} <= %s"
    )
    df = read_frame(sql, [county_code, benefit_year, Payment.Source.COUNTER, as_of], schema)
    return df.with_columns(
        pl.col("village_code").str.slice(0, 9).alias("township_code"),
        pl.lit(None, dtype=pl.Int64).alias("receipt_id"),
        pl.lit(None, dtype=pl.String).alias("external_id"),
        pl.lit(None, dtype=pl.String).alias("id_number"),
        pl.lit(None, dtype=pl.String).alias("collector_name"),
    ).select(list(matching.COUNTER_SCHEMA))


def _end_of(day: dt.date) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


def receipts(*, county_code: str, benefit_year: int, as_of: dt.date, booked: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The valid (not voided) receipts issued up to as_of, and their lines with the payment each names.

    The payment of each line comes from `booked` (the bookings already read), so the lines are read
    without a join to the payments table; only the refunded payments' ids are asked for.
    """
    until = connection.ops.adapt_datetimefield_value(_end_of(as_of))
    heads = read_frame(
        f"SELECT r.id, {cents_sql('r.total')} FROM {R} r WHERE r.county_code = %s AND r.benefit_year = %s AND r.voided_at IS NULL AND r.issued_at < %s",
        [county_code, benefit_year, until],
        matching.RECEIPT_SCHEMA,
    )
    lines = read_frame(
        f"SELECT l.receipt_id, l.payment_id, {cents_sql('l.amount')} FROM {L} l "
        f"JOIN {R} r ON r.id = l.receipt_id AND r.county_code = l.county_code "
        "WHERE r.county_code = %s AND r.benefit_year = %s AND r.voided_at IS NULL AND r.issued_at < %s",
        [county_code, benefit_year, until],
        {"receipt_id": pl.Int64, "payment_id": pl.Int64, "line_cents": pl.Int64},
    )
    refunded = read_frame(
        f"SELECT id FROM {P} WHERE county_code = %s AND benefit_year = %s AND status = %s",
        [county_code, benefit_year, Payment.Status.REFUNDED], {"payment_id": pl.Int64},
    )
    lines = lines.join(
        booked.select("payment_id", pl.col("cents").alias("pay_cents"), "external_id", "id_number"),
        on="payment_id", how="left",
    ).with_columns(
        pl.when(pl.col("pay_cents").is_null()).then(None)
        .when(pl.col("payment_id").is_in(refunded["payment_id"].implode())).then(pl.lit(Payment.Status.REFUNDED.value))
        .otherwise(pl.lit(Payment.Status.BOOKED.value)).alias("pay_status")
    )
    return heads, lines.select(list(matching.LINE_SCHEMA))


def handovers(*, county_code: str, benefit_year: int, as_of: dt.date) -> pl.DataFrame:
    sql = (
        f"SELECT id, {_collector_key()}, collector_name, {epoch_days('period_start')}, {epoch_days('period_end')}, "
        f"{cents_sql('amount')}, township_code, village_code FROM {H} "
        "WHERE county_code = %s AND benefit_year = %s AND voided_at IS NULL AND handed_on <= %s"
    )
    return read_frame(sql, [county_code, benefit_year, as_of], matching.HANDOVER_SCHEMA)


def payment_details(*, county_code: str, payment_ids: list[int]) -> pl.DataFrame:
    """Place, source, channel and collector of the payments named by mismatches (batched index lookups)."""
    schema = {"payment_id": pl.Int64, "source": pl.String, "p_channel": pl.String, "p_collector_key": pl.String,
              "p_collector_name": pl.String, "p_township": pl.String, "p_village": pl.String, "p_ticket": pl.String,
              "p_paid_on": pl.Date, "p_external_id": pl.String, "p_id_number": pl.String}
    return _by_keys(
        f"SELECT id, source, channel, {_collector_key()}, collector_name, township_code, village_code, ticket_no, "
        f"{epoch_days('paid_on')}, external_id, id_number FROM {P} WHERE {unindexed('county_code')} = %s "
        "AND id IN ({keys})",
        payment_ids, schema, [county_code],
    )


def receipt_details(*, county_code: str, receipt_ids: list[int]) -> pl.DataFrame:
    """Number, place, issuer and local issue day of the receipts named by mismatches."""
    from django.utils import timezone

    schema = {"receipt_id": pl.Int64, "rc_no": pl.String, "rc_township": pl.String, "rc_village": pl.String,
              "rc_issuer": pl.String, "rc_issued_at": pl.String}
    found = _by_keys(
        f"SELECT id, receipt_no, township_code, village_code, issued_by_name, CAST(issued_at AS TEXT) FROM {R} "
        f"WHERE {unindexed('county_code')} = %s AND id IN ({{keys}})",
        receipt_ids, schema, [county_code],
    )
    days = {text: timezone.localdate(dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
                                     if not is_postgres() else dt.datetime.fromisoformat(text))
            for text in found["rc_issued_at"].unique().to_list() if text}
    return found.with_columns(
        pl.col("rc_issued_at").replace_strict(days, default=None, return_dtype=pl.Date).alias("rc_issued_on")
    ).drop("rc_issued_at")


def residents_by_number(*, county_code: str, numbers: list[str]) -> pl.DataFrame:
    schema = {"id_number": pl.String, "r_name": pl.String, "r_township": pl.String, "r_village": pl.String}
    found = _by_keys(
        f"SELECT id_number, name, township_code, village_code FROM {RES} WHERE county_code = %s AND id_number IN ({{keys}})",
        numbers, schema, [county_code],
    )
    return found.unique(subset=["id_number"], keep="first")


def _by_keys(sql: str, keys: list, schema: dict, before: list, batch: int = 5000) -> pl.DataFrame:
    frames = []
    keys = list(dict.fromkeys(k for k in keys if k is not None))
    for offset in range(0, len(keys), batch):
        part = keys[offset : offset + batch]
        frames.append(read_frame(sql.format(keys=", ".join(["%s"] * len(part))), [*before, *part], schema))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def frame_digest(df: pl.DataFrame, sort_by: list[str] | None = None) -> str:
    """A digest of a frame's rows, whatever their order: the same rows give the same digest.

    Sums of per-row hashes under two seeds (order-free, no sort), with the row count and the polars
    version (its row hash may change between versions), hashed once more with sha256.
    """
    parts = [str(df.height), pl.__version__]
    if df.height:
        for seed in (11, 29):
            parts.append(str(int((df.hash_rows(seed=seed) // (1 << 20)).sum())))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
