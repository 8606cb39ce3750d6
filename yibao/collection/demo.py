"""A demo county's year of collection, through the real services (no request needed).

`collection_demo(county_code=…)` takes counter payments for some households, writes and ingests a
channel file for others (with the mistakes real files carry: under, over, twice, unknown, broken,
late), takes a late payment at the counter, tops up an under-payment, books one refund and leaves
one waiting, and approves part of the 先缴后补 list. Deterministic for a seed.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tempfile
import zoneinfo
from pathlib import Path

from yibao.collection import services
from yibao.collection.models import Payment, SubsidyRefund
from yibao.collection.selectors import campaign_for, due_quote
from yibao.core.idnumber import check_character
from yibao.policy.engine import PolicyInputError
from yibao.registry.models import Flag, Household, Resident

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CHANNEL_WORDS = ["微信", "支付宝", "皖事通APP", "农商银行代扣", "税务APP"]


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, rng.randrange(8, 18), rng.randrange(60), tzinfo=SHANGHAI)


def _day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _counter_day(rng, campaign, policy) -> dt.date:
    """A day inside the window that the policy accepts (朔州: only days 1-25 of each month)."""
    window = policy.data.collection.main_window
    while True:
        day = _day(rng, campaign.collection_start, campaign.collection_end)
        if window.takes_day(day):
            return day


def village_collectors(county_code: str) -> dict[str, object]:
    """Who takes the cash at each village's counter: its collector account where the demo made one,
    otherwise a name (“王庄村征收员”) so that handovers and reconciliation name a real person."""
    from yibao.accounts.models import User
    from yibao.accounts.roles import Role
    from yibao.regions.models import Region

    collectors: dict[str, object] = {
        code: f"{name}征收员" for code, name in
        Region.objects.filter(code__startswith=county_code, level=Region.Level.VILLAGE).values_list("code", "name")
    }
    for user in User.objects.filter(role=Role.VILLAGE_COLLECTOR, region_code__startswith=county_code, is_active=True
                                    ).order_by("-pk"):
        collectors[user.region_code] = user  # the oldest account of the village wins
    return collectors


def collection_demo(
    *, county_code: str, benefit_year: int | None = None, actor: str = "演示数据", seed: int = 2024,
    counter_share: float = 0.3, file_share: float = 0.4, folder: Path | None = None,
) -> dict:
    from yibao.core.jobs import job_run
    from yibao.enrollment.selectors import campaign_policy

    rng = random.Random(seed)
    campaign = campaign_for(county_code=county_code, benefit_year=benefit_year)
    policy = campaign_policy(campaign)
    year = campaign.benefit_year
    blocked = set(Flag.objects.filter(county_code=county_code, resolved_at__isnull=True).values_list("resident_id", flat=True))
    homes = list(Household.objects.filter(county_code=county_code).order_by("id"))
    rng.shuffle(homes)
    members: dict[int, list[Resident]] = {}
    for person in Resident.objects.filter(county_code=county_code, status=Resident.Status.ACTIVE,
                                          household__isnull=False).order_by("id"):
        members.setdefault(person.household_id, []).append(person)
    summary = {"counter_receipts": 0, "counter_payments": 0, "counter_refused": 0}
    collectors = village_collectors(county_code)

    # the counter: whole households, on days inside the window
    n_counter = int(len(homes) * counter_share)
    counter_homes, file_homes = homes[:n_counter], homes[n_counter:n_counter + int(len(homes) * file_share)]
    for home in counter_homes:
        day = _counter_day(rng, campaign, policy)
        payable = []
        for person in members.get(home.pk, []):
            if person.pk in blocked:
                continue
            try:
                answer = due_quote(resident=person, campaign=campaign, paid_on=day)
            except PolicyInputError:
                continue
            if answer.accepted:
                payable.append(person)
        if not payable:
            continue
        channel = rng.choices(["cash", "wechat", "alipay", "pos"], weights=[5, 3, 1, 1])[0]
        try:
            result = services.payment_collect(residents=payable, channel=channel, household=home,
                                              actor=collectors.get(home.village_code, actor),
                                              benefit_year=year, paid_at=_at(day, rng))
        except services.PaymentError:
            summary["counter_refused"] += 1
            continue
        summary["counter_receipts"] += 1
        summary["counter_payments"] += len(result.payments)

    # the channel file
    lines, late_people = [], []
    serial = 0
    for home in file_homes:
        for person in members.get(home.pk, []):
            late = rng.random() < 0.03
            day = (dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(14, 60))) if late else _counter_day(rng, campaign, policy)
            try:
                answer = due_quote(resident=person, campaign=campaign, paid_on=day)
            except PolicyInputError:
                continue
            amount = answer.payable if answer.accepted else policy.data.contribution.standards[0].amount
            roll = rng.random()
            if roll < 0.02 and amount >= 100:
                amount -= 100
            elif roll < 0.04:
                amount += 100
            serial += 1
            lines.append((f"SW{year}{serial:08d}", person.id_number, person.name, year, f"{amount:.2f}",
                          rng.choice(CHANNEL_WORDS), _at(day, rng).strftime("%Y-%m-%d %H:%M:%S"), f"E{serial:010d}"))
            if late:
                late_people.append(person)
    paid_at_counter = list(Payment.objects.filter(county_code=county_code, benefit_year=year, source="counter")[:3])
    for payment in paid_at_counter[:2]:  # paid twice: at the counter, then in an app
        serial += 1
        lines.append((f"SW{year}{serial:08d}", payment.id_number, "", year, f"{payment.amount:.2f}", "微信",
                      _at(payment.paid_on + dt.timedelta(days=3), rng).strftime("%Y-%m-%d %H:%M:%S"), ""))
    for i in range(2):  # not in the register
        body = f"{county_code}19900101{900 + 2 * i + 1:03d}"
        serial += 1
        lines.append((f"SW{year}{serial:08d}", body + check_character(body), "外来人员", year, "400.00", "支付宝",
                      _at(campaign.collection_start + dt.timedelta(days=20), rng).strftime("%Y-%m-%d %H:%M:%S"), ""))
    lines.append((f"SW{year}BROKEN", "12345", "错号", year, "四百", "微信", "2024-13-45", ""))
    folder = Path(folder or tempfile.mkdtemp(prefix="yibao-demo-"))
    path = folder / f"税务局缴费明细_{county_code}_{year}.csv"
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(["交易流水号", "身份证号码", "姓名", "所属年度", "缴费金额", "缴费渠道", "缴费时间", "电子票据号"])
        writer.writerows(lines)
    job = job_run(services.payment_file_job_create(path=path, actor=actor, county_code=county_code, file_name=path.name))
    summary["file"] = {k: job.result.get(k) for k in ("rows", "booked", "flagged", "flagged_by_kind", "unchanged", "rejected")}
    summary["file_job"] = job.pk

    # a late payment at the counter (after the window, inside the year)
    late_day = dt.date(year, 3, 10)
    for home in homes[n_counter + len(file_homes):]:
        person = next((p for p in members.get(home.pk, []) if p.pk not in blocked), None)
        if person is None:
            continue
        try:
            answer = due_quote(resident=person, campaign=campaign, paid_on=late_day)
        except PolicyInputError:
            continue
        if answer.accepted:
            result = services.payment_collect(residents=[person], channel="cash", benefit_year=year,
                                              actor=collectors.get(person.village_code, actor),
                                              paid_at=_at(late_day, rng))
            summary["late_counter_payment"] = {"name": person.name, "benefit_start": result.payments[0].benefit_start,
                                               "receipt_no": result.receipt.receipt_no}
            break

    # a top-up of an under-payment, before the window closes
    under = Payment.objects.filter(county_code=county_code, benefit_year=year, status="flagged", flag="under").first()
    if under is not None:
        top_day = max(under.paid_on + dt.timedelta(days=7), campaign.collection_start)
        if top_day <= campaign.collection_end:
            try:
                result = services.payment_top_up(payment=under, channel="cash", paid_at=_at(top_day, rng),
                                                 actor=collectors.get(under.village_code, actor))
                summary["top_up"] = {"receipt_no": result.receipt.receipt_no, "amount": result.total}
            except services.PaymentError:
                pass

    # refunds: one booked (joined 职工医保 before benefits began), one over-payment waiting for approval
    before_benefits = min(campaign.collection_end, dt.date(year, 1, 1) - dt.timedelta(days=1))
    booked = Payment.objects.filter(county_code=county_code, benefit_year=year, status="booked", source="counter",
                                    benefit_start=dt.date(year, 1, 1)).order_by("-id").first()
    if booked is not None:
        refund = services.refund_request(payment=booked, reason="joined_employee_insurance", actor=actor,
                                         note="演示：已在县内企业参加职工医保", on=before_benefits)
        services.refund_approve(refund=refund, actor=actor)
        services.refund_book(refund=refund, actor=actor)
        summary["refund_booked"] = refund.pk
    over = Payment.objects.filter(county_code=county_code, benefit_year=year, status="flagged", flag="over").first()
    if over is not None:
        summary["refund_requested"] = services.refund_request(payment=over, reason="overpaid", actor=actor).pk

    # 先缴后补: the first township's list approved
    first = SubsidyRefund.objects.filter(county_code=county_code, benefit_year=year, status="pending").order_by(
        "township_code").values_list("township_code", flat=True).first()
    if first:
        ids = list(SubsidyRefund.objects.filter(township_code=first, status="pending").values_list("id", flat=True))
        summary["subsidy_refunds_approved"] = services.subsidy_refunds_approve(ids=ids, actor=actor)
    summary["subsidy_refunds"] = SubsidyRefund.objects.filter(county_code=county_code, benefit_year=year).count()
    return summary
