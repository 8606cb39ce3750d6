"""Benchmark: assessing (核定) a whole county, beside the raw insert speed of the same table.

    make bench BENCH_ARGS="--only assess"                 # 1,000,000 residents, SQLite and PostgreSQL
    python -m bench.assess --rows 100000 --databases sqlite

Each database runs in a fresh process against a fresh database (a new SQLite file; on PostgreSQL
yibao_bench_assess, dropped and created). The figures:
  baseline   a raw bulk insert of N assessment rows into the same table (executemany of ready
             tuples on SQLite, COPY of a ready CSV buffer on PostgreSQL), timed through COMMIT
             like the assessment's own write, then deleted (untimed);
  full       the first assessment of the county: read the registry, quote, write N rows;
  again      a second run with nothing changed (only digests compared, no writes);
  incremental a run after 1% of the residents got a new identity.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import TINY, benchmark

ROOT = Path(__file__).resolve().parents[1]
COUNTY = "340321"
POLICY = "anhui-huaiyuan-2025"


# ---------------------------------------------------------------- inside the worker process


def _generate(n: int, seed: int = 7) -> None:
    """A county of n active residents: 20 townships × 20 villages, ~8% with an identity, ~2% with a
    group fact, 90% enrolled last year, 0.5% flagged."""
    import datetime as dt
    import random

    import polars as pl
    from django.utils import timezone

    from yibao.enrollment import bulkio
    from yibao.enrollment.models import Campaign, Enrollment
    from yibao.regions.models import Region
    from yibao.registry.models import Flag, GroupFact, Identity, Resident

    rng = random.Random(seed)
    Region.objects.get_or_create(code=COUNTY, defaults={"name": "怀远县", "level": 6, "county_code": COUNTY})
    townships = [f"{COUNTY}{100 + t:03d}" for t in range(20)]
    villages = [f"{t}{v + 1:03d}" for t in townships for v in range(20)]
    Region.objects.bulk_create(
        [Region(code=t, name=f"第{i + 1}镇", level=9, county_code=COUNTY, parent_id=COUNTY) for i, t in enumerate(townships)]
        + [Region(code=v, name=f"第{i + 1}村", level=12, county_code=COUNTY, parent_id=v[:9]) for i, v in enumerate(villages)],
        ignore_conflicts=True,
    )
    now = timezone.now().isoformat()
    first = dt.date(1935, 1, 1)
    village = rng.choices(villages, k=n)
    residents = pl.DataFrame({
        "id": pl.int_range(1, n + 1, eager=True),
        "county_code": COUNTY,
        "township_code": [v[:9] for v in village],
        "village_code": village,
        "id_number": [f"B{i:017d}" for i in range(1, n + 1)],
        "name": "居民",
        "sex": rng.choices(["M", "F"], k=n),
        "birth_date": [first + dt.timedelta(days=d) for d in rng.choices(range(365 * 90), k=n)],
        "hukou_region_code": village,
        "residence_region_code": village,
        "phone": "",
        "relation_to_head": rng.choices(["户主", "配偶", "子", "女", "孙子", "父亲"], k=n),
        "status": "active",
        "row_hash": "",
        "created_at": now,
        "updated_at": now,
    })
    bulkio.insert_frame(Resident._meta.db_table, residents)

    codes = ["tekun", "dibao", "monitored", "entitled_group", "only_daughter_family", "only_son_family",
             "dibao_edge", "poverty_exit_stable"]
    holders = rng.sample(range(1, n + 1), n * 8 // 100)
    identities = pl.DataFrame({
        "county_code": COUNTY,
        "resident_id": holders,
        "code": rng.choices(codes, k=len(holders)),
        "department": "民政",
        "valid_from": None,
        "valid_to": None,
        "source_name": "基准",
        "row_hash": "",
        "created_at": now,
        "updated_at": now,
    }, schema_overrides={"valid_from": pl.Date, "valid_to": pl.Date})
    bulkio.insert_frame(Identity._meta.db_table, identities)

    movers = rng.sample(range(1, n + 1), n * 2 // 100)
    facts = pl.DataFrame({
        "county_code": COUNTY, "resident_id": movers, "group": "migrant_worker", "event_date": None, "note": "",
        "created_at": now,
    }, schema_overrides={"event_date": pl.Date})
    bulkio.insert_frame(GroupFact._meta.db_table, facts)

    last_year = Campaign.objects.create(
        county_code=COUNTY, benefit_year=2024, policy_id="anhui-huaiyuan-2024", policy_version="bench",
        collection_start=dt.date(2023, 9, 1), collection_end=dt.date(2023, 12, 31), status="closed",
    )
    enrolled = sorted(rng.sample(range(1, n + 1), n * 9 // 10))
    enrollments = residents.filter(pl.col("id").is_in(enrolled)).select(
        "county_code", "township_code", "village_code",
        pl.lit(last_year.pk).alias("campaign_id"), pl.lit(2024).alias("benefit_year"),
        pl.col("id").alias("resident_id"), "id_number", pl.lit("renewal").alias("kind"), pl.lit(1).alias("tier"),
        pl.lit("paid").alias("status"), pl.lit("缴费入账").alias("status_reason"),
        pl.lit(dt.date(2024, 1, 1)).alias("benefit_start"), pl.lit(dt.date(2024, 12, 31)).alias("benefit_end"),
        pl.lit(now).alias("registered_at"), pl.lit(now).alias("updated_at"),
    )
    bulkio.insert_frame(Enrollment._meta.db_table, enrollments)

    flagged = rng.sample(range(1, n + 1), n // 200)
    flags = pl.DataFrame({
        "county_code": COUNTY, "resident_id": flagged, "kind": "employee_insurance", "detail": "在职工医保名单中",
        "created_at": now, "resolved_at": None, "resolved_by_name": "", "resolution": "", "outcome": "",
    }, schema_overrides={"resolved_at": pl.String})
    bulkio.insert_frame(Flag._meta.db_table, flags)


def _baseline(n: int) -> float:
    """Raw insert of n assessment rows into the assessment table, rolled back.

    The rows are the county's real residents and villages (so the indexes see the same keys as
    the assessment), prepared in memory before the clock starts: ready tuples for SQLite's
    executemany, a ready CSV buffer for PostgreSQL's COPY.
    """
    import io
    import random

    from django.db import connection, transaction

    from yibao.enrollment.models import Assessment, Campaign
    from yibao.enrollment.services import ASSESSMENT_COLUMNS
    from yibao.registry.models import Resident

    campaign = Campaign.objects.create(
        county_code="999999", benefit_year=2025, policy_id=POLICY, policy_version="base",
        collection_start="2024-09-01", collection_end="2024-12-31",
    )
    table = Assessment._meta.db_table
    cols = ", ".join(connection.ops.quote_name(c) for c in ASSESSMENT_COLUMNS)
    stamp = "2024-10-08 00:00:00"
    rng = random.Random(3)
    people = Resident.objects.filter(county_code=COUNTY).order_by("id").values_list("id", "township_code", "village_code")
    rows = [
        (COUNTY, township, village, campaign.pk, 2025, pk, "2024-10-08", 1, "400.00", "0.00", "400.00", "0.00", "",
         "main_window", "base", f"1{rng.getrandbits(64)}", stamp, "", 1, "2025-01-01", "2025-12-31")
        for pk, township, village in people.iterator(chunk_size=50_000)
    ][:n]
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        for row in rows:
            buffer.write(",".join(str(v) if v != "" else '""' for v in row) + "\n")
        payload = buffer.getvalue().encode()
    else:
        payload = rows
    _settle()
    began = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
                    for offset in range(0, len(payload), 1 << 20):
                        copy.write(payload[offset:offset + (1 << 20)])
            else:
                marks = ", ".join(["?"] * len(ASSESSMENT_COLUMNS))
                cursor.cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", payload)
    seconds = time.perf_counter() - began  # through COMMIT, as the assessment's own write
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE campaign_id = %s", [campaign.pk])
    _settle()
    return seconds


def _settle() -> None:
    """Untimed housekeeping between measurements: empty the SQLite WAL; vacuum on PostgreSQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def worker(n: int) -> dict:
    import datetime as dt

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    django.setup()
    from django.db import connection, transaction

    from yibao.enrollment.services import assessment_run, campaign_open
    from yibao.registry.models import Identity

    began = time.monotonic()
    with transaction.atomic():
        _generate(n)
    generated = time.monotonic() - began
    baseline = _baseline(n)
    campaign = campaign_open(county_code=COUNTY, policy_id=POLICY, actor="基准")
    on = dt.date(2024, 10, 8)
    from bench.task import StepClock

    clock = StepClock()
    began = time.perf_counter()
    full = assessment_run(campaign=campaign, actor="基准", on=on, progress=clock)
    end = time.perf_counter()
    full_seconds = end - began
    _settle()
    began = time.monotonic()
    again = assessment_run(campaign=campaign, actor="基准", on=on)
    again_seconds = time.monotonic() - began
    import random

    ids = random.Random(11).sample(range(1, n + 1), max(1, n // 100))
    Identity.objects.filter(resident_id__in=[int(i) for i in ids]).delete()
    Identity.objects.bulk_create(
        [Identity(county_code=COUNTY, resident_id=int(i), code="dibao", department="民政") for i in ids], batch_size=5000
    )
    _settle()
    began = time.monotonic()
    incremental = assessment_run(campaign=campaign, actor="基准", on=on)
    incremental_seconds = time.monotonic() - began
    return {
        "backend": connection.vendor,
        "residents": n,
        "generate_seconds": round(generated, 2),
        "baseline_raw_insert_seconds": round(baseline, 2),
        "assess_full_seconds": round(full_seconds, 2),
        "ratio_full_to_baseline": round(full_seconds / baseline, 2) if baseline else None,
        "assess_unchanged_seconds": round(again_seconds, 2),
        "assess_incremental_seconds": round(incremental_seconds, 2),
        "incremental_rewritten": incremental["assessed"],
        "unchanged_rewritten": again["assessed"],
        "full_counts": {k: str(v) for k, v in full.items()},
        "phases": clock.phases(end),
    }


# ---------------------------------------------------------------- the driver


def _measure(engine: str, n: int, workdir: Path) -> dict:
    import resource

    from bench.imports import _env, database_version, migrate

    url = _fresh_database(engine, workdir)
    print(f"  准备 {engine} 数据库并迁移……", file=sys.stderr, flush=True)
    migrate(url, workdir)
    print(f"  生成 {n:,} 人的县并核定……", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, "-m", "bench.assess", "--worker", str(n)], cwd=ROOT,
                          env=_env(url, workdir), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"核定基准失败（{engine}）：\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["version"] = database_version(engine, url)
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    if engine == "postgresql":
        _drop_pg()
    return figures


PG_NAME = "yibao_bench_assess"  # its own scratch database: the import benchmark may run beside it


def _drop_pg() -> None:
    import psycopg

    from bench.imports import PG_ADMIN

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def _fresh_database(engine: str, workdir: Path) -> str:
    if engine == "sqlite":
        path = workdir / "assess.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    from bench.imports import PG_ADMIN

    _drop_pg()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {PG_NAME}")
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_NAME}"


def report(f: dict) -> str:
    n, raw, full = f["residents"], f["baseline_raw_insert_seconds"] or TINY, f["assess_full_seconds"] or TINY
    method = "COPY" if f["backend"] == "postgresql" else "executemany，单事务"
    counts = f["full_counts"]
    return "\n".join([
        f"全县核定 {n:,} 人 · {f.get('version', f['backend'])}",
        f"  (a) 原始批量插入 {n:,} 行核定记录（{method}，同一张表）  {raw:>7.1f} 秒",
        f"  (b) Yibao 全量核定（读取户籍与身份+测算+写入）          {full:>7.1f} 秒   = {full / raw:.2f} × 原始插入",
        f"      无变化重跑（只比对摘要，不写入）                      {f['assess_unchanged_seconds']:>7.1f} 秒（改写 {f.get('unchanged_rewritten', 0):,} 行）",
        f"      1% 参保人身份变化后增量核定                           {f['assess_incremental_seconds']:>7.1f} 秒"
        f"（改写 {f['incremental_rewritten']:,} 行）",
        f"  核定结果：不予受理 {int(counts['not_accepted']):,}，应缴合计 {counts['payable_total']} 元，"
        f"先缴后补合计 {counts['refund_later_total']} 元；进程峰值内存 {f.get('peak_rss_mb', 0):,} MB",
        "  全量核定各阶段（秒）：" + "，".join(f"{name} {sec}" for name, sec in f.get("phases", [])),
    ])


def markdown_row(f: dict) -> str:
    raw, full = f["baseline_raw_insert_seconds"] or TINY, f["assess_full_seconds"] or TINY
    return (f"| {f.get('version', f['backend'])} | {f['residents']:,} | {raw:.1f} s | {full:.1f} s | **{full / raw:.2f}×** "
            f"| {f['assess_unchanged_seconds']:.1f} s | {f['assess_incremental_seconds']:.1f} s | {f.get('peak_rss_mb', 0):,} MB |")


@benchmark("assess", "全县核定：Yibao 核定 vs 原始批量插入")
def run(options) -> None:
    from bench.imports import postgres_answers

    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    engines = [e for e in ("sqlite", "postgresql") if e in options.databases]
    if "postgresql" in engines and not postgres_answers():
        print("  PostgreSQL 未在 127.0.0.1:5432 应答，只测 SQLite。", file=sys.stderr)
        engines.remove("postgresql")
    results = []
    for engine in engines:
        figures = _measure(engine, options.rows, workdir)
        results.append(figures)
        print(report(figures), flush=True)
        print(flush=True)
    print("| 数据库 | 参保人 | (a) 原始批量插入 | (b) 全量核定 | (b)/(a) | 无变化重跑 | 1% 增量 | 峰值内存 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for figures in results:
        print(markdown_row(figures))
    (workdir / "assess.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.assess", description="全县核定基准")
    parser.add_argument("--rows", "--residents", dest="rows", type=int, default=1_000_000)
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite、postgresql，逗号分隔")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker), ensure_ascii=False, default=str))
        return
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="yibao-bench-")
    run(args)


if __name__ == "__main__":
    main()
