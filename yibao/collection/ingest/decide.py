"""What each line of a channel file is: the gate, the person's facts, the quote, the flags."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import polars as pl

from yibao.collection.ingest.frames import (
    STAGE,
    STAGE_RES,
    fetch,
)
from yibao.collection.ingest.rows import (
    money_text,
)
from yibao.collection.models import (
    Payment,
    Receipt,
    ReceiptLine,
)
from yibao.enrollment.models import Enrollment, EnrollmentClaim
from yibao.policy.engine import quote
from yibao.policy.loader import load_policy
from yibao.regions.selectors import county_labels
from yibao.registry.models import EmployeeInsuranceRecord, Flag, GroupFact, Identity, Resident


def _json_lines_key(lines) -> str:
    return hashlib.md5(json.dumps(list(lines), ensure_ascii=False).encode("utf-8")).hexdigest()


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
    """Identities, group facts, enrollments, booked payments and flags of the staged residents, and
    the staged lines' enrollments in other counties (by row)."""
    I, G, E, P, F, C = (Identity._meta.db_table, GroupFact._meta.db_table, Enrollment._meta.db_table,
                        Payment._meta.db_table, Flag._meta.db_table, EnrollmentClaim._meta.db_table)
    join = f"JOIN {STAGE_RES} x ON x.resident_id = t.resident_id WHERE t.county_code = %s"
    return {
        # this year's claim held by another county, last year's enrollment there
        "elsewhere": fetch(
            f"SELECT s.row_no, c.county_code FROM {STAGE} s JOIN {C} c ON c.id_number = s.id_number "
            f"AND c.benefit_year = s.year AND c.released_at IS NULL WHERE c.county_code <> %s",
            [county_code], {"_row": pl.Int64, "claim_county": pl.String},
        ).unique(subset="_row", keep="first"),
        "previous": fetch(
            f"SELECT s.row_no, e.county_code FROM {STAGE} s JOIN {E} e ON e.id_number = s.id_number "
            f"AND e.benefit_year = s.year - 1 WHERE e.county_code <> %s AND e.status IN ('paid', 'registered')",
            [county_code], {"_row": pl.Int64, "previous_county": pl.String},
        ).unique(subset="_row", keep="first"),
        "identities": fetch(
            f"SELECT t.resident_id, t.code, t.valid_from, t.valid_to FROM {I} t {join}", [county_code],
            {"resident_id": pl.Int64, "code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date}),
        "groups": fetch(
            f'SELECT t.resident_id, t."group", t.event_date, t.end_date FROM {G} t {join}', [county_code],
            {"resident_id": pl.Int64, "group": pl.String, "event_date": pl.Date, "end_date": pl.Date}),
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
        # the registry facts policy conditions may ask about (职工医保 months, a household member paid up)
        "employees": fetch(
            f"SELECT r.id, e.months_paid, e.months_year FROM {EmployeeInsuranceRecord._meta.db_table} e"
            f" JOIN {Resident._meta.db_table} r ON r.county_code = e.county_code AND r.id_number = e.id_number"
            f" JOIN {STAGE_RES} x ON x.resident_id = r.id WHERE e.county_code = %s", [county_code],
            {"resident_id": pl.Int64, "months": pl.Int64, "months_year": pl.Int64}),
        "household": fetch(
            f"SELECT DISTINCT r.id, en.benefit_year FROM {Resident._meta.db_table} r"
            f" JOIN {STAGE_RES} x ON x.resident_id = r.id"
            f" JOIN {Resident._meta.db_table} o ON o.county_code = r.county_code AND o.household_id = r.household_id"
            f" AND o.id <> r.id JOIN {E} en ON en.county_code = r.county_code AND en.resident_id = o.id"
            f" WHERE r.county_code = %s AND en.status = 'paid'", [county_code],
            {"resident_id": pl.Int64, "benefit_year": pl.Int64}),
        "flags": fetch(
            f"SELECT t.resident_id, t.kind, t.detail, t.resolved_at IS NULL, t.outcome, t.resolution FROM {F} t {join}",
            [county_code],
            {"resident_id": pl.Int64, "kind": pl.String, "detail": pl.String, "open": pl.Boolean, "outcome": pl.String,
             "resolution": pl.String}),
    }


BY_ROW = ("elsewhere", "previous")  # facts keyed by the file's line, the others by resident


def slice_facts(facts: dict[str, pl.DataFrame], rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The facts of one slice's residents and lines."""
    residents = rows.select("resident_id").drop_nulls().unique()
    lines = rows.select("_row")
    return {key: frame.join(lines if key in BY_ROW else residents, on="_row" if key in BY_ROW else "resident_id",
                            how="semi") for key, frame in facts.items()}


def employee_years(campaigns: dict) -> dict[int, int | None]:
    """Per benefit year, the year whose 职工医保 months its policy asks about (None: not asked)."""
    return {year: load_policy(c.policy_id).data.employee_months_year()
            for year, c in campaigns.items() if not c.imported}


def _attach_facts(rows: pl.DataFrame, facts: dict, employee_years: dict[int, int | None] | None = None) -> pl.DataFrame:
    """The engine's inputs per row, from the one builder that enrollment.selectors.person_for and
    核定 use (yibao.policy.facts.person_facts), plus this year's enrollment."""
    from yibao.policy.facts import person_facts

    keyed = rows.filter(pl.col("resident_id").is_not_null()).select(
        pl.col("_row").alias("_key"), "resident_id", pl.col("paid_on").alias("on"), "year",
        pl.col("relation_to_head").alias("relation"), "birth_date")
    enrollments = facts["enrollments"]
    covered = enrollments.filter(pl.col("enrollment_status").is_in(["paid", "suspended"])).select(
        "resident_id", "benefit_year")
    engine_facts = person_facts(
        keyed, facts["identities"], facts["groups"], covered, employees=facts.get("employees"),
        employee_year=employee_years or None, household=facts.get("household"),
    ).select(
        pl.col("_key").alias("_row"), "identities", "groups", "event_date", "gap_years", "first_time", "renewal",
        "household_role", "newborn_by_birth", "identity_since", "employee_months", "household_enrolled")
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
        pl.col("newborn_by_birth").fill_null(False),
    )


QUOTE_CHUNK = 10_000  # representatives quoted with their explanations at once (about 6 KB each in flight)
QUOTE_SCHEMA = {
    "accepted": pl.Boolean, "reason": pl.String, "standard": pl.Decimal(12, 2), "subsidy": pl.Decimal(12, 2),
    "payable": pl.Decimal(12, 2), "refund_later": pl.Decimal(12, 2), "subsidy_identity": pl.String,
    "benefit_start": pl.Date, "benefit_end": pl.Date, "rule": pl.String, "policy_version": pl.String,
    "explanation_key": pl.String,
}
QUOTE_COLUMNS = ("accepted", "reason", "standard", "subsidy", "payable", "refund_later", "subsidy_identity",
                 "benefit_start", "benefit_end", "rule", "policy_version", "explanation_key")


def born_after_payment() -> pl.Expr:
    """The payer's registered birth date is after the payment day: the ID number or the register is wrong."""
    return pl.col("birth_date") > pl.col("paid_on")


def gate_births(rows: pl.DataFrame) -> pl.DataFrame:
    """Hold a line paid before the payer's registered birth (不予受理, with the reason), as the engine
    cannot quote it; the rest of the file goes on."""
    reason = pl.format("缴费日期早于户籍名单中的出生日期（{}）：请核实身份证号码或户籍信息", pl.col("birth_date").cast(pl.String))
    return rows.with_columns(
        pl.when(pl.col("gate").is_null() & born_after_payment().fill_null(False)).then(reason)
        .otherwise(pl.col("gate")).alias("gate")
    )


def _quote_rows(rows: pl.DataFrame, campaigns: dict, quoted: dict | None = None) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """Quote every known person at their payment date with the campaign's policy, once per decision key.

    The engine's inputs are taken as a narrow frame and the answers joined back once: the rows
    are wide, and each copy of them costs hundreds of MB for a million lines. `quoted` keeps the
    answers of the keys quoted for earlier slices of the file (by year): they are not quoted again,
    and their explanations, already written, are not returned again."""
    quoted = {} if quoted is None else quoted
    from yibao.policy.bulk import decision_keys, quote_frame

    explanations: dict[str, list[str]] = {}
    # a line paid before the payer's registered birth is held, not quoted (see born_after_payment)
    known = rows.filter(pl.col("resident_id").is_not_null() & ~born_after_payment().fill_null(False)).select(
        "_row", "year", "birth_date", "identities", "groups", "event_date", "tier", "gap_years", "household_role",
        "first_time", "newborn_by_birth", "identity_since", "employee_months", "household_enrolled", "paid_on")
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
            pl.col("first_time").cast(pl.Boolean), pl.col("newborn_by_birth").cast(pl.Boolean),
            pl.col("identity_since").cast(pl.String), pl.col("employee_months").cast(pl.Int64),
            pl.col("household_enrolled").cast(pl.Boolean), pl.col("paid_on").cast(pl.Date),
        )
        keyed = decision_keys(policy, inputs).rename({"_decision_key": "_key"})
        known_answers = quoted.get(year)
        reps = keyed.unique(subset=["_key"], keep="first", maintain_order=True).drop(
            "_age_paid", "_age_subsidy", "_exact_birth", "_identity_set")
        if known_answers is not None:
            reps = reps.filter(~pl.col("_key").is_in(known_answers.get_column("_key").implode()))
        answered = [] if known_answers is None else [known_answers]
        for offset in range(0, reps.height, QUOTE_CHUNK):  # explanations are wide: a slice at a time
            answers = quote_frame(policy, reps.slice(offset, QUOTE_CHUNK), explain=True)
            keys = []
            for lines in answers.get_column("explanation").to_list():
                key = _json_lines_key(lines)
                explanations.setdefault(key, list(lines))
                keys.append(key)
            answered.append(answers.with_columns(pl.Series("explanation_key", keys, dtype=pl.String)).select(
                "_key", *QUOTE_COLUMNS))
        answers = (pl.concat(answered, how="vertical_relaxed") if answered
                   else pl.DataFrame(schema={"_key": keyed.schema["_key"], **QUOTE_SCHEMA}))
        quoted[year] = answers
        quoted_parts.append(keyed.select("_row", "_key").join(answers, on="_key", how="left").drop("_key"))
        if several.height:
            quoted_parts.append(_quote_scalar(policy, several, explanations))
    by_row = (pl.concat(quoted_parts, how="vertical_relaxed") if quoted_parts
              else pl.DataFrame(schema={"_row": pl.Int64, **QUOTE_SCHEMA}))
    return rows.join(by_row, on="_row", how="left", maintain_order="left"), explanations


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
    enrollment_mark_paid, over the rows at once (the other counties' claims and enrollments are in facts)."""
    elsewhere, previous = facts["elsewhere"], facts["previous"]
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
