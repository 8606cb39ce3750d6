"""The one builder of the engine's facts about a person, for every path that asks the engine.

The counter (collection.selectors.due_quote), channel ingest, 重新匹配, refunds, 核定 and the
explanation of an assessment all ask the same question: what does the policy say about this
person on this day. They read the registry differently (one resident through the ORM, a whole
county or a whole payment file through SQL), but they hand the rows to `person_facts`, which
alone decides what the engine is told: identities held on the day, group facts and the latest
event date not after it, the household role, and the coverage history (first enrollment,
years of broken coverage, renewal). So the paths cannot disagree about a person.

Pure polars, no ORM: callers fetch the rows, this module turns them into the engine's inputs.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from yibao.policy.engine import Person, parse_identity_since

# 与户主关系: who counts as a child of the household (独女户、独男户 "女儿/儿子至18周岁").
CHILD_RELATIONS = frozenset({"子", "女", "儿子", "女儿", "长子", "次子", "长女", "次女", "独子", "独女", "养子", "养女", "继子", "继女", "子女"})
PARENT_RELATIONS = frozenset({"户主", "本人", "配偶", "妻", "夫", "妻子", "丈夫"})

KEY_SCHEMA = {"_key": pl.Int64, "resident_id": pl.Int64, "on": pl.Date, "year": pl.Int64, "relation": pl.String,
              "birth_date": pl.Date}
IDENTITY_SCHEMA = {"resident_id": pl.Int64, "code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date}
GROUP_SCHEMA = {"resident_id": pl.Int64, "group": pl.String, "event_date": pl.Date, "end_date": pl.Date}
COVERED_SCHEMA = {"resident_id": pl.Int64, "benefit_year": pl.Int64}
# 职工医保名单: months paid (缴费月数) in a year (缴费年度), either may be unknown
EMPLOYEE_SCHEMA = {"resident_id": pl.Int64, "months": pl.Int64, "months_year": pl.Int64}
# another member of the resident's household is enrolled (paid) in that benefit year
HOUSEHOLD_SCHEMA = {"resident_id": pl.Int64, "benefit_year": pl.Int64}
FACT_COLUMNS = ("identities", "groups", "event_date", "gap_years", "first_time", "renewal", "household_role",
                "newborn_by_birth", "identity_since", "employee_months", "household_enrolled")
NEWBORN = "newborn"


def newborn_by_birth(birth_date: dt.date | None, on: dt.date, benefit_year: int) -> bool:
    """新生儿 by the birth date alone: born in the benefit year, or not yet one full year old on the
    day asked (the window of the notices: "当年出生" or "一周岁以内"), and born by then. The
    policy's newborn rules still test their own conditions (born_in_benefit_year, days_since_birth ...)."""
    if birth_date is None or birth_date > on:
        return False
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    return birth_date.year == benefit_year or age < 1


def _newborn_expr() -> pl.Expr:
    """newborn_by_birth for a frame with birth_date, on and year."""
    birth, on = pl.col("birth_date"), pl.col("on")
    def month_day(day: pl.Expr) -> pl.Expr:
        return day.dt.month().cast(pl.Int32) * 100 + day.dt.day().cast(pl.Int32)

    before_birthday = month_day(on) < month_day(birth)
    age = on.dt.year().cast(pl.Int64) - birth.dt.year().cast(pl.Int64) - before_birthday.cast(pl.Int64)
    return (birth.is_not_null() & (birth <= on) & ((birth.dt.year().cast(pl.Int64) == pl.col("year")) | (age < 1))
            ).fill_null(False)


def household_role(relation: str | None) -> str | None:
    relation = (relation or "").strip()
    if relation in CHILD_RELATIONS:
        return "child"
    if relation in PARENT_RELATIONS:
        return "parent"
    return None


def _relation_roles() -> pl.DataFrame:
    roles = {r: "child" for r in CHILD_RELATIONS} | {r: "parent" for r in PARENT_RELATIONS}
    return pl.DataFrame({"_relation": list(roles), "household_role": list(roles.values())},
                        schema={"_relation": pl.String, "household_role": pl.String})


def _cast(frame: pl.DataFrame, schema: dict) -> pl.DataFrame:
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def person_facts(
    keys: pl.DataFrame, identities: pl.DataFrame, groups: pl.DataFrame, covered: pl.DataFrame, *,
    employees: pl.DataFrame | None = None, employee_year: int | dict[int, int | None] | None = None,
    household: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The engine's facts for each row of `keys` (KEY_SCHEMA: a row key, the resident, the day
    asked about, the benefit year, 与户主关系, the birth date).

    `identities` (IDENTITY_SCHEMA): the residents' identities with their validity; those held on
    the day count. `groups` (GROUP_SCHEMA): group facts; a group counts unless it ended
    (终止日期) before the day, the event date is the latest not after the day. `covered` (COVERED_SCHEMA): benefit years in which the resident
    was covered in this county (paid or suspended enrollments; the latest one is enough).

    Adds FACT_COLUMNS: first_time (never covered here before the benefit year), gap_years (full
    years without cover right before the benefit year; 0 for a first enrollment), renewal (续保:
    covered the year before), household_role, and newborn_by_birth: a resident born in the benefit
    year or under one year old on the day (newborn_by_birth()) counts in the group 新生儿 without a
    group fact, and the column says so (the explanation names it). Other columns of `keys` pass through.

    identity_since: the start dates (起始日期) of the identities held, as engine.identity_since_text.
    employee_months: with `employees` (EMPLOYEE_SCHEMA) and the year the policy asks about
    (PolicyFile.employee_months_year; or a dict from benefit year to it, for rows of several years):
    the months of that year; 0 for a resident not on the 职工医保
    list; null (unknown) for a record of another year or without months, or when not asked.
    household_enrolled: with `household` (HOUSEHOLD_SCHEMA), whether another member of the
    household is enrolled in the benefit year; null when not given.
    """
    keys = keys.with_columns(
        pl.col("_key").cast(pl.Int64), pl.col("resident_id").cast(pl.Int64), pl.col("on").cast(pl.Date),
        pl.col("year").cast(pl.Int64), pl.col("relation").cast(pl.String), pl.col("birth_date").cast(pl.Date),
    )
    asked = keys.select("_key", "resident_id", "on", "year")
    held = asked.join(_cast(identities, IDENTITY_SCHEMA), on="resident_id").filter(
        (pl.col("valid_from").is_null() | (pl.col("valid_from") <= pl.col("on")))
        & (pl.col("valid_to").is_null() | (pl.col("on") <= pl.col("valid_to")))
    ).group_by("_key").agg(
        pl.col("code").unique().sort().alias("identities"),
        pl.concat_str([pl.col("code"), pl.lit(":"), pl.col("valid_from").cast(pl.String)])
        .drop_nulls().unique().sort().str.join(",").alias("identity_since"),
    )
    facts = asked.join(_cast(groups, GROUP_SCHEMA), on="resident_id").filter(
        pl.col("end_date").is_null() | (pl.col("on") <= pl.col("end_date"))
    ).group_by("_key").agg(
        pl.col("group").unique().sort().alias("groups"),
        pl.col("event_date").filter(pl.col("event_date") <= pl.col("on")).max().alias("event_date"),
    )
    history = asked.join(_cast(covered, COVERED_SCHEMA), on="resident_id").filter(
        pl.col("benefit_year") < pl.col("year")
    ).group_by("_key").agg(pl.col("benefit_year").max().alias("_last_year"))
    frame = (
        keys.join(held, on="_key", how="left", maintain_order="left")
        .join(facts, on="_key", how="left", maintain_order="left")
        .join(history, on="_key", how="left", maintain_order="left")
        .with_columns(pl.col("relation").fill_null("").str.strip_chars().alias("_relation"))
        .join(_relation_roles(), on="_relation", how="left", maintain_order="left")
    )
    if employees is not None and employee_year is not None:
        record = _cast(employees, EMPLOYEE_SCHEMA).unique("resident_id", keep="last").rename(
            {"months": "_months", "months_year": "_months_year"}).with_columns(pl.lit(True).alias("_on_list"))
        if isinstance(employee_year, dict):
            asked = pl.DataFrame({"year": list(employee_year), "_asked": list(employee_year.values())},
                                 schema={"year": pl.Int64, "_asked": pl.Int64})
            frame = frame.join(asked, on="year", how="left", maintain_order="left")
        else:
            frame = frame.with_columns(pl.lit(employee_year, dtype=pl.Int64).alias("_asked"))
        frame = frame.join(record, on="resident_id", how="left", maintain_order="left").with_columns(
            pl.when(pl.col("_asked").is_null()).then(None)
            .when(pl.col("_on_list").is_null()).then(0)
            .when(pl.col("_months_year") == pl.col("_asked")).then(pl.col("_months"))
            .otherwise(None).cast(pl.Int64).alias("employee_months")
        ).drop("_months", "_months_year", "_on_list", "_asked")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Int64).alias("employee_months"))
    if household is not None:
        enrolled = _cast(household, HOUSEHOLD_SCHEMA).unique().rename({"benefit_year": "year"}).with_columns(
            pl.lit(True).alias("household_enrolled"))
        frame = frame.join(enrolled, on=["resident_id", "year"], how="left", maintain_order="left").with_columns(
            pl.col("household_enrolled").fill_null(False))
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("household_enrolled"))
    first = pl.col("_last_year").is_null()
    groups = pl.col("groups").fill_null(pl.lit([], dtype=pl.List(pl.String)))
    derived = _newborn_expr() & ~groups.list.contains(NEWBORN)
    return frame.with_columns(
        pl.col("identities").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        pl.when(pl.col("identity_since") == "").then(None).otherwise(pl.col("identity_since")).alias("identity_since"),
        pl.when(derived).then(groups.list.concat(pl.lit([NEWBORN], dtype=pl.List(pl.String))).list.sort())
        .otherwise(groups).alias("groups"),
        derived.alias("newborn_by_birth"),
        pl.col("event_date").cast(pl.Date),
        pl.when(first).then(0).otherwise(pl.col("year") - 1 - pl.col("_last_year")).cast(pl.Int64).alias("gap_years"),
        first.alias("first_time"),
        (pl.col("_last_year") == pl.col("year") - 1).fill_null(False).alias("renewal"),
    ).drop("_last_year", "_relation")


def registry_facts_asked(policy) -> dict:
    """Which optional registry facts the policy's conditions look at, as keyword arguments for the
    readers of the registry (enrollment.assessment.persons_frame ...): employee_year, household."""
    conditions = list(policy.data.conditions())
    return {"employee_year": policy.data.employee_months_year(),
            "household": any(c.household_enrolled is not None for c in conditions)}


def person_from_row(row: dict, *, tier: int = 1, backpaid_years: int = 0) -> Person:
    """The engine's Person from a row of `person_facts`."""
    return Person(
        birth_date=row["birth_date"],
        identities=frozenset(row["identities"] or ()),
        groups=frozenset(row["groups"] or ()),
        event_date=row["event_date"],
        tier=tier,
        gap_years=row["gap_years"],
        backpaid_years=backpaid_years,
        household_role=row["household_role"],
        first_time=bool(row["first_time"]),
        newborn_by_birth=bool(row.get("newborn_by_birth")),
        identity_since=parse_identity_since(row.get("identity_since")),
        employee_months=row.get("employee_months"),
        household_enrolled=row.get("household_enrolled"),
    )


def one_person(
    *, resident_id: int, birth_date: dt.date, relation: str | None, on: dt.date, benefit_year: int,
    identities: list[tuple], groups: list[tuple], covered_years: list[int], tier: int = 1,
    employee: tuple | None = None, employee_year: int | None = None, household_years: list[int] | None = None,
) -> Person:
    """`person_facts` for one resident, from rows read one at a time (the counter, 重新匹配)."""
    keys = pl.DataFrame(
        {"_key": [0], "resident_id": [resident_id], "on": [on], "year": [benefit_year], "relation": [relation],
         "birth_date": [birth_date]},
        schema=KEY_SCHEMA,
    )
    frame = person_facts(
        keys,
        pl.DataFrame([(resident_id, *i) for i in identities], schema=IDENTITY_SCHEMA, orient="row"),
        pl.DataFrame([(resident_id, *g) for g in groups], schema=GROUP_SCHEMA, orient="row"),
        pl.DataFrame([(resident_id, y) for y in covered_years], schema=COVERED_SCHEMA, orient="row"),
        employees=pl.DataFrame([(resident_id, *employee)] if employee else [], schema=EMPLOYEE_SCHEMA, orient="row"),
        employee_year=employee_year,
        household=None if household_years is None else pl.DataFrame(
            [(resident_id, y) for y in household_years], schema=HOUSEHOLD_SCHEMA, orient="row"),
    )
    row = frame.row(0, named=True)
    return person_from_row(row | {"birth_date": birth_date}, tier=tier)
