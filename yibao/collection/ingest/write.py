"""Writing a checked file: payments, enrollments, receipts' links and events, in bulk."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from django.db import connection
from django.utils import timezone

from yibao.collection.ingest.frames import (
    copy_rows,
    stage_create,
    stage_drop,
    with_defaults,
)
from yibao.collection.models import (
    Payment,
    QuoteExplanation,
    SubsidyRefund,
)
from yibao.core.clock import business_now
from yibao.core.services import actor_fields
from yibao.core.staging import ids_reserve
from yibao.enrollment.models import Enrollment, EnrollmentClaim

EVENT_CHUNK = 100_000  # payments whose events are built and written at once


def _write(*, rows, county_code, campaigns, explanations, actor, job, progress) -> None:
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
    booked = rows.filter(pl.col("flag") == "")

    # enrollments: register the new ones already paid, mark the registered ones paid
    fresh = booked.filter(pl.col("enrollment_id").is_null())
    waiting = booked.filter(pl.col("enrollment_id").is_not_null())
    if fresh.height:
        fresh = fresh.with_columns(ids_reserve(E, fresh.height).alias("new_enrollment_id"))
        frame = fresh.select(
            pl.col("new_enrollment_id").alias("id"), pl.lit(county_code).alias("county_code"), "township_code", "village_code", "campaign_id",
            pl.col("year").alias("benefit_year"), "resident_id", "id_number",
            pl.when(pl.col("renewal")).then(pl.lit("renewal")).otherwise(pl.lit("first")).alias("kind"),
            pl.col("tier").cast(pl.Int64), pl.lit("paid").alias("status"),
            pl.format("渠道缴费入账（缴费流水号 {}）", pl.col("external_id")).str.slice(0, 200).alias("status_reason"),
            "benefit_start", "benefit_end",
            pl.lit(business_now()).alias("registered_at"), pl.lit(now).alias("updated_at"),  # 登记时间: the business day
        )
        copy_rows(E, with_defaults(Enrollment, frame))
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
    rows = rows.with_columns(ids_reserve(P, rows.height).alias("payment_id"))
    money = pl.Decimal(12, 2)
    payments = rows.select(
        pl.col("payment_id").alias("id"), pl.lit(county_code).alias("county_code"), pl.col("township_code").fill_null(""), pl.col("village_code").fill_null(""),
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
    copy_rows(P, with_defaults(Payment, payments))
    del payments

    # 先缴后补
    later = rows.filter(is_booked & (pl.col("refund_later") > 0))
    if later.height:
        later = later.with_columns(ids_reserve(S, later.height).alias("entry_id"))
        refunds = later.select(
            pl.col("entry_id").alias("id"), pl.lit(county_code).alias("county_code"), "township_code", "village_code", "payment_id", "resident_id",
            pl.col("year").alias("benefit_year"), pl.col("subsidy_identity").fill_null("").alias("identity"),
            pl.col("refund_later").cast(money).alias("amount"), pl.lit("pending").alias("status"),
            pl.lit(now).alias("created_at"),
        )
        copy_rows(S, with_defaults(SubsidyRefund, refunds))

    # events: one per payment, one per enrollment made paid, one per 先缴后补 entry
    progress.step("写入变更记录")
    _write_events(rows=rows, fresh_rows=fresh.get_column("_row") if fresh.height else None, later=later,
                  county_code=county_code, who=who, now=now, job=job)


def _write_events(*, rows, fresh_rows, later, county_code, who, now, job) -> None:
    from yibao.core.models import Event
    from yibao.core.requestlog import request_id_get

    T = Event._meta.db_table
    source = f"渠道缴费明细（任务{job.pk}）" if job else "渠道缴费明细"
    base = [pl.lit(county_code).alias("county_code"), pl.lit(who["actor"].pk if who["actor"] else None, dtype=pl.Int64).alias("actor_id"),
            pl.lit(who["actor_name"]).alias("actor_name"), pl.lit(now).alias("at"),
            pl.lit(request_id_get()).alias("request_id")]  # the request (or the job's request) that sent the file
    fresh_list = fresh_rows.implode() if fresh_rows is not None else None
    for offset in range(0, rows.height, EVENT_CHUNK):  # the events' JSON is wide: a slice of payments at a time
        part = rows.slice(offset, EVENT_CHUNK)
        copy_rows(T, pl.concat(_payment_events(part, base, source, fresh_list), how="vertical_relaxed"))
    if later.height:
        copy_rows(T, later.select(
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
