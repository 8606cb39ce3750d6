"""Progress as of the end of a day: daily snapshots of every unit (county, township, village).

Every recount (services.progress_refresh) writes the figures it counted for the business day it runs on,
so the last count of a day is that day's 日终 figure, read back unchanged later. A past day that was never
counted is computed once from payment and enrollment dates (source "rebuilt") and then stored. Today's
figures stay live (the rollup itself).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from yibao.core.clock import business_time, business_today
from yibao.core.inputs import BadInput
from yibao.progress.models import DaySnapshot, ProgressRefresh, RemindMark, Target, VillageDay, VillageProgress

COUNTS = ("paid", "enrolled", "registered", "special_people", "special_enrolled", "last_year", "renewed",
          "remind_closed", "remind_refused", "amount")
TARGETS = ("target", "special_target", "others_target", "population", "supplementary")
COLUMNS = ("county_code", "region_code", "benefit_year", "day", *COUNTS, *TARGETS, "source", "refreshed_at")


def check_day(on: dt.date | None) -> dt.date | None:
    """A statistics day asked for: not later than today (a day not yet over has no 日终 figures)."""
    today = business_today()
    if on is not None and on > today:
        raise BadInput(f"统计日期 {on.isoformat()} 晚于今天（{today.isoformat()}），还没有日终数字；请选今天或以前的日期。",
                       "on")
    return on


def is_past(on: dt.date | None) -> bool:
    return on is not None and on < business_today()


def closed_marks(*, county_code: str, benefit_year: int, villages=None, until: dt.date | None = None) -> dict[str, int]:
    """People verified as no longer to chase (迁出、职工医保、死亡) by the village they live in now;
    with `until`, only marks made by the end of that business day."""
    rows = RemindMark.objects.filter(county_code=county_code, benefit_year=benefit_year,
                                     resident__county_code=county_code).exclude(outcome__in=RemindMark.RECORDS)
    if villages:
        rows = rows.filter(resident__village_code__in=villages)
    if until is not None:
        rows = rows.filter(marked_at__lt=_day_end(until))
    return dict(rows.values_list("resident__village_code").annotate(n=Count("resident_id", distinct=True))
                .values_list("resident__village_code", "n"))


def _day_end(until: dt.date):
    """The real-clock end of a business day (marked_at is a real-clock stamp)."""
    real_day = until - (business_today() - timezone.localdate())
    return timezone.make_aware(dt.datetime.combine(real_day + dt.timedelta(days=1), dt.time.min))


def refused_marks(*, county_code: str, benefit_year: int, villages=None, until: dt.date | None = None,
                  renewed=None) -> dict[str, int]:
    """People whose newest mark is 拒缴 and who are still to chase (其中拒缴), by the village they live in now.
    Live: still on the 催缴 list (not renewed, no booked payment); with `until`, marks made by the end of that
    day, less `renewed` (resident ids renewed by then)."""
    from django.db.models import Subquery

    from yibao.progress import selectors
    from yibao.progress import remind

    marks = RemindMark.objects.filter(county_code=county_code, benefit_year=benefit_year)
    if until is not None:
        marks = marks.filter(marked_at__lt=_day_end(until))
    newest = marks.filter(resident_id=OuterRef("resident_id")).order_by("-marked_at", "-pk").values("pk")[:1]
    rows = marks.filter(outcome=RemindMark.Outcome.REFUSED, pk=Subquery(newest), resident__county_code=county_code)
    if villages:
        rows = rows.filter(resident__village_code__in=villages)
    if until is None:
        rows = rows.filter(resident_id__in=remind.remind_base(county_code=county_code, benefit_year=benefit_year)
                           .values("resident_id"))
    else:
        last = selectors.Enrollment.objects.filter(selectors.covered_q(), county_code=county_code,
                                                   benefit_year=benefit_year - 1)
        rows = rows.filter(resident_id__in=last.values("resident_id"))
        if renewed is not None:
            rows = rows.exclude(resident_id__in=renewed)
    return dict(rows.values_list("resident__village_code").annotate(n=Count("resident_id", distinct=True))
                .values_list("resident__village_code", "n"))


def _targets(county_code: str, benefit_year: int) -> dict[str, tuple]:
    return {
        t.region_code: (t.total, t.special, t.others, t.population, t.supplementary)
        for t in Target.objects.filter(county_code=county_code, benefit_year=benefit_year)
    }


def _unit_rows(*, county_code: str, benefit_year: int, day: dt.date, villages: dict[str, dict], source: str,
               refreshed_at) -> list[tuple]:
    """Rows for every village given, their townships and the county (sums), each with its target of now."""
    from yibao.regions.models import Region

    figures: dict[str, dict] = {code: dict(v) for code, v in villages.items()}
    codes = set(figures) | set(Region.objects.filter(county_code=county_code, level=12).values_list("code", flat=True))
    zero = {name: (Decimal("0.00") if name == "amount" else 0) for name in COUNTS}
    areas: dict[str, dict] = defaultdict(lambda: dict(zero))
    areas[county_code]
    for code in sorted(c for c in codes if c and len(c) == 12):
        row = figures[code] = {**zero, **figures.get(code, {})}
        for area in (code[:9], county_code):
            for name in COUNTS:
                areas[area][name] += row.get(name, 0) or 0
    figures.update(areas)
    targets = _targets(county_code, benefit_year)
    return [
        (county_code, code, benefit_year, day, *(row.get(name, 0) or 0 for name in COUNTS),
         *targets.get(code, (None,) * len(TARGETS)), source, refreshed_at)
        for code, row in sorted(figures.items())
    ]


def _write(rows: list[tuple]) -> None:
    from yibao.progress.services.refresh import _insert_rows

    _insert_rows(DaySnapshot, COLUMNS, rows)


def snapshot_write(*, county_code: str, benefit_year: int, villages=None, refreshed_at=None) -> int:
    """Store today's figures from the rollup just written (inside the recount's transaction).

    A recount of a few villages updates their rows and their townships' and the county's sums, once the
    day has a whole-county snapshot; otherwise (and after a whole-county recount) every unit is written.
    Returns the rows written.
    """
    day = business_today()
    if refreshed_at is None:
        refreshed_at = (ProgressRefresh.objects.filter(county_code=county_code, benefit_year=benefit_year)
                        .values_list("refreshed_at", flat=True).first())
    stamp = business_time(refreshed_at) if refreshed_at else None  # as the page showed it that day
    names = ("paid", "enrolled", "registered", "special_people", "special_enrolled", "last_year", "renewed", "amount")
    rollup = VillageProgress.objects.filter(county_code=county_code, benefit_year=benefit_year)
    whole = not villages or not DaySnapshot.objects.filter(
        region_code=county_code, benefit_year=benefit_year, day=day, source=DaySnapshot.Source.COUNTED).exists()
    if whole:
        figures = {code: dict(zip(names, values)) for code, *values in rollup.values_list("village_code", *names)}
        closed = closed_marks(county_code=county_code, benefit_year=benefit_year)
        refused = refused_marks(county_code=county_code, benefit_year=benefit_year)
    else:
        stored = DaySnapshot.objects.filter(county_code=county_code, benefit_year=benefit_year, day=day)
        figures = {code: dict(zip(COUNTS, values))
                   for code, *values in stored.values_list("region_code", *COUNTS) if len(code) == 12}
        for code in villages:
            figures.pop(code, None)
        figures.update({code: dict(zip(names, values)) for code, *values in
                        rollup.filter(village_code__in=villages).values_list("village_code", *names)})
        closed = closed_marks(county_code=county_code, benefit_year=benefit_year, villages=villages)
        refused = refused_marks(county_code=county_code, benefit_year=benefit_year, villages=villages)
    for code, row in figures.items():
        if whole or code in villages:
            row["remind_closed"] = closed.get(code, 0)
            row["remind_refused"] = refused.get(code, 0)
    rows = _unit_rows(county_code=county_code, benefit_year=benefit_year, day=day, villages=figures,
                      source=DaySnapshot.Source.COUNTED, refreshed_at=stamp)
    if not whole:  # only the villages counted and the sums above them changed
        touched = set(villages) | {v[:9] for v in villages} | {county_code}
        rows = [row for row in rows if row[1] in touched]
    _write(rows)
    return len(rows)


def _rebuilt_villages(county_code: str, benefit_year: int, day: dt.date) -> dict[str, dict]:
    """A past day's figures from dates: the daily curve up to that day (payments by their day, 免缴 by the day
    of their 登记), special groups and renewals completed by then, 催缴 marks made by then. 特殊群体人数 and
    上年参保人数 are today's (they do not move with payments)."""
    from yibao.collection.models import Payment
    from yibao.enrollment.models import Enrollment
    from yibao.progress import selectors
    from yibao.progress.services.refresh import _by

    figures: dict[str, dict] = defaultdict(dict)
    curve = (VillageDay.objects.filter(county_code=county_code, benefit_year=benefit_year, day__lte=day)
             .values_list("village_code").annotate(p=Sum("paid"), e=Sum("exempt"), a=Sum("amount"))
             .values_list("village_code", "p", "e", "a"))
    for code, paid, exempt, amount in curve:
        figures[code].update(paid=paid or 0, enrolled=(paid or 0) + (exempt or 0), amount=amount or Decimal("0.00"))
    for code, special_people, last_year in VillageProgress.objects.filter(
            county_code=county_code, benefit_year=benefit_year).values_list("village_code", "special_people", "last_year"):
        figures[code].update(special_people=special_people, last_year=last_year)
    place = "resident__village_code"
    booked = Payment.objects.filter(county_code=county_code, benefit_year=benefit_year, status=Payment.Status.BOOKED)
    mine = booked.filter(resident_id=OuterRef("resident_id"))
    by_then = Q(Exists(mine.filter(paid_on__lte=day))) | (~Q(Exists(mine)) & Q(registered_at__date__lte=day))
    enrollments = Enrollment.objects.filter(county_code=county_code, benefit_year=benefit_year)
    done = enrollments.filter(by_then, status=Enrollment.Status.PAID)
    for code, n in selectors.special_by(done, county_code=county_code, benefit_year=benefit_year, group=place,
                                        resident_field="resident_id").items():
        figures[code]["special_enrolled"] = n
    last = Enrollment.objects.filter(selectors.covered_q(), county_code=county_code, benefit_year=benefit_year - 1)
    for code, n in _by(last.filter(resident_id__in=done.values("resident_id")), place).items():
        figures[code]["renewed"] = n
    signed = _by(enrollments.filter(registered_at__date__lte=day,
                                    status__in=(Enrollment.Status.REGISTERED, Enrollment.Status.PAID)), place)
    for code, n in signed.items():
        figures[code]["registered"] = max(0, n - figures[code].get("enrolled", 0))
    for code, n in closed_marks(county_code=county_code, benefit_year=benefit_year, until=day).items():
        figures[code]["remind_closed"] = n
    for code, n in refused_marks(county_code=county_code, benefit_year=benefit_year, until=day,
                                 renewed=done.values("resident_id")).items():
        figures[code]["remind_refused"] = n
    return {code: row for code, row in figures.items() if code and len(code) == 12}


def snapshot_rows(*, county_code: str, benefit_year: int, day: dt.date) -> tuple[list[tuple], str]:
    """The stored rows of a day, else the day computed from dates (not stored); with the source."""
    stored = list(DaySnapshot.objects.filter(county_code=county_code, benefit_year=benefit_year, day=day)
                  .values_list(*COLUMNS))
    if stored:
        return stored, stored[0][COLUMNS.index("source")]
    rows = _unit_rows(county_code=county_code, benefit_year=benefit_year, day=day,
                      villages=_rebuilt_villages(county_code, benefit_year, day),
                      source=DaySnapshot.Source.REBUILT, refreshed_at=None)
    return rows, DaySnapshot.Source.REBUILT


def snapshot_ensure(*, county_code: str, benefit_year: int, day: dt.date) -> str:
    """Make sure a past day is stored: 'stored' when it already was, 'rebuilt' when computed now and stored."""
    if not is_past(day):
        return "live"
    if DaySnapshot.objects.filter(region_code=county_code, benefit_year=benefit_year, day=day).exists():
        return "stored"
    rows, _ = snapshot_rows(county_code=county_code, benefit_year=benefit_year, day=day)
    with transaction.atomic():
        _write(rows)
    return "rebuilt"


def snapshot_figures(*, county_code: str, benefit_year: int, day: dt.date) -> dict:
    """{region_code: {count and target fields}}, the source and the statistics time (a real-clock stamp, as
    the rollup's, so business_time shows it as it was shown that day)."""
    rows, source = snapshot_rows(county_code=county_code, benefit_year=benefit_year, day=day)
    units = {row[1]: dict(zip(COLUMNS, row)) for row in rows}
    stamps = [row["refreshed_at"] for row in units.values() if row["refreshed_at"]]
    refreshed = None
    if stamps:  # stored as the business clock showed it; undo today's shift so business_time gives it back
        refreshed = max(stamps) - (business_today() - timezone.localdate())
    return {"units": units, "source": source, "refreshed_at": refreshed}
