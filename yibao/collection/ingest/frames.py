"""Database helpers of the bulk paths: COPY or multi-row inserts, staging tables, frames from SQL."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from decimal import Decimal

import polars as pl
from django.db import connection

from yibao.core.progress import Progress

BATCH = 20_000
STAGE = "collection_stage_payment"
STAGE_RES = "collection_stage_resident"


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
