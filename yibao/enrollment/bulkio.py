"""Set-based writes of a polars frame: COPY on PostgreSQL, executemany on SQLite.

Used by the assessment run; the caller holds the transaction. Frames are converted to text
columns first, so both databases get what the Django ORM itself would write.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import polars as pl
from django.db import connection

from yibao.core.progress import NullProgress, Progress

BATCH = 50_000


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Decimals and dates as text; booleans as 1/0 on SQLite (as Django stores them)."""
    out = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Decimal) or dtype == pl.Date:
            out.append(col.cast(pl.String))
        elif dtype == pl.Boolean and connection.vendor != "postgresql":
            out.append(col.cast(pl.Int8))
        else:
            out.append(col)
    return frame.select(out)


def _batches(frame: pl.DataFrame, size: int = BATCH) -> Iterator[pl.DataFrame]:
    for offset in range(0, frame.height, size):
        yield frame.slice(offset, size)


def insert_frame(table: str, frame: pl.DataFrame, *, progress: Progress | None = None) -> int:
    """INSERT every row of `frame` (its column names are the table's) in batches."""
    progress = progress or NullProgress()
    if frame.height == 0:
        return 0
    frame = _as_text(frame)
    columns = ", ".join(_q(c) for c in frame.columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for batch in _batches(frame):
                buffer = io.BytesIO()
                batch.write_csv(buffer, include_header=False, quote_style="non_numeric")
                with cursor.cursor.copy(f"COPY {_q(table)} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                    copy.write(buffer.getvalue())
                progress.advance(batch.height)
        else:
            marks = ", ".join(["?"] * frame.width)
            raw = cursor.cursor  # the sqlite3 cursor: no %s → ? rewriting per row
            for batch in _batches(frame):
                raw.executemany(f"INSERT INTO {_q(table)} ({columns}) VALUES ({marks})", batch.rows())
                progress.advance(batch.height)
    return frame.height


def update_frame(table: str, frame: pl.DataFrame, *, key: str = "id", progress: Progress | None = None) -> int:
    """UPDATE the rows of `table` whose `key` is in `frame`, setting the frame's other columns
    (through a temporary table and one UPDATE … FROM)."""
    if frame.height == 0:
        return 0
    temp = f"tmp_{table}_update"
    columns = [c for c in frame.columns if c != key]
    select = ", ".join(_q(c) for c in frame.columns)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_q(temp)}")
        cursor.execute(f"CREATE TEMPORARY TABLE {_q(temp)} AS SELECT {select} FROM {_q(table)} WHERE 1 = 0")
    insert_frame(temp, frame, progress=progress)
    assignments = ", ".join(f"{_q(c)} = {_q(temp)}.{_q(c)}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_q(table)} SET {assignments} FROM {_q(temp)} WHERE {_q(table)}.{_q(key)} = {_q(temp)}.{_q(key)}"
        )
        cursor.execute(f"DROP TABLE {_q(temp)}")
    return frame.height


def delete_ids(table: str, ids: list[int], *, key: str = "id") -> int:
    """DELETE the rows whose `key` is in `ids`, in chunks."""
    done = 0
    with connection.cursor() as cursor:
        for offset in range(0, len(ids), 900):
            chunk = ids[offset:offset + 900]
            cursor.execute(f"DELETE FROM {_q(table)} WHERE {_q(key)} IN ({', '.join(['%s'] * len(chunk))})", chunk)
            done += len(chunk)
    return done
