"""Benchmark: assessing (核定) a whole county, beside the raw insert speed of the same table.

    python -m bench.assess --residents 1000000            # SQLite, and PostgreSQL when it answers
    python -m bench.assess --residents 100000 --backend sqlite

Each backend runs in its own process against a scratch database (a temporary SQLite file; the
PostgreSQL database `yibao_bench_assess`, created and dropped). The figures:
  baseline   a raw bulk insert of N assessment rows into the same table (executemany of ready
             tuples on SQLite, COPY of a ready CSV buffer on PostgreSQL), rolled back;
  full       the first assessment of the county: read the registry, quote, write N rows;
  again      a second run with nothing changed (only digests compared, no writes);
  incremental a run after 1% of the residents got a new identity.
`run(residents=..., backends=...)` returns the figures for a benchmark runner.
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

ROOT = Path(__file__).resolve().parents[1]
COUNTY = "340321"
POLICY = "anhui-huaiyuan-2025"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/yibao_bench_assess")


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
    began = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
                    for offset in range(0, len(payload), 1 << 20):
                        copy.write(payload[offset:offset + (1 << 20)])
            else:
                marks = ", ".join(["?"] * len(ASSESSMENT_COLUMNS))
                cursor.cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", payload)
        seconds = time.monotonic() - began
        transaction.set_rollback(True)
    return seconds


def worker(n: int) -> dict:
    import datetime as dt

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from yibao.enrollment.services import assessment_run, campaign_open
    from yibao.registry.models import Identity

    call_command("migrate", verbosity=0, interactive=False)
    began = time.monotonic()
    with transaction.atomic():
        _generate(n)
    generated = time.monotonic() - began
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    baseline = _baseline(n)
    campaign = campaign_open(county_code=COUNTY, policy_id=POLICY, actor="基准")
    on = dt.date(2024, 10, 8)
    began = time.monotonic()
    full = assessment_run(campaign=campaign, actor="基准", on=on)
    full_seconds = time.monotonic() - began
    began = time.monotonic()
    again = assessment_run(campaign=campaign, actor="基准", on=on)
    again_seconds = time.monotonic() - began
    import random

    ids = random.Random(11).sample(range(1, n + 1), max(1, n // 100))
    Identity.objects.filter(resident_id__in=[int(i) for i in ids]).delete()
    Identity.objects.bulk_create(
        [Identity(county_code=COUNTY, resident_id=int(i), code="dibao", department="民政") for i in ids], batch_size=5000
    )
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
        "full_counts": {k: str(v) for k, v in full.items()},
    }


# ---------------------------------------------------------------- the driver


def _pg_admin(sql: str) -> bool:
    try:
        import psycopg

        base = PG_URL.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql)
        return True
    except Exception as exc:  # PostgreSQL not answering: skip it
        print(f"PostgreSQL 不可用，跳过：{exc}", file=sys.stderr)
        return False


def _run_backend(backend: str, n: int) -> dict | None:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="yibao-bench-") as scratch:
        env["YIBAO_VAR_DIR"] = scratch
        if backend == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
        else:
            name = PG_URL.rsplit("/", 1)[1]
            if not _pg_admin(f'DROP DATABASE IF EXISTS "{name}"') or not _pg_admin(f'CREATE DATABASE "{name}"'):
                return None
            env["DATABASE_URL"] = PG_URL
        try:
            out = subprocess.run(
                [sys.executable, "-m", "bench.assess", "--worker", str(n)], cwd=ROOT, env=env,
                capture_output=True, text=True, check=False,
            )
        finally:
            if backend == "postgresql":
                _pg_admin(f'DROP DATABASE IF EXISTS "{PG_URL.rsplit("/", 1)[1]}"')
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        raise SystemExit(f"{backend} 基准失败")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(residents: int = 1_000_000, backends=("sqlite", "postgresql")) -> list[dict]:
    results = []
    for backend in backends:
        figures = _run_backend(backend, residents)
        if figures is not None:
            results.append(figures)
    return results


def report(results: list[dict]) -> str:
    lines = []
    for r in results:
        lines.append(
            f"核定 {r['residents']:,} 人（{r['backend']}）：全量 {r['assess_full_seconds']} 秒，"
            f"原始插入基线 {r['baseline_raw_insert_seconds']} 秒，倍数 {r['ratio_full_to_baseline']}；"
            f"无变化重跑 {r['assess_unchanged_seconds']} 秒；1% 变化增量 {r['assess_incremental_seconds']} 秒"
            f"（改写 {r['incremental_rewritten']} 行）"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="核定基准")
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker), ensure_ascii=False))
        return
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = run(args.residents, backends)
    print(json.dumps(results, ensure_ascii=False) if args.json else report(results))


if __name__ == "__main__":
    main()
