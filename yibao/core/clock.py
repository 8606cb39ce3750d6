"""The business clock: today, or the day set in settings.YIBAO_TODAY / $YIBAO_TODAY / var/business_today.

Demos and training run a past campaign (the seed notices are from 2022-2024) as if it were
today. Every date a rule depends on (payment day, assessment day, 序时进度, refunds, identity
validity, reconciliation periods) comes from here; checks of the real calendar (a birth date
later than today) keep the real date.
"""

import datetime as dt
import os

from django.conf import settings
from django.utils import timezone


def business_day_path():
    """A demo or training deployment keeps its business day here (written by `yibao demo`)."""
    from pathlib import Path

    return Path(settings.VAR_DIR) / "business_today"


def _configured_day() -> dt.date | None:
    today = getattr(settings, "YIBAO_TODAY", None) or os.environ.get("YIBAO_TODAY")
    if not today:
        try:
            today = business_day_path().read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
    return today if isinstance(today, dt.date) else dt.date.fromisoformat(str(today))


def business_day_set(day: dt.date | None) -> None:
    """Fix the business day of this deployment (None: back to the real calendar)."""
    path = business_day_path()
    if day is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(day.isoformat(), encoding="utf-8")


def business_now() -> dt.datetime:
    now = timezone.localtime()
    day = _configured_day()
    return now if day is None else now.replace(year=day.year, month=day.month, day=day.day)


def business_today() -> dt.date:
    return business_now().date()


def business_time(moment: dt.datetime | None) -> dt.datetime | None:
    """A moment stamped by the real clock (refreshed_at, marked_at ...) as the business clock shows it.

    The business clock runs the given number of days behind (or ahead of) the calendar; a stamp
    moves by the same days, so a statistic refreshed a minute ago reads "a minute ago" on the
    business day. Without a configured day it is the local time.
    """
    if moment is None:
        return None
    local = timezone.localtime(moment)
    day = _configured_day()
    return local if day is None else local + (day - timezone.localdate())
