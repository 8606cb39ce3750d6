"""序时进度: the elapsed share of the collection window."""

import datetime as dt
from decimal import Decimal

from yibao.progress.pace import PaceWindow, expected_count, percent, rate

WINDOW = PaceWindow(start=dt.date(2024, 9, 1), deadline=dt.date(2024, 12, 31))  # 怀远: 122 days


def test_share_runs_from_the_first_day_to_the_deadline():
    assert WINDOW.open_days() == 122
    assert WINDOW.share(dt.date(2024, 8, 31)) == 0
    assert WINDOW.share(dt.date(2024, 9, 1)) == Decimal("0.0082")  # 1/122
    assert WINDOW.share(dt.date(2024, 10, 31)) == Decimal("0.5000")  # 61/122
    assert WINDOW.share(dt.date(2025, 2, 1)) == 1


def test_only_open_days_count_where_the_notice_limits_them():
    shuozhou = PaceWindow(start=dt.date(2023, 9, 1), deadline=dt.date(2023, 12, 25), first_day=1, last_day=25)
    assert shuozhou.open_days() == 100  # 25 days in each of four months
    assert shuozhou.open_days(dt.date(2023, 9, 30)) == 25
    assert shuozhou.share(dt.date(2023, 9, 28)) == Decimal("0.2500")  # 26-30 September are closed


def test_expected_count_rounds_up_and_rate_has_four_decimals():
    assert expected_count(3731, Decimal("0.5")) == 1866
    assert expected_count(100, Decimal("0.25")) == 25
    assert expected_count(None, Decimal("0.5")) is None
    assert rate(2, 3) == Decimal("0.6667") and rate(1, 0) is None and rate(1, None) is None
    assert percent(Decimal("0.6667")) == "66.67%" and percent(None) == "—"


def test_standing_gives_rate_pace_figure_and_gaps_from_one_rounding():
    from yibao.progress.pace import standing

    behind = standing(3, 3731, Decimal("0.5"))
    assert (behind.expected, behind.on_pace, behind.behind, behind.gap, behind.rate) == (1866, False, 1863, 3728, Decimal("0.0008"))
    ahead = standing(20, 16, Decimal("0.0082"))
    assert (ahead.expected, ahead.on_pace, ahead.behind, ahead.gap) == (1, True, 0, 0)
    assert standing(5, None, Decimal("0.5")) == standing(5, None, None)
    assert standing(5, 10, None).expected is None and standing(5, 10, None).on_pace is None
