"""Benchmark: the city's ranking of its counties (goal: under 200 ms for 10 counties of 1,000,000 residents each).

    python -m bench.rollup_query                     # SQLite, and PostgreSQL when it answers
    python -m bench.rollup_query --backend sqlite

The roll-up reads only the small tables, so the worker writes them as a recount of 10 counties of 1,000,000
residents leaves them: per county 20 townships × 25 villages (VillageProgress, village and county targets),
the daily curves (AreaDay) and a snapshot of every unit for each day of the window so far (DaySnapshot,
Sept 1 – Nov 15: 76 days × 521 units × 10 counties), campaigns, refresh times and two reconciliations a
month. The person tables hold only the people the roll-up touches: 1,000 催缴 marks per county (half 拒缴,
whose still-to-chase check probes the enrollment and payment indexes person by person), with their residents
and last year's enrollments. Figures, each the median of several runs:
  baseline   the per-county way: progress_tree of each of the 10 counties (what 10 county pages read);
  city       rollup() of the city, today's figures;
  past       rollup() of the city for a past day (the day snapshots);
  province   rollup() of the province (the same 10 counties in two cities).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench.progress_query import PG_URL as _PROGRESS_PG_URL
from bench.progress_query import _insert
from bench.timing import median_ms, run_worker

YEAR = 2025
PROVINCE, CITIES = "42", ("4212", "4213")
COUNTIES = [f"{CITIES[i // 5]}{21 + i:02d}" for i in range(10)]  # 5 counties in each city
PER_COUNTY = 1_000_000
PG_URL = os.environ.get("BENCH_PG_URL_ROLLUP", _PROGRESS_PG_URL.rsplit("/", 1)[0] + "/yibao_bench_rollup")


def _generate(townships: int = 20, villages_each: int = 25, marks: int = 1000, seed: int = 7) -> dict:
    import datetime as dt
    import random
    from decimal import Decimal

    from django.utils import timezone

    from yibao.collection.models import Payment  # noqa: F401  (the probe's table, empty here)
    from yibao.enrollment.models import Campaign, Enrollment
    from yibao.progress.models import AreaDay, DaySnapshot, ProgressRefresh, RemindMark, Target, VillageProgress
    from yibao.reconciliation.models import ReconciliationRun
    from yibao.regions.models import Region
    from yibao.registry.models import Resident

    rng = random.Random(seed)
    now = timezone.now()
    start, today = dt.date(2024, 9, 1), dt.date(2024, 11, 15)
    days = [start + dt.timedelta(days=n) for n in range((today - start).days + 1)]
    regions = [(PROVINCE, "湖北省", 2, PROVINCE)] + [(c, f"市{c}", 4, c) for c in CITIES]
    counts = {"villages": 0, "snapshots": 0, "marks": 0}
    for county in COUNTIES:
        regions.append((county, f"县{county}", 6, county))
        Campaign.objects.create(county_code=county, benefit_year=YEAR, policy_id="anhui-huaiyuan-2025",
                                policy_version="bench", collection_start=start, collection_end=dt.date(2024, 12, 31))
        last = Campaign.objects.create(county_code=county, benefit_year=YEAR - 1, policy_id="anhui-huaiyuan-2025",
                                       policy_version="bench", collection_start=dt.date(2023, 9, 1),
                                       collection_end=dt.date(2023, 12, 31), status="closed")
        ProgressRefresh.objects.create(county_code=county, benefit_year=YEAR, refreshed_at=now)
        villages, progress, targets, snapshots, curve = [], [], [], [], []
        per_village = PER_COUNTY // (townships * villages_each)
        county_sum = {"paid": 0, "enrolled": 0}
        for t in range(townships):
            township = f"{county}{100 + t:03d}"
            regions.append((township, f"镇{t}", 9, county))
            for v in range(villages_each):
                code = f"{township}{201 + v:03d}"
                regions.append((code, f"村{v}", 12, county))
                villages.append(code)
                enrolled = int(per_village * rng.uniform(0.5, 0.95))
                paid = int(enrolled * 0.9)
                county_sum["paid"] += paid
                county_sum["enrolled"] += enrolled
                progress.append((county, township, code, YEAR, paid, enrolled, 0, 100, 90, per_village, enrolled - 50,
                                 Decimal(paid * 380), now))
                targets.append((county, code, 12, YEAR, per_village, "manual", now))
                for day in days:
                    share = (day - start).days / len(days)
                    snapshots.append((county, code, YEAR, day, int(paid * share), int(enrolled * share), 0, 100, 90,
                                      per_village, int(enrolled * share), 0, 0, Decimal(int(paid * share) * 380),
                                      per_village, "counted", now))
                    curve.append((county, code, YEAR, day, paid // len(days), 0, Decimal(paid // len(days) * 380)))
        for unit in [county] + [f"{county}{100 + t:03d}" for t in range(townships)]:
            for day in days:
                snapshots.append((county, unit, YEAR, day, 0, 0, 0, 0, 0, 0, 0, 0, 0, Decimal(0), None, "counted", now))
        targets.append((county, county, 6, YEAR, PER_COUNTY, "rollup", now))
        _insert(VillageProgress, ["county_code", "township_code", "village_code", "benefit_year", "paid", "enrolled",
                                  "registered", "special_people", "special_enrolled", "last_year", "renewed", "amount",
                                  "refreshed_at"], progress)
        _insert(Target, ["county_code", "region_code", "level", "benefit_year", "total", "source", "updated_at"], targets)
        counts["snapshots"] += _insert(DaySnapshot, [
            "county_code", "region_code", "benefit_year", "day", "paid", "enrolled", "registered", "special_people",
            "special_enrolled", "last_year", "renewed", "remind_closed", "remind_refused", "amount", "target", "source",
            "refreshed_at"], snapshots)
        curve += [(county, county, YEAR, day, 0, 0, Decimal(0)) for day in days]
        _insert(AreaDay, ["county_code", "region_code", "benefit_year", "day", "paid", "exempt", "amount"],
                [row for row in curve if len(row[1]) <= 9])
        counts["villages"] += len(villages)
        people = [Resident(county_code=county, township_code=v[:9], village_code=v, id_number=f"{county}19800101{n:04d}",
                           name=f"居民{n}", sex="M", birth_date=dt.date(1980, 1, 1))
                  for n, v in enumerate(rng.choice(villages) for _ in range(marks))]
        Resident.objects.bulk_create(people, batch_size=1000)
        Enrollment.objects.bulk_create([
            Enrollment(county_code=county, township_code=r.township_code, village_code=r.village_code, campaign=last,
                       benefit_year=YEAR - 1, resident=r, id_number=r.id_number, kind="renewal", status="paid",
                       benefit_start=dt.date(YEAR - 1, 1, 1), benefit_end=dt.date(YEAR - 1, 12, 31)) for r in people
        ], batch_size=1000)
        outcomes = ["refused", "refused", "contacted", "moved_away"]
        RemindMark.objects.bulk_create([
            RemindMark(county_code=county, township_code=r.township_code, village_code=r.village_code, benefit_year=YEAR,
                       resident=r, outcome=outcomes[n % 4], note="基准") for n, r in enumerate(people)
        ], batch_size=1000)
        counts["marks"] += len(people)
        for month in (9, 10, 11):
            for day in (10, 25):
                ran = dt.date(2024, month, day)
                if ran <= today:
                    ReconciliationRun.objects.create(
                        county_code=county, benefit_year=YEAR, as_of=ran, ran_on=ran, started_at=now,
                        tax_file_name="bench.csv", tax_file_sha256="0" * 64, mismatch_total=rng.randint(0, 30))
    Region.objects.bulk_create([Region(code=c, name=n, level=lv, county_code=cc) for c, n, lv, cc in regions],
                               batch_size=5000)
    return counts


def worker(small: bool = False) -> dict:
    import datetime as dt

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    os.environ["YIBAO_TODAY"] = "2024-11-15"
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from yibao.accounts.scope import Scope
    from yibao.progress import rollup
    from yibao.progress.selectors import progress_tree

    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        sizes = _generate(2, 5, 50) if small else _generate()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    city, province = Scope(role="city_admin", region_code=CITIES[0]), Scope(role="province_viewer", region_code=PROVINCE)
    everything = Scope(role="county_admin", region_code="", superuser=True)

    def per_county():
        return [progress_tree(county_code=c, benefit_year=YEAR).get(c).enrolled for c in COUNTIES]

    def whole(scope, code, on=None):
        return rollup.rollup(scope=scope, region_code=code, benefit_year=YEAR, on=on)

    whole(city, CITIES[0])  # warm the policy cache and the connection
    baseline_ms, enrolled = median_ms(per_county, 3)
    city_ms, answer = median_ms(lambda: whole(city, CITIES[0]), 7)
    past_ms, _ = median_ms(lambda: whole(city, CITIES[0], dt.date(2024, 10, 31)), 7)
    province_ms, whole_province = median_ms(lambda: whole(province, PROVINCE), 7)
    ten_ms, ten = median_ms(lambda: whole(everything, PROVINCE), 3)
    assert whole_province.total.enrolled == sum(enrolled), (whole_province.total.enrolled, sum(enrolled))
    assert answer.total.enrolled == sum(enrolled[:5])
    return {
        "backend": connection.vendor, "counties": len(COUNTIES), "residents": PER_COUNTY * len(COUNTIES), **sizes,
        "baseline_per_county_ms": baseline_ms, "city_ms": city_ms, "past_ms": past_ms, "province_ms": province_ms,
        "goal_ms": 200, "under_goal": max(city_ms, province_ms) < 200, "city_counties": len(answer.rows),
        "province_counties": len(ten.counties),
    }


def _run_backend(backend: str, small: bool = False) -> dict | None:
    return run_worker(backend, ["-m", "bench.rollup_query", "--worker", *(["--small"] if small else [])],
                      pg_url=PG_URL, admin_url=_PROGRESS_PG_URL)


def report(results: list[dict]) -> str:
    return "\n".join(
        f"市、省汇总（{r['backend']}，{r['counties']} 个县各 {PER_COUNTY:,} 人，{r['villages']:,} 个村，快照 {r['snapshots']:,} 行）："
        f"全市排名 {r['city_ms']} 毫秒，某日日终 {r['past_ms']} 毫秒，全省 {r['province_ms']} 毫秒"
        f"（目标 200 毫秒，{'达标' if r['under_goal'] else '未达标'}）；逐县读进度基线 {r['baseline_per_county_ms']} 毫秒"
        for r in results)


def run(backends=("sqlite", "postgresql"), echo: bool = True, small: bool = False) -> list[dict]:
    results = []
    for backend in backends:
        figures = _run_backend(backend, small)
        if figures is not None:
            print(report([figures]), file=sys.stderr if echo else sys.stdout, flush=True)
            results.append(figures)
    return results


try:  # the `make bench` registry (bench/__init__.py)
    from bench import benchmark

    @benchmark("rollup", "市、省汇总：全市各县排名（目标 200 毫秒）")
    def bench_rollup(options) -> None:
        run(tuple(options.databases), echo=False, small=options.rows < 100_000)  # a tiny run: 10 villages a county
except ImportError:  # pragma: no cover
    pass


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="市、省汇总查询基准")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--small", action="store_true", help="每县 10 个村（检查能否运行）")
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.small), ensure_ascii=False, default=str))
        return
    results = run(("sqlite", "postgresql") if args.backend == "both" else (args.backend,), echo=args.json, small=args.small)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
