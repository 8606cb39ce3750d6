"""Roll-ups above the county: a city's counties, or a province's cities, side by side.

Reads only the small tables (regions, campaigns, targets, the per-village rollup VillageProgress, the
day snapshots, progress refreshes, 催缴 marks and reconciliation runs), one query per table for the whole
city or province: its counties are found by code prefix among regions and campaigns, then every table is
read with `county_code IN (…)` (an index range on SQLite and PostgreSQL alike, where a LIKE prefix is not),
never a county's payments or enrollments (the 拒缴 check probes them by index per marked person).

A county's figures are the county page's (progress_tree): the counts of its villages, its own target,
its own 序时人数 (pace.standing on its own window). Above it every count is a sum: a city is the sum of
its counties, a province the sum of its cities (so of all its counties). Rates are computed from the
summed figures, never averaged; the pace of a city is Σ 序时人数 of its counties against Σ 参保人数.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Subquery, Sum
from django.http import Http404

from yibao.core.clock import business_today
from yibao.progress.pace import rate, standing

# figures that add up from part to whole
SUMMED = ("target", "paid", "enrolled", "amount", "special_people", "special_enrolled", "last_year", "renewed",
          "remind_closed", "remind_refused", "expected", "behind", "counties", "counties_open", "counties_targeted",
          "reconcile_ok", "reconcile_judged", "reconcile_runs", "mismatches", "enrolled_targeted")
COUNTS = ("paid", "enrolled", "special_people", "special_enrolled", "last_year", "renewed", "amount")

SORTS = {
    "rate": "参保率",
    "pace": "差序时人数",
    "remind": "待催缴",
    "reconcile": "对账达标",
}


@dataclass
class RollupRow:
    """One county (or, in a province, one city) of a roll-up; a city or province total is the same shape."""

    code: str
    name: str
    level: int
    target: int | None = None
    paid: int = 0
    enrolled: int = 0
    amount: Decimal = Decimal("0.00")
    special_people: int = 0
    special_enrolled: int = 0
    last_year: int = 0
    renewed: int = 0
    remind_closed: int = 0
    remind_refused: int = 0
    expected: int | None = None  # 序时人数 (a county's own; above it Σ of its counties')
    behind: int | None = None  # 差序时人数: a county's shortfall; above it Σ of the counties' shortfalls
    share: Decimal | None = None  # 序时进度 of a county; above it Σ序时人数 ÷ Σ应参保人数
    counties: int = 0
    counties_open: int = 0  # with a campaign of the year
    counties_targeted: int = 0  # with a county target
    enrolled_targeted: int = 0  # 参保人数 of the counties with a target: a whole's 参保率 and gap read these
    reconcile_ok: int = 0  # counties whose every judged month had enough reconciliations
    reconcile_judged: int = 0  # counties with a campaign to judge
    reconcile_runs: int = 0
    mismatches: int = 0  # differences in each county's latest run
    last_run: dt.date | None = None
    reconcile_short: int = 0  # months short (a county's own)
    reconcile_required: int | None = None  # runs a month the policy asks (a county's own)
    campaign: bool = False
    refreshed_at: dt.datetime | None = None
    source: str = "live"
    rank: int | None = None
    rank_of: int | None = None
    marks: list[str] = field(default_factory=list)

    @property
    def enrolled_against_target(self) -> int:
        """参保人数 set against 应参保人数: a county's own; above a county, of the counties with a target only
        (one without adds its people to 参保人数 but nothing to 应参保人数, and would lift the whole's rate)."""
        return self.enrolled if self.level == 6 else self.enrolled_targeted

    @property
    def rate(self) -> Decimal | None:
        return rate(self.enrolled_against_target, self.target)

    @property
    def special_rate(self) -> Decimal | None:
        return rate(self.special_enrolled, self.special_people)

    @property
    def not_renewed(self) -> int:
        return max(0, self.last_year - self.renewed)

    @property
    def remind_open(self) -> int:
        return max(0, self.not_renewed - self.remind_closed) if self.level == 6 else self._remind_open

    _remind_open: int = 0

    @property
    def renewal_rate(self) -> Decimal | None:
        return rate(self.renewed, self.last_year)

    @property
    def on_pace(self) -> bool | None:
        return None if self.expected is None else self.behind == 0

    @property
    def gap(self) -> int | None:
        return None if self.target is None else max(0, self.target - self.enrolled_against_target)

    @property
    def reconcile_status(self) -> str:
        """ok 达标 / short 未达标 / none 未对账 / na 不要求 (no campaign); above a county: ok when all judged are."""
        if self.level == 6:
            if not self.reconcile_judged:
                return "na"
            if not self.reconcile_runs:
                return "none"
            return "ok" if self.reconcile_ok else "short"
        if not self.reconcile_judged:
            return "na"
        return "ok" if self.reconcile_ok == self.reconcile_judged else "short"

    @property
    def reconcile_label(self) -> str:
        status = self.reconcile_status
        if self.level != 6:
            return "—" if status == "na" else f"{self.reconcile_ok}/{self.reconcile_judged} 个县达标"
        if status == "na":
            return "未开征"
        if status == "none":
            return "未对账"
        if status == "ok":
            return "达标"
        return f"未达标（{self.reconcile_short} 个月次数不足）"

    def as_dict(self) -> dict:
        return {
            "code": self.code, "name": self.name, "level": self.level, "target": self.target, "paid": self.paid,
            "enrolled": self.enrolled, "amount": self.amount, "rate": self.rate, "share": self.share,
            "expected": self.expected, "behind": self.behind, "on_pace": self.on_pace, "gap": self.gap,
            "special_people": self.special_people, "special_enrolled": self.special_enrolled,
            "special_rate": self.special_rate, "last_year": self.last_year, "renewed": self.renewed,
            "renewal_rate": self.renewal_rate, "remind_closed": self.remind_closed, "remind_open": self.remind_open,
            "remind_refused": self.remind_refused, "counties": self.counties, "counties_open": self.counties_open,
            "counties_targeted": self.counties_targeted, "enrolled_targeted": self.enrolled_targeted,
            "reconcile_status": self.reconcile_status,
            "reconcile_label": self.reconcile_label, "reconcile_ok": self.reconcile_ok,
            "reconcile_judged": self.reconcile_judged, "reconcile_runs": self.reconcile_runs,
            "reconcile_required": self.reconcile_required, "last_run": self.last_run, "mismatches": self.mismatches,
            "rank": self.rank, "rank_of": self.rank_of, "marks": list(self.marks), "source": self.source,
        }


def total_of(code: str, name: str, level: int, parts: list[RollupRow]) -> RollupRow:
    """The whole as the sum of its parts: counts, targets, 序时人数 and shortfalls add up; rates follow."""
    whole = RollupRow(code=code, name=name, level=level)
    for name_ in SUMMED:
        values = [getattr(p, name_) for p in parts]
        if name_ in ("target", "expected", "behind"):
            known = [v for v in values if v is not None]
            setattr(whole, name_, sum(known) if known else None)
        else:
            setattr(whole, name_, sum(values, Decimal("0.00") if name_ == "amount" else 0))
    whole._remind_open = sum(p.remind_open for p in parts)
    if whole.expected is not None and whole.target:
        whole.share = (Decimal(whole.expected) / Decimal(whole.target)).quantize(Decimal("0.0001"))
    runs = [p.last_run for p in parts if p.last_run]
    whole.last_run = max(runs) if runs else None
    stamps = [p.refreshed_at for p in parts if p.refreshed_at]
    whole.refreshed_at = min(stamps) if stamps else None  # the oldest count in the whole
    whole.source = "rebuilt" if any(p.source == "rebuilt" for p in parts) else parts[0].source if parts else "live"
    whole.campaign = any(p.campaign for p in parts)
    return whole


def rank_rows(rows: list[RollupRow]) -> None:
    """Siblings by 参保率 (then 参保人数), as the county ranks its townships; no target, no rank."""
    ranked = sorted((r for r in rows if r.rate is not None), key=lambda r: (-r.enrolled / r.target, -r.enrolled, r.code))
    for position, row in enumerate(ranked, start=1):
        row.rank, row.rank_of = position, len(ranked)


def sort_rows(rows: list[RollupRow], sort: str = "rate") -> list[RollupRow]:
    """rate: best first; pace: most people behind 序时 first; remind: most left to chase first;
    reconcile: short first, then never reconciled, then 达标. Rows without the figure go last."""
    if sort == "pace":
        key = lambda r: (r.behind is None, -(r.behind or 0), r.code)  # noqa: E731
    elif sort == "remind":
        key = lambda r: (-r.remind_open, r.code)  # noqa: E731
    elif sort == "reconcile":
        order = {"short": 0, "none": 1, "ok": 2, "na": 3}
        key = lambda r: (order[r.reconcile_status], -r.mismatches, r.code)  # noqa: E731
    else:
        key = lambda r: (r.rank is None, r.rank or 0, r.code)  # noqa: E731
    return sorted(rows, key=key)


@dataclass
class Rollup:
    region_code: str
    name: str
    level: int  # 4 (a city: rows are counties) or 2 (a province: rows are cities)
    benefit_year: int
    on: dt.date
    source: str  # live or a past day's
    total: RollupRow
    rows: list[RollupRow]
    counties: dict[str, RollupRow]  # every county, also in a province roll-up

    @property
    def past(self) -> bool:
        return self.source != "live"

    @property
    def part_label(self) -> str:
        return "县（市、区）" if self.level == 4 else "市（州）"

    @property
    def as_of_label(self) -> str:
        return f"截至 {self.on.isoformat()} 日终" if self.past else f"今日实时（{self.on.isoformat()}）"


def check_region(scope, region_code: str | None) -> str:
    """A city (4 digits) or province (2) inside the scope; a county scope has no roll-up."""
    code = (region_code or scope.region_code or "").strip()
    if not code:
        raise Http404("请指定市（4位）或省（2位）区划代码。")
    if not (code.isdigit() and len(code) in (2, 4)):
        raise Http404(f"汇总的区划代码“{code}”应为市（4位）或省（2位）数字代码。")
    scope.require_region(code)
    return code


def year_default(region_code: str) -> int | None:
    """The latest year of an open campaign among the region's counties, else of any campaign or target."""
    from yibao.enrollment.models import Campaign
    from yibao.progress.models import Target

    for rows in (Campaign.objects.filter(county_code__startswith=region_code, imported=False, status=Campaign.Status.OPEN),
                 Campaign.objects.filter(county_code__startswith=region_code, imported=False),
                 Target.objects.filter(county_code__startswith=region_code)):
        year = rows.order_by("-benefit_year").values_list("benefit_year", flat=True).first()
        if year:
            return year
    return None


def counties_of(region_code: str) -> list[str]:
    """The county codes under a city or province: loaded regions, and any county with figures."""
    from yibao.enrollment.models import Campaign
    from yibao.regions.models import Region

    codes = set(Region.objects.filter(code__startswith=region_code, level=6).values_list("code", flat=True))
    codes |= set(Campaign.objects.filter(county_code__startswith=region_code).values_list("county_code", flat=True))
    return sorted(c for c in codes if len(c) == 6)


def _live_marks(codes: list[str], benefit_year: int) -> tuple[dict[str, int], dict[str, int]]:
    """已核实不再参保 and 其中拒缴 per county, as the county page counts them. Grouped by the marks' own county
    (a person moves only within the county), so the residents table is never scanned: the 拒缴 check probes
    the indexes of last year's and this year's enrollments and payments person by person."""
    from yibao.collection.models import Payment
    from yibao.enrollment.models import Enrollment
    from yibao.progress import selectors
    from yibao.progress.models import RemindMark

    marks = RemindMark.objects.filter(county_code__in=codes, benefit_year=benefit_year)

    def by_county(rows) -> dict[str, int]:
        return dict(rows.values_list("county_code").annotate(n=Count("resident_id", distinct=True))
                    .values_list("county_code", "n"))

    newest = marks.filter(resident_id=OuterRef("resident_id")).order_by("-marked_at", "-pk").values("pk")[:1]
    mine = {"county_code": OuterRef("county_code"), "resident_id": OuterRef("resident_id")}
    last = Enrollment.objects.filter(selectors.covered_q(), benefit_year=benefit_year - 1, **mine)
    done = Enrollment.objects.filter(benefit_year=benefit_year, status__in=selectors.DONE_STATUSES, **mine)
    booked = Payment.objects.filter(benefit_year=benefit_year, status=Payment.Status.BOOKED, **mine)
    refused = (marks.filter(outcome=RemindMark.Outcome.REFUSED, pk=Subquery(newest)).filter(Exists(last))
               .exclude(Exists(done)).exclude(Exists(booked)))  # still on the 催缴 list
    return by_county(marks.exclude(outcome__in=RemindMark.RECORDS)), by_county(refused)


def _reconciliation(codes: list[str], benefit_year: int, campaigns: dict, on: dt.date, past: bool) -> dict[str, dict]:
    """Per county: the months judged against the policy's 每月对账次数 (reconciliation.month_check), runs, the
    latest run's date and differences."""
    from yibao.reconciliation.models import ReconciliationRun
    from yibao.reconciliation.selectors import months_judged, required_per_month

    runs = ReconciliationRun.objects.filter(county_code__in=codes, benefit_year=benefit_year)
    if past:
        runs = runs.filter(ran_on__lte=on)
    by_county: dict[str, list] = defaultdict(list)
    for county, ran_on, pk, started, mismatches in runs.values_list(
            "county_code", "ran_on", "pk", "started_at", "mismatch_total").order_by("ran_on", "pk"):
        by_county[county].append((ran_on, pk, started, mismatches))
    out = {}
    for county, campaign in campaigns.items():
        if campaign is None or campaign.imported:
            continue
        own = by_county.get(county, [])
        required = required_per_month(campaign)
        judged = months_judged(campaign=campaign, required=required, runs=[(r[0], r[1]) for r in own], today=on)
        latest = max(own, key=lambda r: (r[2], r[1])) if own else None
        out[county] = {"short": judged["short"], "runs": len(own), "required": required["times"],
                       "last_run": latest[0] if latest else None, "mismatches": latest[3] if latest else 0}
    return out


def county_rows(*, region_code: str, benefit_year: int, on: dt.date | None = None) -> tuple[dict[str, RollupRow], str]:
    """Every county under a city or province with its figures of the year (today's, or the end of a past day)."""
    from yibao.enrollment.models import Campaign
    from yibao.progress import snapshots
    from yibao.progress.models import DaySnapshot, ProgressRefresh, Target, VillageProgress
    from yibao.progress.selectors import pace_window
    from yibao.regions.models import Region

    on = on or business_today()
    past = snapshots.is_past(on)
    prefix = region_code
    names = dict(Region.objects.filter(code__startswith=prefix, level=6).values_list("code", "name"))
    campaigns = {c.county_code: c for c in Campaign.objects.filter(county_code__startswith=prefix,
                                                                    benefit_year=benefit_year)}
    codes = sorted({*names, *campaigns})
    rows = {c: RollupRow(code=c, name=names.get(c, c), level=6, counties=1) for c in codes}
    if not past:
        sums = (VillageProgress.objects.filter(county_code__in=codes, benefit_year=benefit_year)
                .values("county_code").annotate(**{f"s_{n}": Sum(n) for n in COUNTS}))
        for item in sums:
            row = rows.get(item["county_code"])
            if row is not None:
                for n in COUNTS:
                    setattr(row, n, item[f"s_{n}"] or (Decimal("0.00") if n == "amount" else 0))
        closed, refused = _live_marks(codes, benefit_year)
        for county, row in rows.items():
            row.remind_closed, row.remind_refused = closed.get(county, 0), refused.get(county, 0)
        for county, total in Target.objects.filter(region_code__in=codes, benefit_year=benefit_year,
                                                   level=6).values_list("region_code", "total"):
            if county in rows:
                rows[county].target = total
        for county, stamp in ProgressRefresh.objects.filter(county_code__in=codes,
                                                            benefit_year=benefit_year).values_list("county_code",
                                                                                                   "refreshed_at"):
            if county in rows:
                rows[county].refreshed_at = stamp
    else:
        fields = ("county_code", "target", "refreshed_at", "source", *COUNTS, "remind_closed", "remind_refused")
        stored = {item[0]: dict(zip(fields, item)) for item in DaySnapshot.objects.filter(
            region_code__in=codes, benefit_year=benefit_year, day=on,
        ).values_list(*fields)}
        for county, row in rows.items():
            figures = stored.get(county)
            if figures is None and county in campaigns:  # never counted that day: computed from dates, as the county page
                figures = snapshots.snapshot_figures(county_code=county, benefit_year=benefit_year, day=on)["units"].get(county)
            if figures is None:
                continue
            for n in (*COUNTS, "remind_closed", "remind_refused", "target", "refreshed_at"):
                setattr(row, n, figures[n] if figures[n] is not None or n in ("target", "refreshed_at") else 0)
            row.source = figures["source"]
    reconciled = _reconciliation(codes, benefit_year, campaigns, on, past)
    for county, row in rows.items():
        campaign = campaigns.get(county)
        row.campaign = campaign is not None and not campaign.imported
        row.counties_open = int(row.campaign)
        row.counties_targeted = int(row.target is not None)
        row.enrolled_targeted = row.enrolled if row.target is not None else 0
        window = pace_window(county, benefit_year, campaign) if campaign is not None else None
        share = window.share(on) if window else None
        figures = standing(row.enrolled, row.target, share)
        row.expected, row.behind = figures.expected, figures.behind
        row.share = share if figures.expected is not None else None
        judged = reconciled.get(county)
        if judged is not None:
            row.reconcile_judged, row.reconcile_runs = 1, judged["runs"]
            row.reconcile_ok = int(judged["short"] == 0 and judged["runs"] > 0)
            row.reconcile_short, row.reconcile_required = judged["short"], judged["required"]
            row.last_run, row.mismatches = judged["last_run"], judged["mismatches"]
        if campaign is None:
            row.marks.append("未开征")
        elif campaign.imported:
            row.marks.append("历史名单年度")
        if row.target is None:
            row.marks.append("未下达目标")
    return rows, ("live" if not past else ("rebuilt" if any(r.source == "rebuilt" for r in rows.values()) else "counted"))


def snapshots_check(on: dt.date | None) -> dt.date | None:
    from yibao.progress import snapshots

    return snapshots.check_day(on)


def rollup(*, scope, region_code: str | None = None, benefit_year: int | None = None, on: dt.date | None = None,
           sort: str = "rate") -> Rollup:
    """A city's counties (or a province's cities) ranked, with the whole as their sum."""
    from yibao.progress import snapshots
    from yibao.regions.models import Region

    code = check_region(scope, region_code)
    benefit_year = benefit_year or year_default(code)
    if not benefit_year:
        raise Http404("该市（省）的各县还没有征缴年度或目标任务，无法汇总。")
    on = snapshots.check_day(on) or business_today()
    counties, source = county_rows(region_code=code, benefit_year=benefit_year, on=on)
    names = dict(Region.objects.filter(code__startswith=code, level__in=(2, 4)).values_list("code", "name"))
    if len(code) == 4:
        rows = list(counties.values())
    else:
        cities: dict[str, list[RollupRow]] = defaultdict(list)
        for county in counties.values():
            cities[county.code[:4]].append(county)
        for city in names:
            if len(city) == 4:
                cities.setdefault(city, [])
        rows = [total_of(city, names.get(city, city), 4, parts) for city, parts in sorted(cities.items())]
        for row in rows:
            if not row.counties:
                row.marks.append("无县级数据")
    rank_rows(rows)
    total = total_of(code, names.get(code, code), len(code), rows)
    total.source = source
    if sort not in SORTS:
        sort = "rate"
    return Rollup(region_code=code, name=names.get(code, code), level=len(code), benefit_year=benefit_year, on=on,
                  source=source, total=total, rows=sort_rows(rows, sort), counties=counties)
