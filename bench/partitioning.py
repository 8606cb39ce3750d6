"""Benchmark: the largest tables partitioned BY LIST (county_code), beside the same data in plain tables.

    make bench BENCH_ARGS="--only partitioning --rows 3000000"    # 10 counties × 300,000 residents
    python -m bench.partitioning --residents-per-county 300000

PostgreSQL only (declarative partitioning). A scratch database (yibao_bench_partitioning, dropped and
made again, dropped at the end) gets two schemas with the same tables and the same rows: `plain`
(today's tables and indexes, county_code first; indexes made after the load in both) and `part` (each table PARTITION BY LIST
(county_code), one partition per county; the primary key becomes (id, county_code), as PostgreSQL
requires). The tables are the four largest of Yibao with their hot columns and their real
indexes (registry_resident, enrollment_enrollment, collection_payment, core_event), one text column
standing in for the rest of the row. Rows are made in the server with generate_series: 10 counties
× 20 townships × 20 villages; 90% of residents enrolled last year, 75% this year, 70% with a booked
payment this year, one event per enrollment and payment of this year.

Timed (median of several runs, warm cache) for one county out of ten, plain | partitioned. The joins
are written as Django writes them (on the resident's id alone), except progress_keyed:
  progress        counts of enrollments and payments per village of one county (the rollup's rebuild)
  progress_keyed  the same with the county code in the join (what a composite key would give)
  remind          催缴 left per village of one county (last year's enrollees not done this year)
  remind_village  one village's 催缴 list
  person          one person by ID number across all counties (resident, and this year's enrollment)
  insert    a new county's residents and enrollments (INSERT … SELECT; partitioned: into a new partition)
  vacuum    VACUUM ANALYZE of the four tables; partitioned also one county's partitions alone
  size      total size of the four tables with their indexes
  drop      removing one county (plain: DELETE; partitioned: DETACH and DROP its partitions)
`run(per_county=...)` returns the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench import TINY, benchmark

PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = "yibao_bench_partitioning"
PG_HOST = "postgresql://postgres@127.0.0.1:5432"
COUNTIES = [f"{340321 + i}" for i in range(10)]
NEW_COUNTY = "340399"
YEAR = 2025
REPEAT = 7

# the four tables: columns (id and county_code come first), then (unique?, columns, where) of each index
TABLES = {
    "registry_resident": (
        "township_code varchar(9) NOT NULL, village_code varchar(12) NOT NULL, id_number varchar(18) NOT NULL, "
        "name varchar(50) NOT NULL, sex varchar(1) NOT NULL, birth_date date NOT NULL, status varchar(12) NOT NULL, "
        "household_id bigint, rest text NOT NULL",
        [(True, "county_code, id_number", ""), (False, "village_code", ""), (False, "township_code", ""),
         (False, "id_number", ""), (False, "county_code, name", ""), (False, "household_id", "")],
    ),
    "enrollment_enrollment": (
        "township_code varchar(9) NOT NULL, village_code varchar(12) NOT NULL, campaign_id bigint NOT NULL, "
        "resident_id bigint NOT NULL, id_number varchar(18) NOT NULL, benefit_year smallint NOT NULL, "
        "kind varchar(10) NOT NULL, status varchar(12) NOT NULL, enrolled_at timestamptz, rest text NOT NULL",
        [(True, "county_code, resident_id, benefit_year", ""), (False, "county_code, benefit_year, status", ""),
         (False, "village_code, benefit_year", ""), (False, "township_code, benefit_year", ""),
         (False, "id_number, benefit_year", ""), (False, "resident_id", ""), (False, "campaign_id", "")],
    ),
    "collection_payment": (
        "township_code varchar(9) NOT NULL, village_code varchar(12) NOT NULL, campaign_id bigint NOT NULL, "
        "resident_id bigint, enrollment_id bigint, id_number varchar(18) NOT NULL, benefit_year smallint NOT NULL, "
        "external_id varchar(64) NOT NULL, amount numeric(12,2) NOT NULL, paid_at timestamptz NOT NULL, "
        "paid_on date NOT NULL, status varchar(10) NOT NULL, channel varchar(12) NOT NULL, rest text NOT NULL",
        [(True, "county_code, external_id", ""), (True, "county_code, resident_id, benefit_year", "status = 'booked'"),
         (False, "county_code, benefit_year, status", ""), (False, "village_code, benefit_year", ""),
         (False, "township_code, benefit_year", ""), (False, "id_number, benefit_year", ""),
         (False, "county_code, paid_on", ""), (False, "resident_id", ""), (False, "enrollment_id", "")],
    ),
    "core_event": (
        "at timestamptz NOT NULL, entity varchar(32) NOT NULL, entity_id varchar(64) NOT NULL, "
        "action varchar(32) NOT NULL, after jsonb, reason text NOT NULL",
        [(False, "county_code", ""), (False, "entity, entity_id", ""), (False, "county_code, at", "")],
    ),
}


def _schema(cursor, schema: str, partitioned: bool) -> None:
    cursor.execute(f"CREATE SCHEMA {schema}")
    for table, (columns, indexes) in TABLES.items():
        key = "PRIMARY KEY (id, county_code)" if partitioned else "PRIMARY KEY (id)"
        tail = " PARTITION BY LIST (county_code)" if partitioned else ""
        cursor.execute(f"CREATE TABLE {schema}.{table} (id bigserial, county_code varchar(6) NOT NULL, "
                       f"{columns}, {key}){tail}")
        if partitioned:
            for county in COUNTIES:
                _partition(cursor, schema, table, county)


def _indexes(cursor, schema: str) -> None:
    """Made after the load (faster for both); on a partitioned table each partition gets its own."""
    for table, (_columns, indexes) in TABLES.items():
        for n, (unique, cols, where) in enumerate(indexes):
            cursor.execute(f"CREATE {'UNIQUE ' if unique else ''}INDEX {table}_{n} ON {schema}.{table} ({cols})"
                           + (f" WHERE {where}" if where else ""))


def _partition(cursor, schema: str, table: str, county: str) -> None:
    cursor.execute(f"CREATE TABLE {schema}.{table}_{county} PARTITION OF {schema}.{table} FOR VALUES IN ('{county}')")


def _fill(cursor, schema: str, county: str, n: int, events: bool = True) -> None:
    """One county's rows: n residents, last year's and this year's enrollments, payments, events."""
    cursor.execute(f"""
        INSERT INTO {schema}.registry_resident (county_code, township_code, village_code, id_number, name, sex,
            birth_date, status, household_id, rest)
        SELECT '{county}', '{county}' || (100 + g % 20), '{county}' || (100 + g % 20) || lpad((1 + g / 20 % 20)::text, 3, '0'),
            '{county}' || to_char(date '1950-01-01' + (g % 25000), 'YYYYMMDD') || lpad((g / 25000 % 1000)::text, 3, '0')
                || (g % 10)::text,
            '居民' || g, CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END, date '1950-01-01' + (g % 25000), 'active',
            g / 3, repeat('x', 120)
        FROM generate_series(0, {n - 1}) g""")
    cursor.execute(f"""
        INSERT INTO {schema}.enrollment_enrollment (county_code, township_code, village_code, campaign_id, resident_id,
            id_number, benefit_year, kind, status, enrolled_at, rest)
        SELECT r.county_code, r.township_code, r.village_code, y, r.id, r.id_number, y, 'paid',
            'enrolled', timestamptz '2024-10-01' + (r.id % 90) * interval '1 day', repeat('y', 60)
        FROM {schema}.registry_resident r, (VALUES ({YEAR - 1}), ({YEAR})) years(y)
        WHERE r.county_code = '{county}' AND ((y = {YEAR - 1} AND r.id % 10 <> 0) OR (y = {YEAR} AND r.id % 4 <> 0))""")
    cursor.execute(f"""
        INSERT INTO {schema}.collection_payment (county_code, township_code, village_code, campaign_id, resident_id,
            enrollment_id, id_number, benefit_year, external_id, amount, paid_at, paid_on, status, channel, rest)
        SELECT e.county_code, e.township_code, e.village_code, e.campaign_id, e.resident_id, e.id, e.id_number,
            e.benefit_year, 'P' || e.id, 400.00, e.enrolled_at, e.enrolled_at::date, 'booked', 'wechat', repeat('z', 80)
        FROM {schema}.enrollment_enrollment e
        WHERE e.county_code = '{county}' AND e.benefit_year = {YEAR} AND e.resident_id % 15 <> 1""")
    if events:
        cursor.execute(f"""
            INSERT INTO {schema}.core_event (county_code, at, entity, entity_id, action, after, reason)
            SELECT county_code, enrolled_at, 'enrollment', id::text, 'enrolled', jsonb_build_object('status', status),
                '缴费参保' FROM {schema}.enrollment_enrollment WHERE county_code = '{county}' AND benefit_year = {YEAR}
            UNION ALL
            SELECT county_code, paid_at, 'payment', id::text, 'booked', jsonb_build_object('amount', amount::text),
                '渠道缴费入账' FROM {schema}.collection_payment WHERE county_code = '{county}'""")


# joins as the ORM writes them: on the resident's id alone (ForeignKey), the county only in WHERE
_DONE = """NOT EXISTS (SELECT 1 FROM {s}.enrollment_enrollment now WHERE now.county_code = %(c)s
              AND now.resident_id = last.resident_id AND now.benefit_year = {y} AND now.status = 'enrolled')
          AND NOT EXISTS (SELECT 1 FROM {s}.collection_payment p WHERE p.county_code = %(c)s
              AND p.resident_id = last.resident_id AND p.benefit_year = {y} AND p.status = 'booked')"""
QUERIES = {
    "progress": """
        SELECT 'enrolled', r.village_code, count(*) FROM {s}.enrollment_enrollment e
        JOIN {s}.registry_resident r ON r.id = e.resident_id
        WHERE e.county_code = %(c)s AND e.benefit_year = {y} AND e.status = 'enrolled' GROUP BY r.village_code
        UNION ALL
        SELECT 'paid', r.village_code, count(*) FROM {s}.collection_payment p
        JOIN {s}.registry_resident r ON r.id = p.resident_id
        WHERE p.county_code = %(c)s AND p.benefit_year = {y} AND p.status = 'booked' GROUP BY r.village_code""",
    "progress_keyed": """
        SELECT 'enrolled', r.village_code, count(*) FROM {s}.enrollment_enrollment e
        JOIN {s}.registry_resident r ON r.county_code = e.county_code AND r.id = e.resident_id
        WHERE e.county_code = %(c)s AND e.benefit_year = {y} AND e.status = 'enrolled' GROUP BY r.village_code
        UNION ALL
        SELECT 'paid', r.village_code, count(*) FROM {s}.collection_payment p
        JOIN {s}.registry_resident r ON r.county_code = p.county_code AND r.id = p.resident_id
        WHERE p.county_code = %(c)s AND p.benefit_year = {y} AND p.status = 'booked' GROUP BY r.village_code""",
    "remind": """
        SELECT r.village_code, count(*) FROM {s}.enrollment_enrollment last
        JOIN {s}.registry_resident r ON r.id = last.resident_id
        WHERE last.county_code = %(c)s AND last.benefit_year = {y} - 1 AND """ + _DONE + """
        GROUP BY r.village_code""",
    "remind_village": """
        SELECT r.id, r.name, r.household_id FROM {s}.enrollment_enrollment last
        JOIN {s}.registry_resident r ON r.id = last.resident_id
        WHERE last.county_code = %(c)s AND last.benefit_year = {y} - 1 AND r.village_code = %(v)s AND """ + _DONE + """
        ORDER BY r.household_id, r.id""",
    "person": """
        SELECT r.id, r.name, e.status FROM {s}.registry_resident r
        LEFT JOIN {s}.enrollment_enrollment e ON e.resident_id = r.id AND e.benefit_year = {y}
        WHERE r.id_number = %(id)s""",
}
LABELS = {
    "progress": "进度（按村计数，一县）",
    "progress_keyed": "同上，连接带县码",
    "remind": "催缴人数（按村，一县）",
    "remind_village": "催缴名单（一村）",
    "person": "按身份证号查一人",
}


def _timed(cursor, sql: str, params=None) -> float:
    started = time.perf_counter()
    cursor.execute(sql, params)
    if cursor.description:
        cursor.fetchall()
    return time.perf_counter() - started


def _median(cursor, sql: str, params) -> float:
    _timed(cursor, sql, params)  # warm
    return statistics.median(_timed(cursor, sql, params) for _ in range(REPEAT))


def _size(cursor, schema: str) -> int:
    cursor.execute("""SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'""", [schema])
    return int(cursor.fetchone()[0])


def _plan_partitions(cursor, sql: str, params) -> int:
    """How many counties' partitions the plan of a query touches."""
    import re

    cursor.execute("EXPLAIN " + sql, params)
    text = "\n".join(row[0] for row in cursor.fetchall())
    return len(set(re.findall(r"_(\d{6})\b", text)))


def run(per_county: int = 300_000, echo: bool = True, database: str = PG_DB) -> dict:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {database}")
        admin.execute(f"CREATE DATABASE {database}")
    figures: dict[str, dict] = {"plain": {}, "part": {}}
    try:
        with psycopg.connect(f"{PG_HOST}/{database}", autocommit=True) as conn, conn.cursor() as cursor:
            cursor.execute("SET max_parallel_workers_per_gather = 0")  # 2 shared cores: same plan shape both runs
            for schema in ("plain", "part"):
                started = time.perf_counter()
                _schema(cursor, schema, partitioned=schema == "part")
                for county in COUNTIES:
                    _fill(cursor, schema, county, per_county)
                _indexes(cursor, schema)
                figures[schema]["load"] = time.perf_counter() - started
                started = time.perf_counter()
                cursor.execute(f"VACUUM ANALYZE {', '.join(f'{schema}.{t}' for t in TABLES)}")
                figures[schema]["vacuum"] = time.perf_counter() - started
                figures[schema]["size"] = _size(cursor, schema)
                if echo:
                    print(f"  {schema}: 装载 {figures[schema]['load']:.0f} 秒，VACUUM {figures[schema]['vacuum']:.1f} 秒，"
                          f"{figures[schema]['size'] / 2**30:.2f} GiB", flush=True)
            county = COUNTIES[4]
            cursor.execute(f"SELECT id_number FROM plain.registry_resident WHERE county_code = '{COUNTIES[7]}' "
                           f"ORDER BY id LIMIT 1 OFFSET {per_county // 2}")
            someone = cursor.fetchone()[0]
            params = {"c": county, "id": someone, "v": f"{county}100001"}
            for schema in ("plain", "part"):
                for name, sql in QUERIES.items():
                    text = sql.format(s=schema, y=YEAR)
                    figures[schema][name] = _median(cursor, text, params)
                    figures[schema][name + "_partitions"] = _plan_partitions(cursor, text, params)
            started = time.perf_counter()
            cursor.execute(f"VACUUM ANALYZE {', '.join(f'part.{t}_{county}' for t in TABLES)}")
            figures["part"]["vacuum_county"] = time.perf_counter() - started
            for schema in ("plain", "part"):
                started = time.perf_counter()
                if schema == "part":
                    for table in TABLES:
                        _partition(cursor, schema, table, NEW_COUNTY)
                _fill(cursor, schema, NEW_COUNTY, per_county, events=False)
                figures[schema]["insert"] = time.perf_counter() - started
            for schema in ("plain", "part"):
                started = time.perf_counter()
                for table in TABLES:
                    if schema == "part":
                        cursor.execute(f"ALTER TABLE part.{table} DETACH PARTITION part.{table}_{county}")
                        cursor.execute(f"DROP TABLE part.{table}_{county}")
                    else:
                        cursor.execute(f"DELETE FROM plain.{table} WHERE county_code = %s", [county])
                figures[schema]["drop"] = time.perf_counter() - started
                figures[schema]["rows"] = {}
                for table in TABLES:
                    cursor.execute(f"SELECT county_code, count(*) FROM {schema}.{table} GROUP BY county_code")
                    figures[schema]["rows"][table] = dict(cursor.fetchall())
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database}")
    if echo:
        _print(figures, per_county)
    return figures


def _print(figures: dict, per_county: int) -> None:
    plain, part = figures["plain"], figures["part"]

    def line(label: str, key: str, unit: str = "ms", note: str = "") -> None:
        scale = 1000 if unit == "ms" else 1
        a, b = plain[key] * scale, part[key] * scale
        print(f"  {label:<22}{a:>10.1f} {unit}{b:>12.1f} {unit}   ×{b / max(a, TINY):.2f}{note}")

    rows = {t: sum(v.values()) for t, v in plain["rows"].items()}
    print(f"  10 个县 × {per_county:,} 人，删去一县、加入一县后：" + "，".join(f"{t} {n:,} 行" for t, n in rows.items()))
    print("  一县数据在十县之中；                普通表        按县分区    分区/普通")
    for key, label in LABELS.items():
        touched = part[key + "_partitions"]
        line(label, key, note=f"（分区表：计划触及 {touched} 个县的分区）")
    line("新县写入（人员+参保+缴费）", "insert", unit="s")
    line("VACUUM ANALYZE 全部", "vacuum", unit="s")
    print(f"  {'VACUUM ANALYZE 一县':<22}{'—':>13}{part['vacuum_county']:>12.1f} s")
    line("删除一县", "drop", unit="s")
    print(f"  {'总大小（含索引）':<22}{plain['size'] / 2**30:>10.2f} GiB{part['size'] / 2**30:>10.2f} GiB"
          f"   ×{part['size'] / max(plain['size'], 1):.2f}")


@benchmark("partitioning", "按县分区：普通表 vs 按县 LIST 分区（仅 PostgreSQL）")
def run_benchmark(options) -> None:
    if "postgresql" not in options.databases:
        print("  （只在 PostgreSQL 上测量：--databases 未含 postgresql，跳过）")
        return
    run(per_county=max(1000, options.rows // len(COUNTIES)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.partitioning", description="按县分区基准（PostgreSQL）")
    parser.add_argument("--residents-per-county", type=int, default=300_000, help="每县人数（10 个县，默认 300,000）")
    options = parser.parse_args(argv)
    run(per_county=options.residents_per_county)


if __name__ == "__main__":
    main()
