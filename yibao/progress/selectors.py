"""Reads of the progress area: targets, progress by unit, the daily curve, ranking and the 12-10 comparison
(催缴 in remind.py, the home cards in home.py).

Definitions (docs/progress.md says the same in Chinese):
  已缴人数   booked payments (Payment.status = booked) for the benefit year;
  参保人数   enrollments in 正常参保 (Enrollment.status = paid), which includes 免缴 people who
             never pay; the 参保率 is 参保人数 / 应参保人数;
  特殊群体   residents whose assessment (核定) for the year applied a subsidy identity; a resident
             not yet assessed counts when they hold any identity valid during the collection window.
  序时进度   see pace.py.
Progress reads only the rollup tables (VillageProgress, VillageDay) that services.progress_refresh
rebuilds, so a county of a million residents answers in milliseconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.http import Http404

from yibao.core.clock import business_today
from yibao.enrollment.models import Assessment, Campaign, Enrollment
from yibao.progress.models import AreaDay, ProgressRefresh, Target, VillageDay, VillageProgress
from yibao.progress.pace import PaceWindow, expected_count, rate, standing
from yibao.regions.models import Region
from yibao.registry.models import Identity

LEVEL_NAMES = {6: "县（区）", 9: "乡镇（街道）", 12: "村（社区）"}
DONE_STATUSES = (Enrollment.Status.PAID,)
LAST_YEAR_STATUSES = (Enrollment.Status.PAID, Enrollment.Status.SUSPENDED)


def covered_q(prefix: str = "") -> Q:
    """An enrollment that gave cover that year: 正常参保 or 暂停, or 终止 after its benefits began
    (a death or move found by 催缴 ends last year's cover but the person stays on the comparison);
    not a registration that was never paid, nor one ended with a refund before its benefits."""
    return Q(**{f"{prefix}status__in": LAST_YEAR_STATUSES}) | Q(
        **{f"{prefix}status": Enrollment.Status.TERMINATED, f"{prefix}benefit_start__isnull": False}
    )


def was_covered(enrollment: Enrollment | None) -> bool:
    if enrollment is None:
        return False
    return enrollment.status in LAST_YEAR_STATUSES or (
        enrollment.status == Enrollment.Status.TERMINATED and enrollment.benefit_start is not None
    )


# ---------------------------------------------------------------- the campaign's dates


def campaign_for(county_code: str, benefit_year: int) -> Campaign | None:
    return Campaign.objects.filter(county_code=county_code, benefit_year=benefit_year).first()


def policy_for(county_code: str, benefit_year: int, campaign: Campaign | None = None):
    """The policy of a county's year: the campaign's, else an installed file that covers the county."""
    from yibao.policy.loader import PolicyNotFound, load_policy, policies_for_region

    if campaign is not None:
        if campaign.imported:  # an imported past year has no policy
            return None
        try:
            return load_policy(campaign.policy_id)
        except PolicyNotFound:
            return None
    return next((p for p in policies_for_region(county_code) if p.data.benefit_year == benefit_year), None)


_ASK = object()


def pace_window(county_code: str, benefit_year: int, campaign=_ASK) -> PaceWindow | None:
    """The collection window and deadline 序时进度 runs over, or None when neither campaign nor policy is known.
    `campaign` may be given when already read (the city roll-up reads every county's in one query)."""
    if campaign is _ASK:
        campaign = campaign_for(county_code, benefit_year)
    if campaign is not None and campaign.imported:  # a history year was not collected here: no pace
        return None
    policy = policy_for(county_code, benefit_year, campaign)
    window = policy.data.collection.main_window if policy else None
    targets = policy.data.targets if policy else None
    if campaign is not None:
        start, end, source = campaign.collection_start, campaign.collection_end, f"{campaign.policy_id}"
    elif window is not None:
        start, end, source = window.start, window.end, policy.id
    else:
        return None
    deadline = targets.deadline if targets and targets.deadline else end
    days = window.days_of_month if window is not None else None
    by_month = tuple((month, d.first, d.last) for d in (window.days_by_month or ()) for month in d.months) \
        if window is not None else ()
    return PaceWindow(
        start=start, deadline=max(deadline, start), first_day=days.first if days else None,
        last_day=days.last if days else None, source=source, by_month=by_month,
    )


def policy_goals(county_code: str, benefit_year: int) -> dict:
    """The rates a notice sets (参保率, 特殊群体参保率) and its publication rhythm, with the quoted text."""
    policy = policy_for(county_code, benefit_year, campaign_for(county_code, benefit_year))
    targets = policy.data.targets if policy else None
    return {
        "enrollment_rate": targets.enrollment_rate if targets else None,
        "special_groups_rate": (targets.special_groups_rate if targets and targets.special_groups_rate else Decimal(1)),
        "deadline": targets.deadline if targets else None,
        "publish_every_days": (targets.publish_every_days if targets and targets.publish_every_days else 7),
        "report_every_days": (targets.report_every_days if targets and targets.report_every_days else 14),
        "reference": targets.reference if targets else "",
        "policy_id": policy.id if policy else None,
    }


def benefit_year_default(county_code: str) -> int | None:
    """The open campaign's year, else the latest year with targets, else the newest policy for the county."""
    from yibao.enrollment.selectors import campaign_current

    campaign = campaign_current(county_code=county_code)
    if campaign is not None:
        return campaign.benefit_year
    year = (
        Target.objects.filter(county_code=county_code).order_by("-benefit_year").values_list("benefit_year", flat=True).first()
    )
    if year:
        return year
    from yibao.policy.loader import policies_for_region

    policies = policies_for_region(county_code) if county_code else []
    return policies[0].data.benefit_year if policies else None


def identity_window(county_code: str, benefit_year: int) -> tuple[dt.date, dt.date]:
    window = pace_window(county_code, benefit_year)
    if window is not None:
        return window.start, window.deadline
    return dt.date(benefit_year - 1, 1, 1), dt.date(benefit_year - 1, 12, 31)


def exclude_residents(queryset, resident_field: str, others, others_field: str = "resident_id"):
    """Rows of `queryset` whose resident is not among `others` (an anti-join).

    PostgreSQL: NOT EXISTS, planned as a hash anti-join (a NOT IN whose set outgrows work_mem is
    probed row by row). SQLite: NOT IN, whose set it indexes once (NOT EXISTS would probe per row).
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        return queryset.exclude(Exists(others.filter(**{others_field: OuterRef(resident_field)})))
    subquery = others.filter(**{f"{others_field}__isnull": False}).values(others_field)  # NOT IN must see no NULL
    return queryset.exclude(**{f"{resident_field}__in": subquery})


def special_by(queryset, *, county_code: str, benefit_year: int, group: str, resident_field: str = "pk",
               few: bool = False) -> dict:
    """Counts by `group` of the rows of `queryset` whose resident belongs to the special groups of the year.

    Special: the year's assessment (核定) applied a subsidy identity; or, not assessed yet, the resident
    holds an identity valid during the collection window. For a county, two disjoint IN-subqueries,
    summed: the database hashes each set once. For `few` rows (a village), an index probe per row.
    """
    start, end = identity_window(county_code, benefit_year)
    holders = Identity.objects.filter(county_code=county_code).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=end), Q(valid_to__isnull=True) | Q(valid_to__gte=start)
    )

    def count(rows) -> dict:
        return dict(rows.values_list(group).annotate(n=Count("pk")).values_list(group, "n"))

    campaign = campaign_for(county_code, benefit_year)
    if few:
        held = Exists(holders.filter(resident_id=OuterRef(resident_field)))
        if campaign is None:
            return count(queryset.filter(held))
        assessed = Assessment.objects.filter(campaign_id=campaign.pk, resident_id=OuterRef(resident_field))
        return count(queryset.filter(Q(Exists(assessed.exclude(subsidy_identity=""))) | (~Q(Exists(assessed)) & Q(held))))
    holders = holders.values("resident_id")
    if campaign is None:
        return count(queryset.filter(**{f"{resident_field}__in": holders}))
    assessed = Assessment.objects.filter(campaign_id=campaign.pk)
    applied = count(queryset.filter(**{f"{resident_field}__in": assessed.exclude(subsidy_identity="").values("resident_id")}))
    pending = count(exclude_residents(queryset.filter(**{f"{resident_field}__in": holders}), resident_field, assessed))
    return {key: applied.get(key, 0) + pending.get(key, 0) for key in applied.keys() | pending.keys()}


# ---------------------------------------------------------------- targets


def target_list(*, scope, benefit_year: int, region: str | None = None) -> list[Target]:
    rows = scope.filter_counties(Target.objects.filter(benefit_year=benefit_year))
    if scope.region_code:
        rows = rows.filter(region_code__startswith=scope.region_code)
    if region:
        scope.require_region(region)
        rows = rows.filter(county_code=region[:6], region_code__startswith=region)
    return list(rows.order_by("region_code"))


def target_years(*, scope) -> list[int]:
    rows = scope.filter_counties(Target.objects.all())
    return sorted(set(rows.values_list("benefit_year", flat=True)), reverse=True)


# ---------------------------------------------------------------- progress by unit


@dataclass
class Unit:
    code: str
    name: str
    level: int
    target: int | None = None
    special_target: int | None = None
    others_target: int | None = None
    population: int | None = None
    supplementary: int | None = None
    supplementary_label: str = ""
    layout: str = ""
    target_source: str = ""
    paid: int = 0
    enrolled: int = 0
    registered: int = 0
    special_people: int = 0
    special_enrolled: int = 0
    last_year: int = 0
    renewed: int = 0
    amount: Decimal = Decimal("0.00")
    remind_closed: int = 0
    remind_refused: int = 0  # 其中拒缴: still to chase, counted within remind_open
    rate: Decimal | None = None
    special_rate: Decimal | None = None
    expected: int | None = None
    on_pace: bool | None = None
    gap: int | None = None
    behind: int | None = None
    rank: int | None = None
    rank_of: int | None = None
    children: list[str] = field(default_factory=list)

    @property
    def parent_code(self) -> str | None:
        return {9: self.code[:6], 12: self.code[:9]}.get(self.level)

    @property
    def not_renewed(self) -> int:
        return max(0, self.last_year - self.renewed)

    @property
    def renewal_rate(self) -> Decimal | None:
        return rate(self.renewed, self.last_year)

    @property
    def remind_open(self) -> int:
        """待催缴: last year's enrollees not renewed, less those verified as moved, 职工医保 or dead."""
        return max(0, self.not_renewed - self.remind_closed)

    @property
    def new_enrolled(self) -> int:
        return max(0, self.enrolled - self.renewed)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("children")
        out["not_renewed"] = self.not_renewed
        out["renewal_rate"] = self.renewal_rate
        out["remind_open"] = self.remind_open
        return out


COUNT_FIELDS = ("paid", "enrolled", "registered", "special_people", "special_enrolled", "last_year", "renewed", "amount")
SUMMED_FIELDS = (*COUNT_FIELDS, "remind_closed", "remind_refused")


@dataclass
class Tree:
    county_code: str
    benefit_year: int
    units: dict[str, Unit]
    window: PaceWindow | None
    on: dt.date
    share: Decimal | None
    refreshed_at: dt.datetime | None
    source: str = "live"  # live (today), counted (a past day's last count) or rebuilt (computed from dates)

    @property
    def past(self) -> bool:
        return self.source != "live"

    @property
    def as_of_label(self) -> str:
        return f"截至 {self.on.isoformat()} 日终" if self.past else f"今日实时（{self.on.isoformat()}）"

    @property
    def notice(self) -> str:
        """A word on where a past day's figures come from, or that the day is before the campaign."""
        if self.window is not None and self.on < self.window.start:
            return f"{self.on.isoformat()} 在征缴期开始（{self.window.start.isoformat()}）之前，尚无征缴数字。"
        if self.source == "rebuilt":
            return "该日没有当日统计，按缴费日期和参保登记日期补算（特殊群体人数、上年参保人数按现在的数）。"
        return ""

    def get(self, code: str) -> Unit:
        unit = self.units.get(code)
        if unit is None:
            raise Http404(f"区划代码 {code} 不存在。")
        return unit

    def children(self, code: str) -> list[Unit]:
        return [self.units[c] for c in self.get(code).children]

    def descendants(self, code: str, level: int) -> list[Unit]:
        return [u for c, u in sorted(self.units.items()) if u.level == level and c.startswith(code)]


def _rank(units: list[Unit]) -> None:
    """Rank siblings by 参保率 (then 参保人数); units without a target are not ranked."""
    ranked = sorted((u for u in units if u.rate is not None), key=lambda u: (-u.enrolled / u.target, -u.enrolled, u.code))
    for position, unit in enumerate(ranked, start=1):
        unit.rank, unit.rank_of = position, len(ranked)


def progress_tree(*, county_code: str, benefit_year: int, on: dt.date | None = None) -> Tree:
    """Every unit of a county with its target and counts, from the rollup (a few hundred rows, whatever the county's size).

    A past day `on` reads that day's snapshot (snapshots.py): counts and targets as they stood at its end.
    """
    from yibao.progress import snapshots

    on = on or business_today()
    snapshot = snapshots.snapshot_figures(county_code=county_code, benefit_year=benefit_year, day=on) \
        if snapshots.is_past(on) else None
    units: dict[str, Unit] = {}
    for code, name, level in Region.objects.filter(county_code=county_code).values_list("code", "name", "level"):
        units[code] = Unit(code=code, name=name, level=level)

    def unit(code: str) -> Unit:
        if code not in units:
            units[code] = Unit(code=code, name=code, level=len(code))
        return units[code]

    unit(county_code)
    if snapshot is None:
        rows = VillageProgress.objects.filter(county_code=county_code, benefit_year=benefit_year).values_list(
            "village_code", *COUNT_FIELDS
        )
        for code, *counts in rows:
            village = unit(code)
            for name, value in zip(COUNT_FIELDS, counts):
                setattr(village, name, value)
        for code, n in snapshots.closed_marks(county_code=county_code, benefit_year=benefit_year).items():
            if code and len(code) == 12:
                unit(code).remind_closed = n
        for code, n in snapshots.refused_marks(county_code=county_code, benefit_year=benefit_year).items():
            if code and len(code) == 12:
                unit(code).remind_refused = n
    else:
        for code, row in snapshot["units"].items():
            if len(code) == 12:
                for name in SUMMED_FIELDS:
                    setattr(unit(code), name, row[name])
    for t in Target.objects.filter(county_code=county_code, benefit_year=benefit_year):
        u = unit(t.region_code)
        u.target, u.special_target, u.others_target = t.total, t.special, t.others
        u.population, u.supplementary, u.supplementary_label = t.population, t.supplementary, t.supplementary_label
        u.layout, u.target_source = t.layout, t.source
    if snapshot is not None:  # the targets of that day
        for code, row in snapshot["units"].items():
            u = unit(code)
            u.target, u.special_target, u.others_target = row["target"], row["special_target"], row["others_target"]
            u.population, u.supplementary = row["population"], row["supplementary"]
    for code in sorted(units):  # townships hold their villages, the county its townships
        if len(code) > 6:
            unit(code[:9] if len(code) == 12 else code[:6]).children.append(code)
            if len(code) == 12:
                unit(code[:6])
    for code in sorted(units):
        if len(code) == 12:
            for ancestor in (units[code[:9]], units[code[:6]]):
                for name in SUMMED_FIELDS:
                    setattr(ancestor, name, getattr(ancestor, name) + getattr(units[code], name))
    window = pace_window(county_code, benefit_year)
    share = window.share(on) if window else None
    for u in units.values():  # each unit from its own target: a total is never a sum of rounded parts
        figures = standing(u.enrolled, u.target, share)
        u.rate, u.gap, u.expected, u.on_pace, u.behind = (
            figures.rate, figures.gap, figures.expected, figures.on_pace, figures.behind
        )
        u.special_rate = rate(u.special_enrolled, u.special_people)
    for u in list(units.values()):
        if u.children:
            _rank([units[c] for c in u.children])
    if snapshot is None:
        refreshed = (
            ProgressRefresh.objects.filter(county_code=county_code, benefit_year=benefit_year)
            .values_list("refreshed_at", flat=True).first()
        )
    else:
        refreshed = snapshot["refreshed_at"]
    return Tree(county_code=county_code, benefit_year=benefit_year, units=units, window=window, on=on, share=share,
                refreshed_at=refreshed, source=snapshot["source"] if snapshot else "live")


def _visible_region(scope, region_code: str | None) -> str:
    region_code = (region_code or scope.region_code or "").strip()
    if not region_code:
        raise Http404("请指定区划代码。")
    if not (region_code.isdigit() and len(region_code) in (6, 9, 12)):
        raise Http404(f"区划代码“{region_code}”应为6、9或12位数字。")
    scope.require_region(region_code)
    return region_code


def progress_overview(*, scope, region_code: str | None = None, benefit_year: int | None = None,
                      on: dt.date | None = None) -> dict:
    """A unit with its children, path, pace and special-group coverage, within the user's scope."""
    region_code = _visible_region(scope, region_code)
    county_code = region_code[:6]
    benefit_year = benefit_year or benefit_year_default(county_code)
    if not benefit_year:
        raise Http404("该县还没有征缴年度、目标任务或缴费政策，无法统计进度。")
    tree = progress_tree(county_code=county_code, benefit_year=benefit_year, on=on)
    unit = tree.get(region_code)
    path = [tree.units[c] for c in {region_code[:n] for n in (6, 9, 12) if n <= len(region_code)} if c in tree.units]
    path.sort(key=lambda u: u.level)
    return {
        "tree": tree, "unit": unit, "children": tree.children(region_code), "path": path,
        "villages": tree.descendants(region_code, 12) if len(region_code) == 6 else [],
        "benefit_year": benefit_year, "goals": policy_goals(county_code, benefit_year),
    }


def progress_ranking(*, scope, region_code: str | None = None, benefit_year: int | None = None,
                     level: int = 12, on: dt.date | None = None) -> list[Unit]:
    """Units of a level inside a region, best 参保率 first, ranked among themselves."""
    region_code = _visible_region(scope, region_code)
    benefit_year = benefit_year or benefit_year_default(region_code[:6])
    if level not in (9, 12) or level <= len(region_code):
        raise Http404("排名层级应为下级的乡镇（9）或村（12）。")
    tree = progress_tree(county_code=region_code[:6], benefit_year=benefit_year, on=on)
    units = [Unit(**{k: v for k, v in asdict(u).items()}) for u in tree.descendants(region_code, level)]
    _rank(units)
    return sorted(units, key=lambda u: (u.rank is None, u.rank or 0, u.code))


def history_rows(*, county_code: str, benefit_year: int, region_code: str, target: int | None,
                 window: PaceWindow | None, until: dt.date | None = None) -> list[dict]:
    """Day by day: enrollments that day, the cumulative count, and the pace line (target × elapsed share)."""
    if len(region_code) == 12:
        days = VillageDay.objects.filter(village_code=region_code, benefit_year=benefit_year)
    else:  # a township's or the county's own curve: a row a day
        days = AreaDay.objects.filter(region_code=region_code, benefit_year=benefit_year)
    daily = {row["day"]: row for row in days.values("day", "paid", "exempt", "amount")}
    if window is None and not daily:
        return []
    first = min(([window.start] if window else []) + ([min(daily)] if daily else []))
    last = max(([window.deadline] if window else []) + ([max(daily)] if daily else []))
    rows, cumulative, day = [], 0, first
    while day <= last:
        row = daily.get(day)
        new = (row["paid"] + row["exempt"]) if row else 0
        cumulative += new
        expected = expected_count(target, window.share(day)) if (window and target is not None) else None
        rows.append({
            "day": day, "new": new, "paid": row["paid"] if row else 0, "exempt": row["exempt"] if row else 0,
            "amount": row["amount"] if row else Decimal("0.00"),
            "cumulative": cumulative if (until is None or day <= until) else None, "expected": expected,
        })
        day += dt.timedelta(days=1)
    return rows


def progress_history(*, scope, region_code: str | None = None, benefit_year: int | None = None,
                     on: dt.date | None = None) -> dict:
    overview = progress_overview(scope=scope, region_code=region_code, benefit_year=benefit_year, on=on)
    tree, unit = overview["tree"], overview["unit"]
    rows = history_rows(county_code=tree.county_code, benefit_year=tree.benefit_year, region_code=unit.code,
                        target=unit.target, window=tree.window, until=tree.on)
    return {"unit": unit, "tree": tree, "rows": rows}


def new_since(*, county_code: str, benefit_year: int, region_code: str, since: dt.date,
              until: dt.date | None = None) -> dict[str, int]:
    """Enrollments per village on days after `since` and up to `until` (本周新增, 较上期新增)."""
    rows = VillageDay.objects.filter(county_code=county_code, benefit_year=benefit_year, day__gt=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    if len(region_code) > 6:
        rows = rows.filter(village_code__startswith=region_code)
    out: dict[str, int] = {}
    for code, paid, exempt in rows.values_list("village_code").annotate(p=Sum("paid"), e=Sum("exempt")).values_list(
        "village_code", "p", "e"
    ):
        out[code] = (paid or 0) + (exempt or 0)
    return out
