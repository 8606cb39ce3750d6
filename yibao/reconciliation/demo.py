"""Demo data for reconciliation: cash handovers, a tax file with realistic faults, and a run.

The demo county's loader calls `demo_reconcile` after payments exist; nothing here needs a request.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from yibao.collection.models import Payment
from yibao.core.clock import business_day_set, business_today
from yibao.reconciliation import services
from yibao.reconciliation.models import CashHandover, ReconciliationRun
from yibao.registry.models import Resident

CHANNEL_TEXT = {"cash": "现金", "pos": "POS机", "wechat": "微信", "alipay": "支付宝", "tax_app": "税务APP", "bank": "银行代扣",
                "other": "其他"}


def _week_end(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=6 - day.weekday())


def demo_handovers_record(*, county_code: str, benefit_year: int, as_of: dt.date, actor="演示数据") -> int:
    """Each collector hands over each week's counter cash on the Monday after; one collector still
    holds their latest week, and the year's first handover comes out 50 yuan short. Returns the
    number of handovers."""
    rows = (
        Payment.objects.filter(county_code=county_code, benefit_year=benefit_year, source=Payment.Source.COUNTER,
                               channel=Payment.Channel.CASH, paid_on__lte=as_of)
        .values("collector_id", "collector_name", "village_code", "paid_on").annotate(total=Sum("amount"))
        .order_by("collector_id", "collector_name", "paid_on")
    )
    weeks: dict[tuple, dict] = {}
    for r in rows:
        start = r["paid_on"] - dt.timedelta(days=r["paid_on"].weekday())
        key = (r["collector_id"], r["collector_name"], start)
        week = weeks.setdefault(key, {"village": r["village_code"], "total": Decimal(0), "first": r["paid_on"],
                                      "last": r["paid_on"]})
        week["total"] += r["total"]
        week["last"] = max(week["last"], r["paid_on"])
    # one collector (the first) still holds their latest week: the run finds it overdue
    holder = min(((str(cid), name) for cid, name, _start in weeks), default=None)
    held = max((start for cid, name, start in weeks if (str(cid), name) == holder), default=None)
    from yibao.accounts.models import User

    users = {u.pk: u for u in User.objects.filter(pk__in={k[0] for k in weeks if k[0]})}
    count = 0
    shorted = CashHandover.objects.filter(county_code=county_code, benefit_year=benefit_year).exists()  # once a year
    for (cid, name, start), week in sorted(weeks.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2])):
        if (str(cid), name) == holder and start == held:
            continue
        end = _week_end(start)
        handed_on = min(end + dt.timedelta(days=1), business_today())
        if handed_on < end or CashHandover.objects.filter(
            county_code=county_code, benefit_year=benefit_year, collector_name=name or "", period_start=start,
            voided_at__isnull=True,
        ).exists():
            continue
        amount = week["total"]
        if not shorted and amount > 50:
            amount, shorted = amount - 50, True
        services.handover_record(
            actor=actor, village_code=week["village"], benefit_year=benefit_year, collector=users.get(cid),
            collector_name=name or "征收员", period_start=start, period_end=end, handed_on=handed_on, amount=amount,
            note="演示数据：每周交款", received_by_name="乡镇财政所",
        )
        count += 1
    return count


def demo_tax_file_write(*, county_code: str, benefit_year: int, as_of: dt.date, path: Path, seed: int = 7) -> dict:
    """The tax bureau's records as they would come back: every booking, less a few, with a few faults."""
    rnd = random.Random(seed)
    payments = list(
        Payment.objects.filter(county_code=county_code, benefit_year=benefit_year, paid_on__lte=as_of)
        .values_list("external_id", "id_number", "amount", "channel", "paid_at", "source").order_by("pk")
    )
    counter = [i for i, p in enumerate(payments) if p[5] == Payment.Source.COUNTER]
    channel = [i for i, p in enumerate(payments) if p[5] != Payment.Source.COUNTER]
    dropped = set(rnd.sample(counter, min(2, len(counter))))
    changed = set(rnd.sample([i for i in channel if i not in dropped], min(1, len(channel))))
    people = list(Resident.objects.filter(county_code=county_code).values_list("id_number", "name")[:200])
    header = ("缴费流水号", "缴费人证件号码", "缴费人姓名", "费款所属期", "实缴金额", "缴费渠道", "缴款日期", "电子税票号码")
    faults = {"dropped": len(dropped), "amount": len(changed), "extra": 0}
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i, (external_id, id_number, amount, chan, paid_at, _source) in enumerate(payments):
            if i in dropped:
                continue
            if i in changed:
                amount = amount + 20
            local = timezone.localtime(paid_at)
            writer.writerow((external_id, id_number, "", benefit_year, f"{amount:.2f}", CHANNEL_TEXT.get(chan, "其他"),
                             local.strftime("%Y-%m-%d %H:%M:%S"), f"SP{benefit_year}{i:08d}"))
        booked = {p[1] for p in payments}
        unbooked = [p for p in people if p[0] not in booked]
        if unbooked:
            id_number, name = unbooked[0]
            writer.writerow((f"SW{benefit_year}900001", id_number, name, benefit_year, "400.00", "现金",
                             f"{as_of:%Y-%m-%d} 10:00:00", ""))
            faults["extra"] += 1
    return faults


def demo_reconcile(
    *, county_code: str, benefit_year: int, as_of: dt.date | None = None, actor="演示数据", seed: int = 7,
) -> ReconciliationRun | None:
    """Record the demo's cash handovers, write its tax file under var/demo/ and reconcile once."""
    as_of = as_of or business_today()
    demo_handovers_record(county_code=county_code, benefit_year=benefit_year, as_of=as_of, actor=actor)
    folder = Path(settings.VAR_DIR) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"税务缴费明细_{county_code}_{benefit_year}.csv"
    demo_tax_file_write(county_code=county_code, benefit_year=benefit_year, as_of=as_of, path=path, seed=seed)
    job, run = services.run_now(county_code=county_code, benefit_year=benefit_year, tax_file=path, as_of=as_of,
                                actor=actor)
    return run


def demo_reconcile_days(*, collection_start: dt.date, collection_end: dt.date, until: dt.date) -> list[dt.date]:
    """The days a diligent county reconciles: the 15th and the last day of each month of the
    collection window (the notices ask for at least twice a month), up to `until`."""
    days, month = [], collection_start.replace(day=1)
    while month <= min(collection_end, until):
        following = (month + dt.timedelta(days=32)).replace(day=1)
        for day in (month.replace(day=15), following - dt.timedelta(days=1)):
            if collection_start <= day <= min(collection_end, until):
                days.append(day)
        month = following
    return days


def demo_reconcile_campaign(
    *, county_code: str, benefit_year: int, collection_start: dt.date, collection_end: dt.date, until: dt.date,
    actor="演示数据", seed: int = 7,
) -> ReconciliationRun | None:
    """Reconcile twice a month through the window, each run on its own business day, then once on
    `until`; the business day is `until` afterwards. Returns the last run."""
    try:
        for day in demo_reconcile_days(collection_start=collection_start, collection_end=collection_end, until=until):
            business_day_set(day)
            demo_reconcile(county_code=county_code, benefit_year=benefit_year, as_of=day, actor=actor, seed=seed)
    finally:
        business_day_set(until)
    return demo_reconcile(county_code=county_code, benefit_year=benefit_year, as_of=until, actor=actor, seed=seed)
