"""Import of the household register: Yibao's import against the raw insert and a naive ORM loop.

Every figure comes from a fresh process on a fresh database (a new SQLite file; on PostgreSQL the
database yibao_bench, dropped and created), never the development database.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import TINY, benchmark

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql://postgres@127.0.0.1:5432/yibao_bench"


def postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def fresh_database(engine: str, workdir: Path) -> str:
    if engine == "sqlite":
        path = workdir / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS yibao_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE yibao_bench")
    return PG_BENCH


def database_version(engine: str, url: str) -> str:
    if engine == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    import psycopg

    with psycopg.connect(url) as conn:
        return "PostgreSQL " + conn.execute("SHOW server_version").fetchone()[0].split()[0]


def _env(url: str, workdir: Path) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "YIBAO_VAR_DIR": str(workdir / "var"), "DJANGO_SETTINGS_MODULE": "yibao.settings",
                "DEBUG": "0", "SECRET_KEY": "bench-only", "PYTHONPATH": str(ROOT)})
    return env


def run_task(name: str, url: str, workdir: Path, csv: Path, rows: int | None = None) -> dict:
    command = [sys.executable, "-m", "bench.task", "wrap", name, "--csv", str(csv)]
    if rows:
        command += ["--rows", str(rows)]
    done = subprocess.run(command, cwd=ROOT, env=_env(url, workdir), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"基准任务 {name} 失败：\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def migrate(url: str, workdir: Path) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=_env(url, workdir),
                   check=True)


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>10,.0f} 行/秒" if seconds else ""


def measure(engine: str, rows: int, naive_rows: int, workdir: Path, csv: Path) -> dict:
    url = fresh_database(engine, workdir)
    print(f"  准备 {engine} 数据库并迁移……", file=sys.stderr, flush=True)
    migrate(url, workdir)
    run_task("regions", url, workdir, csv)
    figures = {"engine": engine, "version": database_version(engine, url), "rows": rows}
    print("  原始批量插入……", file=sys.stderr, flush=True)
    figures["raw"] = run_task("raw", url, workdir, csv)
    print("  Yibao 导入……", file=sys.stderr, flush=True)
    figures["import"] = run_task("import", url, workdir, csv)
    print("  重复导入……", file=sys.stderr, flush=True)
    figures["reimport"] = run_task("reimport", url, workdir, csv)
    print(f"  逐行 ORM 导入 {naive_rows} 行……", file=sys.stderr, flush=True)
    figures["naive"] = run_task("naive", url, workdir, csv, rows=naive_rows)
    if engine == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS yibao_bench WITH (FORCE)")
    return figures


def report(f: dict, naive_rows: int) -> str:
    rows = f["rows"]
    raw, imp, again, naive = (f["raw"]["seconds"] or TINY, f["import"]["seconds"] or TINY, f["reimport"]["seconds"],
                              f["naive"]["seconds"])
    naive_scaled = naive * rows / naive_rows
    result = f["import"]["result"]
    method = "COPY" if f["engine"] == "postgresql" else "executemany，单事务"
    lines = [
        f"户籍名单导入 {rows:,} 行 · {f['version']}",
        f"  (a) 原始批量插入（{method}，同一张表）  {raw:>8.1f} 秒 {_rate(rows, raw)}",
        f"  (b) Yibao 导入（读取+校验+写入+报告）     {imp:>8.1f} 秒 {_rate(rows, imp)}   = {imp / raw:.2f} × 原始插入",
        f"      重复导入同一文件（无变化）             {again:>8.1f} 秒 {_rate(rows, again)}",
        f"  (c) 逐行 ORM 导入 {naive_rows:,} 行 × {rows / naive_rows:g}  {naive_scaled:>8.1f} 秒 {_rate(rows, naive_scaled)}"
        f"   = {naive_scaled / imp:.1f} × Yibao 导入",
        f"  导入进程峰值内存 {f['import']['peak_rss_mb']:,} MB（原始插入进程 {f['raw']['peak_rss_mb']:,} MB）",
        f"  导入结果：新增 {result['imported']:,}，拒绝 {result['rejected']:,}，警告 {result['warnings']:,}，"
        f"新建家庭户 {result.get('households', 0):,}",
        "  导入各阶段（秒）：" + "，".join(f"{name} {sec}" for name, sec in f["import"]["phases"]),
        "  重复导入各阶段（秒）：" + "，".join(f"{name} {sec}" for name, sec in f["reimport"]["phases"]),
    ]
    return "\n".join(lines)


def markdown_row(f: dict, naive_rows: int) -> str:
    raw, imp, again, naive = (f["raw"]["seconds"] or TINY, f["import"]["seconds"] or TINY, f["reimport"]["seconds"],
                              f["naive"]["seconds"])
    naive_scaled = naive * f["rows"] / naive_rows
    return (
        f"| {f['version']} | {f['rows']:,} | {raw:.1f} s | {imp:.1f} s | **{imp / raw:.2f}×** | {again:.1f} s "
        f"| {naive_scaled:.0f} s（{naive_scaled / imp:.0f}×） | {f['import']['peak_rss_mb']:,} MB |"
    )


@benchmark("imports", "户籍名单导入：Yibao 导入 vs 原始批量插入 vs 逐行 ORM")
def run(options) -> None:
    from bench.data import write_register
    from yibao.demo.county import regions

    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rows, naive_rows = options.rows, min(options.naive_rows, options.rows)
    csv = workdir / f"register-{rows}.csv"
    if not csv.exists():
        started = time.perf_counter()
        villages = [code for code, _name in regions() if len(code) == 12]
        write_register(csv, rows, villages)
        print(f"  生成 {rows:,} 行户籍名单 CSV：{time.perf_counter() - started:.1f} 秒，{csv.stat().st_size / 1e6:.0f} MB",
              file=sys.stderr)
    engines = ["sqlite"]
    if "postgresql" in options.databases:
        if postgres_answers():
            engines.append("postgresql")
        else:
            print("  PostgreSQL 未在 127.0.0.1:5432 应答，只测 SQLite。", file=sys.stderr)
    if "sqlite" not in options.databases:
        engines.remove("sqlite")
    results = []
    for engine in engines:
        figures = measure(engine, rows, naive_rows, workdir, csv)
        results.append(figures)
        print(report(figures, naive_rows), flush=True)
        print(flush=True)
    print("| 数据库 | 行数 | (a) 原始批量插入 | (b) Yibao 导入 | (b)/(a) | 重复导入 | (c) 逐行 ORM（推算） | 导入峰值内存 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for figures in results:
        print(markdown_row(figures, naive_rows))
    (workdir / "imports.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
