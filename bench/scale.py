"""Benchmark: a province-like tree of counties in one PostgreSQL database (省级规模).

    make bench BENCH_ARGS="--only scale"                              # 10 counties × 1,000,000 residents
    python -m bench --only scale --counties 10 --rows 100000          # a quicker run
    python -m bench --only scale --counties 3 --rows 300 --keep-database

PostgreSQL only (one database serving a city or a province is the case being measured; SQLite
is one county's file). The database yibao_bench_scale is dropped and created, and dropped again
at the end unless --keep-database.

Province 14 山西省, city 1406 朔州市, --counties counties (140621, 140622, …) of 20 townships × 20
villages, --rows residents each, under the city-wide policy shanxi-shuozhou-2024. Each county goes
through the real paths (bench/scale_worker.py, one process per step): register import, a 民政
identity list, last year's enrollments (copied in: not measured), campaign open, 核定, targets,
--counter-payments counter payments through the counter service, the rest by channel file
ingest, reconciliation against a tax file, progress refresh.

The figures, each beside its baseline from the same run:
  county alone vs all loaded  the first county's progress query (as bench/progress_query.py),
                              its county_admin home cards and one village's 催缴 list, measured
                              once when it is the only county in the database and again when
                              every county is loaded (goal ≤ 1.2×);
  city ranking                the city's counties ranked by yibao.progress.rollup (the ranking
                              page's data), goal < 200 ms, beside reading each county's
                              progress tree one after another;
  imports at once             the last two counties' register imports started together in two
                              processes, against the median single import of the earlier
                              counties; pg_stat_activity is sampled for lock waits meanwhile and
                              pg_stat_database for deadlocks.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import TINY, benchmark

ROOT = Path(__file__).resolve().parents[1]
PG_DATABASE = os.environ.get("YIBAO_BENCH_SCALE_DB", "yibao_bench_scale")  # the test uses its own
GOAL_RATIO = 1.2
GOAL_RANKING_MS = 200
# relation extension: two writers adding pages to the same table at once, a short wait on the file, no row
# or transaction held by the other county's import
PHYSICAL = {"extend"}


def _say(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _admin(sql: str) -> None:
    import psycopg

    from bench.imports import PG_ADMIN

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _url() -> str:
    from bench.imports import PG_ADMIN

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def _env(workdir: Path) -> dict:
    from bench.imports import _env as base_env
    from bench.scale_worker import TODAY

    env = base_env(_url(), workdir)
    env["YIBAO_TODAY"] = TODAY.isoformat()
    return env


def _command(step: str, workdir: Path, options, county: str = "") -> list[str]:
    command = [sys.executable, "-m", "bench.scale_worker", step, "--workdir", str(workdir), "--rows", str(options.rows),
               "--counties", str(options.counties), "--counter", str(options.counter_payments)]
    return command + (["--county", county] if county else [])


def _result(done_stdout: str, done_stderr: str, returncode: int, step: str, county: str) -> dict:
    if returncode != 0:
        raise RuntimeError(f"省级规模基准步骤 {step} {county} 失败：\n{done_stderr[-3000:]}")
    return json.loads(done_stdout.strip().splitlines()[-1])


def _step(step: str, workdir: Path, options, county: str = "") -> dict:
    done = subprocess.run(_command(step, workdir, options, county), cwd=ROOT, env=_env(workdir),
                          capture_output=True, text=True)
    return _result(done.stdout, done.stderr, done.returncode, step, county)


def _deadlocks() -> int:
    import psycopg

    with psycopg.connect(_url(), autocommit=True) as conn:
        return conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = %s", [PG_DATABASE]).fetchone()[0]


def imports_together(counties: list[str], workdir: Path, options) -> dict:
    """Start the counties' imports at once; sample lock waits on the bench database until both end."""
    import psycopg

    deadlocks = _deadlocks()
    began = time.perf_counter()
    logs = [(workdir / f"together-{c}.out", workdir / f"together-{c}.err") for c in counties]
    procs = []
    for county, (out, err) in zip(counties, logs):
        with open(out, "w") as o, open(err, "w") as e:
            procs.append(subprocess.Popen(_command("import", workdir, options, county), cwd=ROOT, env=_env(workdir),
                                          stdout=o, stderr=e))
    seen = []  # (time, {(wait event, the waiting statement's first word)})
    with psycopg.connect(_url(), autocommit=True) as conn:
        while any(p.poll() is None for p in procs):
            rows = conn.execute(
                "SELECT wait_event, split_part(ltrim(query), ' ', 1) FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()", [PG_DATABASE]
            ).fetchall()
            seen.append((time.time(), {(w, (q or "").upper()) for w, q in rows}))
            time.sleep(0.2)
    wall = time.perf_counter() - began
    results = []
    for county, proc, (out, err) in zip(counties, procs, logs):
        results.append(_result(out.read_text(), err.read_text(), proc.returncode, "import", county))
    # the imports' own window: both writing. Outside it each process generates its files or runs the bench's
    # ANALYZE of the big tables, which waits for the other's ANALYZE (that lock conflicts with itself)
    start, end = max(r["started_at"] for r in results), min(r["ended_at"] for r in results)
    inside = [events for at, events in seen if start <= at <= end]
    waiting: dict[str, int] = {}
    for events in inside:
        for w in {w for w, _q in events}:
            waiting[w] = waiting.get(w, 0) + 1
    outside: dict[str, int] = {}
    for _at, events in seen:
        if events and not start <= _at <= end:
            for key in {f"{w} ({q})" for w, q in events}:
                outside[key] = outside.get(key, 0) + 1
    return {"wall_seconds": round(wall, 2), "imports": results, "lock_samples": len(inside),
            "lock_wait_samples": sum(1 for e in inside if e),
            "logical_wait_samples": sum(1 for e in inside if {w for w, _q in e} - PHYSICAL), "lock_waits_on": waiting,
            "samples_outside": len(seen) - len(inside), "waits_outside": outside,
            "deadlocks": _deadlocks() - deadlocks, "overlap_seconds": round(end - start, 2)}


def _size() -> str:
    import psycopg

    with psycopg.connect(_url(), autocommit=True) as conn:
        return conn.execute("SELECT pg_size_pretty(pg_database_size(%s))", [PG_DATABASE]).fetchone()[0]


def _save(figures: dict, workdir: Path) -> None:
    """What is measured so far (a long run that stops halfway still leaves its figures)."""
    (workdir / "scale-partial.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2, default=str),
                                                encoding="utf-8")


def _year_line(y: dict) -> str:
    return (f"    核定 {y['assess_seconds']} 秒，窗口收款 {y['counter']['paid']} 笔每笔 {y['counter']['median_ms']} 毫秒，"
            f"渠道明细 {y['channel_lines']:,} 行入账 {y['ingest_seconds']} 秒，对账 {y['reconcile_seconds']} 秒，"
            f"统计 {y['refresh_seconds']} 秒")


def measure(options) -> dict:
    from bench.imports import database_version
    from bench.scale_worker import county_codes

    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    counties = county_codes(options.counties)
    partial = workdir / "scale-partial.json"
    began = time.perf_counter()
    if getattr(options, "resume", False) and partial.exists():  # an interrupted run: its database is still there
        figures = json.loads(partial.read_text(encoding="utf-8"))
        figures.setdefault("resumed", []).append(time.strftime("%Y-%m-%d %H:%M"))
        from bench.imports import migrate

        migrate(_url(), workdir)  # the code may have moved on since: its migrations first
        _say(f"接着 {figures['started']} 开始的运行继续：已完成 {len(figures['years'])} 个县")
    else:
        _admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        _admin(f"CREATE DATABASE {PG_DATABASE}")
        from bench.imports import migrate

        migrate(_url(), workdir)
        figures = {"counties": options.counties, "rows": options.rows, "version": database_version("postgresql", _url()),
                   "started": time.strftime("%Y-%m-%d %H:%M"), "load_before": os.getloadavg()[0], "years": {}}
        _say(f"行政区划：省 14、市 1406、{options.counties} 个县")
        figures["regions"] = _step("regions", workdir, options)
        figures["imports"] = []
    # the pair imported together at the end; the others one at a time
    pair = counties[-2:] if len(counties) >= 3 else []
    single = [c for c in counties if c not in pair]
    for i, county in enumerate(single):
        if county in figures["years"]:
            continue
        _say(f"县 {county}：导入户籍名单 {options.rows:,} 人与民政名单")
        figures["imports"].append(_step("import", workdir, options, county))
        _say(f"    导入 {figures['imports'][-1]['import_seconds']} 秒")
        _say(f"县 {county}：开启年度、核定、窗口收款、渠道明细入账、对账、统计")
        figures["years"][county] = _step("year", workdir, options, county)
        _say(_year_line(figures["years"][county]))
        _save(figures, workdir)
        if i == 0:
            _say(f"县 {county} 单独在库时的查询")
            figures["alone"] = _step("measure", workdir, options, county)
            _say(f"    进度查询 {figures['alone']['query_ms']} 毫秒，首页卡片 {figures['alone']['home_ms']} 毫秒")
            _save(figures, workdir)
    if pair and not all(c in figures["years"] for c in pair):
        _say(f"县 {pair[0]} 与 {pair[1]} 同时导入户籍名单")
        figures["together"] = imports_together(pair, workdir, options)
        _say("    " + "，".join(f"{i['county']} {i['import_seconds']} 秒" for i in figures["together"]["imports"])
             + f"，锁等待采样 {figures['together']['lock_wait_samples']}/{figures['together']['lock_samples']}")
        _save(figures, workdir)
        for county in pair:
            _say(f"县 {county}：开启年度、核定、窗口收款、渠道明细入账、对账、统计")
            figures["years"][county] = _step("year", workdir, options, county)
            _say(_year_line(figures["years"][county]))
            _save(figures, workdir)
    _say(f"全部 {options.counties} 个县在库时的查询")
    figures["all"] = _step("measure", workdir, options, counties[0])
    figures["database_size"] = _size()
    figures["load_after"] = os.getloadavg()[0]
    figures["total_seconds"] = round(time.perf_counter() - began, 1)  # of this run (a resumed one: since resuming)
    if not getattr(options, "keep_database", False):
        _admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
    return figures


def _ratio(after: float, before: float) -> float:
    return round((after or TINY) / (before or TINY), 2)


def _verdict(ok: bool) -> str:
    return "达标" if ok else "未达标"


def report(f: dict) -> str:
    alone, every = f["alone"], f["all"]
    total = every["residents_total"]
    lines = [
        f"省级规模：{f['counties']} 个县 × {f['rows']:,} 人（库中居民 {total:,} 人）· {f['version']} · "
        f"数据库 {f['database_size']} · 共 {f['total_seconds']:,.0f} 秒",
        f"  县 {alone['county']}（基线：该县单独在库时，库中 {alone['residents_total']:,} 人） → 全部县在库时",
    ]
    for label, key in (("全县进度查询", "query_ms"), ("县管理员首页待办卡片", "home_ms"), ("一个村的催缴名单", "remind_ms")):
        ratio = _ratio(every[key], alone[key])
        goal = f"（目标 ≤ {GOAL_RATIO}×，{_verdict(ratio <= GOAL_RATIO)}）" if key != "remind_ms" else ""
        lines.append(f"    {label:<12}  {alone[key]:>8} 毫秒 → {every[key]:>8} 毫秒  = {ratio}×{goal}")
    waits = [(name, f[key].get("quiet")) for name, key in (("单独", "alone"), ("全部", "all")) if f[key].get("quiet")]
    if waits:
        lines.append("    测量前先等 autovacuum 结束（它在大批写入后扫大表，2 核机器上与查询争 CPU 和磁盘）："
                     + "，".join(f"{name} {q['waited_seconds']} 秒" + ("（仍在运行）" if q["still_running"] else "")
                                for name, q in waits))
    same = alone["answer"] == every["answer"]
    lines.append(f"    两次查询的全县数字{'相同' if same else '不同'}：参保 {every['answer']['enrolled']:,}，"
                 f"缴费 {every['answer']['paid']:,}，目标 {every['answer']['target'] or 0:,}")
    ranking = every["ranking_ms"]
    lines.append(f"  市排名（{every['ranking_counties']} 个县，{every['ranking_by']}）：{ranking} 毫秒"
                 f"（目标 < {GOAL_RANKING_MS} 毫秒，{_verdict(ranking < GOAL_RANKING_MS)}）；"
                 f"基线：逐县读各县进度树 {every.get('ranking_per_county_ms', '—')} 毫秒")
    singles = [i["import_seconds"] for i in f["imports"]]
    base = statistics.median(singles) if singles else None
    lines.append(f"  户籍名单导入（每县 {f['rows']:,} 人）单独：" + "，".join(f"{s:.1f}" for s in singles) + " 秒"
                 + (f"（中位数 {base:.1f} 秒）" if base is not None else ""))
    together = f.get("together")
    if together and base:
        parts = "，".join(f"{i['county']} {i['import_seconds']:.1f} 秒（{_ratio(i['import_seconds'], base)}× 单独）"
                         for i in together["imports"])
        blocked, on = together["lock_wait_samples"], together["lock_waits_on"]
        on = on if isinstance(on, dict) else {w: None for w in on}
        logical = together.get("logical_wait_samples", sum(1 for w in on if w not in PHYSICAL))
        lines.append(f"  两县同时导入：{parts}；墙钟 {together['wall_seconds']:.1f} 秒（含生成名单、民政名单），"
                     f"两个导入同时在写 {together['overlap_seconds']:.1f} 秒")
        kinds = "、".join(f"{w} {n}" if n is not None else w for w, n in on.items())
        lines.append(f"    两个导入同时在写时等锁采样 {blocked}/{together['lock_samples']}" + (f"（{kinds}）" if blocked else "")
                     + f"，其中行锁、事务锁、咨询锁 {logical}，死锁 {together['deadlocks']}："
                     + ("互不阻塞" if not logical and not together["deadlocks"] else "有阻塞")
                     + ("（extend 是两个进程同时给同一张表追加页时的短暂等待）" if blocked and not logical else ""))
        if together.get("waits_outside"):
            lines.append(f"    两个导入同时在写之外（生成名单、基准自己的 ANALYZE）：{together['samples_outside']} 次采样中等锁 "
                         + "、".join(f"{k} {n}" for k, n in together["waits_outside"].items()))
    elif not together:
        lines.append("  两县同时导入：至少 3 个县才测（第一个县单独导入作基线）")
    years = list(f["years"].values())

    def med(key: str) -> float:
        return statistics.median([y[key] for y in years])

    counter = [y["counter"]["median_ms"] for y in years if y["counter"]["median_ms"] is not None]
    lines.append(
        f"  每县（中位数）：核定 {med('assess_seconds'):.1f} 秒，渠道明细入账 {statistics.median([y['channel_lines'] for y in years]):,.0f} 行 "
        f"{med('ingest_seconds'):.1f} 秒，对账 {med('reconcile_seconds'):.1f} 秒，进度统计 {med('refresh_seconds'):.1f} 秒，"
        f"窗口收款 {years[0]['counter']['paid']} 笔 每笔 {statistics.median(counter) if counter else 0:.0f} 毫秒"
    )
    lines.append(f"  机器：{os.cpu_count()} 核，1 分钟负载 开始 {f['load_before']:.1f} / 结束 {f['load_after']:.1f}")
    return "\n".join(lines)


@benchmark("scale", "省级规模：多县同库（仅 PostgreSQL）")
def run(options) -> None:
    from bench.imports import postgres_answers

    if "postgresql" not in options.databases:
        print("省级规模基准只在 PostgreSQL 上运行（一个库服务全市、全省）；本次未选 PostgreSQL，跳过。")
        return
    if not postgres_answers():
        print("省级规模基准只在 PostgreSQL 上运行；PostgreSQL 未在 127.0.0.1:5432 应答，跳过。")
        return
    try:
        figures = measure(options)
    except BaseException:
        if not getattr(options, "keep_database", False):
            _admin(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        raise
    print(report(figures), flush=True)
    (Path(options.workdir) / "scale.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2, default=str),
                                                      encoding="utf-8")
