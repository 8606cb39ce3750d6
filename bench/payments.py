"""Benchmark: ingesting a channel payment file (渠道缴费明细), beside the raw insert of the same rows.

    make bench BENCH_ARGS="--only payments"                 # 1,000,000 lines, SQLite and PostgreSQL
    python -m bench.payments --rows 100000 --databases sqlite

Each database runs in a fresh process against a fresh database (bench.imports.fresh_database). A
county of N residents is generated (8% with an identity, 2% migrant workers, 90% enrolled last
year, 0.5% flagged), and a payment file of about N lines: most pay what the policy gives on their
day, some pay late, some too little or too much, some twice, some are unknown, a few lines are
broken. The figures:
  ingest    `payments_ingest` end to end: read and check the file, then a slice of lines at a time
            (settings.YIBAO_INGEST_SLICE_ROWS) look the residents up, quote, classify, write
            payments, enrollments, claims, 先缴后补, explanations, events; then the report;
  baseline  a raw bulk insert of everything the ingest wrote: the same rows (ids included) into the
            same tables of a copy of the database taken just before the ingest (a file copy on
            SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL; untimed), so each table holds what it
            held when the ingest began; COPY of ready CSV buffers on PostgreSQL, executemany of
            ready tuples on SQLite, in one transaction, its commit timed as the ingest's is;
  repeat    the same file again (every payment id is already stored: nothing is written).
Peak memory is the ingest's VmHWM; the phases give each step's seconds (summed over slices) and peak RSS.
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


def _generate(n: int, workdir: Path, seed: int = 7) -> Path:
    """The county and its payment file; returns the file's path."""
    import datetime as dt
    import random

    import polars as pl
    from django.db import transaction
    from django.utils import timezone

    from bench.data import register_frame
    from yibao.collection.ingest import copy_rows
    from yibao.enrollment.models import Campaign, Enrollment
    from yibao.policy.bulk import quote_frame
    from yibao.policy.loader import load_policy
    from yibao.regions.models import Region
    from yibao.registry.models import Flag, GroupFact, Identity, Resident

    rng = random.Random(seed)
    now = timezone.now()
    townships = [f"{COUNTY}{100 + t:03d}" for t in range(20)]
    villages = [f"{t}{v + 1:03d}" for t in townships for v in range(20)]
    with transaction.atomic():
        Region.objects.get_or_create(code=COUNTY, defaults={"name": "怀远县", "level": 6, "county_code": COUNTY})
        Region.objects.bulk_create(
            [Region(code=t, name=f"第{i + 1}镇", level=9, county_code=COUNTY, parent_id=COUNTY) for i, t in enumerate(townships)]
            + [Region(code=v, name=f"第{i + 1}村", level=12, county_code=COUNTY, parent_id=v[:9]) for i, v in enumerate(villages)],
            ignore_conflicts=True,
        )
        register = register_frame(n, villages).with_columns(pl.int_range(1, n + 1).alias("id"))
        residents = register.select(
            "id", pl.lit(COUNTY).alias("county_code"), pl.col("村（社区）").str.slice(0, 9).alias("township_code"),
            pl.col("村（社区）").alias("village_code"), pl.col("公民身份号码").alias("id_number"), pl.col("姓名").alias("name"),
            pl.when(pl.col("性别") == "男").then(pl.lit("M")).otherwise(pl.lit("F")).alias("sex"),
            pl.col("出生日期").str.to_date().alias("birth_date"), pl.col("村（社区）").alias("hukou_region_code"),
            pl.lit("").alias("residence_region_code"), pl.lit("").alias("phone"),
            pl.col("与户主关系").alias("relation_to_head"), pl.lit("active").alias("status"), pl.lit("").alias("row_hash"),
            pl.lit(now).alias("created_at"), pl.lit(now).alias("updated_at"),
        )
        copy_rows(Resident._meta.db_table, residents)
        codes = ["tekun", "dibao", "monitored", "entitled_group", "only_daughter_family", "only_son_family", "dibao_edge"]
        holders = sorted(rng.sample(range(1, n + 1), n * 8 // 100))
        held = rng.choices(codes, k=len(holders))
        copy_rows(Identity._meta.db_table, pl.DataFrame({
            "county_code": COUNTY, "resident_id": holders, "code": held, "department": "民政", "source_name": "基准",
            "row_hash": "", "created_at": now, "updated_at": now,
        }))
        movers = sorted(rng.sample(range(1, n + 1), n * 2 // 100))
        copy_rows(GroupFact._meta.db_table, pl.DataFrame({
            "county_code": COUNTY, "resident_id": movers, "group": "migrant_worker", "note": "", "created_at": now,
        }))
        last_year = Campaign.objects.create(
            county_code=COUNTY, benefit_year=2024, policy_id=POLICY, policy_version="bench",
            collection_start=dt.date(2023, 9, 1), collection_end=dt.date(2023, 12, 31), status="closed",
        )
        enrolled = sorted(rng.sample(range(1, n + 1), n * 9 // 10))
        copy_rows(Enrollment._meta.db_table, residents.filter(pl.col("id").is_in(enrolled)).select(
            "county_code", "township_code", "village_code", pl.lit(last_year.pk).alias("campaign_id"),
            pl.lit(2024).alias("benefit_year"), pl.col("id").alias("resident_id"), "id_number",
            pl.lit("renewal").alias("kind"), pl.lit(1).alias("tier"), pl.lit("paid").alias("status"),
            pl.lit("缴费入账").alias("status_reason"), pl.lit(dt.date(2024, 1, 1)).alias("benefit_start"),
            pl.lit(dt.date(2024, 12, 31)).alias("benefit_end"), pl.lit(now).alias("registered_at"),
            pl.lit(now).alias("updated_at"),
        ))
        flagged = sorted(rng.sample(range(1, n + 1), n // 200))
        copy_rows(Flag._meta.db_table, pl.DataFrame({
            "county_code": COUNTY, "resident_id": flagged, "kind": "employee_insurance", "detail": "在职工医保名单中",
            "created_at": now, "resolved_by_name": "", "resolution": "", "outcome": "",
        }))
        policy = load_policy(POLICY)
        window = policy.data.collection.main_window
        Campaign.objects.create(county_code=COUNTY, benefit_year=2025, policy_id=POLICY, policy_version=policy.version,
                                collection_start=window.start, collection_end=window.end)

    # the file: what each person owes on their day, then the mistakes real files carry
    days = [dt.date(2024, 9, 1) + dt.timedelta(days=d) for d in range(122)]
    late = [dt.date(2025, 1, 2) + dt.timedelta(days=d) for d in range(80)]
    paid_on = [rng.choice(late) if rng.random() < 0.02 else dt.date(2024, 8, 20) if rng.random() < 0.01 else rng.choice(days)
               for _ in range(n)]
    identity_of = dict(zip(holders, held))
    roles = {"户主": "parent", "配偶": "parent", "子": "child", "女": "child"}
    mover_set = set(movers)
    persons = register.select(
        "id", pl.col("出生日期").str.to_date().alias("birth_date"),
        pl.col("与户主关系").replace_strict(roles, default=None).alias("household_role"),
    ).with_columns(
        pl.Series("paid_on", paid_on, dtype=pl.Date),
        pl.Series("identities", [[identity_of[i]] if i in identity_of else [] for i in range(1, n + 1)],
                  dtype=pl.List(pl.String)),
        pl.Series("group", ["migrant_worker" if i in mover_set else None for i in range(1, n + 1)], dtype=pl.String),
    )
    quoted = quote_frame(policy, persons, explain=False)
    amount = quoted.get_column("payable").to_list()
    channels = ["微信", "支付宝", "税务APP", "农商银行代扣", "现金", "POS机"]
    ids = register.get_column("公民身份号码").to_list()
    lines = []
    for i in range(n):
        due = amount[i] if amount[i] is not None else 400
        roll = rng.random()
        if roll < 0.015:
            due = due - 100 if due >= 100 else due + 50
        elif roll < 0.03:
            due = due + 100
        number = ids[i]
        if rng.random() < 0.005:  # not in the register (another county's number)
            number = "340322" + number[6:17]
            from yibao.core.idnumber import check_character

            number += check_character(number)
        when = f"{paid_on[i]:%Y-%m-%d} {rng.randrange(8, 18):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
        lines.append((f"P{i:09d}", number, 2025, f"{due:.2f}", rng.choice(channels), when, f"E{i:012d}"))
        if rng.random() < 0.005:  # paid twice through two channels
            lines.append((f"Q{i:09d}", number, 2025, f"{due:.2f}", rng.choice(channels), when, ""))
    for i in range(n // 300):  # broken lines
        lines.append((f"X{i:09d}", "34032119800101123X" if i % 2 else ids[i], 2025, "四百" if i % 2 == 0 else "400",
                      "微信", "2024-10-08 10:00:00", ""))
    frame = pl.DataFrame(lines, schema=["缴费流水号", "身份证号码", "缴费年度", "缴费金额", "缴费渠道", "缴费时间", "电子票据号"],
                         orient="row")
    path = workdir / f"payments-{n}.csv"
    frame.write_csv(path)
    return path


WRITTEN = (  # every table the ingest writes, with its label
    ("collection.Payment", "缴费"), ("enrollment.Enrollment", "参保登记"), ("enrollment.EnrollmentClaim", "参保占位"),
    ("collection.SubsidyRefund", "先缴后补"), ("collection.QuoteExplanation", "测算说明"), ("core.Event", "变更记录"),
)


def _last_ids() -> dict[str, int]:
    from django.apps import apps

    return {name: apps.get_model(name).objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            for name, _ in WRITTEN}


BASELINE_ALIAS = "baseline"


def _snapshot() -> None:
    """A copy of the database as the ingest will find it (untimed), where the baseline inserts."""
    import shutil

    from django.db import connection, connections

    settings = dict(connections.settings["default"])
    if connection.vendor == "postgresql":
        import psycopg

        from bench.imports import PG_ADMIN

        connection.close()  # a template database must have no other session
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE}_baseline WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {PG_DATABASE}_baseline TEMPLATE {settings['NAME']}")
        settings["NAME"] = f"{PG_DATABASE}_baseline"
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy = f"{settings['NAME']}.baseline"
        shutil.copyfile(settings["NAME"], copy)
        settings["NAME"] = copy
    connections.settings[BASELINE_ALIAS] = settings


def _snapshot_drop() -> None:
    from django.db import connections

    target = connections[BASELINE_ALIAS]
    name = target.settings_dict["NAME"]
    target.close()
    if target.vendor == "postgresql":
        import psycopg

        from bench.imports import PG_ADMIN

        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)


def _baseline(after: dict[str, int]) -> tuple[float, dict[str, int], dict[str, float]]:
    """Raw insert of exactly what the ingest wrote: the same rows (every column, ids included) into the
    same tables of a copy of the database taken just before the ingest, in one transaction, committed.

    Each table's rows are read out of the ingested database first (untimed), then go in by COPY of a
    ready CSV buffer (PostgreSQL) or executemany of ready tuples (SQLite, with the ingest's page cache)."""
    from django.apps import apps
    from django.db import connection, connections, transaction

    target = connections[BASELINE_ALIAS]
    counts, seconds = {}, {}
    with transaction.atomic(using=BASELINE_ALIAS):
        with target.cursor() as out:
            if target.vendor == "sqlite":
                out.execute("PRAGMA cache_size = -262144")  # as yibao.collection.ingest.frames.sqlite_cache
            for name, _ in WRITTEN:
                model = apps.get_model(name)
                table = model._meta.db_table
                columns = [f.column for f in model._meta.concrete_fields]
                cols = ", ".join(connection.ops.quote_name(c) for c in columns)
                where = f"WHERE id > {int(after[name])}"
                with connection.cursor() as source:
                    source.execute(f"SELECT COUNT(*) FROM {table} {where}")
                    counts[name] = source.fetchone()[0]
                    if connection.vendor == "postgresql":
                        buffer = bytearray()
                        with source.cursor.copy(f"COPY (SELECT {cols} FROM {table} {where} ORDER BY id) TO STDOUT WITH (FORMAT csv)") as data:
                            for block in data:
                                buffer += block
                        payload = bytes(buffer)
                        del buffer
                    else:
                        source.execute(f"SELECT {cols} FROM {table} {where} ORDER BY id")
                        payload = source.fetchall()
                began = time.monotonic()
                if target.vendor == "postgresql":
                    with out.cursor.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)") as copy:
                        for offset in range(0, len(payload), 1 << 20):
                            copy.write(payload[offset:offset + (1 << 20)])
                else:
                    marks = ", ".join(["?"] * len(columns))
                    out.cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", payload)
                seconds[name] = time.monotonic() - began
                del payload
        began = time.monotonic()
    seconds["commit"] = time.monotonic() - began
    return sum(seconds.values()), counts, {k: round(v, 2) for k, v in seconds.items()}


class _PhaseMemory:
    """The bench's StepClock with the peak resident memory seen during each step (sampled every 50 ms)."""

    def __init__(self):
        import threading

        from bench.task import StepClock

        self.clock, self.peaks, self._stop = StepClock(), {}, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    def _sample(self):
        from bench.task import _status_mb

        while not self._stop.wait(0.05):
            name = _phase_name(self.clock.steps[-1][0]) if self.clock.steps else ""
            self.peaks[name] = max(self.peaks.get(name, 0), _status_mb("VmRSS") or 0)

    def start(self, total, message=""):
        self.clock.start(total, message)

    def advance(self, n=1):
        pass

    def step(self, message):
        self.clock.step(message)

    def phases(self, end: float) -> list[tuple[str, float, int]]:
        """(step, seconds summed over the file's slices, peak MB), in order of first appearance."""
        totals: dict[str, float] = {}
        for name, sec in self.clock.phases(end):
            key = _phase_name(name)
            totals[key] = round(totals.get(key, 0) + sec, 2)
        return [(name, sec, self.peaks.get(name, 0)) for name, sec in totals.items()]


def _phase_name(message: str) -> str:
    import re

    return re.sub(r"\s*（?\d[\d,]*\s*(笔|条)?）?\s*", "", message).strip()


def worker(n: int, workdir: str) -> dict:

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    django.setup()
    from django.db import connection

    from bench.task import StepMemory
    from yibao.collection.ingest import payments_ingest
    from yibao.collection.ingest.rows import ingest_slice_rows

    began = time.monotonic()
    path = _generate(n, Path(workdir))
    generated = time.monotonic() - began
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    _snapshot()
    before = _last_ids()
    clock = _PhaseMemory()
    with StepMemory() as memory, clock:
        began = time.perf_counter()
        result = payments_ingest(path=path, actor="基准", county_code=COUNTY, progress=clock,
                                 report_path=Path(workdir) / "payments-report.xlsx")
        end = time.perf_counter()
    seconds = end - began
    baseline, written, per_table = _baseline(before)
    _snapshot_drop()
    began = time.monotonic()
    again = payments_ingest(path=path, actor="基准", county_code=COUNTY, report_path=Path(workdir) / "again-report.xlsx")
    again_seconds = time.monotonic() - began
    return {
        "backend": connection.vendor, "residents": n, "lines": result["rows"], "generate_seconds": round(generated, 2),
        "baseline_raw_insert_seconds": round(baseline, 2), "baseline_rows": written, "baseline_seconds": per_table,
        "ingest_seconds": round(seconds, 2), "slice_rows": ingest_slice_rows(),
        "ratio": round(seconds / baseline, 2) if baseline else None, "repeat_seconds": round(again_seconds, 2),
        "result": {k: v for k, v in result.items() if k != "report"},
        "repeat": {k: again[k] for k in ("booked", "flagged", "unchanged", "rejected")},
        "phases": clock.phases(end), "peak_rss_mb": memory.peak_mb, "start_rss_mb": memory.start_mb,
    }


# ---------------------------------------------------------------- the driver


PG_DATABASE = "yibao_bench_payments"  # its own database: other benchmarks drop yibao_bench when they finish


def _fresh_database(engine: str, workdir: Path) -> str:
    from bench.imports import PG_ADMIN, fresh_database

    if engine == "sqlite":
        return fresh_database(engine, workdir)
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def _measure(engine: str, n: int, workdir: Path) -> dict:
    from bench.imports import PG_ADMIN, _env, database_version, migrate

    url = _fresh_database(engine, workdir)
    print(f"  准备 {engine} 数据库并迁移……", file=sys.stderr, flush=True)
    migrate(url, workdir)
    print(f"  生成 {n:,} 人的县和缴费明细，导入……", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, "-m", "bench.payments", "--worker", str(n), "--workdir", str(workdir)],
                          cwd=ROOT, env=_env(url, workdir), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"缴费明细基准失败（{engine}）：\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["version"] = database_version(engine, url)
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
    return figures


def report(f: dict) -> str:
    lines, raw, ingest = f["lines"], f["baseline_raw_insert_seconds"] or TINY, f["ingest_seconds"] or TINY
    method = "COPY" if f["backend"] == "postgresql" else "executemany，单事务"
    r = f["result"]
    kinds = "，".join(f"{k} {v:,}" for k, v in r["flagged_by_kind"].items())
    labels = dict(WRITTEN)
    written = sum(f["baseline_rows"].values())
    tables = "，".join(f"{labels[k]} {v:,} 行 {f['baseline_seconds'][k]} 秒" for k, v in f["baseline_rows"].items() if v)
    tables += f"，提交 {f['baseline_seconds']['commit']} 秒"
    return "\n".join([
        f"渠道缴费明细导入 {lines:,} 行（{f['residents']:,} 人的县，每批 {f['slice_rows']:,} 行） · {f.get('version', f['backend'])}",
        f"  (a) 原始批量插入导入写入的全部 {written:,} 行（{method}，同样的行、同样的表，导入前的库副本）  {raw:>7.1f} 秒",
        f"      {tables}",
        f"  (b) Yibao 导入（读取+校验+查人+测算+入账+参保+事件+报告）     {ingest:>7.1f} 秒  {lines / ingest:>10,.0f} 行/秒"
        f"   = {ingest / raw:.2f} × 原始插入",
        f"      重复导入同一文件（全部已入账，不写入）                        {f['repeat_seconds']:>7.1f} 秒",
        f"  导入结果：入账 {r['booked']:,}，待处理 {r['flagged']:,}（{kinds}），未变 {r['unchanged']:,}，拒绝 {r['rejected']:,}",
        f"  重复导入：入账 {f['repeat']['booked']}，待处理 {f['repeat']['flagged']}，未变 {f['repeat']['unchanged']:,}；"
        f"入账时进程峰值内存 {f['peak_rss_mb']:,} MB（开始入账时进程已占 {f.get('start_rss_mb') or 0:,} MB：生成的县和明细）",
        "  导入各阶段（秒，峰值 MB）：" + "，".join(f"{name} {sec}（{mb}）" for name, sec, mb in f.get("phases", [])),
    ])


def markdown_row(f: dict) -> str:
    raw, ingest = f["baseline_raw_insert_seconds"] or TINY, f["ingest_seconds"] or TINY
    return (f"| {f.get('version', f['backend'])} | {f['lines']:,} | {sum(f['baseline_rows'].values()):,} | {raw:.1f} s "
            f"| {ingest:.1f} s | **{ingest / raw:.2f}×** | {f['repeat_seconds']:.1f} s | {f['peak_rss_mb']:,} MB |")


@benchmark("payments", "渠道缴费明细导入：Yibao 入账 vs 原始批量插入")
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
    print("| 数据库 | 明细行数 | 写入行数（全部表） | (a) 原始批量插入 | (b) Yibao 导入 | (b)/(a) | 重复导入 | 峰值内存 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for figures in results:
        print(markdown_row(figures))
    (workdir / "payments.json").write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.payments", description="渠道缴费明细导入基准")
    parser.add_argument("--rows", type=int, default=1_000_000, help="县的人数，也约是明细行数（默认 1,000,000）")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite、postgresql，逗号分隔")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.workdir), ensure_ascii=False, default=str))
        return
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="yibao-bench-")
    run(args)


if __name__ == "__main__":
    main()
