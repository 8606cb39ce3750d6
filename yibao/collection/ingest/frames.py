"""Database helpers of the ingest: frames from SQL and the page cache; COPY and staging tables come from
yibao.core.staging, shared with the imports."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from decimal import Decimal

import polars as pl
from django.db import connection

from yibao.core import staging
from yibao.core.staging import copy_rows, is_postgres, stage_create, stage_drop  # noqa: F401  (the bulk helpers, shared)

STAGE = "collection_stage_payment"
STAGE_RES = "collection_stage_resident"


# ---------------------------------------------------------------- database helpers


def _pg() -> bool:
    return is_postgres()


def stage_index(name: str, columns) -> None:
    """Index a filled staging table; on PostgreSQL analyze it too (joins are planned blind otherwise)."""
    staging.stage_index(name, columns, analyze=is_postgres())


FETCH_CHUNK = 100_000  # rows turned from Python tuples into columns at a time


def fetch(sql: str, params, schema: dict) -> pl.DataFrame:
    """A query's rows as a DataFrame of `schema`, a chunk of rows at a time: a million rows held as Python
    tuples cost hundreds of MB, their columns a few dozen."""
    parts = []
    with connection.chunked_cursor() as cursor:  # server-side on PostgreSQL: the rows come as they are read
        cursor.execute(sql, list(params))
        while True:
            rows = cursor.fetchmany(FETCH_CHUNK)
            if not rows:
                break
            parts.append(_frame(rows, schema))
            del rows
    if not parts:
        return _frame([], schema)
    return pl.concat(parts, how="vertical", rechunk=True) if len(parts) > 1 else parts[0]


def _frame(rows: list, schema: dict) -> pl.DataFrame:
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
