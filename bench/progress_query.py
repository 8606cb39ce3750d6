"""Benchmark: the county-wide progress query for a county of N residents (goal: under 200 ms).

    python -m bench.progress_query --residents 1000000             # SQLite, and PostgreSQL when it answers
    python -m bench.progress_query --residents 100000 --backend sqlite

Each backend runs in a fresh process on a scratch database (a temporary SQLite file; on
PostgreSQL the database yibao_bench_progress, created and dropped). The county: 20 townships ×
25 villages, ~8% of residents with a subsidy identity, 90% assessed (核定) this year, 90% enrolled last year, this year 80%
enrolled (70% by a booked payment spread over the collection window, the rest 免缴 or only
registered), and a target per village. The figures, each the median of several runs:
  baseline   the naive answer straight from the tables: grouped counts of booked payments and
             enrollments per village, and payments per day for the curve;
  query      what the dashboard runs: progress_tree (every unit, target, rate, pace, rank) and
             the county's daily history, from the rollup tables;
  refresh    rebuilding the county's rollup (the background job), once;
  village    refreshing one village (what a counter booking costs);
  home       the home page's cards for the county and for a village collector.
`run(residents=..., backends=...)` returns the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from bench.timing import median_ms, run_worker

COUNTY = "340321"
YEAR = 2025
PG_URL = os.environ.get("BENCH_PG_URL_PROGRESS", "postgresql://postgres@127.0.0.1:5432/yibao_bench_progress")


# ---------------------------------------------------------------- inside the worker process


def _insert(model, columns: list[str], rows) -> int:
    """Raw insert of ready tuples: executemany on SQLite, COPY on PostgreSQL. Other columns get their defaults."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    missing = [f for f in fields if f.attname not in columns]
    constants = tuple(f.get_db_prep_save(f.get_default(), connection) for f in missing)
    names = columns + [f.column for f in missing]
    table = model._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(n) for n in names)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + constants)
                    count += 1
        else:
            marks = ", ".join(["?"] * len(names))
            batch = []
            for row in rows:
                batch.append(row + constants)
                if len(batch) == 50_000:
                    cursor.cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", batch)
                count += len(batch)
    return count


def _generate(n: int, seed: int = 5) -> dict:
    import datetime as dt
    import random

    from django.db import connection
    from django.utils import timezone

    from yibao.collection.models import Payment
    from yibao.enrollment.models import Assessment, Campaign, Enrollment
    from yibao.progress.models import Target
    from yibao.regions.models import Region
    from yibao.registry.models import Identity, Resident

    rng = random.Random(seed)
    pg = connection.vendor == "postgresql"

    def stamp(value: dt.datetime) -> str:
        return value.isoformat() if pg else value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")

    Region.objects.create(code=COUNTY, name="怀远县", level=6, county_code=COUNTY)
    townships = [f"{COUNTY}{100 + t:03d}" for t in range(20)]
    villages = [f"{t}{201 + v:03d}" for t in townships for v in range(25)]
    Region.objects.bulk_create(
        [Region(code=t, name=f"第{i + 1}镇", level=9, county_code=COUNTY, parent_id=COUNTY) for i, t in enumerate(townships)]
        + [Region(code=v, name=f"第{i + 1}村", level=12, county_code=COUNTY, parent_id=v[:9]) for i, v in enumerate(villages)]
    )
    window_start, window_end = dt.date(2024, 9, 1), dt.date(2024, 12, 31)
    last = Campaign.objects.create(county_code=COUNTY, benefit_year=YEAR - 1, policy_id="anhui-huaiyuan-2025",
                                   policy_version="bench", collection_start=dt.date(2023, 9, 1),
                                   collection_end=dt.date(2023, 12, 31), status="closed")
    this = Campaign.objects.create(county_code=COUNTY, benefit_year=YEAR, policy_id="anhui-huaiyuan-2025",
                                   policy_version="bench", collection_start=window_start, collection_end=window_end)
    home = [rng.choice(villages) for _ in range(n)]
    now = stamp(timezone.now())
    _insert(Resident, ["county_code", "township_code", "village_code", "id_number", "name", "sex", "birth_date", "status",
                       "created_at", "updated_at"],
            ((COUNTY, v[:9], v, f"B{i:017d}", "居民", "M" if i % 2 else "F", "1980-01-01", "active", now, now)
             for i, v in enumerate(home, start=1)))
    holders = rng.sample(range(1, n + 1), n * 8 // 100)
    _insert(Identity, ["county_code", "resident_id", "code", "department"],
            ((COUNTY, pk, rng.choice(["tekun", "dibao", "monitored", "dibao_edge"]), "民政") for pk in holders))
    special = set(holders)
    codes = {pk: rng.choice(["tekun", "dibao", "monitored", "dibao_edge"]) for pk in holders}
    _insert(Assessment, ["county_code", "township_code", "village_code", "campaign_id", "benefit_year", "resident_id",
                         "assessed_on", "standard", "subsidy", "payable", "refund_later", "subsidy_identity",
                         "policy_version", "input_hash"],
            ((COUNTY, home[pk - 1][:9], home[pk - 1], this.pk, YEAR, pk, "2024-09-01", "400.00", "0.00", "400.00",
              "0.00", codes.get(pk, ""), "bench", "x") for pk in range(1, n + 1) if pk % 10))  # 90% assessed
    enrolled_last = rng.sample(range(1, n + 1), n * 9 // 10)
    _insert(Enrollment, ["county_code", "township_code", "village_code", "campaign_id", "benefit_year", "resident_id",
                         "id_number", "kind", "status"],
            ((COUNTY, home[pk - 1][:9], home[pk - 1], last.pk, YEAR - 1, pk, f"B{pk:017d}", "renewal", "paid")
             for pk in enrolled_last))
    days = (window_end - window_start).days + 1
    this_year, payments = [], []
    for pk in range(1, n + 1):
        draw = rng.random()
        if draw < 0.80:
            status = "paid"
        elif draw < 0.85:
            status = "registered"
        else:
            continue
        v = home[pk - 1]
        day = window_start + dt.timedelta(days=min(days - 1, int(rng.triangular(0, days, days * 0.2))))
        at = stamp(timezone.make_aware(dt.datetime.combine(day, dt.time(10))))
        this_year.append((COUNTY, v[:9], v, this.pk, YEAR, pk, f"B{pk:017d}", "renewal", status, at))
        if status == "paid" and not (pk in special and rng.random() < 0.5):
            counter = rng.random() < 0.1  # one in ten at the village counter, in cash
            payments.append((COUNTY, v[:9], v, this.pk, YEAR, pk, f"B{pk:017d}", "counter" if counter else "file",
                             "cash" if counter else "tax_app", f"P{pk}", "400.00", at, day.isoformat(), "booked",
                             f"{v}征收员" if counter else ""))
    _insert(Enrollment, ["county_code", "township_code", "village_code", "campaign_id", "benefit_year", "resident_id",
                         "id_number", "kind", "status", "updated_at"], iter(this_year))
    _insert(Payment, ["county_code", "township_code", "village_code", "campaign_id", "benefit_year", "resident_id",
                      "id_number", "source", "channel", "external_id", "amount", "paid_at", "paid_on", "status",
                      "collector_name"],
            iter(payments))
    per_village = {}
    for v in home:
        per_village[v] = per_village.get(v, 0) + 1
    Target.objects.bulk_create([
        Target(county_code=COUNTY, region_code=v, level=12, benefit_year=YEAR, total=count, source="import")
        for v, count in per_village.items()
    ])
    from yibao.progress.services import targets_rollup

    targets_rollup(county_code=COUNTY, benefit_year=YEAR)
    return {"residents": n, "enrollments": len(enrolled_last) + len(this_year), "payments": len(payments),
            "identities": len(holders), "villages": len(villages)}


def _naive() -> dict:
    """The same counts straight from payments and enrollments (no rollup)."""
    from django.db.models import Count

    from yibao.collection.models import Payment
    from yibao.enrollment.models import Enrollment

    booked = Payment.objects.filter(county_code=COUNTY, benefit_year=YEAR, status="booked")
    paid = dict(booked.values_list("village_code").annotate(n=Count("pk")).values_list("village_code", "n"))
    enrolled = dict(
        Enrollment.objects.filter(county_code=COUNTY, benefit_year=YEAR, status="paid")
        .values_list("village_code").annotate(n=Count("pk")).values_list("village_code", "n")
    )
    daily = dict(booked.values_list("paid_on").annotate(n=Count("pk")).values_list("paid_on", "n"))
    return {"paid": sum(paid.values()), "enrolled": sum(enrolled.values()), "days": len(daily)}


def _query() -> dict:
    import datetime as dt

    from yibao.progress.selectors import history_rows, progress_tree

    tree = progress_tree(county_code=COUNTY, benefit_year=YEAR, on=dt.date(2024, 11, 15))
    county = tree.get(COUNTY)
    rows = history_rows(county_code=COUNTY, benefit_year=YEAR, region_code=COUNTY, target=county.target,
                        window=tree.window, until=tree.on)
    return {"paid": county.paid, "enrolled": county.enrolled, "rate": str(county.rate), "days": len(rows),
            "townships": len(tree.descendants(COUNTY, 9)), "villages": len(tree.descendants(COUNTY, 12))}


def _home_ms() -> tuple[float, float]:
    """The home page's cards for the county (progress, 催缴) and for one village (and its cash not handed over)."""
    import datetime as dt

    from yibao.accounts.scope import Scope
    from yibao.progress.home import home_cards

    on = dt.date(2024, 11, 15)
    county = Scope(role="county_admin", region_code=COUNTY, user_id=1)
    village = Scope(role="village_collector", region_code=f"{COUNTY}100201", user_id=2)
    home_cards(scope=county, today=on)
    county_ms, cards = median_ms(lambda: home_cards(scope=county, today=on), 5)
    assert {c["key"] for c in cards} >= {"progress", "remind"}, cards
    village_ms, _ = median_ms(lambda: home_cards(scope=village, today=on), 5)
    return county_ms, village_ms


def worker(n: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    # the day the query asks for is the business day: live figures (a past day would read that day's snapshot)
    os.environ["YIBAO_TODAY"] = "2024-11-15"
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from yibao.progress.services import progress_refresh

    call_command("migrate", verbosity=0, interactive=False)
    began = time.monotonic()
    with transaction.atomic():
        sizes = _generate(n)
    generated = time.monotonic() - began
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    naive_ms, naive = median_ms(_naive, 3)
    began = time.monotonic()
    refresh = progress_refresh(county_code=COUNTY, benefit_year=YEAR)
    refresh_seconds = time.monotonic() - began
    _query()  # warm the policy cache and the connection
    query_ms, answer = median_ms(_query, 7)
    village = f"{COUNTY}100201"
    village_ms, _ = median_ms(
        lambda: progress_refresh(county_code=COUNTY, benefit_year=YEAR, village_codes=[village]), 3
    )
    assert answer["paid"] == naive["paid"] and answer["enrolled"] == naive["enrolled"], (answer, naive)
    home_county_ms, home_village_ms = _home_ms()
    return {
        "home_county_ms": home_county_ms, "home_village_ms": home_village_ms,
        "backend": connection.vendor, **sizes, "generate_seconds": round(generated, 1),
        "baseline_naive_ms": naive_ms, "query_ms": query_ms, "speedup": round(naive_ms / query_ms, 1) if query_ms else None,
        "goal_ms": 200, "under_goal": query_ms < 200, "refresh_seconds": round(refresh_seconds, 2),
        "refresh_villages": refresh["villages"], "refresh_days": refresh["days"], "village_refresh_ms": village_ms,
        "answer": answer,
    }


# ---------------------------------------------------------------- the driver


def _run_backend(backend: str, n: int) -> dict | None:
    return run_worker(backend, ["-m", "bench.progress_query", "--worker", str(n)], pg_url=PG_URL)


def run(residents: int = 1_000_000, backends=("sqlite", "postgresql"), echo: bool = True) -> list[dict]:
    results = []
    for backend in backends:
        figures = _run_backend(backend, residents)
        if figures is not None:
            print(report([figures]), file=sys.stderr if echo else sys.stdout, flush=True)  # as soon as measured
            results.append(figures)
    return results


def report(results: list[dict]) -> str:
    lines = []
    for r in results:
        verdict = "达标" if r["under_goal"] else "未达标"
        lines.append(
            f"全县进度查询 {r['residents']:,} 人（{r['backend']}，缴费 {r['payments']:,} 笔）：{r['query_ms']} 毫秒"
            f"（目标 200 毫秒，{verdict}）；直接统计基线 {r['baseline_naive_ms']} 毫秒，快 {r['speedup']} 倍；"
            f"全县重新统计 {r['refresh_seconds']} 秒；单村重新统计 {r['village_refresh_ms']} 毫秒；"
            f"首页待办卡片：县 {r['home_county_ms']} 毫秒，村 {r['home_village_ms']} 毫秒"
        )
    return "\n".join(lines)


try:  # the `make bench` registry (bench/__init__.py), when present
    from bench import benchmark

    @benchmark("progress", "全县征缴进度查询（目标 200 毫秒）")
    def bench_progress(options) -> None:
        run(options.rows, tuple(options.databases), echo=False)
except ImportError:  # pragma: no cover
    pass


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="全县征缴进度查询基准")
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker), ensure_ascii=False, default=str))
        return
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    results = run(args.residents, backends, echo=args.json)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
