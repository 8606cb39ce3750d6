"""Benchmark: reconciling (对账) a county's 1,000,000 payment records, beside baselines from the same run.

    python -m bench.reconcile --rows 1000000                     # SQLite, and PostgreSQL when it answers
    python -m bench.reconcile --rows 100000 --databases sqlite
    make bench BENCH_ARGS="--only reconcile"                    # once bench/__main__.py imports this module

Each database runs in a fresh process against a fresh database (a new SQLite file; on PostgreSQL
yibao_bench_reconcile, dropped and created). The county has N bookings (70% channel files, 30%
counter payments with receipts, two thirds of them cash), weekly cash handovers, and a tax file of
N rows with faults planted in about 0.5% of them. The figures:
  baseline (a)  reading the N bookings from the database: one SELECT, rows fetched into Python
                (what any reconciliation must at least do);
  baseline (b)  naive matching: one ORM lookup per tax record (by payment id, then by ID number
                and amount), measured on a sample and scaled up to N;
  reconcile     Yibao's whole run: read and check the tax file, read bookings, receipts and
                handovers, match, describe, write the run and its mismatches;
  rerun         the same again (a second run that compares with the first).
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
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "yibao_bench_reconcile"
PG_URL = f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"


# ---------------------------------------------------------------- inside the worker process


def _with_defaults(model, frame):
    """Add the model's other columns with their defaults, so the raw insert stays valid as models grow."""
    import polars as pl

    extra = []
    for field in model._meta.concrete_fields:
        if field.column in frame.columns or field.primary_key:
            continue
        value = field.get_default()
        extra.append(pl.lit(None if value is None else str(value) if not isinstance(value, (int, bool)) else value)
                     .alias(field.column))
    return frame.with_columns(extra) if extra else frame


def _ids(n: int):
    """n distinct valid ID numbers of the county (area, birth day, sequence, MOD 11-2 check)."""
    import datetime as dt

    import polars as pl

    from yibao.imports.idcheck import check_char_expr

    days = 365 * 80
    first = dt.date(1940, 1, 1)
    frame = pl.DataFrame({"i": pl.int_range(0, n, eager=True)}).with_columns(
        (pl.lit(first) + pl.duration(days=pl.col("i") % days)).dt.strftime("%Y%m%d").alias("birth"),
        (pl.col("i") // days).cast(pl.String).str.pad_start(3, "0").alias("seq"),
    )
    body = pl.concat_str([pl.lit(COUNTY), pl.col("birth"), pl.col("seq")])
    return frame.select(pl.concat_str([body, check_char_expr(body)]).alias("id_number"))["id_number"]


def generate(n: int, workdir: Path, seed: int = 7) -> dict:
    import datetime as dt

    import random

    import polars as pl
    from django.db import connection, transaction
    from django.utils import timezone

    from yibao.collection.models import Payment, Receipt, ReceiptLine
    from yibao.enrollment.bulkio import insert_frame
    from yibao.enrollment.models import Campaign
    from yibao.reconciliation.models import CashHandover
    from yibao.regions.models import Region

    rng = random.Random(seed)
    townships = [f"{COUNTY}{100 + t:03d}" for t in range(20)]
    villages = [f"{t}{v + 1:03d}" for t in townships for v in range(20)]
    with transaction.atomic():
        Region.objects.get_or_create(code=COUNTY, defaults={"name": "怀远县", "level": 6, "county_code": COUNTY})
        Region.objects.bulk_create(
            [Region(code=t, name=f"第{i + 1}镇", level=9, county_code=COUNTY, parent_id=COUNTY) for i, t in enumerate(townships)]
            + [Region(code=v, name=f"第{i + 1}村", level=12, county_code=COUNTY, parent_id=v[:9]) for i, v in enumerate(villages)],
            ignore_conflicts=True,
        )
        campaign = Campaign.objects.create(
            county_code=COUNTY, benefit_year=2025, policy_id=POLICY, policy_version="bench",
            collection_start=dt.date(2024, 9, 1), collection_end=dt.date(2024, 12, 31),
        )
        start = dt.date(2024, 9, 1)
        now = timezone.now().isoformat()
        village = rng.choices(villages, k=n)
        counter = [rng.random() < 0.30 for _ in range(n)]
        channel = [
            ("cash" if rng.random() < 2 / 3 else "pos") if c else rng.choice(("wechat", "alipay", "tax_app", "bank"))
            for c in counter
        ]
        amount = rng.choices(("400", "400", "400", "400", "400", "400", "400", "400", "400", "60", "0"), k=n)
        ids = _ids(n)
        payments = pl.DataFrame({
            "id": pl.int_range(1, n + 1, eager=True),
            "county_code": COUNTY,
            "village_code": village,
            "campaign_id": campaign.pk,
            "benefit_year": 2025,
            "id_number": ids,
            "source": ["counter" if c else "file" for c in counter],
            "channel": channel,
            "amount": amount,
            "day": [rng.randrange(120) for _ in range(n)],
            "status": "booked",
            "created_at": now,
        }).with_columns(
            pl.col("village_code").str.slice(0, 9).alias("township_code"),
            pl.when(pl.col("source") == "counter").then(pl.format("CTR{}", pl.col("id")))
            .otherwise(pl.format("CH{}", pl.col("id"))).alias("external_id"),
            pl.when(pl.col("source") == "counter").then(pl.format("征收员{}", pl.col("village_code")))
            .otherwise(pl.lit("")).alias("collector_name"),
            (pl.lit(start) + pl.duration(days=pl.col("day"))).alias("paid_on"),
        ).with_columns(
            pl.col("paid_on").dt.strftime("%Y-%m-%d").alias("paid_on"),
            pl.format("{} 02:00:00", pl.col("paid_on").dt.strftime("%Y-%m-%d")).alias("paid_at"),
        )
        payment_rows = _with_defaults(Payment, payments.drop("day"))
        insert_frame(Payment._meta.db_table, payment_rows)

        counters = payments.filter(pl.col("source") == "counter")
        receipts = counters.select(
            pl.col("id"), "county_code", "township_code", "village_code", pl.lit(2025).alias("benefit_year"),
            pl.col("id").alias("number"), pl.format("HY2025{}", pl.col("id")).alias("receipt_no"),
            pl.lit("缴款人").alias("payer_name"), pl.col("amount").alias("total"), "channel",
            pl.col("paid_at").alias("issued_at"), pl.col("collector_name").alias("issued_by_name"),
        )
        insert_frame(Receipt._meta.db_table, _with_defaults(Receipt, receipts))
        lines = counters.select("county_code", pl.col("id").alias("receipt_id"), pl.col("id").alias("payment_id"),
                                pl.lit("缴款人").alias("name"), "amount")
        insert_frame(ReceiptLine._meta.db_table, _with_defaults(ReceiptLine, lines))

        # weekly handovers of each collector's cash, the last week not yet handed over, 1% of weeks short
        weekly = (
            payments.filter(pl.col("channel") == "cash")
            .with_columns((pl.col("day") // 7).alias("week"), pl.col("amount").cast(pl.Int64))
            .group_by("collector_name", "village_code", "week").agg(pl.col("amount").sum())
            .filter(pl.col("week") < pl.col("week").max().over("collector_name"))
            .sort("collector_name", "week")
        )
        short = [rng.random() < 0.01 for _ in range(weekly.height)]
        handovers = [
            CashHandover(
                county_code=COUNTY, township_code=v[:9], village_code=v, benefit_year=2025, collector_name=c,
                period_start=start + dt.timedelta(days=7 * w), period_end=start + dt.timedelta(days=7 * w + 6),
                handed_on=start + dt.timedelta(days=7 * w + 7), amount=a - (50 if s and a >= 50 else 0),
                received_by_name="乡镇财政所",
            )
            for (c, v, w, a), s in zip(weekly.iter_rows(), short)
        ]
        CashHandover.objects.bulk_create(handovers, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # the tax file: every booking, counter payments under the bureau's own ids, ~0.5% faults
    tax = payments.select(
        "id", "external_id", "id_number", "amount", "channel", "paid_at", "source",
    )
    tax = tax.with_columns(pl.Series("roll", [rng.random() for _ in range(n)]))
    tax = tax.filter(pl.col("roll") >= 0.001)  # 0.1% never reached the tax bureau
    tax = tax.with_columns(
        pl.when(pl.col("source") == "counter").then(pl.format("SW{}", pl.col("id"))).otherwise(pl.col("external_id"))
        .alias("external_id"),
        pl.when((pl.col("roll") < 0.002) & (pl.col("source") == "file")).then((pl.col("amount").cast(pl.Int64) + 20).cast(pl.String))
        .otherwise(pl.col("amount")).alias("amount"),
    )
    unknown = _ids(n + n // 1000).slice(n)  # 0.1% paid but not booked: ID numbers Yibao doesn't hold
    extra = pl.DataFrame({
        "id": pl.int_range(n + 1, n + 1 + unknown.len(), eager=True), "external_id": [f"SWX{i}" for i in range(unknown.len())],
        "id_number": unknown, "amount": "400", "channel": "wechat", "paid_at": "2024-10-08 02:00:00", "source": "file",
        "roll": 1.0,
    })
    tax = pl.concat([tax, extra]).sample(fraction=1.0, shuffle=True, seed=seed)
    labels = {"cash": "现金", "pos": "POS机", "wechat": "微信", "alipay": "支付宝", "tax_app": "税务APP", "bank": "银行"}
    out = tax.select(
        pl.col("external_id").alias("缴费流水号"), pl.col("id_number").alias("缴费人证件号码"),
        pl.lit("2025").alias("费款所属期"), pl.col("amount").alias("实缴金额"),
        pl.col("channel").replace_strict(labels).alias("缴费渠道"), pl.col("paid_at").alias("缴款日期"),
    )
    path = workdir / f"tax-{n}.csv"
    out.write_csv(path)
    return {"path": str(path), "tax_rows": out.height, "bookings": n, "receipts": receipts.height,
            "handovers": len(handovers)}


def _baseline_read(n: int) -> float:
    """(a) One SELECT of the county's bookings, every row fetched into Python (no matching)."""
    import datetime as dt

    from django.db import connection

    from yibao.collection.models import Payment
    from yibao.reconciliation.sources import unindexed

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, external_id, id_number, amount, paid_on FROM {Payment._meta.db_table} "
            f"WHERE county_code = %s AND benefit_year = %s AND {unindexed('paid_on')} <= %s",
            [COUNTY, 2025, dt.date(2024, 12, 31)],
        )
        rows = cursor.fetchall()
    assert len(rows) == n
    return time.perf_counter() - began


def _baseline_naive(path: str, sample: int) -> tuple[float, int]:
    """(b) One ORM lookup per tax record, on the first `sample` rows of the file."""
    from decimal import Decimal

    import polars as pl

    from yibao.collection.models import Payment

    rows = pl.read_csv(path, n_rows=sample, infer_schema=False).rows()
    began = time.perf_counter()
    matched = 0
    for external_id, id_number, _year, amount, _channel, _paid in rows:
        found = Payment.objects.filter(county_code=COUNTY, external_id=external_id).first()
        if found is None:
            found = Payment.objects.filter(county_code=COUNTY, benefit_year=2025, id_number=id_number,
                                           amount=Decimal(amount)).first()
        matched += found is not None and found.amount == Decimal(amount)
    return time.perf_counter() - began, matched


def worker(n: int, naive_rows: int, workdir: Path) -> dict:
    import datetime as dt

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    django.setup()
    from django.db import connection

    from bench.task import StepMemory
    from yibao.reconciliation import services

    began = time.monotonic()
    data = generate(n, workdir)
    generated = time.monotonic() - began
    read = _baseline_read(n)
    sample = min(naive_rows, data["tax_rows"])
    naive, _matched = _baseline_naive(data["path"], sample)
    as_of = dt.date(2024, 12, 31)

    def reconcile():
        began = time.perf_counter()
        run = services.reconcile(county_code=COUNTY, benefit_year=2025, as_of=as_of, tax_file=data["path"],
                                 actor="基准", file_name=Path(data["path"]).name)
        return time.perf_counter() - began, run

    load_before = os.getloadavg()[0]
    with StepMemory() as memory:
        first_seconds, first = reconcile()
    again_seconds, again = reconcile()
    load_after = os.getloadavg()[0]
    return {
        "backend": connection.vendor,
        "rows": n,
        "tax_rows": data["tax_rows"],
        "receipts": data["receipts"],
        "handovers": data["handovers"],
        "generate_seconds": round(generated, 2),
        "baseline_read_seconds": round(read, 2),
        "naive_sample": sample,
        "naive_sample_seconds": round(naive, 2),
        "naive_scaled_seconds": round(naive * data["tax_rows"] / sample, 1),
        "reconcile_seconds": round(first_seconds, 2),
        "rerun_seconds": round(again_seconds, 2),
        "counts": first.counts,
        "mismatches": first.mismatch_total,
        "phases": first.inputs.get("seconds", {}),
        "rerun_changes": {k: again.changes.get(k) for k in ("new", "resolved", "persisting")},
        "reconcile_cpu_seconds": first.inputs.get("seconds", {}).get("cpu"),
        "load_average": [round(load_before, 1), round(load_after, 1)],
        "peak_rss_mb": memory.peak_mb, "start_rss_mb": memory.start_mb,
    }


# ---------------------------------------------------------------- the driver


def _env(url: str, workdir: Path) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "YIBAO_VAR_DIR": str(workdir / "var"), "DJANGO_SETTINGS_MODULE": "yibao.settings",
                "DEBUG": "0", "SECRET_KEY": "bench-only", "PYTHONPATH": str(ROOT)})
    return env


def _fresh(engine: str, workdir: Path) -> str:
    if engine == "sqlite":
        path = workdir / "reconcile.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    return PG_URL


def _version(engine: str, url: str) -> str:
    if engine == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    with psycopg.connect(url) as conn:
        return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0].split()[0]


def _postgres_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def measure(engine: str, n: int, naive_rows: int, workdir: Path) -> dict:

    url = _fresh(engine, workdir)
    print(f"  准备 {engine} 数据库并迁移……", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=_env(url, workdir),
                   check=True)
    print(f"  生成 {n:,} 笔入账与税务文件并对账……", file=sys.stderr, flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "bench.reconcile", "--worker", str(n), "--naive-rows", str(naive_rows),
         "--workdir", str(workdir)],
        cwd=ROOT, env=_env(url, workdir), capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"对账基准失败（{engine}）：\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["version"] = _version(engine, url)
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    return figures


def report(f: dict) -> str:
    n, run, read, naive = (f["rows"], f["reconcile_seconds"] or TINY, f["baseline_read_seconds"] or TINY,
                           f["naive_scaled_seconds"])
    goal = "达标" if run < 10 else "未达标"
    counts = "，".join(f"{k} {v:,}" for k, v in f["counts"].items() if v)
    return "\n".join([
        f"对账 {f['tax_rows']:,} 条税务记录 × {n:,} 笔入账（{f['receipts']:,} 张票据，{f['handovers']:,} 笔交款） · "
        f"{f.get('version', f['backend'])}",
        f"  (a) 仅从数据库读出 {n:,} 笔入账（一条 SELECT，取回 Python）      {read:>7.2f} 秒",
        f"  (b) 逐条 ORM 查找匹配（实测 {f['naive_sample']:,} 条 {f['naive_sample_seconds']:.2f} 秒，按比例推算）"
        f"  {naive:>7.1f} 秒",
        f"  Yibao 对账（读文件、读入账/票据/交款、匹配、写差异）           {run:>7.2f} 秒   = {run / read:.1f} × (a)，"
        f"{naive / run:.0f} 倍快于 (b)；目标 < 10 秒：{goal}",
        f"  再次对账（与上次比较）                                        {f['rerun_seconds']:>7.2f} 秒",
        f"  对账进程 CPU 时间 {f.get('reconcile_cpu_seconds')} 秒；测量时机器 1 分钟负载 {f.get('load_average')}"
        f"（本机 {os.cpu_count()} 核，负载高于核数时墙钟时间偏长）",
        f"  差异 {f['mismatches']:,} 条：{counts}；对账时进程峰值内存 {f.get('peak_rss_mb', 0):,} MB"
        f"（开始对账时进程已占 {f.get('start_rss_mb') or 0:,} MB：生成的数据）",
        "  各阶段（秒）：" + "，".join(f"{k} {v}" for k, v in f.get("phases", {}).items()),
    ])


def markdown_row(f: dict) -> str:
    return (f"| {f.get('version', f['backend'])} | {f['tax_rows']:,} | {f['baseline_read_seconds']:.2f} s | "
            f"{f['naive_scaled_seconds']:.0f} s | **{f['reconcile_seconds']:.2f} s** | {f['rerun_seconds']:.2f} s | "
            f"{f['mismatches']:,} | {f.get('peak_rss_mb', 0):,} MB |")


@benchmark("reconcile", "对账：100 万条税务记录 vs 读出入账与逐条匹配")
def run(options) -> None:
    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    engines = [e for e in ("sqlite", "postgresql") if e in options.databases]
    if "postgresql" in engines and not _postgres_answers():
        print("  PostgreSQL 未在 127.0.0.1:5432 应答，只测 SQLite。", file=sys.stderr)
        engines.remove("postgresql")
    results = []
    for engine in engines:
        figures = measure(engine, options.rows, getattr(options, "naive_rows", 10_000), workdir)
        results.append(figures)
        print(report(figures), flush=True)
        print(flush=True)
    print("| 数据库 | 税务记录 | (a) 读出入账 | (b) 逐条匹配（推算） | Yibao 对账 | 再次对账 | 差异 | 峰值内存 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for figures in results:
        print(markdown_row(figures))
    (workdir / "reconcile.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reconcile", description="对账基准")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--naive-rows", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite、postgresql，逗号分隔")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.workdir is None:
        args.workdir = tempfile.mkdtemp(prefix="yibao-bench-reconcile-")
    if args.worker:
        print(json.dumps(worker(args.worker, args.naive_rows, Path(args.workdir)), ensure_ascii=False))
        return
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    run(args)


if __name__ == "__main__":
    main()
