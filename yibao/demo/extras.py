"""The demo year's less common paths, through the real services: one payment and one receipt for
chosen members of a household (not the whole household), a transfer to another village of the
township (enrollment_transfer), and a 周报 made on the business day for a past Friday.

Called by `demo_year` once, after the collection and before the reconciliation runs, except the
周报, which is made at the end (`demo_past_weekly`). Deterministic; each piece does nothing when
the data it needs is not there.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

from django.conf import settings

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def demo_household_part(*, county_code: str, benefit_year: int, actor: str) -> dict | None:
    """A household of three or more that has not paid: its collector takes two members' payment
    (the others pay later, elsewhere): one receipt, near the end of the window."""
    from yibao.collection import services
    from yibao.collection.demo import village_collectors
    from yibao.collection.models import Payment
    from yibao.collection.selectors import campaign_for, due_quote
    from yibao.policy.engine import PolicyInputError
    from yibao.registry.models import Flag, Household, Resident

    campaign = campaign_for(county_code=county_code, benefit_year=benefit_year)
    day = campaign.collection_end - dt.timedelta(days=3)
    paid = set(Payment.objects.filter(county_code=county_code, benefit_year=benefit_year).values_list("id_number", flat=True))
    blocked = set(Flag.objects.filter(county_code=county_code, resolved_at__isnull=True).values_list("resident_id", flat=True))
    collectors = village_collectors(county_code)
    for home in Household.objects.filter(county_code=county_code).order_by("id"):
        members = list(Resident.objects.filter(household=home, status=Resident.Status.ACTIVE).order_by("id"))
        if len(members) < 3 or any(m.id_number in paid or m.pk in blocked for m in members):
            continue
        chosen = []
        for person in members:
            try:
                if due_quote(resident=person, campaign=campaign, paid_on=day).accepted:
                    chosen.append(person)
            except PolicyInputError:
                continue
        if len(chosen) < 2:
            continue
        result = services.payment_collect(
            residents=chosen[:2], channel="cash", household=home, benefit_year=benefit_year,
            actor=collectors.get(home.village_code, actor),
            paid_at=dt.datetime(day.year, day.month, day.day, 10, 30, tzinfo=SHANGHAI),
        )
        return {"household": home.number, "members": len(members),
                "paid": len(result.payments), "receipt_no": result.receipt.receipt_no, "total": result.total}
    return None


def demo_transfer(*, county_code: str, benefit_year: int, actor: str) -> dict | None:
    """One enrollee (not a household head) moves to another village of the same township (婚迁)."""
    from yibao.enrollment.models import Enrollment
    from yibao.enrollment.services import enrollment_transfer
    from yibao.regions.models import Region

    villages = list(Region.objects.filter(county_code=county_code, level=12).order_by("code").values_list("code", flat=True))
    enrollments = (
        Enrollment.objects.filter(campaign__county_code=county_code, benefit_year=benefit_year,
                                  status=Enrollment.Status.PAID)
        .exclude(resident__relation_to_head="户主").select_related("resident").order_by("id")
    )
    for enrollment in enrollments[:50]:
        here = enrollment.resident.village_code
        target = next((v for v in villages if v[:9] == here[:9] and v != here), None)
        if target is None:
            continue
        moved = enrollment_transfer(enrollment=enrollment, to_village_code=target, actor=actor, reason="婚迁（演示）")
        return {"enrollment": moved.pk, "from": here, "to": moved.village_code}
    return None


def last_friday(day: dt.date) -> dt.date:
    """The Friday before `day` (a week earlier when `day` is a Friday)."""
    back = (day.weekday() - 4) % 7 or 7
    return day - dt.timedelta(days=back)


def demo_past_weekly(*, county_code: str, benefit_year: int, on: dt.date) -> dict:
    """The county's 周报 as it stood at the end of `on`, made today, written under var/demo/."""
    from yibao.accounts.scope import Scope
    from yibao.progress import reports

    report = reports.weekly_report(scope=Scope(role="county_admin", region_code=county_code), region_code=county_code,
                                   benefit_year=benefit_year, on=on)
    folder = Path(settings.VAR_DIR) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{report.filename}.xlsx"
    path.write_bytes(reports.report_xlsx(report))
    return {"on": on, "title": report.title, "rows": len(report.rows), "file": str(path)}
