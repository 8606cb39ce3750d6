"""The matching rules of a reconciliation, as polars joins over whole frames (no database here).

Money is in cents (Int64) throughout. Each function returns mismatch rows in MISMATCH_SCHEMA;
services.py adds places, who must fix it and the Chinese texts, and writes them.

Tax records against bookings (docs/reconciliation.md, 匹配规则):
  1. same payment id (缴费流水号) on both sides: one pair; amount or ID number may still differ;
  2. the rest, by (ID number, year, amount): paired one to one in order of payment date;
  3. the rest, by (ID number, year): paired one to one → amount differs;
  4. what is left: tax only → paid but not booked; Yibao only → booked but not paid.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

MISMATCH_SCHEMA = {
    "kind": pl.String,
    "reason": pl.String,  # a sub-case of the kind (e.g. no_lines, refunded, open_cash)
    "key": pl.String,  # stable across runs: the same problem has the same key
    "tax_row": pl.Int64,
    "payment_id": pl.Int64,
    "receipt_id": pl.Int64,
    "external_id": pl.String,
    "id_number": pl.String,
    "tax_name": pl.String,
    "tax_cents": pl.Int64,
    "yibao_cents": pl.Int64,
    "paid_on": pl.Date,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "channel": pl.String,
    "receipt_no": pl.String,
    "collector_key": pl.String,
    "collector_name": pl.String,
    "township_code": pl.String,
    "village_code": pl.String,
    "other_id_number": pl.String,  # person_differs: the ID number on the other side
}

BOOKING_SCHEMA = {"payment_id": pl.Int64, "external_id": pl.String, "id_number": pl.String, "cents": pl.Int64,
                  "paid_on": pl.Date}


def _conform(df: pl.DataFrame) -> pl.DataFrame:
    """Fill the columns a part lacks and order them as MISMATCH_SCHEMA."""
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in MISMATCH_SCHEMA.items() if c not in df.columns]
    return df.with_columns(missing).select([pl.col(c).cast(t) for c, t in MISMATCH_SCHEMA.items()])


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=MISMATCH_SCHEMA)


def concat(parts: list[pl.DataFrame]) -> pl.DataFrame:
    parts = [_conform(p) for p in parts if p.height]
    return pl.concat(parts) if parts else empty()


def _used(n: int, positions: pl.Series) -> pl.Series:
    """A mask of n rows, true at the given positions."""
    return pl.repeat(False, n, eager=True).scatter(positions, True)


def _rank(df: pl.DataFrame, keys: list[str], order: list[str]) -> pl.DataFrame:
    """Number the rows of each key group 0, 1, … in `order`; only groups of two or more are sorted."""
    df = df.with_columns(pl.len().over(keys).alias("_n"))
    single = df.filter(pl.col("_n") == 1).with_columns(pl.lit(0, dtype=pl.Int64).alias("_rank"))
    several = df.filter(pl.col("_n") > 1).sort([*keys, *order]).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).over(keys).alias("_rank")
    )
    return pl.concat([single, several]).drop("_n")


def match_tax(tax: pl.DataFrame, bookings: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """Tax records (taxfile.FRAME_SCHEMA) against bookings (BOOKING_SCHEMA) of one county and year."""
    bookings = bookings.with_columns(
        pl.when(pl.col("external_id") == "").then(None).otherwise(pl.col("external_id")).alias("external_id")
    )
    t = tax.select("tax_row", "external_id", "id_number", "name", "cents", "paid_on", "channel", "ticket_no")
    b = bookings.select(
        "payment_id", pl.col("external_id").alias("b_external_id"), pl.col("id_number").alias("b_id_number"),
        pl.col("cents").alias("b_cents"), pl.col("paid_on").alias("b_paid_on"),
    )

    # 1. the same payment id: join the keys only, then gather what is compared
    t = t.with_row_index("_t")
    b = b.with_row_index("_b")
    pairs = (
        t.select("_t", "external_id").filter(pl.col("external_id").is_not_null())
        .join(b.select("_b", pl.col("b_external_id").alias("external_id")).filter(pl.col("external_id").is_not_null()),
              on="external_id", how="inner")
        .select("_t", "_b")
    )
    same_cents = t["cents"].gather(pairs["_t"]) == b["b_cents"].gather(pairs["_b"])
    same_person = t["id_number"].gather(pairs["_t"]) == b["b_id_number"].gather(pairs["_b"])
    id_cents = int(t["cents"].gather(pairs["_t"]).filter(same_cents).sum() or 0)
    odd = pairs.filter(~(same_cents & same_person))
    by_id = pl.concat([t[odd["_t"]], b[odd["_b"]].drop("_b")], how="horizontal")
    t_rest = t.filter(~_used(t.height, pairs["_t"]))
    b_rest = b.filter(~_used(b.height, pairs["_b"]))
    matched_by_id = pairs.height

    # 2. (ID number, year, amount), one to one in date order
    tr = _rank(t_rest.select("_t", "id_number", "cents", "paid_on", "tax_row"), ["id_number", "cents"], ["paid_on", "tax_row"])
    br = _rank(b_rest.select("_b", pl.col("b_id_number").alias("id_number"), pl.col("b_cents").alias("cents"), "b_paid_on",
                             "payment_id"), ["id_number", "cents"], ["b_paid_on", "payment_id"])
    by_person = tr.join(br, on=["id_number", "cents", "_rank"], how="inner").select("_t", "_b", "cents")
    t_rest = t_rest.filter(~pl.col("_t").is_in(by_person["_t"].implode()))
    b_rest = b_rest.filter(~pl.col("_b").is_in(by_person["_b"].implode()))

    # 3. (ID number, year): the amounts differ
    tr = _rank(t_rest, ["id_number"], ["paid_on", "tax_row"])
    br = _rank(b_rest.rename({"b_id_number": "id_number"}), ["id_number"], ["b_paid_on", "payment_id"])
    by_person_only = tr.join(br, on=["id_number", "_rank"], how="inner")
    t_rest = t_rest.filter(~pl.col("_t").is_in(by_person_only["_t"].implode()))
    b_rest = b_rest.filter(~pl.col("_b").is_in(by_person_only["_b"].implode()))

    common = [pl.col("tax_row"), pl.col("payment_id"), pl.col("name").alias("tax_name"), pl.col("cents").alias("tax_cents"),
              pl.col("paid_on"), pl.col("channel"), pl.col("ticket_no").alias("receipt_no")]
    person_differs = by_id.filter(pl.col("id_number") != pl.col("b_id_number")).select(
        pl.lit("person_differs").alias("kind"),
        pl.format("person_differs:{}", pl.col("external_id")).alias("key"),
        pl.col("external_id"), pl.col("id_number"), pl.col("b_id_number").alias("other_id_number"),
        pl.col("b_cents").alias("yibao_cents"), *common,
    )
    amount_by_id = by_id.filter((pl.col("id_number") == pl.col("b_id_number")) & (pl.col("cents") != pl.col("b_cents"))).select(
        pl.lit("amount_differs").alias("kind"), pl.lit("same_id").alias("reason"),
        pl.format("amount_differs:{}", pl.col("external_id")).alias("key"),
        pl.col("external_id"), pl.col("id_number"), pl.col("b_cents").alias("yibao_cents"), *common,
    )
    amount_by_person = by_person_only.select(
        pl.lit("amount_differs").alias("kind"), pl.lit("same_person").alias("reason"),
        pl.format("amount_differs:p{}", pl.col("payment_id")).alias("key"),
        pl.coalesce("external_id", "b_external_id").alias("external_id"), pl.col("id_number"),
        pl.col("b_cents").alias("yibao_cents"), *common,
    )
    paid_not_booked = t_rest.select(
        pl.lit("paid_not_booked").alias("kind"),
        pl.when(pl.col("external_id").is_not_null()).then(pl.format("paid_not_booked:{}", pl.col("external_id")))
        .otherwise(pl.format("paid_not_booked:{}:{}:{}", pl.col("id_number"), pl.col("cents"), pl.col("paid_on")))
        .alias("key"),
        "tax_row", "external_id", "id_number", pl.col("name").alias("tax_name"), pl.col("cents").alias("tax_cents"),
        "paid_on", "channel", pl.col("ticket_no").alias("receipt_no"),
    )
    booked_not_paid = b_rest.select(
        pl.lit("booked_not_paid").alias("kind"),
        pl.format("booked_not_paid:p{}", pl.col("payment_id")).alias("key"),
        "payment_id", pl.col("b_external_id").alias("external_id"), pl.col("b_id_number").alias("id_number"),
        pl.col("b_cents").alias("yibao_cents"), pl.col("b_paid_on").alias("paid_on"),
    )
    stats = {
        "matched_by_id": matched_by_id,
        "matched_by_person_amount": by_person.height,
        "matched_cents": id_cents + int(by_person["cents"].sum() or 0),
    }
    parts = [paid_not_booked, booked_not_paid, amount_by_id, amount_by_person, person_differs]
    return concat(parts), stats


RECEIPT_SCHEMA = {"receipt_id": pl.Int64, "total_cents": pl.Int64}
LINE_SCHEMA = {"receipt_id": pl.Int64, "payment_id": pl.Int64, "line_cents": pl.Int64, "pay_cents": pl.Int64,
               "pay_status": pl.String, "external_id": pl.String, "id_number": pl.String}
COUNTER_SCHEMA = {"payment_id": pl.Int64, "external_id": pl.String, "id_number": pl.String, "cents": pl.Int64,
                  "paid_on": pl.Date, "channel": pl.String, "status": pl.String, "collector_key": pl.String,
                  "collector_name": pl.String, "township_code": pl.String, "village_code": pl.String,
                  "receipt_id": pl.Int64}


def match_receipts(receipts: pl.DataFrame, lines: pl.DataFrame, counter: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """Valid receipts against the payments they name, and counter payments against receipts.

    receipts: RECEIPT_SCHEMA, the receipts not voided; lines: LINE_SCHEMA, their lines with the
    payment each names (pay_* null when that payment is missing); counter: COUNTER_SCHEMA, the
    counter payments with the valid receipt that covers each (receipt_id null when none).
    """
    place = ["receipt_id"]  # the receipt's number, place and issuer are read for the mismatches only
    no_lines = receipts.join(lines.select("receipt_id").unique(), on="receipt_id", how="anti").select(
        pl.lit("receipt_without_payment").alias("kind"), pl.lit("no_lines").alias("reason"),
        pl.format("receipt_without_payment:r{}:no_lines", pl.col("receipt_id")).alias("key"),
        pl.col("total_cents").alias("tax_cents"), pl.lit(0, dtype=pl.Int64).alias("yibao_cents"), *place,
    )
    with_receipt = lines.join(receipts, on="receipt_id", how="inner")
    missing = with_receipt.filter(pl.col("pay_cents").is_null()).select(
        pl.lit("receipt_without_payment").alias("kind"), pl.lit("missing_payment").alias("reason"),
        pl.format("receipt_without_payment:r{}:missing:{}", pl.col("receipt_id"), pl.col("payment_id")).alias("key"),
        pl.col("line_cents").alias("tax_cents"), pl.lit(0, dtype=pl.Int64).alias("yibao_cents"), *place,
    )
    refunded = with_receipt.filter(pl.col("pay_status") == "refunded").select(
        pl.lit("receipt_without_payment").alias("kind"), pl.lit("refunded").alias("reason"),
        pl.format("receipt_without_payment:r{}:refunded:{}", pl.col("receipt_id"), pl.col("payment_id")).alias("key"),
        "payment_id", "external_id", "id_number",
        pl.col("line_cents").alias("tax_cents"), pl.col("pay_cents").alias("yibao_cents"), *place,
    )
    sums = (
        with_receipt.filter(pl.col("pay_cents").is_not_null())
        .group_by("receipt_id")
        .agg(pl.col("pay_cents").sum().alias("paid_cents"), pl.len().alias("lines"))
    )
    totals = receipts.join(sums, on="receipt_id", how="inner").join(
        with_receipt.filter(pl.col("pay_cents").is_null()).select("receipt_id").unique(), on="receipt_id", how="anti"
    )
    over = totals.filter(pl.col("total_cents") > pl.col("paid_cents")).select(
        pl.lit("receipt_without_payment").alias("kind"), pl.lit("total_over").alias("reason"),
        pl.format("receipt_without_payment:r{}:total", pl.col("receipt_id")).alias("key"),
        pl.col("total_cents").alias("tax_cents"), pl.col("paid_cents").alias("yibao_cents"), *place,
    )
    under = totals.filter(pl.col("total_cents") < pl.col("paid_cents")).select(
        pl.lit("payment_without_receipt").alias("kind"), pl.lit("total_under").alias("reason"),
        pl.format("payment_without_receipt:r{}:total", pl.col("receipt_id")).alias("key"),
        pl.col("total_cents").alias("tax_cents"), pl.col("paid_cents").alias("yibao_cents"), *place,
    )
    unreceipted = counter.filter(pl.col("receipt_id").is_null() & (pl.col("status") != "refunded")).select(
        pl.lit("payment_without_receipt").alias("kind"), pl.lit("no_receipt").alias("reason"),
        pl.format("payment_without_receipt:p{}", pl.col("payment_id")).alias("key"),
        "payment_id", "external_id", "id_number", pl.col("cents").alias("yibao_cents"), "paid_on", "channel",
        "collector_key", "collector_name", "township_code", "village_code",
    )
    stats = {
        "receipts": receipts.height,
        "receipted_cents": int(receipts["total_cents"].sum() or 0),
        "counter_payments": counter.height,
        "counter_cents": int(counter["cents"].sum() or 0),
    }
    return concat([no_lines, missing, refunded, over, under, unreceipted]), stats


CASH_SCHEMA = {"payment_id": pl.Int64, "cents": pl.Int64, "paid_on": pl.Date, "collector_key": pl.String,
               "collector_name": pl.String, "township_code": pl.String, "village_code": pl.String}
HANDOVER_SCHEMA = {"handover_id": pl.Int64, "collector_key": pl.String, "collector_name": pl.String,
                   "period_start": pl.Date, "period_end": pl.Date, "cents": pl.Int64, "township_code": pl.String,
                   "village_code": pl.String}


def match_cash(cash: pl.DataFrame, handovers: pl.DataFrame, *, as_of: dt.date, grace_days: int) -> tuple[pl.DataFrame, dict]:
    """Counter cash each collector took against the cash they handed over, per handover period.

    cash: CASH_SCHEMA, counter payments in cash; handovers: HANDOVER_SCHEMA, the active handovers.
    A payment belongs to the handover period of its collector that contains its date. Cash in no
    period is overdue once its date + grace_days is before as_of (随收随缴).
    """
    periods = (
        handovers.group_by("collector_key", "period_start", "period_end")
        .agg(
            pl.col("cents").sum().alias("handed_cents"),
            pl.col("collector_name").first(),
            pl.col("township_code").first(),
            pl.col("village_code").first(),
            pl.col("handover_id").min(),
        )
        .sort("collector_key", "period_start")
    )
    placed = (
        cash.sort("collector_key", "paid_on")
        .join_asof(
            periods.select("collector_key", "period_start", "period_end").sort("collector_key", "period_start"),
            left_on="paid_on", right_on="period_start", by="collector_key", strategy="backward", check_sortedness=False,
        )
        .with_columns(
            pl.when(pl.col("period_end") >= pl.col("paid_on")).then(pl.col("period_start")).otherwise(None).alias("period_start"),
            pl.when(pl.col("period_end") >= pl.col("paid_on")).then(pl.col("period_end")).otherwise(None).alias("period_end"),
        )
    )
    collected = (
        placed.filter(pl.col("period_start").is_not_null())
        .group_by("collector_key", "period_start", "period_end")
        .agg(pl.col("cents").sum().alias("collected_cents"), pl.col("village_code").mode().first().alias("pay_village"),
             pl.col("collector_name").first().alias("pay_name"))
    )
    per_period = periods.join(collected, on=["collector_key", "period_start", "period_end"], how="left").with_columns(
        pl.col("collected_cents").fill_null(0),
    )
    period_cols = [
        "collector_key", "collector_name", "period_start", "period_end", "township_code", "village_code",
        pl.col("collected_cents").alias("yibao_cents"), pl.col("handed_cents").alias("tax_cents"),
    ]
    short = per_period.filter(pl.col("collected_cents") > pl.col("handed_cents")).select(
        pl.lit("cash_short").alias("kind"), pl.lit("period").alias("reason"),
        pl.format("cash_short:{}:{}:{}", "collector_key", "period_start", "period_end").alias("key"), *period_cols,
    )
    over = per_period.filter(pl.col("collected_cents") < pl.col("handed_cents")).select(
        pl.lit("cash_over").alias("kind"), pl.lit("period").alias("reason"),
        pl.format("cash_over:{}:{}:{}", "collector_key", "period_start", "period_end").alias("key"), *period_cols,
    )
    due_by = as_of - dt.timedelta(days=grace_days + 1)
    loose = placed.filter(pl.col("period_start").is_null())
    overdue = loose.filter(pl.col("paid_on") <= pl.lit(due_by))
    pending = loose.filter(pl.col("paid_on") > pl.lit(due_by))
    open_cash = (
        overdue.group_by("collector_key")
        .agg(
            pl.col("cents").sum().alias("yibao_cents"),
            pl.col("paid_on").min().alias("period_start"),
            pl.col("paid_on").max().alias("period_end"),
            pl.col("collector_name").first(),
            pl.col("township_code").mode().first(),
            pl.col("village_code").mode().first(),
            pl.len().alias("payments"),
        )
        .filter(pl.col("yibao_cents") > 0)  # 0-yuan cash entries (fully subsidised people) leave nothing to hand over
        .select(
            pl.lit("cash_short").alias("kind"), pl.lit("not_handed").alias("reason"),
            pl.format("cash_short:{}:open", "collector_key").alias("key"),
            "collector_key", "collector_name", "period_start", "period_end", "township_code", "village_code",
            "yibao_cents", pl.lit(0, dtype=pl.Int64).alias("tax_cents"),
        )
    )
    stats = {
        "cash_payments": cash.height,
        "cash_collected_cents": int(cash["cents"].sum() or 0),
        "cash_handed_cents": int(handovers["cents"].sum() or 0),
        "cash_pending_cents": int(pending["cents"].sum() or 0),
        "handovers": handovers.height,
    }
    return concat([short, over, open_cash]), stats
