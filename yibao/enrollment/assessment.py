"""核定 in bulk: the engine's view of every resident of a county, read from the registry in a few
set-based queries, quoted with the policy's bulk form, and digested so that a later run rewrites
only the rows whose inputs or answer changed.

The frame agrees row for row with `selectors.person_for` + `engine.quote` (tests/test_assessment.py
checks a generated county against the scalar path).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from django.db import connection

from yibao.enrollment.models import Enrollment
from yibao.policy.bulk import MONEY, quote_frame
from yibao.policy.engine import Person, Policy, PolicyInputError, quote
from yibao.policy.facts import person_facts, person_from_row
from yibao.policy.vocabulary import GROUPS, IDENTITY_BY_CODE
from yibao.registry.models import EmployeeInsuranceRecord, Flag, GroupFact, Identity, Resident

HASH_SCHEME = "4"  # bump when the digest's recipe changes: every row is then rewritten once
BLOCKED_RULE = "blocked"
TERMINATED_RULE = "terminated"
INPUT_ERROR_RULE = "input_error"

PERSON_SCHEMA = {
    "resident_id": pl.Int64,
    "township_code": pl.String,
    "village_code": pl.String,
    "birth_date": pl.Date,
    "identities": pl.List(pl.String),
    "groups": pl.List(pl.String),
    "event_date": pl.Date,
    "tier": pl.Int64,
    "gap_years": pl.Int64,
    "first_time": pl.Boolean,
    "household_role": pl.String,
    "identity_since": pl.String,
    "employee_months": pl.Int64,
    "household_enrolled": pl.Boolean,
    "block": pl.String,
}

ANSWER_SCHEMA = {
    "accepted": pl.Boolean,
    "reason": pl.String,
    "standard": MONEY,
    "subsidy": MONEY,
    "payable": MONEY,
    "refund_later": MONEY,
    "subsidy_identity": pl.String,
    "rule": pl.String,
    "benefit_start": pl.Date,
    "benefit_end": pl.Date,
}


# ---------------------------------------------------------------- the assessment date


def default_assessment_date(*, policy: Policy, start: dt.date, end: dt.date, today: dt.date) -> dt.date:
    """The day a county-wide assessment is made as of.

    Before the collection window: its first day; inside it: today; after it: its last day.
    Where the policy only takes payments on some days of the month (朔州: 1-25), a closed day
    moves to the next open day of the window, or back to the last open one.
    """
    day = start if today < start else today if today <= end else end
    window = policy.data.collection.main_window
    if window.takes_day(day):
        return day
    forward = day
    while forward <= end:
        if window.takes_day(forward):
            return forward
        forward += dt.timedelta(days=1)
    back = day
    while back >= start:
        if window.takes_day(back):
            return back
        back -= dt.timedelta(days=1)
    return day


# ---------------------------------------------------------------- reading the registry


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _col(name: str) -> str:
    return connection.ops.quote_name(name)


def fetch_frame(sql: str, params: list, schema: dict) -> pl.DataFrame:
    """Run a query and return its rows as a polars frame (COPY … TO STDOUT on PostgreSQL)."""
    names = list(schema)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            import io

            buffer = io.BytesIO()
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                for chunk in copy:
                    buffer.write(chunk)
            if not buffer.tell():
                return pl.DataFrame(schema=schema)
            buffer.seek(0)
            text_schema = {n: (pl.String if schema[n] in (pl.Date, pl.Boolean) else schema[n]) for n in names}
            frame = pl.read_csv(buffer, has_header=False, new_columns=names, schema=text_schema)
            # the text columns read here are NOT NULL: an empty CSV field is an empty string
            frame = frame.with_columns([pl.col(n).fill_null("") for n in names if schema[n] == pl.String])
            return frame.with_columns(
                [pl.col(n).str.to_date("%Y-%m-%d") for n in names if schema[n] == pl.Date]
                + [pl.col(n).replace_strict({"t": True, "f": False}, return_dtype=pl.Boolean)
                   for n in names if schema[n] == pl.Boolean]
            )
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    text_schema = {n: (pl.String if schema[n] == pl.Date else schema[n]) for n in names}
    frame = pl.DataFrame(rows, schema=text_schema, orient="row")
    return frame.with_columns([pl.col(n).str.to_date("%Y-%m-%d") for n in names if schema[n] == pl.Date])


def _in_ids(column: str, ids: list[int] | None) -> tuple[str, list]:
    if ids is None:
        return "", []
    if not ids:
        return " AND 1 = 0", []
    return f" AND {column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def employee_months_rows(*, county_code: str, resident_ids: list[int] | None = None) -> pl.DataFrame:
    """The 职工医保 list's months (facts.EMPLOYEE_SCHEMA) for the county's residents (or those of
    `resident_ids`), joined by ID number within the county."""
    where, params = _in_ids("r.id", resident_ids)
    return fetch_frame(
        f"SELECT r.id, e.months_paid, e.months_year FROM {_table(EmployeeInsuranceRecord)} e"
        f" JOIN {_table(Resident)} r ON r.county_code = e.county_code AND r.id_number = e.id_number"
        f" WHERE e.county_code = %s{where}",
        [county_code, *(params or [])],
        {"resident_id": pl.Int64, "months": pl.Int64, "months_year": pl.Int64},
    )


def household_enrolled_rows(
    *, county_code: str, benefit_year: int, resident_ids: list[int] | None = None
) -> pl.DataFrame:
    """Residents (facts.HOUSEHOLD_SCHEMA, of the county or of `resident_ids`) with another member of
    their household paid up for `benefit_year` in this county."""
    where, params = _in_ids("r.id", resident_ids)
    return fetch_frame(
        f"SELECT DISTINCT r.id, en.benefit_year FROM {_table(Resident)} r"
        f" JOIN {_table(Resident)} o ON o.county_code = r.county_code AND o.household_id = r.household_id AND o.id <> r.id"
        f" JOIN {_table(Enrollment)} en ON en.county_code = r.county_code AND en.resident_id = o.id"
        f" WHERE r.county_code = %s AND r.household_id IS NOT NULL AND en.benefit_year = %s AND en.status = %s{where}",
        [county_code, benefit_year, Enrollment.Status.PAID, *(params or [])],
        {"resident_id": pl.Int64, "benefit_year": pl.Int64},
    )


def persons_frame(
    *, county_code: str, benefit_year: int, on: dt.date, resident_ids: list[int] | None = None,
    employee_year: int | None = None, household: bool = False,
) -> pl.DataFrame:
    """Every ACTIVE resident of the county as the engine sees them on `on` (PERSON_SCHEMA).

    identities valid on `on`; every group fact, with the latest event date not after `on`;
    household role from 与户主关系; tier from this year's enrollment (else 1); first enrollment and
    gap years from this county's enrollment history. The facts come from the one builder
    (yibao.policy.facts.person_facts) that selectors.person_for and the channel ingest use; `block` says why the resident
    may not enroll (open or confirmed duplicate-enrollment flags, or this year's enrollment ended).
    `employee_year` (the year whose 职工医保 months the policy asks about) and `household` (the
    policy asks whether another household member is enrolled) fetch those facts, in one query each.
    """
    where_ids, id_params = _in_ids("id", resident_ids)
    residents = fetch_frame(
        f"SELECT id, township_code, village_code, CAST(birth_date AS TEXT), relation_to_head FROM {_table(Resident)}"
        f" WHERE county_code = %s AND status = %s{where_ids}",
        [county_code, Resident.Status.ACTIVE, *id_params],
        {"resident_id": pl.Int64, "township_code": pl.String, "village_code": pl.String, "birth_date": pl.Date,
         "relation": pl.String},
    )
    rid, rid_params = _in_ids("resident_id", resident_ids)
    identities = fetch_frame(
        f"SELECT resident_id, code, CAST(valid_from AS TEXT), CAST(valid_to AS TEXT) FROM {_table(Identity)}"
        " WHERE county_code = %s AND (valid_from IS NULL OR valid_from <= %s) AND (valid_to IS NULL OR valid_to >= %s)"
        + rid,
        [county_code, on, on, *rid_params],
        {"resident_id": pl.Int64, "code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date},
    )
    facts = fetch_frame(
        f"SELECT resident_id, {_col('group')}, CAST(event_date AS TEXT), CAST(end_date AS TEXT)"
        f" FROM {_table(GroupFact)} WHERE county_code = %s" + rid,
        [county_code, *rid_params],
        {"resident_id": pl.Int64, "group": pl.String, "event_date": pl.Date, "end_date": pl.Date},
    )
    this_year = fetch_frame(
        f"SELECT resident_id, tier, status, status_reason FROM {_table(Enrollment)}"
        " WHERE county_code = %s AND benefit_year = %s" + rid,
        [county_code, benefit_year, *rid_params],
        {"resident_id": pl.Int64, "tier": pl.Int64, "status": pl.String, "status_reason": pl.String},
    )
    last_covered = fetch_frame(
        f"SELECT resident_id, MAX(benefit_year) FROM {_table(Enrollment)}"
        " WHERE county_code = %s AND benefit_year < %s AND status IN (%s, %s)" + rid + " GROUP BY resident_id",
        [county_code, benefit_year, Enrollment.Status.PAID, Enrollment.Status.SUSPENDED, *rid_params],
        {"resident_id": pl.Int64, "benefit_year": pl.Int64},
    )
    flags = fetch_frame(
        f"SELECT resident_id, kind, detail, resolution, CASE WHEN resolved_at IS NULL THEN 1 ELSE 0 END"
        f" FROM {_table(Flag)} WHERE county_code = %s AND (resolved_at IS NULL OR outcome = %s){rid}"
        " ORDER BY created_at, id",
        [county_code, Flag.Outcome.CONFIRMED, *rid_params],
        {"resident_id": pl.Int64, "kind": pl.String, "detail": pl.String, "resolution": pl.String, "open": pl.Int64},
    )

    keys = residents.select(
        pl.col("resident_id").alias("_key"), "resident_id", pl.lit(on, dtype=pl.Date).alias("on"),
        pl.lit(benefit_year, dtype=pl.Int64).alias("year"), "relation", "birth_date",
    )
    employees = (employee_months_rows(county_code=county_code, resident_ids=resident_ids)
                 if employee_year is not None else None)
    households = (household_enrolled_rows(county_code=county_code, benefit_year=benefit_year, resident_ids=resident_ids)
                  if household else None)
    engine_facts = person_facts(
        keys, identities, facts, last_covered, employees=employees, employee_year=employee_year, household=households,
    ).select("resident_id", "identities", "groups", "event_date", "gap_years", "first_time", "household_role",
             "identity_since", "employee_months", "household_enrolled")
    blocks = _flag_blocks(flags)
    ended = this_year.filter(pl.col("status") == Enrollment.Status.TERMINATED).select(
        "resident_id",
        pl.format("{}年度参保关系已终止（{}），不能再缴费。", pl.lit(benefit_year), pl.col("status_reason")).alias("ended"),
    )
    frame = (
        residents.join(engine_facts, on="resident_id", how="left")
        .join(this_year.select("resident_id", "tier"), on="resident_id", how="left")
        .join(blocks, on="resident_id", how="left")
        .join(ended, on="resident_id", how="left")
    )
    return frame.select(
        "resident_id",
        "township_code",
        "village_code",
        "birth_date",
        "identities",
        "groups",
        "event_date",
        pl.col("tier").fill_null(1),
        "gap_years",
        "first_time",
        "household_role",
        "identity_since",
        "employee_months",
        "household_enrolled",
        pl.when(pl.col("block").is_not_null()).then(pl.format("暂不能参保：{}", pl.col("block")))
        .otherwise(pl.col("ended")).alias("block"),
    ).sort("resident_id")


def _flag_blocks(flags: pl.DataFrame) -> pl.DataFrame:
    """The text of registry.selectors.resident_enrollment_block, for every flagged resident at once."""
    kind_label = pl.col("kind").replace_strict(dict(Flag.Kind.choices), default=pl.col("kind"))
    detail = pl.when(pl.col("detail") != "").then(pl.format("（{}）", pl.col("detail"))).otherwise(pl.lit(""))
    text = (
        pl.when(pl.col("open") == 1)
        .then(pl.concat_str([kind_label, detail, pl.lit("，待县医保局核实处理")]))
        .otherwise(pl.concat_str([
            pl.lit("经核实"), kind_label, detail, pl.lit("，不能在本县参加城乡居民医保（"),
            pl.col("resolution").fill_null(""), pl.lit("）"),
        ]))
    )
    return (
        flags.with_columns(text.alias("text"))
        .group_by("resident_id", maintain_order=True)
        .agg(pl.col("text").str.join("；"))
        .select("resident_id", (pl.col("text") + "。").alias("block"))
    )


# ---------------------------------------------------------------- quoting


def _person(row: dict) -> Person:
    return person_from_row(row, tier=row["tier"])


def _scalar_answers(policy: Policy, rows: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """The few rows the bulk form can't take (several groups, or input the engine refuses)."""
    answers = {name: [] for name in ANSWER_SCHEMA}
    zero = Decimal("0.00")
    for row in rows.iter_rows(named=True):
        try:
            result = quote(policy, _person(row), on)
        except PolicyInputError as exc:
            values = {"accepted": False, "reason": f"无法核定：{exc}", "standard": zero, "subsidy": zero,
                      "payable": zero, "refund_later": zero, "subsidy_identity": None, "rule": INPUT_ERROR_RULE,
                      "benefit_start": None, "benefit_end": None}
        else:
            values = {name: getattr(result, name) for name in ANSWER_SCHEMA}
        for name in ANSWER_SCHEMA:
            answers[name].append(values[name])
    return rows.hstack(pl.DataFrame(answers, schema=ANSWER_SCHEMA))


def assess_frame(policy: Policy, persons: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """Quote every person as of `on`; adds ANSWER_SCHEMA and `input_hash`.

    Blocked residents (flags, an ended enrollment) are not accepted: their reason says why and
    their amounts are zero. Rows whose input the engine would refuse carry its message.
    """
    if persons.height == 0:
        return pl.DataFrame(schema=PERSON_SCHEMA | ANSWER_SCHEMA | {"input_hash": pl.String})
    tiers = sorted(policy.data.contribution.tiers())
    known_identities, known_groups = list(IDENTITY_BY_CODE), list(GROUPS)
    needs_scalar = (
        (pl.col("groups").list.len() > 1)
        | (pl.col("birth_date") > on)
        | ~pl.col("tier").is_in(tiers)
        | (pl.col("identities").list.set_difference(pl.lit(known_identities)).list.len() > 0)
        | (pl.col("groups").list.set_difference(pl.lit(known_groups)).list.len() > 0)
    )
    marked = persons.with_columns(needs_scalar.alias("_scalar"))
    bulk_rows = marked.filter(~pl.col("_scalar")).drop("_scalar")
    scalar_rows = marked.filter(pl.col("_scalar")).drop("_scalar")
    parts = []
    if bulk_rows.height:
        quoted = quote_frame(
            policy, bulk_rows.with_columns(pl.col("groups").list.first().alias("group")), on, explain=False
        )
        parts.append(quoted.select(*PERSON_SCHEMA, *ANSWER_SCHEMA))
    if scalar_rows.height:
        parts.append(_scalar_answers(policy, scalar_rows, on).select(*PERSON_SCHEMA, *ANSWER_SCHEMA))
    frame = pl.concat(parts).sort("resident_id")
    blocked = pl.col("block").is_not_null()
    zero = pl.lit(Decimal("0.00"), dtype=MONEY)
    frame = frame.with_columns(
        pl.when(blocked).then(False).otherwise(pl.col("accepted")).alias("accepted"),
        pl.when(blocked).then(pl.col("block")).otherwise(pl.col("reason")).alias("reason"),
        *[pl.when(blocked).then(zero).otherwise(pl.col(c)).alias(c) for c in ("subsidy", "payable", "refund_later")],
        pl.when(blocked).then(None).otherwise(pl.col("subsidy_identity")).alias("subsidy_identity"),
        pl.when(blocked & pl.col("block").str.starts_with("暂不能参保")).then(pl.lit(BLOCKED_RULE))
        .when(blocked).then(pl.lit(TERMINATED_RULE)).otherwise(pl.col("rule")).alias("rule"),
        *[pl.when(blocked).then(None).otherwise(pl.col(c)).alias(c) for c in ("benefit_start", "benefit_end")],
    )
    return frame.with_columns(input_hash(policy.version))


def input_hash(policy_version: str) -> pl.Expr:
    """A digest of everything that makes a stored row what it is: the policy version, the
    resident's inputs, where they are managed, and the answer. The assessment date is not in it,
    so a run on a later day rewrites only the rows whose inputs or answer changed.

    polars hashes the row's values directly (stable within a polars version; a new polars may
    digest differently, which only makes the next run rewrite every row once)."""
    columns = [
        "township_code", "village_code", "birth_date", "identities", "groups", "event_date", "tier", "gap_years",
        "first_time", "household_role", "identity_since", "employee_months", "household_enrolled", "block",
        *ANSWER_SCHEMA,
    ]
    digest = pl.struct(pl.lit(policy_version).alias("policy_version"), *columns).hash(seed=20250101)
    return (pl.lit(HASH_SCHEME) + digest.cast(pl.String)).alias("input_hash")
