"""The bulk form of the engine: quote a whole polars DataFrame of persons at once.

Assessing a county (核定) asks the same question a million times, but the answer depends on few
things: the identities, group, tier, dates of payment and event, and - apart from newborns -
only the age in full years. Rows are grouped by that decision key, `quote` runs once per key,
and the answers are joined back. The result is the scalar engine's, row for row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from yibao.policy.engine import Person, Policy, Quote, parse_identity_since, quote

MONEY = pl.Decimal(12, 2)

INPUT_DEFAULTS = {
    "identities": (pl.List(pl.String), []),
    "group": (pl.String, None),
    "event_date": (pl.Date, None),
    "tier": (pl.Int64, 1),
    "gap_years": (pl.Int64, 0),
    "backpaid_years": (pl.Int64, 0),
    "household_role": (pl.String, None),
    "first_time": (pl.Boolean, False),
    "newborn_by_birth": (pl.Boolean, False),
    "identity_since": (pl.String, None),
    "employee_months": (pl.Int64, None),
    "household_enrolled": (pl.Boolean, None),
}

OUTPUT_SCHEMA = {
    "accepted": pl.Boolean,
    "reason": pl.String,
    "standard": MONEY,
    "subsidy": MONEY,
    "payable": MONEY,
    "refund_later": MONEY,
    "subsidy_identity": pl.String,
    "benefit_start": pl.Date,
    "benefit_end": pl.Date,
    "rule": pl.String,
    "waiting_months": pl.Int64,
    "waiting_days": pl.Int64,
    "explanation": pl.List(pl.String),
    "policy_version": pl.String,
}

_KEY = "_decision_key"


def _with_defaults(persons: pl.DataFrame, paid_on: dt.date | None) -> pl.DataFrame:
    frame = persons
    for column, (dtype, default) in INPUT_DEFAULTS.items():
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(default, dtype=dtype).alias(column))
        else:
            frame = frame.with_columns(pl.col(column).cast(dtype))
    if "paid_on" not in frame.columns:
        if paid_on is None:
            raise ValueError("需要 paid_on 列或 paid_on 参数")
        frame = frame.with_columns(pl.lit(paid_on, dtype=pl.Date).alias("paid_on"))
    return frame.with_columns(pl.col("birth_date").cast(pl.Date), pl.col("paid_on").cast(pl.Date))


def _age_expr(birth: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Full years on `day`, the same arithmetic as engine.age_on."""
    before_birthday = (day.dt.month() * 100 + day.dt.day()) < (birth.dt.month() * 100 + birth.dt.day())
    return day.dt.year() - birth.dt.year() - before_birthday.cast(pl.Int32)


def birth_day_horizon(policy: Policy) -> int:
    """More days than any days_since_birth bound in the policy: beyond it, all births look alike."""
    bounds = [731]

    def walk(cond):
        if cond.days_since_birth is not None:
            bounds.extend(b + 1 for b in (cond.days_since_birth.min, cond.days_since_birth.max) if b is not None)
        for sub in cond.any_of or ():
            walk(sub)

    for rule in policy.data.rules:
        walk(rule.when)
    return max(bounds)


def decision_keys(policy: Policy, frame: pl.DataFrame) -> pl.DataFrame:
    """Add the columns the answer depends on, and one key column that joins them."""
    data = policy.data
    year_start = dt.date(data.benefit_year, 1, 1)
    age_day = pl.col("paid_on") if data.subsidies.age_reference == "paid_on" else pl.lit(year_start)
    # A birth closer to the payment than any day-count in the rules (or in the year before the
    # benefit year) can meet a newborn rule; older persons differ only by their age in full years.
    horizon = birth_day_horizon(policy)
    # the registry facts split the groups only where the policy looks at them
    conditions = list(data.conditions())
    unused = pl.lit("-")
    since = pl.col("identity_since").fill_null("-") if data.uses_recognition_dates() else unused
    employee = (pl.col("employee_months").cast(pl.String).fill_null("-")
                if any(c.employee_months is not None for c in conditions) else unused)
    household = (pl.col("household_enrolled").cast(pl.String).fill_null("-")
                 if any(c.household_enrolled is not None for c in conditions) else unused)
    recent = (pl.col("birth_date") >= pl.col("paid_on") - pl.duration(days=horizon)) | (
        pl.col("birth_date").dt.year() >= data.benefit_year - 1
    )
    return frame.with_columns(
        _age_expr(pl.col("birth_date"), pl.col("paid_on")).alias("_age_paid"),
        _age_expr(pl.col("birth_date"), age_day).alias("_age_subsidy"),
        pl.when(recent).then(pl.col("birth_date")).otherwise(None).alias("_exact_birth"),
        pl.col("identities").list.unique().list.sort().list.join(",").alias("_identity_set"),
    ).with_columns(
        pl.concat_str(
            [
                pl.col("_age_paid").cast(pl.String),
                pl.col("_age_subsidy").cast(pl.String),
                pl.col("_exact_birth").cast(pl.String).fill_null("-"),
                pl.col("_identity_set"),
                pl.col("group").fill_null("-"),
                pl.col("event_date").cast(pl.String).fill_null("-"),
                pl.col("tier").cast(pl.String),
                pl.col("gap_years").cast(pl.String),
                pl.col("backpaid_years").cast(pl.String),
                pl.col("household_role").fill_null("-"),
                pl.col("first_time").cast(pl.String),
                pl.col("newborn_by_birth").cast(pl.String),
                since,
                employee,
                household,
                pl.col("paid_on").cast(pl.String),
            ],
            separator="|",
        ).alias(_KEY)
    )


def _quote_row(policy: Policy, row: dict) -> Quote:
    person = Person(
        birth_date=row["birth_date"],
        identities=frozenset(row["identities"] or ()),
        groups=frozenset({row["group"]} if row["group"] else ()),
        event_date=row["event_date"],
        tier=row["tier"],
        gap_years=row["gap_years"],
        backpaid_years=row["backpaid_years"],
        household_role=row["household_role"],
        first_time=bool(row["first_time"]),
        newborn_by_birth=bool(row.get("newborn_by_birth")),
        identity_since=parse_identity_since(row.get("identity_since")),
        employee_months=row.get("employee_months"),
        household_enrolled=row.get("household_enrolled"),
    )
    return quote(policy, person, row["paid_on"])


def quote_frame(
    policy: Policy, persons: pl.DataFrame, paid_on: dt.date | None = None, *, explain: bool = True
) -> pl.DataFrame:
    """Quote every row of `persons`.

    Columns: birth_date (required), identities (list of glossary codes), group, event_date, tier,
    gap_years, backpaid_years, household_role, first_time, identity_since (engine.identity_since_text),
    employee_months, household_enrolled, paid_on (or the `paid_on` argument). Other columns
    (an id, say) pass through. The result adds the columns of a Quote; `explain=False` leaves out
    the explanation lists, which a county-wide assessment does not store.
    """
    if persons.height == 0:
        schema = dict(persons.schema) | {k: v for k, v in OUTPUT_SCHEMA.items() if explain or k != "explanation"}
        return pl.DataFrame(schema=schema)
    frame = decision_keys(policy, _with_defaults(persons, paid_on))
    representatives = frame.unique(subset=[_KEY], keep="first", maintain_order=True)
    answers: dict[str, list] = {name: [] for name in OUTPUT_SCHEMA}
    keys = representatives.get_column(_KEY).to_list()
    for row in representatives.select(
        "birth_date", "identities", "group", "event_date", "tier", "gap_years", "backpaid_years",
        "household_role", "first_time", "newborn_by_birth", "identity_since", "employee_months",
        "household_enrolled", "paid_on",
    ).iter_rows(named=True):
        result = _quote_row(policy, row)
        for name in OUTPUT_SCHEMA:
            value = result.policy_version if name == "policy_version" else getattr(result, name)
            answers[name].append(list(value) if name == "explanation" else value)
    schema = {name: dtype for name, dtype in OUTPUT_SCHEMA.items() if explain or name != "explanation"}
    table = pl.DataFrame({_KEY: keys, **{name: answers[name] for name in schema}}, schema={_KEY: pl.String, **schema})
    helper_columns = ["_age_paid", "_age_subsidy", "_exact_birth", "_identity_set", _KEY]
    return frame.join(table, on=_KEY, how="left", maintain_order="left").drop(helper_columns)


def money_column(values: list[Decimal]) -> pl.Series:
    return pl.Series(values, dtype=MONEY)
