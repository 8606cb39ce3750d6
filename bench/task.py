"""One measurement in a fresh process: `python -m bench.task NAME --csv FILE [--rows N]`.

`python -m bench.task wrap NAME …` runs the same in a child process and adds the child's peak
memory (resource.getrusage(RUSAGE_CHILDREN).ru_maxrss). Each prints one JSON object on stdout.
The database comes from DATABASE_URL, set by bench.imports to a fresh bench database.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    import django

    django.setup()


class StepClock:
    """A Progress that remembers when each step began (for the phase breakdown)."""

    def __init__(self):
        self.steps: list[tuple[str, float]] = []

    def start(self, total, message=""):
        if message:
            self.step(message)

    def advance(self, n=1):
        pass

    def step(self, message):
        if not self.steps or self.steps[-1][0] != message:
            self.steps.append((message, time.perf_counter()))

    def phases(self, end: float) -> list[tuple[str, float]]:
        marks = self.steps + [("", end)]
        return [(name, round(marks[i + 1][1] - t, 2)) for i, (name, t) in enumerate(marks[:-1])]


def _status_mb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


class StepMemory:
    """The peak resident memory of one step of this process, not of all it did before.

    On Linux the kernel's high-water mark (VmHWM) is reset at the start (`clear_refs` 5) and read
    at the end; elsewhere it falls back to the process's lifetime peak (ru_maxrss).
    """

    def __enter__(self):
        self.start_mb = _status_mb("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            self.exact = True
        except OSError:
            self.exact = False
        return self

    def __exit__(self, *exc):
        peak = _status_mb("VmHWM") if self.exact else None
        self.peak_mb = peak if peak is not None else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return False


def clear() -> None:
    """Empty the registry tables (untimed) so every measurement starts from the same state."""
    from django.db import connection, transaction

    from yibao.core.models import Event, Job
    from yibao.registry.models import Flag, Household, Identity, Resident

    tables = [m._meta.db_table for m in (Flag, Identity, Resident, Household, Event, Job)]
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def task_regions(args) -> dict:
    from yibao.demo.county import regions
    from yibao.imports.services import regions_import

    path = os.path.join(os.path.dirname(args.csv), "regions.csv")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("区划代码,名称\n" + "".join(f"{c},{n}\n" for c, n in regions()))
    return regions_import(path=path, actor="bench")


def _raw_frame(path: str, rows: int | None):
    """The register as the rows of registry_resident, built before the clock starts."""
    import polars as pl

    from yibao.imports.idcheck import id_columns

    df = pl.read_csv(path, infer_schema=False, n_rows=rows)
    df = id_columns(df.rename({"公民身份号码": "id_number"}), "id_number", "idn_")
    village = pl.col("村（社区）")
    return df.select(
        village.str.slice(0, 6).alias("county_code"),
        village.str.slice(0, 9).alias("township_code"),
        village.alias("village_code"),
        pl.col("idn_number").alias("id_number"),
        pl.col("姓名").alias("name"),
        pl.col("idn_sex").alias("sex"),
        pl.col("idn_birth").dt.strftime("%Y-%m-%d").alias("birth_date"),
        village.alias("hukou_region_code"),
        pl.lit("").alias("residence_region_code"),
        pl.col("联系电话").alias("phone"),
        pl.col("与户主关系").alias("relation_to_head"),
        pl.lit("active").alias("status"),
        pl.lit("").alias("row_hash"),
    )


def task_raw(args) -> dict:
    """The database's best: executemany in one transaction (SQLite) or COPY (PostgreSQL)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from yibao.registry.models import Resident

    clear()
    df = _raw_frame(args.csv, args.rows)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    import polars as pl

    df = df.with_columns(pl.lit(str(now)).alias("created_at"), pl.lit(str(now)).alias("updated_at"))
    table = Resident._meta.db_table
    columns = ", ".join(df.columns)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        if connection.vendor == "postgresql":
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
                for offset in range(0, df.height, 100_000):
                    copy.write(df.slice(offset, 100_000).write_csv(include_header=False))
        else:
            marks = ", ".join("?" * df.width)
            for offset in range(0, df.height, 50_000):
                raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", df.slice(offset, 50_000).iter_rows())
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "rows": Resident.objects.count()}


def task_import(args, fresh: bool = True) -> dict:
    from yibao.imports.services import residents_import

    if fresh:
        clear()
    clock = StepClock()
    started = time.perf_counter()
    result = residents_import(path=args.csv, county_code="340321", actor="bench", progress=clock)
    end = time.perf_counter()
    return {"seconds": round(end - started, 2), "result": result, "phases": clock.phases(end)}


def task_reimport(args) -> dict:
    return task_import(args, fresh=False)


def task_naive(args) -> dict:
    """A per-row ORM import of the first --rows rows, as a straightforward view would do it."""
    import csv

    from django.db import transaction

    from yibao.core.idnumber import check_id_number
    from yibao.regions.models import Region
    from yibao.registry.models import Household, Resident

    clear()
    with open(args.csv, encoding="utf-8") as fh:
        rows = [row for _i, row in zip(range(args.rows), csv.DictReader(fh))]
    started = time.perf_counter()
    with transaction.atomic():
        for row in rows:
            checked = check_id_number(row["公民身份号码"])
            village = Region.objects.get(code=row["村（社区）"], level=12)
            household, _ = Household.objects.get_or_create(
                county_code=village.county_code, number=row["户号"],
                defaults={"township_code": village.code[:9], "village_code": village.code},
            )
            resident, _ = Resident.objects.update_or_create(
                county_code=village.county_code, id_number=checked.number,
                defaults={
                    "township_code": village.code[:9], "village_code": village.code, "name": row["姓名"],
                    "sex": checked.sex, "birth_date": checked.birth_date, "hukou_region_code": village.code,
                    "phone": row["联系电话"], "household": household, "relation_to_head": row["与户主关系"],
                },
            )
            if row["与户主关系"] == "户主":
                household.head = resident
                household.save(update_fields=["head"])
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "rows": len(rows)}


TASKS = {"regions": task_regions, "raw": task_raw, "import": task_import, "reimport": task_reimport, "naive": task_naive}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("task", choices=[*TASKS, "wrap"])
    parser.add_argument("inner", nargs="?")
    parser.add_argument("--csv", required=True)
    parser.add_argument("--rows", type=int, default=None)
    args = parser.parse_args(argv)
    if args.task == "wrap":
        command = [sys.executable, "-m", "bench.task", args.inner, "--csv", args.csv]
        if args.rows:
            command += ["--rows", str(args.rows)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            sys.exit(done.returncode)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
        print(json.dumps(result, ensure_ascii=False))
        return
    _setup()
    print(json.dumps(TASKS[args.task](args), ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
