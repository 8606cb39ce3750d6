"""The bulk paths' database helpers, shared by imports and the channel-file ingest: frames appended to
a table (COPY on PostgreSQL, executemany on SQLite) and temporary staging tables."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl
from django.db import connection

from yibao.core.progress import Progress

BATCH = 20_000  # rows per executemany on SQLite
COPY_BATCH = 100_000  # rows per COPY on PostgreSQL


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def sql_values(df: pl.DataFrame) -> pl.DataFrame:
    """Dates as ISO text, datetimes as UTC text, decimals as text, booleans as 0/1: what both
    executemany on SQLite and COPY on PostgreSQL take."""
    casts = []
    for name, dtype in df.schema.items():
        if dtype == pl.Date:
            casts.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            text = pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S%.6f")
            casts.append((text + "+00:00") if is_postgres() else text)
        elif isinstance(dtype, pl.Decimal):
            casts.append(pl.col(name).cast(pl.String))
        elif dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Int8))
    return df.with_columns(casts) if casts else df


def copy_rows(table: str, df: pl.DataFrame, progress: Progress | None = None) -> int:
    """Append a DataFrame to a table whose columns it names. Converted to text a batch at a time, not
    the whole frame at once."""
    if df.height == 0:
        return 0
    columns = ", ".join(f'"{c}"' for c in df.columns)
    batch = COPY_BATCH if is_postgres() else BATCH
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for offset in range(0, df.height, batch):
            chunk = sql_values(df.slice(offset, batch))
            if is_postgres():
                with raw.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(chunk.write_csv(include_header=False))
            else:
                marks = ", ".join("?" * df.width)
                raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", chunk.iter_rows())
            if progress is not None:
                progress.advance(chunk.height)
    return df.height


def sqlite_last_id(cursor, table: str) -> int:
    """The largest id a SQLite AUTOINCREMENT table has given (a deleted row's id is not given again)."""
    cursor.execute(
        f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0), "
        f"COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))",
        [table],
    )
    return cursor.fetchone()[0]


def ids_reserve(table: str, n: int) -> pl.Series:
    """`n` new primary keys of `table`, taken now, for rows copied in with their ids (no lookup of the
    ids afterwards). PostgreSQL draws them from the table's sequence; on SQLite the caller holds the
    write lock (atomic() begins IMMEDIATE): the ids after the largest ever given are taken by moving
    the table's AUTOINCREMENT counter past them."""
    if n <= 0:
        return pl.Series("id", [], dtype=pl.Int64)
    with connection.cursor() as cursor:
        if is_postgres():
            # one row back: the range when no one else drew meanwhile (the usual case), else the ids themselves
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]  # named once: asked per row, the lookup costs more than nextval
            cursor.execute(
                "SELECT MIN(v), MAX(v), CASE WHEN MAX(v) - MIN(v) + 1 = COUNT(*) THEN NULL ELSE ARRAY_AGG(v) END "
                "FROM (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) drawn",
                [sequence, n],
            )
            low, high, scattered = cursor.fetchone()
            if scattered is not None:
                return pl.Series("id", sorted(scattered), dtype=pl.Int64)
            return pl.int_range(low, high + 1, dtype=pl.Int64, eager=True).alias("id")
        if not connection.in_atomic_block:
            raise RuntimeError("ids_reserve on SQLite needs the write transaction (transaction.atomic)")
        first = sqlite_last_id(cursor, table) + 1
        # taken, as AUTOINCREMENT takes them: later inserts start after these
        cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [first + n - 1, table])
        if cursor.rowcount == 0:
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, first + n - 1])
    return pl.int_range(first, first + n, dtype=pl.Int64, eager=True).alias("id")


def stage_create(name: str, columns: dict[str, str], indexes: Iterable[str] = ()) -> None:
    """A temporary table that disappears with the connection (and, on PostgreSQL, at commit)."""
    cols = ", ".join(f"{c} {t}" for c, t in columns.items())
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
            cursor.execute(f"CREATE TEMP TABLE {name} ({cols}) ON COMMIT DROP")
        else:
            cursor.execute(f"DROP TABLE IF EXISTS temp.{name}")
            cursor.execute(f"CREATE TEMP TABLE {name} ({cols})")
        for column in indexes:
            cursor.execute(f"CREATE INDEX {name}_{column} ON {name} ({column})")


def stage_index(name: str, columns: Iterable[str], *, analyze: bool = True) -> None:
    """Index a filled staging table (cheaper than keeping the index during the insert) and give the
    planner its statistics: PostgreSQL keeps none for temporary tables otherwise."""
    with connection.cursor() as cursor:
        for column in columns:
            cursor.execute(f"CREATE INDEX {name}_{column} ON {name} ({column})")
        if analyze:
            cursor.execute(f"ANALYZE {name}")


def stage_drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {'pg_temp' if is_postgres() else 'temp'}.{name}")
