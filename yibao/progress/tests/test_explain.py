"""With two counties in one database, a county's progress query and its 催缴 list read only that county's rows.

Every SELECT the reads make is EXPLAINed. On PostgreSQL (sequential scans disabled, so a Seq Scan
left in the plan means no index fits) every scan of a large table must be an index or bitmap scan
whose condition names the county, township or village code, or a key (id, resident_id) found
through such a scan. On SQLite, EXPLAIN QUERY PLAN must show those tables searched with an index,
never a full SCAN.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yibao.accounts.scope import Scope
from yibao.progress import services
from yibao.progress.selectors import history_rows, progress_tree
from yibao.progress.remind import remind_base, remind_rows
from yibao.progress.tests import builders as b

OTHER, OTHER_TOWN, OTHER_VILLAGE = "340322", "340322100", "340322100201"
LARGE = {
    "registry_resident", "registry_household", "enrollment_enrollment", "enrollment_assessment", "collection_payment",
    "core_event", "registry_identity", "registry_groupfact", "progress_villageprogress", "progress_daysnapshot", "progress_remindmark",
}
N_OTHER = 3000
# a row reached by its key from a row of the county, or by its campaign (a campaign is one county's year)
KEYS = r"\b(id|resident_id|campaign_id|household_id)\b"
FILLED = {"registry_resident", "enrollment_enrollment", "enrollment_assessment", "collection_payment", "registry_identity"}
REGION_KEYS = ("county_code", "township_code", "village_code")


def _large(table: str) -> bool:
    return table in LARGE


@pytest.fixture
def two_counties(other_county, county):
    """The progress fixture's 怀远县 (a handful of people, made after the other county's: higher ids) next to
    340322 with 3,000."""
    services.progress_refresh(county_code=OTHER, benefit_year=2025)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return county


@pytest.fixture
def other_county(db):
    """340322 with 3,000 people: last year's enrollments, this year's for half of them with booked payments,
    核定, identities, 催缴 marks."""
    from yibao.collection.models import Payment
    from yibao.enrollment.models import Assessment, Campaign, Enrollment
    from yibao.progress.models import RemindMark
    from yibao.registry.models import Identity, Resident
    from yibao.registry.tests.factories import add_region

    add_region(OTHER, "邻县")
    add_region(OTHER_TOWN, "邻镇")
    add_region(OTHER_VILLAGE, "邻村")
    years = {
        year: Campaign.objects.create(county_code=OTHER, benefit_year=year, policy_id="anhui-huaiyuan-2025",
                                      policy_version="test", collection_start=dt.date(year - 1, 9, 1),
                                      collection_end=dt.date(year - 1, 12, 31))
        for year in (2024, 2025)
    }
    codes = {"county_code": OTHER, "township_code": OTHER_TOWN, "village_code": OTHER_VILLAGE}
    people = Resident.objects.bulk_create([
        Resident(**codes, id_number=f"B{i:017d}", name=f"邻{i}", sex="M", birth_date=dt.date(1970, 1, 2),
                 hukou_region_code=OTHER_VILLAGE, residence_region_code=OTHER_VILLAGE)
        for i in range(N_OTHER)
    ])
    Enrollment.objects.bulk_create([
        Enrollment(**codes, campaign=years[2024], benefit_year=2024, resident=r, id_number=r.id_number, kind="renewal",
                   status="paid")
        for r in people
    ])
    paid = Enrollment.objects.bulk_create([
        Enrollment(**codes, campaign=years[2025], benefit_year=2025, resident=r, id_number=r.id_number, kind="renewal",
                   status="paid")
        for r in people[::2]
    ])
    at = b.timezone.make_aware(dt.datetime(2024, 9, 5, 9))
    Payment.objects.bulk_create([
        Payment(**codes, campaign=years[2025], benefit_year=2025, resident_id=e.resident_id, enrollment=e,
                id_number=e.id_number, source="file", channel="wechat", external_id=f"O{e.resident_id}",
                amount=Decimal("400.00"), paid_at=at, paid_on=dt.date(2024, 9, 5), status="booked")
        for e in paid
    ])
    Assessment.objects.bulk_create([
        Assessment(**codes, campaign=years[2025], benefit_year=2025, resident=r, assessed_on=dt.date(2024, 9, 1),
                   standard=Decimal("400.00"), subsidy=Decimal("0.00"), payable=Decimal("400.00"),
                   refund_later=Decimal("0.00"), policy_version="test", input_hash="x")
        for r in people
    ])
    RemindMark.objects.bulk_create([
        RemindMark(**codes, benefit_year=2025, resident=r, outcome=RemindMark.Outcome.REFUSED)
        for r in people[1:600:2]
    ])
    Identity.objects.bulk_create([
        Identity(county_code=OTHER, resident=r, code="dibao", department="民政") for r in people[::12]
    ])


def _pg_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _pg_nodes(child)


def _pg_problems(sql: str) -> list[str]:
    """Scans of large tables that read more than one county's rows."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        raw = cursor.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    problems = []
    for node in _pg_nodes(plan):
        table = node.get("Relation Name", "")
        if not _large(table):
            continue
        kind = node["Node Type"]
        if kind == "Seq Scan":
            problems.append(f"{table}: Seq Scan")
            continue
        if kind in ("Bitmap Heap Scan",):
            continue  # its Bitmap Index Scan child carries the condition
        cond = node.get("Index Cond", "")
        if kind in ("Index Scan", "Index Only Scan") and not (
            any(k in cond for k in REGION_KEYS) or re.search(KEYS, cond)
        ):
            problems.append(f"{table}: {kind} on {node.get('Index Name')} without a region or key condition ({cond})")
    for node in _pg_nodes(plan):
        if node["Node Type"] == "Bitmap Index Scan":
            cond = node.get("Index Cond", "")
            if not (any(k in cond for k in REGION_KEYS) or re.search(KEYS, cond)):
                problems.append(f"{node.get('Index Name')}: bitmap without a region or key condition ({cond})")
    return problems


def _sqlite_problems(sql: str, params=(), *, strict: bool = True) -> list[str]:
    """A large table SCANned (whole table, or whole index) rather than SEARCHed by an index key.

    Not strict: only a whole-table SCAN (no index at all) of the tables the other county fills (SQLite,
    a one-county install, picks a scan of a table that holds a few rows, whatever its indexes)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        rows = cursor.fetchall()
    problems = []
    for row in rows:
        detail = row[-1]
        match = re.match(r"SCAN (\w+)", detail)
        if match and _large(match.group(1)) and (strict or (match.group(1) in FILLED and "USING" not in detail)):
            problems.append(detail)
    return problems


def _check(func) -> None:
    with CaptureQueriesContext(connection) as captured:
        func()
    problems = []
    for q in captured.captured_queries:
        sql = q["sql"]
        if not (sql.lstrip().upper().startswith("SELECT") and any(t in sql for t in LARGE)):
            continue
        found = _pg_problems(sql) if connection.vendor == "postgresql" else _sqlite_problems(sql, strict=False)
        problems += [f"{p}\n    in {sql}" for p in found]
    assert not problems, "\n".join(problems)


@pytest.mark.django_db(transaction=False)
def test_county_progress_query_reads_only_its_county(two_counties):
    def read():
        tree = progress_tree(county_code=b.COUNTY, benefit_year=2025, on=dt.date(2024, 11, 15))
        unit = tree.get(b.COUNTY)
        history_rows(county_code=b.COUNTY, benefit_year=2025, region_code=b.COUNTY, target=unit.target,
                     window=tree.window, until=tree.on)

    _check(read)


@pytest.mark.django_db(transaction=False)
def test_county_remind_list_reads_only_its_county(two_counties):
    scope = Scope(role="county_admin", region_code=b.COUNTY, user_id=1)
    _check(lambda: remind_rows(scope=scope, village_code=b.DONGCUN, benefit_year=2025, on=dt.date(2024, 11, 15)))


@pytest.mark.django_db(transaction=False)
def test_remind_base_plan_uses_indexes(two_counties):
    """The 催缴 base query itself (for a village and for the whole county), on either database."""
    for village in (b.DONGCUN, None):
        qs = remind_base(county_code=b.COUNTY, benefit_year=2025, village_code=village)
        sql, params = qs.query.sql_with_params()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                sql = cursor.mogrify(sql, params).decode() if isinstance(cursor.mogrify(sql, params), bytes) \
                    else cursor.mogrify(sql, params)
            problems = _pg_problems(sql)
        else:
            problems = _sqlite_problems(sql, params)
        assert not problems, "\n".join(problems)
        assert len(list(qs)) >= 1


@pytest.mark.django_db(transaction=False)
def test_the_check_finds_a_read_of_every_county(two_counties):
    """A read that does not name the county is caught (so the checks above can fail)."""
    from yibao.enrollment.models import Enrollment

    sql, params = Enrollment.objects.filter(status="paid", kind="renewal").values("id").query.sql_with_params()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            text = cursor.mogrify(sql, params)
        problems = _pg_problems(text.decode() if isinstance(text, bytes) else text)
    else:
        problems = _sqlite_problems(sql, params)
    assert problems and all("enrollment" in p for p in problems)


@pytest.mark.django_db(transaction=False)
def test_county_home_cards_read_only_their_county(two_counties):
    """The county_admin's home: every card's query names the county (refunds and 先缴后补 included)."""
    from yibao.progress.home import home_cards

    scope = Scope(role="county_admin", region_code=b.COUNTY, user_id=1)
    LARGE.update({"collection_refund", "collection_subsidyrefund", "reconciliation_mismatch"})
    try:
        _check(lambda: home_cards(scope=scope, today=dt.date(2024, 11, 15)))
    finally:
        LARGE.difference_update({"collection_refund", "collection_subsidyrefund", "reconciliation_mismatch"})
