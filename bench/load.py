"""Latency under load: the production stack against runserver, on loopback, in the same run (issue #11).

    python -m bench.load                                     # 1,000,000 residents, 60 s a case, SQLite and PostgreSQL
    python -m bench.load --rows 100000 --load-seconds 20 --databases sqlite     # a quicker run
    make bench BENCH_ARGS="--only load --rows 100000 --load-seconds 20"

For each database a fresh county is built (bench/progress_query.py's builder: 20 townships × 25
villages, assessed, enrolled, paid, with targets and the rollup), plus 16 village collectors with
households still to pay and 20 county administrators. Then the production stack (bench/stack.py:
gunicorn, DEBUG off, the task worker beside it) and runserver are started on free loopback ports,
and locust (bench/locustfile.py, headless, its own process) drives each case against each server:

  quote      POST /api/quote at 200 requests/s               goal: p95 < 20 ms, 0 errors
  counter    16 collectors booking counter payments for      goal: booking p95 < 150 ms, 0 errors,
             different households at once, each with its           receipts numbered 1..N without gaps
             receipt PDF
  progress   20 county administrators opening the progress   goal: p95 < 200 ms
             page and the home page (its cards) at once

Each line gives p50/p95/p99 (milliseconds, as locust measures them, i.e. including the client's own
time on a busy machine), throughput and errors. The users log in once each (the lockout is on; the
second factor is off for the benchmark). Every figure comes from a scratch database, never the
development one.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import benchmark
from bench.stack import ROOT, bench_env, cores, start_production, start_runserver

COUNTY = "340321"
YEAR = 2025
TODAY = "2024-11-15"  # inside the 2025 campaign's collection window
PASSWORD = "bench-load-2024"
COLLECTORS = 16
ADMINS = 20
QUOTE_RATE = 200
QUOTE_USERS = 50
WARMUP_SECONDS = 2  # after every user has logged in, before the statistics start
PG_DATABASE = "yibao_bench_load"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


CASES = {
    "quote": {"title": "测算接口 POST /api/quote，每秒 200 次", "user": "QuoteUser", "users": QUOTE_USERS,
              "requests": ["quote"], "goal_ms": 20, "goal_on": "quote"},
    "counter": {"title": "16 名村征收员同时窗口收款（每笔含票据 PDF）", "user": "CollectorUser", "users": COLLECTORS,
                "requests": ["booking", "receipt_pdf"], "goal_ms": 150, "goal_on": "booking"},
    "progress": {"title": "20 人同时打开征缴进度页和首页卡片", "user": "ProgressUser", "users": ADMINS,
                 "requests": ["progress", "home"], "goal_ms": 200, "goal_on": "*"},
}


# ---------------------------------------------------------------- inside the build process (Django loaded)


def collector_villages() -> list[str]:
    """One village in each of 16 townships (the builder's codes: township 100…119, village 201…225)."""
    return [f"{COUNTY}{100 + t:03d}201" for t in range(COLLECTORS)]


def _households(per_collector: int) -> dict:
    """For each collector's village, households of two not yet paid (a head and a spouse), two sets:
    one for the production stack's run, one for runserver's."""
    import datetime as dt

    from django.utils import timezone

    from yibao.registry.models import Household, Resident

    now = timezone.now()
    plan = {}
    for c, village in enumerate(collector_villages()):
        plan[village] = {}
        for part in ("production", "runserver"):
            homes = Household.objects.bulk_create([
                Household(county_code=COUNTY, township_code=village[:9], village_code=village,
                          number=f"L{c:02d}{part[0]}{h:05d}", created_at=now, updated_at=now)
                for h in range(per_collector)
            ])
            people = []
            for home in homes:
                for role, sex, birth in (("户主", "M", dt.date(1970, 3, 3)), ("配偶", "F", dt.date(1972, 6, 1))):
                    people.append(Resident(county_code=COUNTY, township_code=village[:9], village_code=village,
                                           id_number=f"{home.number}{sex}", name=f"收款{home.number[-4:]}{role}",
                                           sex=sex, birth_date=birth, hukou_region_code=village, household=home,
                                           relation_to_head=role, created_at=now, updated_at=now))
            Resident.objects.bulk_create(people)
            ids = dict(Resident.objects.filter(household__in=homes).values_list("id_number", "pk"))
            plan[village][part] = [{"id": home.pk, "residents": [ids[f"{home.number}M"], ids[f"{home.number}F"]]}
                                   for home in homes]
    return plan


def build(rows: int, per_collector: int, plan_path: Path) -> dict:
    """Migrate, build the county (progress_query's builder), its rollup, the collectors' households, the users."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from bench.progress_query import _generate
    from yibao.accounts.models import User
    from yibao.progress.services import progress_refresh

    call_command("migrate", verbosity=0, interactive=False)
    began = time.monotonic()
    with transaction.atomic():
        sizes = _generate(rows)
        households = _households(per_collector)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    progress_refresh(county_code=COUNTY, benefit_year=YEAR)
    hashed = make_password(PASSWORD)  # once: 36 accounts with the same password
    collectors = []
    for c, village in enumerate(collector_villages()):
        username = f"cun{c + 1:02d}"
        User.objects.create(username=username, password=hashed, role="village_collector", region_code=village,
                            first_name=f"征收员{c + 1}")
        collectors.append({"username": username, "village": village, "households": households[village]})
    admins = []
    for a in range(ADMINS):
        username = f"xian{a + 1:02d}"
        User.objects.create(username=username, password=hashed, role="county_admin", region_code=COUNTY)
        admins.append(username)
    plan = {"password": PASSWORD, "collectors": collectors, "admins": admins}
    plan_path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return {**sizes, "backend": connection.vendor, "build_seconds": round(time.monotonic() - began, 1),
            "households_per_collector": per_collector}


def receipts_check() -> dict:
    """The county's receipt series after the runs: numbers 1..N, none missing, none twice."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    django.setup()
    from yibao.collection.models import Payment, Receipt

    numbers = sorted(Receipt.objects.filter(county_code=COUNTY, benefit_year=YEAR).values_list("number", flat=True))
    counter = Payment.objects.filter(county_code=COUNTY, benefit_year=YEAR, source="counter", status="booked",
                                     receipt_line__isnull=False).count()
    return {"receipts": len(numbers), "gapless": numbers == list(range(1, len(numbers) + 1)),
            "counter_payments": counter, "missing": sorted(set(range(1, (numbers[-1] if numbers else 0) + 1)) - set(numbers))[:10]}


# ---------------------------------------------------------------- the driver (no Django here)


def _fresh_database(engine: str, workdir: Path) -> str:
    if engine == "sqlite":
        path = workdir / "load.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg

    from bench.imports import PG_ADMIN

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_DATABASE}")
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DATABASE}"


def _drop_database(engine: str) -> None:
    if engine == "postgresql":
        import psycopg

        from bench.imports import PG_ADMIN

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")


def _in_django(env: dict, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.load", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"负载基准准备失败：\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_case(case: str, server, seconds: int, plan: Path, part: str, out: Path, warmup: float = WARMUP_SECONDS) -> dict:
    """locust, headless, in its own process: one case against one server. Returns the figures per request name."""
    spec = CASES[case]
    prefix = out / f"{case}-{part}"
    env = dict(os.environ)
    env.update({"BENCH_LOAD_PLAN": str(plan), "BENCH_LOAD_PART": part, "BENCH_LOAD_USERS": str(spec["users"]),
                "BENCH_LOAD_SECONDS": str(seconds), "BENCH_LOAD_WARMUP": str(warmup),
                "BENCH_QUOTE_RATE_PER_USER": str(QUOTE_RATE / QUOTE_USERS)})
    # the locustfile ends the run itself after logins + warm-up + `seconds`; -t is only a safety limit
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "-u", str(spec["users"]), "-r", str(spec["users"]), "-t", f"{seconds + 300}s", "--stop-timeout", "10",
               "--host", server.url, "--csv", str(prefix), "--loglevel", "ERROR", spec["user"]]
    offset = server.request_log.stat().st_size if server.request_log and server.request_log.exists() else 0
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 360, check=False)
    stats = prefix.with_name(prefix.name + "_stats.csv")
    if not stats.exists():
        raise RuntimeError(f"locust 未给出结果（代码 {done.returncode}）：\n{done.stderr[-3000:]}")
    rows = {}
    with open(stats, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = "*" if row["Name"] == "Aggregated" else row["Name"]
            if name in spec["requests"] or name == "login" or name == "*":
                rows[name] = {
                    "count": int(row["Request Count"]), "errors": int(row["Failure Count"]),
                    "rps": float(row["Requests/s"]), "p50": _ms(row["50%"]), "p95": _ms(row["95%"]),
                    "p99": _ms(row["99%"]), "max": _ms(row["Max Response Time"]),
                }
    # the case's own requests only (logins counted apart), for the goal on "*"
    own = [rows[n] for n in spec["requests"] if n in rows]
    if spec["goal_on"] == "*" and own:
        rows["*"] = _combined(own, out / f"{case}-{part}_stats_history.csv")
    failures = []
    failed = prefix.with_name(prefix.name + "_failures.csv")
    if failed.exists():
        with open(failed, newline="", encoding="utf-8") as fh:
            failures = [f"{r['Name']}: {r['Error']} ×{r['Occurrences']}" for r in csv.DictReader(fh)]
    return {"case": case, "server": server.name, "detail": server.detail, "seconds": seconds, "requests": rows,
            "failures": failures[:5], "locust_exit": done.returncode,
            "in_server": in_server(server.request_log, offset, spec["requests"])}


SERVER_PATHS = {
    "quote": re.compile(r"^/api/quote$"), "booking": re.compile(r"^/api/collection/counter-payments$"),
    "receipt_pdf": re.compile(r"^/api/collection/receipts/\d+/pdf$"), "progress": re.compile(r"^/progress/$"),
    "home": re.compile(r"^/$"),
}


def _rank(ordered: list[float], q: float) -> float:
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def in_server(log: Path | None, offset: int, names: list[str]) -> dict:
    """p50/p95 of the time the app itself took (its request log's duration_ms), for the run's requests
    (the warm-up included): what the server spends, without the client's or the socket queue's share."""
    if log is None or not log.exists():
        return {}
    durations: dict[str, list[float]] = {n: [] for n in names}
    with open(log, "rb") as fh:
        fh.seek(offset)
        for raw in fh:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            for name in names:
                if SERVER_PATHS[name].match(line.get("path", "")):
                    durations[name].append(float(line.get("duration_ms", 0)))
    out = {}
    for name, values in durations.items():
        if values:
            values.sort()
            out[name] = {"count": len(values), **{f"p{round(q * 100)}": _rank(values, q) for q in (0.50, 0.95, 0.99)}}
    return out


def _ms(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):  # "N/A" when nothing was measured
        return None


def _combined(parts: list[dict], _history: Path) -> dict:
    """Two request kinds taken together: counts and rates add up; the percentiles are the worse of the two
    (locust's CSV keeps no joint distribution), so the goal is checked on the slower page."""
    return {
        "count": sum(p["count"] for p in parts), "errors": sum(p["errors"] for p in parts),
        "rps": round(sum(p["rps"] for p in parts), 1),
        **{k: max((p[k] for p in parts if p[k] is not None), default=None) for k in ("p50", "p95", "p99", "max")},
    }


NAMES = {"quote": "测算", "booking": "收款入账", "receipt_pdf": "票据 PDF", "progress": "进度页", "home": "首页",
         "*": "合计（分位数取较慢者）"}


def _verdict(case: str, figures: dict, receipts: dict | None = None) -> str:
    spec = CASES[case]
    row = figures["requests"].get(spec["goal_on"])
    if not row or row["p95"] is None:
        return "无结果"
    errors = sum(figures["requests"][n]["errors"] for n in spec["requests"] if n in figures["requests"])
    errors += figures["requests"].get("login", {}).get("errors", 0)
    ok = row["p95"] < spec["goal_ms"] and errors == 0
    if receipts is not None:
        ok = ok and receipts["gapless"]
    return "达标" if ok else "未达标"


def report(case: str, results: list[dict], receipts: dict | None = None) -> str:
    spec = CASES[case]
    lines = [f"{spec['title']}（目标 p95 < {spec['goal_ms']} 毫秒，0 错误）"]
    lines.append(f"  {'服务':<22}{'请求':<12}{'次数':>7}{'吞吐 次/秒':>12}{'p50':>8}{'p95':>8}{'p99':>8}{'错误':>6}"
                 "   （毫秒，客户端测得；服务端 = 应用自身用时，见请求日志 duration_ms）")
    for figures in results:
        for name in spec["requests"] + (["*"] if spec["goal_on"] == "*" else []):
            row = figures["requests"].get(name)
            if not row:
                continue
            inside = figures.get("in_server", {}).get(name)
            lines.append(f"  {figures['server']:<22}{NAMES[name]:<12}{row['count']:>7,}{row['rps']:>12.1f}"
                         f"{_fmt(row['p50'])}{_fmt(row['p95'])}{_fmt(row['p99'])}{row['errors']:>6}"
                         + (f"   服务端 p50 {inside['p50']:.0f} / p95 {inside['p95']:.0f}" if inside else ""))
        lines.append(f"    → {figures['server']}：{_verdict(case, figures, receipts if 'gunicorn' in figures['server'] else None)}"
                     + (f"；错误示例：{'；'.join(figures['failures'])}" if figures["failures"] else ""))
    if receipts is not None:
        lines.append(f"  票据号：{receipts['receipts']:,} 张，{'从 1 起连续无缺号' if receipts['gapless'] else '有缺号：' + str(receipts['missing'])}"
                     f"；窗口缴费 {receipts['counter_payments']:,} 笔")
    return "\n".join(lines)


def _fmt(value) -> str:
    return f"{value:>8.0f}" if value is not None else f"{'—':>8}"


def markdown_rows(engine: str, case: str, results: list[dict]) -> list[str]:
    spec = CASES[case]
    rows = []
    for figures in results:
        row = figures["requests"].get(spec["goal_on"])
        if not row:
            continue
        errors = sum(figures["requests"][n]["errors"] for n in spec["requests"] if n in figures["requests"])
        inside = figures.get("in_server", {})
        names = spec["requests"] if spec["goal_on"] == "*" else [spec["goal_on"]]
        served = max((inside[n]["p95"] for n in names if n in inside), default=None)
        rows.append(f"| {engine} | {case} | {figures['server']} | {row['count']:,} | {row['rps']:.1f} | "
                    f"{_fmt(row['p50']).strip()} | {_fmt(row['p95']).strip()} | {_fmt(row['p99']).strip()} | {errors} | "
                    f"{_fmt(served).strip()} |")
    return rows


def measure(engine: str, rows: int, seconds: int, workdir: Path, cases: list[str], servers: list[str],
            workers: int | None = None, warmup: float = WARMUP_SECONDS) -> dict:
    """Build the county on `engine`, start the servers, run each case against each server."""
    out = workdir / f"load-{engine}"
    out.mkdir(parents=True, exist_ok=True)
    url = _fresh_database(engine, workdir)
    env = bench_env(url, out / "var", today=TODAY)
    plan = out / "plan.json"
    per_collector = max(30, seconds * 12)  # more than a collector can book in the time, on this machine
    print(f"  构建 {rows:,} 人的县（{engine}），每名征收员 {per_collector} 户待缴……", file=sys.stderr, flush=True)
    built = _in_django(env, "--build", str(rows), "--households", str(per_collector), "--plan", str(plan))
    started = []
    figures: dict = {"engine": engine, "built": built, "cases": {}, "seconds": seconds, "cores": cores()}
    try:
        for name in servers:
            print(f"  启动 {name}……", file=sys.stderr, flush=True)
            own = {**env, "YIBAO_REQUEST_LOG": str(out / f"requests-{name}.log")}  # each server its own log
            started.append(start_production(own, workers=workers, log_dir=out) if name == "production"
                           else start_runserver(own, log_dir=out))
        for case in cases:
            results = []
            for name, server in zip(servers, started):
                print(f"  {CASES[case]['title']} → {server.name}，{seconds} 秒……", file=sys.stderr, flush=True)
                results.append(run_case(case, server, seconds, plan, name, out, warmup))
            receipts = _in_django(env, "--check-receipts") if case == "counter" else None
            figures["cases"][case] = {"results": results, "receipts": receipts}
            print(report(case, results, receipts), flush=True)
    finally:
        for server in started:
            server.stop()
    _drop_database(engine)
    return figures


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cores()} 核 {model}，平均负载 {load}（开始时）"


def run(options) -> list[dict]:
    from bench.imports import postgres_answers

    workdir = Path(options.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    seconds = getattr(options, "load_seconds", 60)
    cases = getattr(options, "cases", None) or list(CASES)
    servers = getattr(options, "servers", None) or ["production", "runserver"]
    engines = [e for e in ("sqlite", "postgresql") if e in options.databases]
    if "postgresql" in engines and not postgres_answers():
        print("  PostgreSQL 未在 127.0.0.1:5432 应答，只测 SQLite。", file=sys.stderr)
        engines.remove("postgresql")
    print(f"机器：{machine()}", flush=True)
    results = []
    for engine in engines:
        figures = measure(engine, options.rows, seconds, workdir, cases, servers, getattr(options, "workers", None),
                          getattr(options, "load_warmup", WARMUP_SECONDS))
        results.append(figures)
    print("| 数据库 | 案例 | 服务 | 请求数 | 吞吐（次/秒） | p50 毫秒 | p95 毫秒 | p99 毫秒 | 错误 | 服务端 p95 毫秒 |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for figures in results:
        for case, data in figures["cases"].items():
            for line in markdown_rows(figures["engine"], case, data["results"]):
                print(line)
    (workdir / "load.json").write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return results


@benchmark("load", "负载下的响应时间：生产服务（gunicorn）与 runserver 对比")
def bench_load(options) -> None:
    run(options)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description="负载下的响应时间基准")
    parser.add_argument("--rows", type=int, default=1_000_000, help="县的人数（默认 1,000,000）")
    parser.add_argument("--load-seconds", type=int, default=60, help="每个案例对每个服务施压的秒数（默认 60）")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite、postgresql，逗号分隔")
    parser.add_argument("--cases", default=",".join(CASES), help="quote、counter、progress，逗号分隔")
    parser.add_argument("--servers", default="production,runserver", help="production、runserver，逗号分隔")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn 工作进程数（默认 2 × 核数 + 1）")
    parser.add_argument("--load-warmup", type=float, default=WARMUP_SECONDS, help="全部登录后、开始计时前的预热秒数")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--households", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--check-receipts", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build:
        print(json.dumps(build(args.build, args.households, Path(args.plan)), ensure_ascii=False, default=str))
        return
    if args.check_receipts:
        print(json.dumps(receipts_check(), ensure_ascii=False))
        return
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    args.workdir = args.workdir or tempfile.mkdtemp(prefix="yibao-bench-")
    run(args)


if __name__ == "__main__":
    main()
