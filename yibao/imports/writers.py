"""Set-based writes of validated rows: a staging table, then INSERT … SELECT and UPDATE … FROM.

Rows reach the staging table by COPY on PostgreSQL and by executemany on SQLite; everything after
that is a handful of SQL statements, never a loop over the ORM. The caller holds one transaction
for the whole file. Every statement stays inside one county (the shard key); checks across
counties look up by id_number only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import polars as pl
from django.db import connection
from django.utils import timezone

from yibao.core.progress import NullProgress, Progress
from yibao.core.services import event_bulk_record
from yibao.core.staging import (  # noqa: F401
    BATCH, copy_rows, is_postgres, sqlite_last_id, stage_create, stage_drop, stage_index,
)
from yibao.registry.models import EmployeeInsuranceRecord, Flag, Household, Identity, Resident

LOOKUP_BATCH = 5_000

# what the register's columns are called in an event's before/after
RESIDENT_FIELD_LABELS = {
    "name": "姓名", "sex": "性别", "birth_date": "出生日期", "village_code": "村（社区）",
    "township_code": "乡镇（街道）", "hukou_region_code": "户籍地", "residence_region_code": "居住地",
    "phone": "联系电话", "household_number": "户号", "relation_to_head": "与户主关系",
}


def _record_updates(changed: list[tuple], *, entity: str, county_code: str, reason: str, actor) -> None:
    """One import_update event per (id, before, after) of the rows an import changed."""
    if changed:
        event_bulk_record(
            rows=({"county_code": county_code, "entity": entity, "entity_id": pk, "action": "import_update",
                   "before": before, "after": after, "reason": reason} for pk, before, after in changed),
            actor=actor,
        )


def db_now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def business_db_now():
    """The business clock (yibao.core.clock) for a date users read as "when" (登记时间)."""
    from yibao.core.clock import business_now

    return connection.ops.adapt_datetimefield_value(business_now())


def lock_county(county_code: str) -> None:
    """On PostgreSQL two imports into the same county wait for each other (SQLite has one writer anyway)."""
    if is_postgres() and county_code.isdigit():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(7301, %s)", [int(county_code)])


def fetch_frame(sql: str, params: list, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _frame(rows, schema)


def _frame(rows: list, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    text_schema = {k: (pl.String if v == pl.Date else v) for k, v in schema.items()}
    rows = [tuple(v.isoformat() if isinstance(v, dt.date) else v for v in row) for row in rows]
    df = pl.DataFrame(rows, schema=text_schema, orient="row")
    dates = [pl.col(k).str.slice(0, 10).str.strptime(pl.Date, "%Y-%m-%d") for k, v in schema.items() if v == pl.Date]
    return df.with_columns(dates) if dates else df


def fetch_by_keys(sql: str, keys: list, schema: dict[str, pl.DataType], params_before: list = ()) -> pl.DataFrame:
    """Run `sql` (which ends in `IN ({keys})`) over the keys in batches; an index lookup each time."""
    frames = []
    for offset in range(0, len(keys), LOOKUP_BATCH):
        batch = keys[offset : offset + LOOKUP_BATCH]
        marks = ", ".join(["%s"] * len(batch))
        frames.append(fetch_frame(sql.format(keys=marks), [*params_before, *batch], schema))
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def _defaults(model, provided: Iterable[str]) -> dict[str, object]:
    """The Python-side defaults of the model's other columns, so raw INSERTs stay valid as models grow."""
    provided = set(provided)
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in provided:
            continue
        value = field.get_default()
        values[field.column] = field.get_db_prep_save(value, connection)
    return values


# ---- residents --------------------------------------------------------------------------------

STAGE = "imports_stage_resident"
STAGE_COLUMNS = {
    "row_no": "integer",
    "id_number": "varchar(18)",
    "name": "varchar(50)",
    "sex": "varchar(1)",
    "birth_date": "date",
    "county_code": "varchar(6)",
    "township_code": "varchar(9)",
    "village_code": "varchar(12)",
    "hukou_region_code": "varchar(12)",
    "residence_region_code": "varchar(12)",
    "phone": "varchar(20)",
    "household_number": "varchar(40)",
    "relation_to_head": "varchar(20)",
    "head_id_number": "varchar(18)",
    "is_household_row": "smallint",
    "row_hash": "varchar(32)",
}


HSTAGE = "imports_stage_household"
HEADS = "imports_stage_heads"
HSTAGE_COLUMNS = {
    "id": "bigint",
    "county_code": "varchar(6)",
    "township_code": "varchar(9)",
    "village_code": "varchar(12)",
    "number": "varchar(40)",
    "head_id_number": "varchar(18)",
}


def _reserve_household_ids(cursor, county_code: str) -> int:
    """Stage the new households with ids taken now, so they can be written once their head exists."""
    H = Household._meta.db_table
    if is_postgres():
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [H])
        next_id = "nextval(%s::regclass)"
        params = [cursor.fetchone()[0]]
    else:  # the write lock is held: no one else takes ids meanwhile
        next_id = "%s + ROW_NUMBER() OVER (ORDER BY s.row_no)"
        params = [sqlite_last_id(cursor, H)]
    cursor.execute(
        f"""INSERT INTO {HSTAGE} (id, county_code, township_code, village_code, number, head_id_number)
        SELECT {next_id}, s.county_code, s.township_code, s.village_code, s.household_number, s.head_id_number
        FROM {STAGE} s
        WHERE s.is_household_row = 1 AND s.household_number <> ''
          AND NOT EXISTS (SELECT 1 FROM {H} h WHERE h.county_code = %s AND h.number = s.household_number)""",
        [*params, county_code],
    )
    return cursor.rowcount


def residents_write(
    *, rows: pl.DataFrame, fields: tuple[str, ...], county_code: str, actor=None, reason: str = "",
    progress: Progress | None = None,
) -> dict:
    """Insert new residents, update changed ones (row_hash), build households; one event per update.

    Order: stage the rows; reserve ids for new households; insert new residents (pointing at old or
    reserved households); insert the new households with their head; update changed residents;
    fix the heads of households that existed before.
    """
    progress = progress or NullProgress()
    R, H = Resident._meta.db_table, Household._meta.db_table
    households = "household_number" in fields
    stage_create(STAGE, STAGE_COLUMNS)
    progress.step("写入暂存表")
    copy_rows(STAGE, rows.rename({"_row": "row_no"}).select(list(STAGE_COLUMNS)), progress)
    stage_index(STAGE, ["id_number"])
    now = db_now()
    counts = {"households_created": 0}
    with connection.cursor() as cursor:
        if households:
            progress.step("建立家庭户")
            stage_create(HSTAGE, HSTAGE_COLUMNS)
            counts["households_created"] = _reserve_household_ids(cursor, county_code)
            stage_index(HSTAGE, ["number"])
            cursor.execute(
                f"""UPDATE {H} SET township_code = s.township_code, village_code = s.village_code, updated_at = %s
                FROM {STAGE} s
                WHERE {H}.county_code = %s AND {H}.number = s.household_number AND s.is_household_row = 1
                  AND {H}.village_code <> s.village_code""",
                [now, county_code],
            )

        progress.step("比对已有参保人")
        changed = _resident_changes(fields, county_code)

        progress.step("新增参保人")
        if households:
            household_id = "COALESCE(h.id, hs.id)"
            household_join = (
                f"LEFT JOIN {H} h ON h.county_code = s.county_code AND h.number = s.household_number "
                f"AND s.household_number <> '' LEFT JOIN {HSTAGE} hs ON hs.number = s.household_number"
            )
        else:
            household_id, household_join = "NULL", ""
        r_defaults = _defaults(
            Resident,
            ["county_code", "township_code", "village_code", "id_number", "name", "sex", "birth_date",
             "hukou_region_code", "residence_region_code", "phone", "household_id", "relation_to_head", "row_hash",
             "created_at", "updated_at"],
        )
        extra_cols = "".join(f", {c}" for c in r_defaults)
        extra_vals = "".join(", %s" for _ in r_defaults)
        cursor.execute(
            f"""INSERT INTO {R} (county_code, township_code, village_code, id_number, name, sex, birth_date,
                hukou_region_code, residence_region_code, phone, household_id, relation_to_head, row_hash,
                created_at, updated_at{extra_cols})
            SELECT s.county_code, s.township_code, s.village_code, s.id_number, s.name, s.sex, s.birth_date,
                s.hukou_region_code, s.residence_region_code, s.phone, {household_id}, s.relation_to_head, s.row_hash,
                %s, %s{extra_vals}
            FROM {STAGE} s {household_join}
            WHERE NOT EXISTS (SELECT 1 FROM {R} r WHERE r.county_code = %s AND r.id_number = s.id_number)
            ORDER BY s.row_no""",
            [now, now, *r_defaults.values(), county_code],
        )
        counts["imported"] = cursor.rowcount

        if households and counts["households_created"]:
            progress.step(f"写入 {counts['households_created']} 个新家庭户")
            h_defaults = _defaults(
                Household, ["id", "county_code", "township_code", "village_code", "number", "head_id", "created_at",
                            "updated_at"],
            )
            extra_cols = "".join(f", {c}" for c in h_defaults)
            extra_vals = "".join(", %s" for _ in h_defaults)
            cursor.execute(
                f"""INSERT INTO {H} (id, county_code, township_code, village_code, number, head_id, created_at,
                    updated_at{extra_cols})
                SELECT hs.id, hs.county_code, hs.township_code, hs.village_code, hs.number, r.id, %s, %s{extra_vals}
                FROM {HSTAGE} hs
                LEFT JOIN {R} r ON r.county_code = %s AND r.id_number = hs.head_id_number AND hs.head_id_number <> ''
                ORDER BY hs.id""",
                [now, now, *h_defaults.values(), county_code],
            )

        if changed:
            progress.step(f"更新 {len(changed)} 名参保人")
            sets = [f"{f} = s.{f}" for f in fields if f in STAGE_COLUMNS and f not in ("id_number", "household_number")]
            if households:
                sets.append(
                    f"household_id = (SELECT h.id FROM {H} h WHERE h.county_code = s.county_code "
                    f"AND h.number = s.household_number AND s.household_number <> '')"
                )
            sets += ["row_hash = s.row_hash", "updated_at = %s"]
            cursor.execute(
                f"""UPDATE {R} SET {', '.join(sets)}
                FROM {STAGE} s
                WHERE {R}.county_code = %s AND {R}.id_number = s.id_number AND {R}.row_hash <> s.row_hash""",
                [now, county_code],
            )
            counts["updated"] = cursor.rowcount
        else:
            counts["updated"] = 0

        if households:
            progress.step("确定户主")
            # the households that existed before, with the head the file names: staged first, from the two staging
            # tables alone. In one statement with the county's tables the planner, which has no statistics yet for
            # a county being loaded, could rescan the staging table for every household (two 1,000,000-person
            # counties imported at once in one database: over 15 minutes, no row written).
            stage_create(HEADS, {"number": "varchar(40)", "head_id_number": "varchar(18)"})
            cursor.execute(
                f"""INSERT INTO {HEADS} (number, head_id_number)
                SELECT s.household_number, s.head_id_number FROM {STAGE} s
                WHERE s.is_household_row = 1 AND s.household_number <> '' AND s.head_id_number <> ''
                  AND NOT EXISTS (SELECT 1 FROM {HSTAGE} hs WHERE hs.number = s.household_number)"""
            )
            if cursor.rowcount:
                stage_index(HEADS, ["number"])
                cursor.execute(
                    f"""UPDATE {H} SET head_id = x.rid, updated_at = %s
                    FROM (SELECT t.number AS num, r.id AS rid
                          FROM {HEADS} t JOIN {R} r ON r.county_code = %s AND r.id_number = t.head_id_number) x
                    WHERE {H}.county_code = %s AND {H}.number = x.num AND ({H}.head_id IS NULL OR {H}.head_id <> x.rid)""",
                    [now, county_code, county_code],
                )
            stage_drop(HEADS)
            stage_drop(HSTAGE)
    _record_updates(changed, entity="resident", county_code=county_code, reason=reason, actor=actor)
    stage_drop(STAGE)
    counts["unchanged"] = rows.height - counts["imported"] - counts["updated"]
    return counts


def _resident_changes(fields: tuple[str, ...], county_code: str) -> list[tuple[int, dict, dict]]:
    """(resident id, before, after) of the changed rows, only the fields that differ."""
    R, H = Resident._meta.db_table, Household._meta.db_table
    compared = [f for f in fields if f not in ("id_number", "county_code", "household_number")]
    old = ", ".join(f"r.{f}" for f in compared)
    new = ", ".join(f"s.{f}" for f in compared)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT r.id, {old}, COALESCE(h.number, ''), {new}, s.household_number
            FROM {R} r JOIN {STAGE} s ON r.id_number = s.id_number
            LEFT JOIN {H} h ON h.county_code = r.county_code AND h.id = r.household_id
            WHERE r.county_code = %s AND r.row_hash <> s.row_hash""",
            [county_code],
        )
        result = cursor.fetchall()
    n = len(compared)
    names = [*compared, "household_number"]
    changes = []
    for row in result:
        before_values = [_plain(v) for v in row[1 : n + 2]]
        after_values = [_plain(v) for v in row[n + 2 :]]
        before, after = {}, {}
        for name, b, a in zip(names, before_values, after_values):
            if name == "household_number" and "household_number" not in fields:
                continue
            if b != a:
                before[name], after[name] = b, a
        changes.append((row[0], before, after))
    return changes


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return "" if value is None else str(value)


# ---- identities ---------------------------------------------------------------------------------


def identities_write(
    *, rows: pl.DataFrame, county_code: str, job=None, source_name: str = "", actor=None, reason: str = "",
    progress: Progress | None = None,
) -> dict:
    """Keep every identity a person holds: add new (resident, code) pairs, update changed dates/department."""
    from yibao.imports.validation import row_hashes

    progress = progress or NullProgress()
    rows = rows.with_columns(row_hashes(rows, ["code", "department", "valid_from", "valid_to"]))
    table = Identity._meta.db_table
    existing = fetch_by_keys(
        f"SELECT id, resident_id, code, department, valid_from, valid_to, row_hash FROM {table} "
        "WHERE county_code = %s AND resident_id IN ({keys})",
        rows["resident_id"].unique().to_list(),
        {"identity_id": pl.Int64, "resident_id": pl.Int64, "code": pl.String, "old_department": pl.String,
         "old_valid_from": pl.Date, "old_valid_to": pl.Date, "old_hash": pl.String},
        [county_code],
    )
    joined = rows.join(existing, on=["resident_id", "code"], how="left", maintain_order="left")
    new = joined.filter(pl.col("identity_id").is_null())
    changed = joined.filter(pl.col("identity_id").is_not_null() & (pl.col("old_hash") != pl.col("row_hash")))
    now = timezone.now()
    progress.step(f"新增 {new.height} 条身份")
    objs = [
        Identity(
            county_code=county_code, resident_id=r["resident_id"], code=r["code"], department=r["department"],
            valid_from=r["valid_from"], valid_to=r["valid_to"], source_job=job, source_name=source_name[:255],
            row_hash=r["row_hash"], created_at=now, updated_at=now,
        )
        for r in new.iter_rows(named=True)
    ]
    for offset in range(0, len(objs), BATCH):
        Identity.objects.bulk_create(objs[offset : offset + BATCH])
        progress.advance(min(BATCH, len(objs) - offset))
    if changed.height:
        progress.step(f"更新 {changed.height} 条身份")
        params = [
            (r["department"], _iso(r["valid_from"]), _iso(r["valid_to"]), job.pk if job else None, source_name[:255],
             r["row_hash"], connection.ops.adapt_datetimefield_value(now), r["identity_id"])
            for r in changed.iter_rows(named=True)
        ]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET department = %s, valid_from = %s, valid_to = %s, source_job_id = %s, "
                f"source_name = %s, row_hash = %s, updated_at = %s WHERE id = %s",
                params,
            )
        event_bulk_record(
            rows=(
                {"county_code": county_code, "entity": "identity", "entity_id": r["identity_id"], "action": "import_update",
                 "before": {"department": r["old_department"], "valid_from": _iso(r["old_valid_from"]),
                            "valid_to": _iso(r["old_valid_to"])},
                 "after": {"department": r["department"], "valid_from": _iso(r["valid_from"]),
                           "valid_to": _iso(r["valid_to"])},
                 "reason": reason}
                for r in changed.iter_rows(named=True)
            ),
            actor=actor,
        )
    return {"imported": new.height, "updated": changed.height, "unchanged": rows.height - new.height - changed.height}


def _iso(value):
    return value.isoformat() if value is not None else None


# ---- employees (职工医保) and flags ---------------------------------------------------------------


def employees_write(
    *, rows: pl.DataFrame, county_code: str, job=None, actor=None, reason: str = "", progress: Progress | None = None
) -> dict:
    progress = progress or NullProgress()
    table = EmployeeInsuranceRecord._meta.db_table
    existing = fetch_by_keys(
        f"SELECT id, id_number, name, employer, insured_from, months_paid, months_year FROM {table}"
        " WHERE county_code = %s AND id_number IN ({keys})",
        rows["id_number"].to_list(),
        {"record_id": pl.Int64, "id_number": pl.String, "old_name": pl.String, "old_employer": pl.String,
         "old_insured_from": pl.Date, "old_months_paid": pl.Int64, "old_months_year": pl.Int64},
        [county_code],
    )
    joined = rows.join(existing, on="id_number", how="left", maintain_order="left")
    new = joined.filter(pl.col("record_id").is_null())
    differs = (
        (pl.col("name") != pl.col("old_name")) | (pl.col("employer") != pl.col("old_employer"))
        | pl.col("insured_from").ne_missing(pl.col("old_insured_from"))
        | pl.col("months_paid").ne_missing(pl.col("old_months_paid"))
        | pl.col("months_year").ne_missing(pl.col("old_months_year"))
    )
    changed = joined.filter(pl.col("record_id").is_not_null() & differs)
    now = timezone.now()
    objs = [
        EmployeeInsuranceRecord(
            county_code=county_code, id_number=r["id_number"], name=r["name"], employer=r["employer"],
            insured_from=r["insured_from"], months_paid=r["months_paid"], months_year=r["months_year"],
            source_job=job, created_at=now,
        )
        for r in new.iter_rows(named=True)
    ]
    progress.step(f"新增 {len(objs)} 条职工医保记录")
    for offset in range(0, len(objs), BATCH):
        EmployeeInsuranceRecord.objects.bulk_create(objs[offset : offset + BATCH])
        progress.advance(min(BATCH, len(objs) - offset))
    if changed.height:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET name = %s, employer = %s, insured_from = %s, months_paid = %s, months_year = %s,"
                " source_job_id = %s WHERE id = %s",
                [(r["name"], r["employer"], _iso(r["insured_from"]), r["months_paid"], r["months_year"],
                  job.pk if job else None, r["record_id"])
                 for r in changed.iter_rows(named=True)],
            )
        event_bulk_record(
            rows=(
                {"county_code": county_code, "entity": "employee_record", "entity_id": r["record_id"],
                 "action": "import_update",
                 "before": {"name": r["old_name"], "employer": r["old_employer"], "insured_from": _iso(r["old_insured_from"]),
                            "months_paid": r["old_months_paid"], "months_year": r["old_months_year"]},
                 "after": {"name": r["name"], "employer": r["employer"], "insured_from": _iso(r["insured_from"]),
                           "months_paid": r["months_paid"], "months_year": r["months_year"]},
                 "reason": reason}
                for r in changed.iter_rows(named=True)
            ),
            actor=actor,
        )
    return {"imported": new.height, "updated": changed.height, "unchanged": rows.height - new.height - changed.height}


def _residents_by_number(numbers: list[str], where: str = "", params: list = ()) -> pl.DataFrame:
    """Residents (any county unless `where` narrows it) whose ID number is in `numbers`: lookups, no joins."""
    return fetch_by_keys(
        f"SELECT id, county_code, id_number FROM {Resident._meta.db_table} WHERE {where} id_number IN ({{keys}})",
        numbers,
        {"resident_id": pl.Int64, "county_code": pl.String, "id_number": pl.String},
        list(params),
    )


def flags_create(*, flags: pl.DataFrame, kind: str, actor=None, reason: str = "") -> int:
    """Open a flag (resident_id, county_code, detail) unless one of this kind is open already; one event each."""
    if flags.height == 0:
        return 0
    flags = flags.unique(subset=["resident_id"], keep="first", maintain_order=True)
    open_ids = set(
        Flag.objects.filter(kind=kind, resolved_at__isnull=True, resident_id__in=flags["resident_id"].to_list())
        .values_list("resident_id", flat=True)
    ) if flags.height <= 30_000 else _open_flag_ids(kind, flags["resident_id"].to_list())
    fresh = flags.filter(~pl.col("resident_id").is_in(list(open_ids)))
    now = timezone.now()
    objs = [
        Flag(county_code=r["county_code"], resident_id=r["resident_id"], kind=kind, detail=r["detail"][:300], created_at=now)
        for r in fresh.iter_rows(named=True)
    ]
    for offset in range(0, len(objs), BATCH):
        Flag.objects.bulk_create(objs[offset : offset + BATCH])
    label = Flag.Kind(kind).label
    event_bulk_record(
        rows=(
            {"county_code": f.county_code, "entity": "resident", "entity_id": f.resident_id, "action": "flag",
             "before": None, "after": {"flag": f.pk, "kind": kind, "detail": f.detail}, "reason": reason or label}
            for f in objs
        ),
        actor=actor,
    )
    return len(objs)


def _open_flag_ids(kind: str, resident_ids: list[int]) -> set[int]:
    found = fetch_by_keys(
        f"SELECT resident_id FROM {Flag._meta.db_table} WHERE kind = %s AND resolved_at IS NULL AND resident_id IN ({{keys}})",
        resident_ids, {"resident_id": pl.Int64}, [kind],
    )
    return set(found["resident_id"].to_list())


def flags_employee_insurance(*, rows: pl.DataFrame, source_name: str, actor=None, reason: str = "") -> int:
    """Flag every resident, in whatever county, whose ID number is on the 职工医保 list."""
    found = _residents_by_number(rows["id_number"].to_list())
    if found.height == 0:
        return 0
    found = found.join(rows.select("id_number", "employer", "insured_from"), on="id_number", how="left")
    employer = pl.when(pl.col("employer") != "").then(pl.format("（{}）", pl.col("employer"))).otherwise(pl.lit(""))
    since = pl.when(pl.col("insured_from").is_not_null()).then(
        pl.format("，参保日期 {}", pl.col("insured_from").dt.strftime("%Y-%m-%d"))
    ).otherwise(pl.lit(""))
    found = found.with_columns(pl.format("在职工医保名单中{}{}（{}）", employer, since, pl.lit(source_name)).alias("detail"))
    return flags_create(flags=found, kind=Flag.Kind.EMPLOYEE_INSURANCE, actor=actor, reason=reason)


def flags_other_county(*, county_code: str, numbers=None, actor=None, reason: str = "") -> int:
    """Flag residents registered in this county and in another one, on both sides.

    Looks up the other counties by id_number (an index lookup per batch), never joins counties.
    """
    from yibao.regions.models import Region

    R = Resident._meta.db_table
    if not Resident.objects.exclude(county_code=county_code).exists():
        return 0
    if numbers is None:
        numbers = list(Resident.objects.filter(county_code=county_code).values_list("id_number", flat=True))
    elif isinstance(numbers, pl.Series):
        numbers = numbers.to_list()
    elsewhere = _residents_by_number(numbers, "county_code <> %s AND", [county_code])
    if elsewhere.height == 0:
        return 0
    ours = fetch_by_keys(
        f"SELECT id, county_code, id_number FROM {R} WHERE county_code = %s AND id_number IN ({{keys}})",
        elsewhere["id_number"].unique().to_list(),
        {"resident_id": pl.Int64, "county_code": pl.String, "id_number": pl.String},
        [county_code],
    )
    names = dict(Region.objects.filter(level=6).values_list("code", "name"))

    def where(code):
        return f"{names.get(code, '')}（{code}）" if names.get(code) else code

    other_names = elsewhere.group_by("id_number").agg(pl.col("county_code").unique().sort().alias("counties"))
    ours = ours.join(other_names, on="id_number").with_columns(
        pl.col("counties").map_elements(lambda cs: "同一身份证号码已在" + "、".join(where(c) for c in cs) + "登记",
                                        return_dtype=pl.String).alias("detail")
    )
    theirs = elsewhere.with_columns(pl.lit(f"同一身份证号码已在{where(county_code)}登记").alias("detail"))
    columns = ["resident_id", "county_code", "detail"]
    return flags_create(
        flags=pl.concat([ours.select(columns), theirs.select(columns)]), kind=Flag.Kind.OTHER_COUNTY,
        actor=actor, reason=reason,
    )


# ---- enrollments (历年参保名单) --------------------------------------------------------------------

ESTAGE = "imports_stage_enrollment"
ESTAGE_COLUMNS = {
    "row_no": "integer",
    "resident_id": "bigint",
    "benefit_year": "integer",
    "campaign_id": "bigint",
    "status": "varchar(12)",
    "status_reason": "varchar(200)",
    "benefit_start": "date",
    "benefit_end": "date",
    "row_hash": "varchar(32)",
    "touched": "smallint",
}
ENROLLMENT_COMPARED = ("status", "benefit_start", "benefit_end", "status_reason")


def enrollments_write(
    *, rows: pl.DataFrame, campaigns: dict[int, int], county_code: str, actor=None, reason: str = "",
    progress: Progress | None = None,
) -> dict:
    """Past years' enrollments under their history campaigns: insert new (resident, year) pairs,
    update rows whose roster line changed since the last import (row_hash, one event each), and
    keep one cross-county claim per live (正常参保) enrollment.

    `rows`: _row, resident_id, benefit_year, status, status_reason, benefit_start, benefit_end,
    row_hash. Only rows new or changed in this file touch claims, so a status changed in Yibao
    since (催缴: 参保暂停) stays as it is when the same file comes again.
    """
    from yibao.enrollment.models import Enrollment, EnrollmentClaim

    progress = progress or NullProgress()
    E, C, R = Enrollment._meta.db_table, EnrollmentClaim._meta.db_table, Resident._meta.db_table
    frame = rows.with_columns(
        pl.col("benefit_year").replace_strict(campaigns, return_dtype=pl.Int64).alias("campaign_id"),
        pl.lit(0, dtype=pl.Int8).alias("touched"),
    ).rename({"_row": "row_no"}).select(list(ESTAGE_COLUMNS))
    stage_create(ESTAGE, ESTAGE_COLUMNS)
    progress.step("写入暂存表")
    copy_rows(ESTAGE, frame, progress)
    stage_index(ESTAGE, ["resident_id"])
    now = db_now()
    same = "e.county_code = %s AND e.resident_id = s.resident_id AND e.benefit_year = s.benefit_year"
    counts = {}
    with connection.cursor() as cursor:
        progress.step("比对已有参保记录")
        cursor.execute(
            f"""UPDATE {ESTAGE} SET touched = 1 WHERE NOT EXISTS (
                SELECT 1 FROM {E} e WHERE e.county_code = %s AND e.resident_id = {ESTAGE}.resident_id
                  AND e.benefit_year = {ESTAGE}.benefit_year AND e.import_hash = {ESTAGE}.row_hash)""",
            [county_code],
        )
        old = ", ".join(f"e.{f}" for f in ENROLLMENT_COMPARED)
        new = ", ".join(f"s.{f}" for f in ENROLLMENT_COMPARED)
        cursor.execute(
            f"SELECT e.id, {old}, {new} FROM {ESTAGE} s JOIN {E} e ON {same} WHERE s.touched = 1",
            [county_code],
        )
        changed = []
        n = len(ENROLLMENT_COMPARED)
        for row in cursor.fetchall():
            before, after = {}, {}
            for name, b, a in zip(ENROLLMENT_COMPARED, row[1 : n + 1], row[n + 1 :]):
                b, a = (_plain(b) or None), (_plain(a) or None)
                if b != a:
                    before[name], after[name] = b, a
            if before:
                changed.append((row[0], before, after))

        progress.step("新增参保记录")
        provided = ["county_code", "township_code", "village_code", "campaign_id", "benefit_year", "resident_id",
                    "id_number", "kind", "tier", "status", "status_reason", "benefit_start", "benefit_end",
                    "registered_at", "updated_at", "import_hash"]
        defaults = _defaults(Enrollment, provided)
        extra_cols = "".join(f", {c}" for c in defaults)
        extra_vals = "".join(", %s" for _ in defaults)
        cursor.execute(
            f"""INSERT INTO {E} ({', '.join(provided)}{extra_cols})
            SELECT r.county_code, r.township_code, r.village_code, s.campaign_id, s.benefit_year, r.id, r.id_number,
                %s, 1, s.status, s.status_reason, s.benefit_start, s.benefit_end, %s, %s, s.row_hash{extra_vals}
            FROM {ESTAGE} s JOIN {R} r ON r.id = s.resident_id AND r.county_code = %s
            WHERE s.touched = 1 AND NOT EXISTS (SELECT 1 FROM {E} e WHERE {same})
            ORDER BY s.row_no""",
            [Enrollment.Kind.FIRST.value, business_db_now(), now, *defaults.values(), county_code, county_code],
        )
        counts["imported"] = cursor.rowcount

        progress.step("更新有变化的参保记录")
        cursor.execute(
            f"""UPDATE {E} SET status = s.status, status_reason = s.status_reason, benefit_start = s.benefit_start,
                benefit_end = s.benefit_end, import_hash = s.row_hash, updated_at = %s
            FROM {ESTAGE} s
            WHERE {E}.county_code = %s AND {E}.resident_id = s.resident_id AND {E}.benefit_year = s.benefit_year
              AND s.touched = 1 AND {E}.import_hash <> s.row_hash""",
            [now, county_code],
        )

        progress.step("跨县参保占位")
        cursor.execute(
            f"""UPDATE {C} SET released_at = %s WHERE released_at IS NULL AND county_code = %s AND enrollment_id IN (
                SELECT e.id FROM {ESTAGE} s JOIN {E} e ON {same} WHERE s.touched = 1 AND e.status <> %s)""",
            [now, county_code, county_code, Enrollment.Status.PAID.value],
        )
        counts["claims_released"] = cursor.rowcount
        claim_defaults = _defaults(EnrollmentClaim, ["id_number", "benefit_year", "county_code", "enrollment_id",
                                                     "claimed_at", "released_at"])
        extra_cols = "".join(f", {c}" for c in claim_defaults)
        extra_vals = "".join(", %s" for _ in claim_defaults)
        cursor.execute(
            f"""INSERT INTO {C} (id_number, benefit_year, county_code, enrollment_id, claimed_at, released_at{extra_cols})
            SELECT e.id_number, e.benefit_year, e.county_code, e.id, %s, NULL{extra_vals}
            FROM {ESTAGE} s JOIN {E} e ON {same}
            WHERE s.touched = 1 AND e.status = %s AND NOT EXISTS (
                SELECT 1 FROM {C} c WHERE c.id_number = e.id_number AND c.benefit_year = e.benefit_year
                  AND c.released_at IS NULL)""",
            [now, *claim_defaults.values(), county_code, Enrollment.Status.PAID.value],
        )
        counts["claims_created"] = cursor.rowcount
    _record_updates(changed, entity="enrollment", county_code=county_code, reason=reason, actor=actor)
    stage_drop(ESTAGE)
    counts["updated"] = len(changed)
    counts["unchanged"] = rows.height - counts["imported"] - counts["updated"]
    return counts
