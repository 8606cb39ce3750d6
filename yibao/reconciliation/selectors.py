"""Reads of the reconciliation app, always within a user's scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, Sum
from django.http import Http404

from yibao.collection.models import Payment
from yibao.core.clock import business_today
from yibao.enrollment.models import Campaign
from yibao.reconciliation.models import CashHandover, Mismatch, ReconciliationRun

DEFAULT_PER_MONTH = 2


# ---------------------------------------------------------------- campaigns and the required frequency


def campaign_years(*, scope, county_code: str | None = None) -> list[int]:
    county = county_code or scope.county_code
    campaigns = Campaign.objects.filter(imported=False)  # history years were not collected here
    if county:
        campaigns = campaigns.filter(county_code=county)
    return sorted(set(campaigns.values_list("benefit_year", flat=True)), reverse=True)


def counties_with_campaigns(*, scope) -> list[str]:
    """The counties a user may pick: their own, or every county with a campaign (superuser)."""
    if scope.region_code:
        return [scope.county_code]
    return sorted(set(Campaign.objects.filter(imported=False).values_list("county_code", flat=True)))


def required_per_month(campaign: Campaign | None) -> dict:
    """How often the county must reconcile each month: the policy's targets.reconcile_per_month, else 2."""
    if campaign is not None and campaign.imported:
        return {"times": 0, "source": "history", "policy_id": "", "reference": campaign.history_note}
    if campaign is not None:
        from yibao.policy.loader import load_policy

        try:
            policy = load_policy(campaign.policy_id)
        except Exception:  # a missing or broken policy file must not hide the calendar
            policy = None
        targets = policy.data.targets if policy is not None else None
        if targets is not None and targets.reconcile_per_month:
            return {"times": targets.reconcile_per_month, "source": "policy", "policy_id": campaign.policy_id,
                    "policy_title": policy.data.title, "reference": targets.reference or ""}
    return {"times": DEFAULT_PER_MONTH, "source": "default", "policy_id": campaign.policy_id if campaign else "",
            "reference": ""}


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_check(*, scope, county_code: str, benefit_year: int, today: dt.date | None = None) -> dict:
    """Runs per month of the campaign, and whether each month reached the required number.

    A month counts the distinct days on which a reconciliation was run (two runs on one day count
    once). The months of the campaign's collection window, up to the current month (which stays
    'open' until it ends), are judged; months outside the window that had runs are listed as 'outside'.
    """
    if scope.region_code and scope.county_code != county_code:
        raise PermissionDenied(f"县 {county_code} 不在当前账号的管辖范围内。")
    today = today or business_today()
    campaign = Campaign.objects.filter(county_code=county_code, benefit_year=benefit_year).first()
    required = required_per_month(campaign)
    runs = list(
        ReconciliationRun.objects.filter(county_code=county_code, benefit_year=benefit_year)
        .values_list("ran_on", "pk").order_by("ran_on", "pk")
    )
    return months_judged(campaign=campaign, required=required, runs=runs, today=today)


def months_judged(*, campaign: Campaign | None, required: dict, runs: list[tuple], today: dt.date) -> dict:
    """month_check's judgement of (ran_on, pk) runs against the required number a month (no query)."""
    days_by_month: dict[dt.date, set] = {}
    runs_by_month: dict[dt.date, list[int]] = {}
    for day, pk in runs:
        days_by_month.setdefault(_month_start(day), set()).add(day)
        runs_by_month.setdefault(_month_start(day), []).append(pk)
    today_month = _month_start(today)
    window: list[dt.date] = []
    if campaign is not None and not campaign.imported:  # a history year has no window to judge
        month = _month_start(campaign.collection_start)
        while month <= min(_month_start(campaign.collection_end), today_month):
            window.append(month)
            month = _next_month(month)
    months = []
    for month in sorted(set(window) | set(days_by_month)):
        days = sorted(days_by_month.get(month, ()))
        done = len(days)
        if month not in window:
            status, label = "outside", ("历史名单，不作要求" if campaign is not None and campaign.imported
                                        else "征缴期外，不作要求")
        elif done >= required["times"]:
            status, label = "ok", "达标"
        elif month == today_month:
            status, label = "open", f"本月还需 {required['times'] - done} 次"
        else:
            status, label = "short", f"少 {required['times'] - done} 次"
        months.append({
            "month": month, "label": f"{month.year}年{month.month}月", "days": days, "done": done,
            "runs": len(runs_by_month.get(month, [])), "required": required["times"] if month in window else 0,
            "status": status, "status_label": label,
        })
    return {"required": required, "months": months, "short": sum(1 for m in months if m["status"] == "short"),
            "campaign": campaign}


# ---------------------------------------------------------------- runs and mismatches


def run_list(*, scope, county_code: str | None = None, benefit_year: int | None = None):
    runs = ReconciliationRun.objects.all()
    if scope.region_code:
        runs = runs.filter(county_code=scope.county_code)
    if county_code:
        runs = runs.filter(county_code=county_code)
    if benefit_year:
        runs = runs.filter(benefit_year=benefit_year)
    return runs.order_by("-started_at", "-pk")


def run_get(*, scope, pk: int) -> ReconciliationRun:
    run = ReconciliationRun.objects.filter(pk=pk).first()
    if run is None:
        raise Http404("该对账记录不存在。")
    if scope.region_code and run.county_code != scope.county_code:
        raise PermissionDenied("该对账记录不在当前账号的管辖范围内。")
    return run


def mismatch_list(
    *, scope, run: ReconciliationRun, kind: str | None = None, region: str | None = None,
    responsible: str | None = None, new_only: bool = False, state: str | None = None,
):
    """The run's mismatches the user may see, filtered by kind, region (township or village) and who must fix."""
    rows = scope.filter(Mismatch.objects.filter(run=run))
    if kind:
        rows = rows.filter(kind=kind)
    if region:
        if not scope.contains(region):
            raise PermissionDenied(f"区划 {region} 不在当前账号的管辖范围内。")
        field = {6: "county_code", 9: "township_code", 12: "village_code"}.get(len(region))
        if field is None:
            raise Http404(f"区划代码 {region} 无效。")
        rows = rows.filter(**{field: region})
    if responsible:
        rows = rows.filter(responsible=responsible)
    if new_only:
        rows = rows.filter(first_seen_run_id=run.pk)
    if state == "open":
        rows = rows.filter(rectified_at__isnull=True)
    elif state == "rectified":
        rows = rows.filter(rectified_at__isnull=False)
    return rows.order_by("kind", "village_code", "pk")


# what to fix first: money taken without a receipt or cash missing, then money not where it should be
SEVERITY = (
    Mismatch.Kind.PAYMENT_WITHOUT_RECEIPT, Mismatch.Kind.CASH_SHORT, Mismatch.Kind.PAID_NOT_BOOKED,
    Mismatch.Kind.BOOKED_NOT_PAID, Mismatch.Kind.AMOUNT_DIFFERS, Mismatch.Kind.PERSON_DIFFERS,
    Mismatch.Kind.RECEIPT_WITHOUT_PAYMENT, Mismatch.Kind.CASH_OVER,
)


def by_severity(rows):
    """Differences still to fix first, the gravest kind first, the largest amount first within a kind."""
    from django.db.models import Case, IntegerField, Value, When
    from django.db.models.functions import Abs, Coalesce

    rank = Case(*[When(kind=kind, then=Value(i)) for i, kind in enumerate(SEVERITY)], default=Value(len(SEVERITY)),
                output_field=IntegerField())
    money = Coalesce(Abs("difference"), Value(Decimal(0)))
    amount = Coalesce("tax_amount", "yibao_amount", Value(Decimal(0)))
    return rows.order_by(F("rectified_at").asc(nulls_first=True), rank, money.desc(), amount.desc(), "village_code", "pk")


def mismatch_get(*, scope, pk: int) -> Mismatch:
    mismatch = Mismatch.objects.select_related("run").filter(pk=pk).first()
    if mismatch is None:
        raise Http404("该对账差异不存在。")
    if scope.region_code and (mismatch.county_code != scope.county_code
                              or not scope.contains(mismatch.village_code or mismatch.township_code or mismatch.county_code)):
        raise PermissionDenied("该对账差异不在当前账号的管辖范围内。")
    return mismatch


def my_open_mismatches(*, scope, run: ReconciliationRun):
    """The run's differences in the user's area not yet marked 已整改."""
    return scope.filter(Mismatch.objects.filter(run=run, rectified_at__isnull=True))


def mismatch_counts(*, scope, run: ReconciliationRun) -> list[dict]:
    """Per kind (every kind, zero included): the count and the money involved, within the scope."""
    found = {
        row["kind"]: row
        for row in scope.filter(Mismatch.objects.filter(run=run)).values("kind").annotate(
            n=Count("pk"), new=Count("pk", filter=Q(first_seen_run_id=run.pk)), gap=Sum("difference"),
        )
    }
    out = []
    for kind, label in Mismatch.Kind.choices:
        row = found.get(kind, {})
        out.append({"kind": kind, "label": label, "count": row.get("n", 0), "new": row.get("new", 0),
                    "difference": row.get("gap") or Decimal("0.00")})
    return out


def responsible_counts(*, scope, run: ReconciliationRun) -> list[dict]:
    rows = (
        scope.filter(Mismatch.objects.filter(run=run)).values("responsible", "responsible_name")
        .annotate(n=Count("pk")).order_by("-n", "responsible_name")
    )
    return [{"responsible": r["responsible"], "name": r["responsible_name"], "count": r["n"]} for r in rows]


def run_counts_in_scope(*, scope, runs: list[ReconciliationRun]) -> dict[int, int]:
    """Mismatch totals per run as the user may see them (a township sees its own)."""
    if not runs:
        return {}
    if not scope.region_code or scope.level == 6:
        return {r.pk: r.mismatch_total for r in runs}
    rows = scope.filter(Mismatch.objects.filter(run__in=[r.pk for r in runs])).values("run").annotate(n=Count("pk"))
    counts = {row["run"]: row["n"] for row in rows}
    return {r.pk: counts.get(r.pk, 0) for r in runs}


def resolved_since_previous(*, scope, run: ReconciliationRun):
    """Mismatches of the previous run that this run no longer finds (fixed since)."""
    if not run.previous_id:
        return Mismatch.objects.none()
    current = Mismatch.objects.filter(run=run).values("key")
    return scope.filter(Mismatch.objects.filter(run_id=run.previous_id)).exclude(key__in=current).order_by("kind", "pk")


EXPORT_COLUMNS = (
    "差异类型", "整改责任方", "整改责任人", "乡镇区划代码", "乡镇（街道）", "村（社区）区划代码", "村（社区）", "姓名", "身份证号码", "医保记录的身份证号码",
    "缴费流水号", "税务文件行号", "税务/票面/交款金额", "医保记录金额", "差额（医保−对方）", "缴费日期", "期间起", "期间止",
    "渠道", "票据号", "差异说明", "整改要求", "首次发现日期",
)


def changes_in_scope(*, scope, run: ReconciliationRun) -> dict:
    """The run's changes since the previous run (new, resolved, persisting) as the user may see
    them: the county's own figures, or for a township or village account, those of its area."""
    changes = dict(run.changes or {})
    if scope.level in (None, 6) or not changes.get("previous"):
        return changes
    def by_kind(rows) -> dict:
        return dict(rows.order_by().values_list("kind").annotate(n=Count("pk")))

    new = mismatch_list(scope=scope, run=run).filter(first_seen_run_id=run.pk)
    resolved = resolved_since_previous(scope=scope, run=run)
    changes["new_by_kind"], changes["resolved_by_kind"] = by_kind(new), by_kind(resolved)
    changes["new"], changes["resolved"] = sum(changes["new_by_kind"].values()), sum(changes["resolved_by_kind"].values())
    changes["persisting"] = mismatch_list(scope=scope, run=run).count() - changes["new"]
    return changes


def mismatch_export_rows(*, scope, run: ReconciliationRun, **filters):
    """Rows for the xlsx export, in EXPORT_COLUMNS order; ID numbers as the role may see them."""
    kinds = dict(Mismatch.Kind.choices)
    whos = dict(Mismatch.Responsible.choices)
    channels = dict(Payment.Channel.choices)
    fields = ("kind", "responsible", "responsible_name", "township_code", "village_code", "person_name", "id_number",
              "other_id_number", "external_id", "tax_row", "tax_amount", "yibao_amount", "difference", "paid_on",
              "period_start", "period_end", "channel", "receipt_no", "detail", "action", "first_seen_on")
    from yibao.regions.models import Region

    names = dict(Region.objects.filter(county_code=run.county_code).values_list("code", "name"))  # names beside codes
    for row in mismatch_list(scope=scope, run=run, **filters).values_list(*fields).iterator(chunk_size=5000):
        r = dict(zip(fields, row))
        yield (
            kinds.get(r["kind"], r["kind"]), whos.get(r["responsible"], r["responsible"]), r["responsible_name"],
            r["township_code"], names.get(r["township_code"] or "", ""), r["village_code"],
            names.get(r["village_code"] or "", ""), r["person_name"],
            scope.show_id(r["id_number"]) if r["id_number"] else "",
            scope.show_id(r["other_id_number"]) if r["other_id_number"] else "",
            r["external_id"], r["tax_row"], r["tax_amount"], r["yibao_amount"], r["difference"], r["paid_on"],
            r["period_start"], r["period_end"], channels.get(r["channel"], r["channel"]), r["receipt_no"], r["detail"],
            r["action"], r["first_seen_on"],
        )


# ---------------------------------------------------------------- cash handovers


def handover_list(*, scope, benefit_year: int | None = None, region: str | None = None, include_voided: bool = True):
    rows = scope.filter(CashHandover.objects.all())
    if benefit_year:
        rows = rows.filter(benefit_year=benefit_year)
    if region:
        if not scope.contains(region):
            raise PermissionDenied(f"区划 {region} 不在当前账号的管辖范围内。")
        rows = rows.filter(village_code__startswith=region)
    if not include_voided:
        rows = rows.filter(voided_at__isnull=True)
    return rows.order_by("-handed_on", "-pk")


def handover_get(*, scope, pk: int) -> CashHandover:
    handover = CashHandover.objects.filter(pk=pk).first()
    if handover is None:
        raise Http404("该交款记录不存在。")
    if not scope.contains(handover.village_code):
        raise PermissionDenied("该交款记录不在当前账号的管辖范围内。")
    return handover


def cash_by_collector(*, scope, benefit_year: int, as_of: dt.date | None = None) -> list[dict]:
    """Per collector: counter cash taken, cash handed over, and what is still to hand over (to date)."""
    as_of = as_of or business_today()
    taken = (
        scope.filter(Payment.objects.filter(benefit_year=benefit_year, source=Payment.Source.COUNTER,
                                            channel=Payment.Channel.CASH, paid_on__lte=as_of))
        .values("collector_id", "collector_name", "village_code")
        .annotate(total=Sum("amount"), n=Count("pk"))
    )
    handed = (
        scope.filter(CashHandover.objects.filter(benefit_year=benefit_year, voided_at__isnull=True, handed_on__lte=as_of))
        .values("collector_id", "collector_name", "village_code")
        .annotate(total=Sum("amount"), n=Count("pk"))
    )
    rows: dict[tuple, dict] = {}

    def key(r):
        return ("u", r["collector_id"]) if r["collector_id"] else ("n", r["collector_name"])

    for r in taken:
        row = rows.setdefault(key(r), {"collector_name": r["collector_name"], "collector_id": r["collector_id"],
                                       "villages": set(), "taken": Decimal(0), "payments": 0, "handed": Decimal(0),
                                       "handovers": 0})
        row["taken"] += r["total"] or 0
        row["payments"] += r["n"]
        row["villages"].add(r["village_code"])
    for r in handed:
        row = rows.setdefault(key(r), {"collector_name": r["collector_name"], "collector_id": r["collector_id"],
                                       "villages": set(), "taken": Decimal(0), "payments": 0, "handed": Decimal(0),
                                       "handovers": 0})
        row["handed"] += r["total"] or 0
        row["handovers"] += r["n"]
        row["villages"].add(r["village_code"])
    out = []
    for row in rows.values():
        row["outstanding"] = row["taken"] - row["handed"]
        row["over"] = -row["outstanding"] if row["outstanding"] < 0 else Decimal(0)
        row["villages"] = sorted(row["villages"])
        out.append(row)
    return sorted(out, key=lambda r: (-r["outstanding"], r["collector_name"]))


def handover_collectors(*, scope, benefit_year: int | None = None) -> list[tuple[str, str, str]]:
    """(value, label, village) choices: the village collectors' accounts in scope, then names seen on counter payments."""
    from yibao.accounts.models import User
    from yibao.accounts.roles import Role

    users = User.objects.filter(role=Role.VILLAGE_COLLECTOR, is_active=True)
    if scope.region_code:
        users = users.filter(region_code__startswith=scope.region_code)
    choices = [(f"u{u.pk}", f"{u.display_name or u.username}（{u.region_code}）", u.region_code) for u in users.order_by("region_code", "pk")]
    payments = scope.filter(Payment.objects.filter(source=Payment.Source.COUNTER, collector__isnull=True)).exclude(collector_name="")
    if benefit_year:
        payments = payments.filter(benefit_year=benefit_year)
    for name, village in payments.values_list("collector_name", "village_code").distinct().order_by("collector_name")[:200]:
        choices.append((f"n{name}", f"{name}（{village}，无账号）", village))
    return choices
