"""The business clock: today, or the day set in settings.YIBAO_TODAY / $YIBAO_TODAY.

Demos and training run a past campaign (the seed notices are from 2022-2024) as if it were
today. Every date a rule depends on (payment day, assessment day, 序时进度, refunds, identity
validity, reconciliation periods) comes from here; checks of the real calendar (a birth date
later than today) keep the real date.
"""

import datetime as dt
import os

from django.conf import settings
from django.utils import timezone


def _configured_day() -> dt.date | None:
    today = getattr(settings, "YIBAO_TODAY", None) or os.environ.get("YIBAO_TODAY")
    if not today:
        return None
    return today if isinstance(today, dt.date) else dt.date.fromisoformat(str(today))


def business_now() -> dt.datetime:
    now = timezone.localtime()
    day = _configured_day()
    return now if day is None else now.replace(year=day.year, month=day.month, day=day.day)


def business_today() -> dt.date:
    return business_now().date()
