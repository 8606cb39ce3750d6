"""The progress rollup (VillageProgress, VillageDay, AreaDay), rebuilt from payments and enrollments by
`progress_refresh`: for a whole county by the refresh job, or for a few villages right after a counter
booking (the collection app calls it with `village_codes`)."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from yibao.core.progress import NullProgress
from yibao.core.services import job_outcome_record
from yibao.enrollment.models import Enrollment
from yibao.progress import selectors, snapshots
from yibao.progress.models import AreaDay, DaySnapshot, ProgressRefresh, VillageDay, VillageProgress
from yibao.regions.models import Region
from yibao.registry.models import Resident



# ---------------------------------------------------------------- the progress rollup


def _by(queryset, *fields, value=None) -> dict:
    value = value or Count("pk")
    rows = queryset.values_list(*fields).annotate(n=value).values_list(*fields, "n")
    if len(fields) == 1:
        return {row[0]: row[1] for row in rows}
    return {tuple(row[:-1]): row[-1] for row in rows}


PROGRESS_COLUMNS = ("county_code", "township_code", "village_code", "benefit_year", "paid", "enrolled", "registered",
                    "special_people", "special_enrolled", "last_year", "renewed", "amount", "refreshed_at")
DAY_COLUMNS = ("county_code", "township_code", "village_code", "benefit_year", "day", "paid", "exempt", "amount")
AREA_DAY_COLUMNS = ("county_code", "region_code", "benefit_year", "day", "paid", "exempt", "amount")


PROGRESS_KEY = ("village_code", "benefit_year")
DAY_KEY = ("village_code", "benefit_year", "day")
AREA_DAY_KEY = ("region_code", "benefit_year", "day")
SNAPSHOT_KEY = ("region_code", "benefit_year", "day")
KEYS = {VillageProgress: PROGRESS_KEY, VillageDay: DAY_KEY, AreaDay: AREA_DAY_KEY, DaySnapshot: SNAPSHOT_KEY}
UPSERT_BATCH = 1000


def _insert_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert ready tuples, or update the row already there with the same unique key (an upsert:
    INSERT … ON CONFLICT DO UPDATE on SQLite and PostgreSQL alike).

    Refreshes run at once (two payments of one village, two villages of one township) and each
    writes the rows it counted: a row another refresh wrote in the meantime is brought up to date,
    never a unique-key error. Plain tuples, not bulk_create: the rollup has tens of thousands of rows and
    bulk_create's per-object compile would dominate the refresh. SQLite takes multi-row statements;
    PostgreSQL the same for a few rows (one village) and, for more, a COPY into the session's staging
    table and one INSERT … SELECT (client-side binding of tens of thousands of parameters costs seconds).
    Rows are written in key order, so refreshes at once take their row locks in the same order.
    """
    from django.db import connection

    if not rows:
        return
    key = KEYS[model]
    fields = [model._meta.get_field(c) for c in columns]
    where = {c: i for i, c in enumerate(columns)}
    rows = sorted(rows, key=lambda row: tuple(row[where[c]] for c in key))
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in fields)
    conflict = ", ".join(quote(model._meta.get_field(c).column) for c in key)
    updates = ", ".join(f"{quote(f.column)} = excluded.{quote(f.column)}" for f in fields if f.name not in key)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(rows) > UPSERT_BATCH:  # COPY into a staging table, one upsert
            stage = quote(f"stage_{model._meta.db_table}")
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {names} FROM {table} WITH NO DATA")
            cursor.execute(f"TRUNCATE {stage}")
            buffer = "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows)
            with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
                copy.write(buffer.encode())
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ORDER BY {conflict} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
            )
            cursor.execute(f"TRUNCATE {stage}")
            return
        convert = [(i, f) for i, f in enumerate(fields)
                   if f.get_internal_type() in ("DateField", "DateTimeField", "DecimalField")]
        marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), UPSERT_BATCH):
            batch = rows[start:start + UPSERT_BATCH]
            params = []
            for row in batch:
                if convert:
                    row = list(row)
                    for i, f in convert:
                        row[i] = f.get_db_prep_save(row[i], connection)
                params.extend(row)
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {', '.join([marks] * len(batch))} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
                params,
            )


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _delete_other_rows(queryset, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Delete the rows of `queryset` whose unique key is not among `rows` (after their upsert)."""
    key = KEYS[queryset.model]
    where = [columns.index(c) for c in key]
    kept = {tuple(row[i] for i in where) for row in rows}
    stale = [pk for pk, *values in queryset.values_list("pk", *key).iterator(chunk_size=5000) if tuple(values) not in kept]
    for start in range(0, len(stale), 5000):
        doomed = queryset.model.objects.filter(pk__in=stale[start:start + 5000])
        doomed._raw_delete(doomed.db)


def _rollup_lock(county_code: str, benefit_year: int) -> None:
    """On PostgreSQL, refreshes of one county's year write one at a time (SQLite's write lock does this):
    the later one then sees the earlier one's rows, and two never wait on each other's row locks."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7302_0000 + int(benefit_year), int(county_code)])


def _area_days(*, county_code: str, benefit_year: int, villages: list[str] | None, days: dict) -> None:
    """Rewrite the township and county curves: from `days` after a full count; after a partial one, the
    touched townships from their villages' rows and the county from its townships."""
    if not villages:
        sums: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal("0.00")])
        for (village, day), (n_paid, n_exempt, amount) in days.items():
            if day is None:
                continue
            for area in (village[:9], county_code):
                sums[(area, day)][0] += n_paid
                sums[(area, day)][1] += n_exempt
                sums[(area, day)][2] += amount
        fresh = [(county_code, area, benefit_year, day, p, e, a) for (area, day), (p, e, a) in sorted(sums.items())]
        _insert_rows(AreaDay, AREA_DAY_COLUMNS, fresh)
        _delete_other_rows(AreaDay.objects.filter(county_code=county_code, benefit_year=benefit_year), AREA_DAY_COLUMNS,
                           fresh)
        return
    townships = sorted({v[:9] for v in villages})
    for area, source in [(t, VillageDay.objects.filter(township_code=t)) for t in townships] + [
        (county_code, AreaDay.objects.filter(county_code=county_code).exclude(region_code=county_code))
    ]:
        rows = (
            source.filter(benefit_year=benefit_year).values_list("day")
            .annotate(p=Sum("paid"), e=Sum("exempt"), a=Sum("amount")).values_list("day", "p", "e", "a")
        )
        fresh = [(county_code, area, benefit_year, day, p or 0, e or 0, a or Decimal("0.00")) for day, p, e, a in rows]
        _insert_rows(AreaDay, AREA_DAY_COLUMNS, fresh)
        _delete_other_rows(AreaDay.objects.filter(region_code=area, benefit_year=benefit_year), AREA_DAY_COLUMNS, fresh)


def progress_refresh(*, county_code: str, benefit_year: int, village_codes=None, progress=None, job=None) -> dict:
    """Rebuild the rollup of a county's year from payments and enrollments (or only of `village_codes`).

    Grouped counts only: a handful of aggregate queries, whatever the county's size. The counting
    reads run outside the write transaction (on SQLite a write transaction holds the database's
    write lock, and a county's count takes a while); only the swap of the rollup rows is atomic.

    A person counts in the village they live in now (Resident.village_code): their enrollment,
    their booked payment, their day on the curve, last year's cover and its renewal. After a move
    the payment row keeps the place the money was taken (cash and receipts are reconciled there),
    so every count reads the resident's village through one join on the resident's key.
    """
    from yibao.collection.models import Payment

    progress = progress or NullProgress()
    started, now = time.monotonic(), timezone.now()
    villages = sorted(set(village_codes)) if village_codes else None
    if villages:  # a caller names where a payment was taken: its payer may live elsewhere now
        villages = sorted(set(villages) | _payers_villages(county_code, benefit_year, villages))

    place = "resident__village_code"  # where the person lives now, for every count below

    def only(queryset, field=place):
        return queryset.filter(**{f"{field}__in": villages}) if villages else queryset

    progress.start(8, "统计已缴人数")
    # the resident's county in every join to the register: the plan reads this county's residents only, not
    # every county's (one database for a city or province; a shard key on Citus, docs/scale.md)
    here = {"resident__county_code": county_code}
    booked = Payment.objects.filter(county_code=county_code, benefit_year=benefit_year, status=Payment.Status.BOOKED)
    paid = _by(only(booked.filter(**here)), place)
    progress.advance()
    progress.step("统计参保人数")
    enrollments = Enrollment.objects.filter(county_code=county_code, benefit_year=benefit_year, **here)
    statuses = _by(only(enrollments), place, "status")
    progress.advance()
    progress.step("统计特殊群体")
    special_people = selectors.special_by(
        only(Resident.objects.filter(county_code=county_code, status=Resident.Status.ACTIVE), "village_code"),
        county_code=county_code, benefit_year=benefit_year, group="village_code", few=bool(villages),
    )
    progress.advance()
    done = enrollments.filter(status=Enrollment.Status.PAID)
    special_enrolled = selectors.special_by(
        only(done), county_code=county_code, benefit_year=benefit_year, group=place, resident_field="resident_id",
        few=bool(villages),
    )
    progress.advance()
    progress.step("比对上年参保")
    last = Enrollment.objects.filter(selectors.covered_q(), county_code=county_code, benefit_year=benefit_year - 1,
                                     **here)
    last = only(last)
    last_year = _by(last, place)
    renewed_now = Enrollment.objects.filter(county_code=county_code, benefit_year=benefit_year, status=Enrollment.Status.PAID)
    if villages:  # a few villages: probe the index per person; a county: one hashed set
        renewed_now = Exists(renewed_now.filter(resident_id=OuterRef("resident_id")))
        renewed = _by(last.filter(renewed_now), place)
    else:
        renewed = _by(last.filter(resident_id__in=renewed_now.values("resident_id")), place)
    progress.advance()
    progress.step("统计每日进度")
    day_rows = only(booked.filter(**here)).values_list(place, "paid_on").annotate(n=Count("pk"), amount=Sum("amount"))
    days: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal("0.00")])
    for village, day, n, amount in day_rows.values_list(place, "paid_on", "n", "amount"):
        days[(village, day)][0] += n
        days[(village, day)][2] += amount or 0
    if villages:
        without_booking = only(done).exclude(Exists(booked.filter(resident_id=OuterRef("resident_id"))))
    else:
        without_booking = selectors.exclude_residents(done, "resident_id", booked)
    exempt = (
        without_booking.annotate(day=TruncDate("registered_at"))  # the business day it was registered
        .values_list(place, "day").annotate(n=Count("pk")).values_list(place, "day", "n")
    )
    for village, day, n in exempt:
        days[(village, day)][1] += n
    progress.advance()
    progress.step("写入统计结果")
    amounts: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for (village, _day), (_paid, _exempt, amount) in days.items():
        amounts[village] += amount
    codes = set(paid) | {v for v, _ in statuses} | set(special_people) | set(special_enrolled) | set(last_year)
    codes |= {v for v, _ in days}
    if villages:
        codes = set(villages)
    else:
        codes |= set(Region.objects.filter(county_code=county_code, level=12).values_list("code", flat=True))
    codes = {c for c in codes if c and len(c) == 12}
    progress_rows = [
        (county_code, code[:9], code, benefit_year, paid.get(code, 0), statuses.get((code, Enrollment.Status.PAID), 0),
         statuses.get((code, Enrollment.Status.REGISTERED), 0), special_people.get(code, 0),
         special_enrolled.get(code, 0), last_year.get(code, 0), renewed.get(code, 0), amounts.get(code, Decimal("0.00")),
         now)
        for code in sorted(codes)
    ]
    day_rows = [
        (county_code, village[:9], village, benefit_year, day, n_paid, n_exempt, amount)
        for (village, day), (n_paid, n_exempt, amount) in sorted(days.items())
        if village in codes and day is not None
    ]
    with transaction.atomic():
        _swap_rollup(county_code=county_code, benefit_year=benefit_year, villages=villages, codes=codes,
                     progress_rows=progress_rows, day_rows=day_rows, days=days)
        progress.advance()
        seconds = round(time.monotonic() - started, 3)
        if not villages:  # stamped with the time counting began: a change made meanwhile still makes it stale
            ProgressRefresh.objects.update_or_create(
                county_code=county_code, benefit_year=benefit_year,
                defaults={"refreshed_at": now, "seconds": seconds, "villages": len(progress_rows)},
            )
        snapshots.snapshot_write(county_code=county_code, benefit_year=benefit_year, villages=villages,
                                 refreshed_at=None if villages else now)  # today's figures, as counted
        result = {"county_code": county_code, "benefit_year": benefit_year, "villages": len(progress_rows),
                  "days": len(day_rows), "seconds": seconds, "partial": bool(villages)}
        job_outcome_record(job=job, result={**result, "rows": result["villages"]})
    progress.advance()
    return result


def _payers_villages(county_code: str, benefit_year: int, villages: list[str]) -> set[str]:
    """The villages the people who paid at `villages` live in now, when they moved (an indexed read
    of those villages' payments of the year)."""
    from yibao.collection.models import Payment

    return set(
        Payment.objects.filter(county_code=county_code, benefit_year=benefit_year, village_code__in=villages,
                               resident__isnull=False)
        .exclude(resident__village_code__in=villages).values_list("resident__village_code", flat=True).distinct()
    )


def progress_refresh_after_move(*, county_code: str, village_codes) -> None:
    """Once a move (迁移) commits, count the villages it left and joined again, in every year the
    county has a rollup for (a person's enrollment of one year is also the next year's 上年参保).
    A failure is logged, never raised: the move stands whatever the count does."""
    villages = sorted({code for code in village_codes if code})

    def refresh():
        years = ProgressRefresh.objects.filter(county_code=county_code).values_list("benefit_year", flat=True)
        for year in sorted(set(years) | set(
            VillageProgress.objects.filter(village_code__in=villages).values_list("benefit_year", flat=True)
        )):
            progress_refresh(county_code=county_code, benefit_year=year, village_codes=villages)

    if villages:
        transaction.on_commit(refresh, robust=True)


def _swap_rollup(*, county_code, benefit_year, villages, codes, progress_rows, day_rows, days) -> None:
    """Upsert the counted rows, then drop the rows of the same scope that the count no longer has."""
    _rollup_lock(county_code, benefit_year)
    if villages:  # by the (village, year, day) key, not the county's index
        old_progress = VillageProgress.objects.filter(village_code__in=villages, benefit_year=benefit_year)
        old_days = VillageDay.objects.filter(village_code__in=villages, benefit_year=benefit_year)
    else:
        old_progress = VillageProgress.objects.filter(county_code=county_code, benefit_year=benefit_year)
        old_days = VillageDay.objects.filter(county_code=county_code, benefit_year=benefit_year)
    _insert_rows(VillageProgress, PROGRESS_COLUMNS, progress_rows)
    _delete_other_rows(old_progress, PROGRESS_COLUMNS, progress_rows)
    _insert_rows(VillageDay, DAY_COLUMNS, day_rows)
    _delete_other_rows(old_days, DAY_COLUMNS, day_rows)
    _area_days(county_code=county_code, benefit_year=benefit_year, villages=villages,
               days={k: v for k, v in days.items() if k[0] in codes})


def progress_is_stale(*, county_code: str, benefit_year: int, max_age_seconds: int = 60) -> bool | None:
    """None when the county was never counted; True when something changed since (any event row) and the
    last count is older than `max_age_seconds`."""
    from yibao.core.models import Event

    refreshed = ProgressRefresh.objects.filter(county_code=county_code, benefit_year=benefit_year).first()
    if refreshed is None:
        return None
    if timezone.now() - refreshed.refreshed_at < dt.timedelta(seconds=max_age_seconds):
        return False
    return Event.objects.filter(county_code=county_code, at__gt=refreshed.refreshed_at).exists()


AUTO_RECOUNT = "系统（数据有变更，自动重新统计）"


def progress_ensure(*, county_code: str, benefit_year: int, actor=None, on: dt.date | None = None) -> str:
    """Count a county now if it was never counted ('refreshed'); queue a recount when it is stale ('queued').
    With a past day `on`, also store that day's figures if it has none (computed once from dates).

    The queued recount is the system's upkeep, not the viewer's: opening a page (even as 审计) starts no
    job in the viewer's name; starting one by hand needs progress.refresh. `actor` is kept for callers.
    """
    stale = progress_is_stale(county_code=county_code, benefit_year=benefit_year)
    if stale is None:
        progress_refresh(county_code=county_code, benefit_year=benefit_year)
        state = "refreshed"
    elif stale:
        progress_refresh_enqueue(county_code=county_code, benefit_year=benefit_year, actor=AUTO_RECOUNT)
        state = "queued"
    else:
        state = "fresh"
    if snapshots.is_past(on):
        snapshots.snapshot_ensure(county_code=county_code, benefit_year=benefit_year, day=on)
    return state


def progress_refresh_enqueue(*, county_code: str, benefit_year: int, actor=None):
    """Queue a refresh job unless one is already waiting or running; returns the job."""
    from yibao.core.jobs import job_enqueue
    from yibao.core.models import Job
    from yibao.core.services import job_create

    pending = Job.objects.filter(
        kind="progress_refresh", county_code=county_code, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
    ).filter(params__benefit_year=benefit_year).first()
    if pending is not None:
        return pending
    job = job_create(kind="progress_refresh", county_code=county_code, params={"benefit_year": benefit_year}, actor=actor)
    return job_enqueue(job)
