"""The steps of the province-scale run (bench/scale.py), each in its own process:

    python -m bench.scale_worker regions --counties 10 --rows N --workdir W
    python -m bench.scale_worker import  --county 140621 --rows N --workdir W
    python -m bench.scale_worker year    --county 140621 --rows N --workdir W
    python -m bench.scale_worker measure --county 140621 --workdir W

Each prints one JSON object on its last line. The database comes from DATABASE_URL (PostgreSQL);
the business day from YIBAO_TODAY (set by the driver to a day inside the collection window).
Generated files are written where the import reads them, timed apart from the step they feed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

from bench.timing import median_ms

PROVINCE, PROVINCE_NAME = "14", "山西省"
CITY, CITY_NAME = "1406", "朔州市"
POLICY = "shanxi-shuozhou-2024"
YEAR = 2024
TODAY = dt.date(2023, 12, 20)  # inside the window (2023-09-01 … 12-25): progress is live, payments may be booked
ACTOR = "省级规模基准"
# babies born in the window pay after birth: left out of the sample (ingest of a line paid before the payer's
# birth raises PolicyInputError instead of flagging the line; reported to the ingest work)
BORN_BEFORE = dt.date(2023, 9, 1)


def county_codes(n: int) -> list[str]:
    return [f"{CITY}{21 + i:02d}" for i in range(n)]


def layout(rows: int) -> tuple[int, int]:
    """(townships, villages per township): 20 × 20 for a real county, fewer for a tiny run."""
    return (20, 20) if rows >= 10_000 else (3, 3)


def villages_of(county: str, rows: int) -> list[str]:
    townships, per = layout(rows)
    return [f"{county}{100 + t:03d}{201 + v:03d}" for t in range(townships) for v in range(per)]


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    import django

    django.setup()


def _timed(func, *args, **kwargs):
    began = time.perf_counter()
    value = func(*args, **kwargs)
    return value, round(time.perf_counter() - began, 2)


BIG_TABLES = ("registry_resident", "registry_household", "registry_identity", "enrollment_enrollment",
              "enrollment_assessment", "collection_payment", "collection_receipt", "collection_receiptline", "core_event",
              "progress_villageprogress")


def _analyze() -> float:
    """Fresh planner statistics after a bulk step, as autovacuum would give them a while later (the bulk paths
    do not ANALYZE; with stale statistics a counter payment after a county's first ingest took seconds)."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(BIG_TABLES)}")
    return round(time.perf_counter() - began, 2)


# ---------------------------------------------------------------- steps


def step_regions(args) -> dict:
    """The province, its city, the counties with townships and villages, through the regions import."""
    from yibao.imports.services import regions_import

    rows = [(PROVINCE, PROVINCE_NAME), (CITY, CITY_NAME)]
    townships, per = layout(args.rows)
    for i, county in enumerate(county_codes(args.counties)):
        rows.append((county, f"第{i + 1}县"))
        for t in range(townships):
            rows.append((f"{county}{100 + t:03d}", f"第{i + 1}县第{t + 1}镇"))
            rows.extend((f"{county}{100 + t:03d}{201 + v:03d}", f"第{i + 1}县第{t + 1}镇第{v + 1}村") for v in range(per))
    path = Path(args.workdir) / "regions.csv"
    path.write_text("区划代码,名称\n" + "".join(f"{c},{n}\n" for c, n in rows), encoding="utf-8")
    result, seconds = _timed(regions_import, path=path, actor=ACTOR)
    return {"regions": result.get("imported"), "seconds": seconds}


def step_import(args) -> dict:
    """Generate the county's register (untimed), import it; then a 民政 identity list (8%)."""
    import polars as pl

    from bench.data import register_frame
    from yibao.imports.services import identities_import, residents_import

    county, work = args.county, Path(args.workdir)
    began = time.perf_counter()
    frame = register_frame(args.rows, villages_of(county, args.rows), area=county)
    register = work / f"register-{county}.csv"
    frame.write_csv(register)
    kinds = ["最低生活保障对象", "特困供养人员", "低保边缘家庭成员"]
    listed = frame.select("公民身份号码", "姓名").gather_every(12).with_columns(
        pl.Series("资助类别", [kinds[i % 3] for i in range((frame.height + 11) // 12)]),
        pl.lit("民政").alias("认定部门"), pl.lit("2023-01-01").alias("起始日期"), pl.lit("").alias("终止日期"),
    )
    identities = work / f"identities-{county}.csv"
    listed.write_csv(identities)
    generated = round(time.perf_counter() - began, 2)
    started_at = time.time()
    result, seconds = _timed(residents_import, path=register, county_code=county, actor=ACTOR)
    ended_at = time.time()
    ids, id_seconds = _timed(identities_import, path=identities, county_code=county, department="民政", actor=ACTOR)
    register.unlink()
    identities.unlink()
    analyze = _analyze()
    return {"analyze_seconds": analyze,
        "county": county, "rows": args.rows, "generate_seconds": generated, "import_seconds": seconds,
        "started_at": started_at, "ended_at": ended_at, "imported": result.get("imported", result.get("created")),
        "rejected": result.get("rejected"), "identities": ids.get("imported", ids.get("created")),
        "identities_seconds": id_seconds,
    }


def _fetch(sql: str, params, schema: dict):
    import polars as pl
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return pl.DataFrame(cursor.fetchall(), schema=schema, orient="row")


def _last_year(county: str) -> int:
    """Last year's enrollments (90% of the register), copied in: the 催缴 list and the targets need them."""
    import polars as pl
    from django.utils import timezone

    from yibao.enrollment import bulkio
    from yibao.enrollment.models import Enrollment
    from yibao.enrollment.services import campaign_history_ensure
    from yibao.registry.models import Resident

    campaign, _ = campaign_history_ensure(county_code=county, benefit_year=YEAR - 1, actor=ACTOR)
    people = _fetch(
        f"SELECT id, township_code, village_code, id_number FROM {Resident._meta.db_table} WHERE county_code = %s",
        [county], {"resident_id": pl.Int64, "township_code": pl.String, "village_code": pl.String, "id_number": pl.String},
    )
    now = timezone.now()
    rows = people.filter(pl.col("resident_id") % 10 != 3).select(
        pl.lit(county).alias("county_code"), "township_code", "village_code", pl.lit(campaign.pk).alias("campaign_id"),
        pl.lit(YEAR - 1).alias("benefit_year"), "resident_id", "id_number", pl.lit("renewal").alias("kind"),
        pl.lit(1).alias("tier"), pl.lit("paid").alias("status"), pl.lit("缴费入账").alias("status_reason"),
        pl.lit(dt.date(YEAR - 1, 1, 1)).alias("benefit_start"), pl.lit(dt.date(YEAR - 1, 12, 31)).alias("benefit_end"),
        pl.lit(now).alias("registered_at"), pl.lit(now).alias("updated_at"),
    )
    return bulkio.insert_frame(Enrollment._meta.db_table, rows)


def _counter(county: str, campaign, n: int, rng: random.Random) -> dict:
    """n counter payments, one person each, through payment_collect (the service the counter page calls)."""
    from django.utils import timezone

    from yibao.collection import services
    from yibao.enrollment.models import Assessment
    from yibao.registry.models import Resident

    pool = list(
        Assessment.objects.filter(campaign=campaign, accepted=True, payable__gt=0, resident__birth_date__lt=BORN_BEFORE)
        .order_by("resident_id")
        .values_list("resident_id", flat=True)[: max(n * 20, 1000)]
    )
    chosen = rng.sample(pool, min(n, len(pool)))
    people = {r.pk: r for r in Resident.objects.filter(pk__in=chosen)}
    times, refused = [], 0
    for pk in chosen:
        day = dt.date(2023, rng.choice([9, 10, 11, 12]), rng.randrange(1, 20))
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randrange(8, 17), rng.randrange(60))))
        began = time.perf_counter()
        try:
            services.payment_collect(residents=[people[pk]], channel="cash", actor=f"{people[pk].village_code}征收员",
                                     benefit_year=YEAR, paid_at=at)
        except services.PaymentError:
            refused += 1
            continue
        times.append((time.perf_counter() - began) * 1000)
    return {"paid": len(times), "refused": refused, "ids": chosen,
            "median_ms": round(statistics.median(times), 1) if times else None,
            "p95_ms": round(sorted(times)[int(len(times) * 0.95)], 1) if times else None}


def _channel_file(county: str, campaign, skip: list[int], path: Path, rng: random.Random) -> int:
    """80% of the assessed pay what the 核定 says, on a day of the window (1st–25th), by app, bank or tax."""
    import polars as pl

    from yibao.enrollment.models import Assessment
    from yibao.registry.models import Resident

    owed = _fetch(
        f"SELECT r.id, r.id_number, a.payable::float8 FROM {Assessment._meta.db_table} a "
        f"JOIN {Resident._meta.db_table} r ON r.id = a.resident_id "
        "WHERE a.campaign_id = %s AND a.accepted AND a.payable > 0 AND r.county_code = %s AND r.birth_date < %s",
        [campaign.pk, county, BORN_BEFORE], {"id": pl.Int64, "id_number": pl.String, "payable": pl.Float64},
    ).filter(~pl.col("id").is_in(skip))
    n = owed.height
    seed = rng.randrange(1 << 30)
    draw = pl.Series(pl.int_range(0, n, eager=True)).hash(seed) % 1000
    owed = owed.with_columns(draw.alias("draw")).filter(pl.col("draw") < 800)
    months = [dt.date(2023, m, 1) for m in (9, 10, 11, 12)]
    frame = owed.with_columns(
        (pl.col("id") * 7 % 4).alias("m"), (pl.col("id") * 13 % 19 + 1).alias("d"),
        (pl.col("id") * 17 % 9 + 8).alias("h"), (pl.col("id") * 31 % 60).alias("mi"),
    ).select(
        pl.format("SW{}{}", pl.lit(county), pl.col("id").cast(pl.String).str.zfill(9)).alias("缴费流水号"),
        pl.col("id_number").alias("身份证号码"), pl.lit(YEAR).alias("缴费年度"),
        pl.col("payable").map_elements(lambda v: f"{v:.2f}", return_dtype=pl.String).alias("缴费金额"),
        pl.col("id").map_batches(lambda s: pl.Series(["微信", "支付宝", "税务APP", "农商银行代扣"]).gather(s % 4),
                                 return_dtype=pl.String).alias("缴费渠道"),
        pl.format("{}-{}-{} {}:{}:00", pl.lit("2023"),
                  pl.col("m").map_batches(lambda s: pl.Series([f"{d:%m}" for d in months]).gather(s), return_dtype=pl.String),
                  pl.col("d").cast(pl.String).str.zfill(2), pl.col("h").cast(pl.String).str.zfill(2),
                  pl.col("mi").cast(pl.String).str.zfill(2)).alias("缴费时间"),
        pl.format("E{}{}", pl.lit(county), pl.col("id").cast(pl.String).str.zfill(10)).alias("电子票据号"),
    )
    frame.write_csv(path)
    return frame.height


def _tax_file(county: str, path: Path) -> int:
    """The tax bureau's records: every booked payment (counter ones under the bureau's own ids)."""
    import polars as pl

    from yibao.collection.models import Payment

    rows = _fetch(
        "SELECT id, external_id, id_number, amount::text, channel, source, "
        "to_char(paid_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') "
        f"FROM {Payment._meta.db_table} WHERE county_code = %s AND benefit_year = %s AND status = 'booked'",
        [county, YEAR], {"id": pl.Int64, "external_id": pl.String, "id_number": pl.String, "amount": pl.String,
                         "channel": pl.String, "source": pl.String, "paid_at": pl.String},
    )
    labels = dict(Payment.Channel.choices)
    out = rows.select(
        pl.when(pl.col("source") == "counter").then(pl.format("SWC{}", pl.col("id"))).otherwise(pl.col("external_id"))
        .alias("缴费流水号"),
        pl.col("id_number").alias("缴费人证件号码"), pl.lit(str(YEAR)).alias("费款所属期"),
        pl.col("amount").alias("实缴金额"), pl.col("channel").replace(labels).alias("缴费渠道"),
        pl.col("paid_at").alias("缴款日期"),
    )
    out.write_csv(path)
    return out.height


def step_year(args) -> dict:
    """The county's year: open, 核定, targets, counter sample, channel file, reconciliation, progress."""
    from yibao.collection.ingest import payments_ingest
    from yibao.enrollment.services import assessment_run, campaign_open
    from yibao.progress.services import progress_refresh, targets_derive
    from yibao.reconciliation.services import run_now

    county, work = args.county, Path(args.workdir)
    rng = random.Random(int(county))
    out: dict = {"county": county}
    setup_began = time.perf_counter()
    out["last_year_enrollments"] = _last_year(county)
    analyze = _analyze()
    out["setup_seconds"] = round(time.perf_counter() - setup_began, 2)
    campaign, out["open_seconds"] = _timed(campaign_open, county_code=county, policy_id=POLICY, actor=ACTOR)
    assessed, out["assess_seconds"] = _timed(assessment_run, campaign=campaign, actor=ACTOR)
    out["assessed"] = assessed.get("assessed")
    analyze += _analyze()
    _, out["targets_seconds"] = _timed(targets_derive, actor=ACTOR, county_code=county, benefit_year=YEAR)
    counter = _counter(county, campaign, args.counter, rng)
    out["counter"] = {k: v for k, v in counter.items() if k != "ids"}
    began = time.perf_counter()
    channel = work / f"channel-{county}.csv"
    out["channel_lines"] = _channel_file(county, campaign, counter["ids"], channel, rng)
    out["channel_generate_seconds"] = round(time.perf_counter() - began, 2)
    ingested, out["ingest_seconds"] = _timed(payments_ingest, path=channel, actor=ACTOR, county_code=county,
                                             report_path=work / f"channel-{county}-report.xlsx")
    out["ingest"] = {k: ingested.get(k) for k in ("booked", "flagged", "unchanged", "rejected")}
    analyze += _analyze()
    channel.unlink()
    (work / f"channel-{county}-report.xlsx").unlink(missing_ok=True)
    tax = work / f"tax-{county}.csv"
    out["tax_rows"] = _tax_file(county, tax)
    (job, run), out["reconcile_seconds"] = _timed(run_now, county_code=county, benefit_year=YEAR, tax_file=tax,
                                                  as_of=TODAY, actor=ACTOR)
    out["reconcile"] = {"status": job.status, "mismatches": (job.result or {}).get("mismatches")}
    tax.unlink()
    refreshed, out["refresh_seconds"] = _timed(progress_refresh, county_code=county, benefit_year=YEAR)
    out["refresh_villages"] = refreshed.get("villages")
    out["analyze_seconds"] = round(analyze + _analyze(), 2)
    return out


# ---------------------------------------------------------------- reads


def county_query(county: str) -> dict:
    """The county's progress query, as bench/progress_query.py reads it: the tree and the county's history."""
    from yibao.progress.selectors import history_rows, progress_tree

    tree = progress_tree(county_code=county, benefit_year=YEAR, on=TODAY)
    unit = tree.get(county)
    rows = history_rows(county_code=county, benefit_year=YEAR, region_code=county, target=unit.target,
                        window=tree.window, until=tree.on)
    return {"paid": unit.paid, "enrolled": unit.enrolled, "target": unit.target, "days": len(rows),
            "villages": len(tree.descendants(county, 12))}


def per_county_ranking(city: str) -> list[dict]:
    """The baseline: each county's own progress tree, one after another, ranked by 参保率."""
    from yibao.progress.selectors import progress_tree
    from yibao.regions.models import Region

    rows = []
    for code, name in Region.objects.filter(level=6, code__startswith=city).order_by("code").values_list("code", "name"):
        unit = progress_tree(county_code=code, benefit_year=YEAR, on=TODAY).get(code)
        rows.append({"code": code, "name": name, "enrolled": unit.enrolled, "target": unit.target, "rate": unit.rate,
                     "on_pace": unit.on_pace, "remind_open": unit.remind_open})
    rows.sort(key=lambda r: (r["rate"] is None, -(r["rate"] or 0), r["code"]))
    return rows


def city_ranking(city: str):
    """The city's ranking page's data (yibao.progress.rollup): one query per small table for all its counties."""
    from yibao.accounts.scope import Scope
    from yibao.progress.rollup import rollup

    scope = Scope(role="city_admin", region_code=city, user_id=1)
    return rollup(scope=scope, region_code=city, benefit_year=YEAR, on=TODAY).rows


def autovacuum_quiet(limit_seconds: float = 900.0, poll: float = 5.0) -> dict:
    """Wait until no autovacuum worker runs in this database (up to `limit_seconds`): after a county's bulk
    writes autovacuum goes over its large tables for minutes, and on a 2-core machine a query measured
    meanwhile shares the CPU and the disk with it. Returns what was waited for."""
    from django.db import connection

    began, seen = time.perf_counter(), set()
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT query FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' "
                           "AND datname = current_database()")
            running = [row[0] for row in cursor.fetchall()]
        seen.update(running)
        waited = time.perf_counter() - began
        if not running or waited >= limit_seconds:
            return {"waited_seconds": round(waited, 1), "autovacuum": sorted(seen), "still_running": running}
        time.sleep(poll)


def step_measure(args) -> dict:
    from django.db import connection

    from yibao.accounts.scope import Scope
    from yibao.progress.home import home_cards
    from yibao.progress.remind import remind_rows
    from yibao.registry.models import Resident

    county = args.county
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(f"SELECT count(*) FROM {Resident._meta.db_table}")
        total = cursor.fetchone()[0]
    quiet = autovacuum_quiet()
    county_query(county)  # warm the policy cache and the connection
    query_ms, answer = median_ms(lambda: county_query(county), 7)
    scope = Scope(role="county_admin", region_code=county, user_id=1)
    home_cards(scope=scope, today=TODAY)
    home_ms, cards = median_ms(lambda: home_cards(scope=scope, today=TODAY), 5)
    village = villages_of(county, args.rows)[0]
    remind_ms, rows = median_ms(lambda: remind_rows(scope=scope, village_code=village, benefit_year=YEAR, on=TODAY), 5)
    city_ranking(CITY)
    ranking_ms, ranking = median_ms(lambda: city_ranking(CITY), 5)
    per_county_ms, _rows = median_ms(lambda: per_county_ranking(CITY), 3)
    how = "yibao.progress.rollup"
    return {
        "county": county, "residents_total": total, "query_ms": query_ms, "answer": answer, "home_ms": home_ms,
        "cards": sorted(c["key"] for c in cards), "remind_ms": remind_ms, "remind_rows": len(rows),
        "ranking_ms": ranking_ms, "ranking_counties": len(ranking), "ranking_by": how,
        "ranking_per_county_ms": per_county_ms, "quiet": quiet,
    }


STEPS = {"regions": step_regions, "import": step_import, "year": step_year, "measure": step_measure}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_worker")
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--county", default="")
    parser.add_argument("--counties", type=int, default=10)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--counter", type=int, default=200)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args(argv)
    _setup()
    result = STEPS[args.step](args)
    sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main()
