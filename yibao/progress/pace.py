"""序时进度: the share of the collection window that has elapsed on a day. Pure, no ORM.

The window runs from the first collection day to the deadline the notice sets (targets.deadline,
else the end of the main window). Where a notice only collects on some days of each month
(朔州: 每月1日—25日), only those days count. A unit is on pace (达到序时进度) when its
completed share of the target is at least the elapsed share.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class PaceWindow:
    start: dt.date
    deadline: dt.date
    first_day: int | None = None  # days_of_month, when the notice limits them
    last_day: int | None = None
    source: str = ""  # the policy id or campaign the dates came from
    by_month: tuple[tuple[int, int, int], ...] = ()  # (month, first, last) where days differ by month

    def open_on(self, day: dt.date) -> bool:
        if not (self.start <= day <= self.deadline):
            return False
        if self.by_month:
            return any(month == day.month and first <= day.day <= last for month, first, last in self.by_month)
        if self.first_day is None:
            return True
        return self.first_day <= day.day <= (self.last_day or 31)

    def open_days(self, until: dt.date | None = None) -> int:
        """Collection days from the start up to and including `until` (default: the deadline)."""
        end = min(until or self.deadline, self.deadline)
        if end < self.start:
            return 0
        if self.first_day is None and not self.by_month:
            return (end - self.start).days + 1
        return sum(1 for n in range((end - self.start).days + 1) if self.open_on(self.start + dt.timedelta(days=n)))

    def share(self, on: dt.date) -> Decimal:
        """Elapsed share of the window on `on` (0 before it opens, 1 from the deadline on), four decimals."""
        total = self.open_days()
        if total <= 0:
            return Decimal(1)
        return (Decimal(self.open_days(on)) / Decimal(total)).quantize(Decimal("0.0001"))


def expected_count(target: int | None, share: Decimal) -> int | None:
    """序时人数: people who should have enrolled by now at an even pace = target × share, rounded up
    (序时 is a floor to reach). `share` is the printed 序时进度 (four decimals, `PaceWindow.share`),
    so anyone can redo the sum from a report. This is the only rounding of the figure: a total
    (township, county, a report's 合计 row) applies it to its own target, never adds rounded parts."""
    if target is None or share is None:
        return None
    return int(math.ceil(Decimal(target) * share - Decimal("0.0000001")))


@dataclass(frozen=True)
class Standing:
    """A unit's figures against its target and the pace, all from `standing`."""

    rate: Decimal | None  # 参保率 = done / target
    expected: int | None  # 序时人数
    on_pace: bool | None  # 达到序时进度
    gap: int | None  # 未参保人数: target − done, not below 0
    behind: int | None  # 差序时人数: expected − done, not below 0


def standing(done: int, target: int | None, share: Decimal | None) -> Standing:
    """The one computation of rate, 序时人数 and gaps used by the API, pages, CLI, reports and home cards."""
    expected = expected_count(target, share)
    return Standing(
        rate=rate(done, target), expected=expected, on_pace=(done >= expected) if expected is not None else None,
        gap=max(0, target - done) if target is not None else None,
        behind=max(0, expected - done) if expected is not None else None,
    )


def rate(done: int, target: int | None) -> Decimal | None:
    """done / target as a fraction with four decimals, or None without a target."""
    if not target:
        return None
    return (Decimal(done) / Decimal(target)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def percent(value: Decimal | None, digits: int = 2) -> str:
    """0.8123 → '81.23%'; None → '—'."""
    if value is None:
        return "—"
    shown = (value * 100).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{shown}%"


AMBER_POINTS = Decimal("0.10")  # within 10 percentage points below the reference: amber


def standing_colour(rate_: Decimal | None, share: Decimal | None, on_pace: bool | None = None) -> str:
    """How a unit's bar and rate are coloured (charts, tables, the ten furthest behind):

    - "none" (grey, shown "—"): no target, or a target of 0 (0 of 0 is no rate, not a red 0%);
    - against 序时进度 when the window is known, else against the whole target (100%):
      "good" (green) at or above it (on pace: enrolled ≥ 序时人数), "near" (amber) less than
      10 percentage points below it, "bad" (red) 10 points or more below.
    """
    if rate_ is None:
        return "none"
    reference = share if share is not None else Decimal(1)
    if on_pace is True or (on_pace is None and rate_ >= reference):
        return "good"
    return "near" if rate_ > reference - AMBER_POINTS else "bad"
