"""The task-first cards of each role's home (home_cards adds the area's progress, 催缴,
cash and reconciliation cards): the tax officer's channel lines and reconciliation due dates, the
department reporter's latest list, the counter's takings today.

Each read touches an indexed handful of rows (today's payments of one county, the flagged ones of
a year, one import job), never a county's payments.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.db.models import Count, Sum
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from yibao.core.clock import business_today
from yibao.progress.pace import percent as pace_percent
from yibao.progress.remind import renewal_summary
from yibao.progress.selectors import benefit_year_default


def _yuan(amount) -> str:
    return f"{Decimal(amount or 0):,.2f}"


# ---------------------------------------------------------------- the tax officer


def channel_card(*, scope, year: int) -> dict:
    """Channel-file lines not booked (待处理): 查无此人, 参保受限, 不予受理, 少缴 wait for 重新匹配 or 退费."""
    from yibao.collection.models import Payment, Refund
    from yibao.collection.services.refunds import UNBOOKED_FLAGS

    flagged = scope.filter(Payment.objects.filter(county_code=scope.county_code, benefit_year=year,
                                                  status=Payment.Status.FLAGGED, source=Payment.Source.FILE))
    live_refund = Refund.objects.filter(county_code=scope.county_code).exclude(
        status=Refund.Status.REJECTED).values("payment_id")  # the county's own: not every county's refunds
    waiting = flagged.exclude(pk__in=live_refund)
    by_flag = dict(waiting.order_by().values_list("flag").annotate(n=Count("pk")).values_list("flag", "n"))
    total = sum(by_flag.values())
    recheck = sum(n for flag, n in by_flag.items() if flag in UNBOOKED_FLAGS)
    names = dict(Payment.Flag.choices)
    parts = [f"{names.get(flag, flag) if flag else '其他'} {n}" for flag, n in sorted(by_flag.items(), key=lambda x: -x[1])]
    detail = "，".join(parts) + f"；待重新匹配 {recheck} 笔" if parts else "渠道明细已全部入账"
    return {
        "key": "channel", "title": "渠道明细待处理", "value": f"{total} 笔", "detail": detail,
        "url": reverse("collection:payments") + f"?status=flagged&source=file&year={year}",
        "tone": "bad" if total else "good",
    }


def _deadlines(month: dt.date, times: int) -> list[dt.date]:
    """The month split into `times` equal parts: the last day of each part (twice a month: the 15th and the last)."""
    days = calendar.monthrange(month.year, month.month)[1]
    return [month + dt.timedelta(days=-(-days * i // times) - 1) for i in range(1, times + 1)]


def reconcile_due(*, scope, year: int, today: dt.date | None = None) -> dict | None:
    """The next reconciliation due this month, from the policy's reconcile_per_month (else twice)."""
    from yibao.reconciliation.selectors import month_check

    today = today or business_today()
    check = month_check(scope=scope, county_code=scope.county_code, benefit_year=year, today=today)
    times = check["required"]["times"]
    month = today.replace(day=1)
    current = next((m for m in check["months"] if m["month"] == month and m["required"]), None)
    if not times or current is None:
        return None
    done = current["done"]
    deadlines = _deadlines(month, times)
    short = check["short"]
    source = "缴费政策要求" if check["required"]["source"] == "policy" else "默认"
    detail = f"{source}每月对账 {times} 次，本月已对账 {done} 次"
    if short:
        detail += f"；往月有 {short} 个月未达标"
    if done >= times:
        following = _deadlines(_next_month(month), times)[0]
        return {"key": "reconcile_due", "title": "对账到期", "value": "本月已达标", "url": reverse("reconciliation:runs"),
                "detail": detail + f"；下月第一次应在 {following:%m-%d} 前", "tone": "bad" if short else "good",
                "due": following}
    due = deadlines[done]
    late = today > due
    value = f"{due:%m-%d} 前" if not late else f"已逾期（应在 {due:%m-%d} 前）"
    return {"key": "reconcile_due", "title": "下次对账", "value": value, "detail": detail,
            "url": reverse("reconciliation:runs"), "tone": "bad" if late or short else "", "due": due}


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


# ---------------------------------------------------------------- the department reporter


def department_cards(*, scope) -> list[dict]:
    """The department's latest identity list: the job's state and counts, and a view of what it holds."""
    from yibao.core.models import Job
    from yibao.imports.selectors import import_job_list
    from yibao.registry.models import Identity

    job = import_job_list(scope=scope, kind="identities").order_by("-created_at", "-pk").first()
    list_url = reverse("imports:identities")
    if job is None:
        return [{"key": "list", "title": "本部门资助身份名单", "value": "尚未报送", "tone": "",
                 "detail": "请下载模板，填好后上传名单", "url": reverse("imports:upload", args=["identities"])}]
    result = job.result or {}
    status = job.get_status_display()
    finished = job.status in (Job.Status.SUCCEEDED, Job.Status.WRITTEN)
    if finished:
        detail = (f"共 {result.get('rows', 0)} 行：新增 {result.get('imported', 0)}，更新 {result.get('updated', 0)}，"
                  f"未变 {result.get('unchanged', 0)}，有错 {result.get('rejected', 0)} 行，提示 {result.get('warnings', 0)} 条")
    elif job.status == Job.Status.FAILED:
        detail = f"导入失败：{(job.message or job.error or '')[:60]}"
    else:
        detail = f"{job.message or '等待处理'}（{job.percent}%）"
    bad = job.status == Job.Status.FAILED or bool(result.get("rejected"))
    when = timezone.localtime(job.created_at)
    cards = [{
        "key": "list", "title": f"最近一次名单：{job.input_name or '#' + str(job.pk)}（{when:%m-%d %H:%M}）",
        "value": status, "detail": detail, "url": reverse("imports:job", args=[job.pk]),
        "tone": "bad" if bad else ("good" if finished else ""),
    }]
    held = Identity.objects.filter(source_job_id=job.pk).count() if finished else 0
    cards.append({"key": "list_contents", "title": "名单内容（本部门认定的身份）", "value": f"{held} 人",
                  "detail": "本次名单写入的人员；点开查看全部名单人员（身份证号码脱敏）",
                  "url": list_url + (f"?job={job.pk}" if held else ""), "tone": ""})
    return cards


# ---------------------------------------------------------------- the counter (village collector, township officer)


def takings_card(*, scope, today: dt.date | None = None) -> dict | None:
    """What this user took at the counter today: count and amount by channel."""
    from yibao.collection.models import Payment

    if not scope.user_id:
        return None
    today = today or business_today()
    rows = list(
        Payment.objects.filter(county_code=scope.county_code, paid_on=today, source=Payment.Source.COUNTER,
                               collector_id=scope.user_id)
        .order_by().values_list("channel").annotate(n=Count("pk"), total=Sum("amount")).values_list("channel", "n", "total")
    )
    names = dict(Payment.Channel.choices)
    count = sum(n for _c, n, _t in rows)
    amount = sum((t or Decimal(0) for _c, _n, t in rows), Decimal(0))
    detail = "，".join(f"{names.get(c, c)} {n} 笔 {_yuan(t)} 元" for c, n, t in sorted(rows, key=lambda r: -(r[2] or 0)))
    return {
        "key": "takings", "title": f"今日收款（{today:%m-%d}，本人）", "value": f"{count} 笔 · {_yuan(amount)} 元",
        "detail": detail or "今天还没有收款", "url": reverse("collection:payments") + "?source=counter",
        "tone": "", "count": count, "amount": amount,
    }


# ---------------------------------------------------------------- a city or province


def above_county_cards(*, scope) -> list[dict]:
    """A city's or province's home: the roll-up of its counties (/progress/), then one card per county
    linking to that county's progress (county → township → village). No person-level cards."""
    from yibao.regions.selectors import region_name, scope_counties

    progress = reverse("progress:dashboard")
    counties = scope_counties(scope=scope)
    cards = [{
        "key": "rollup", "title": f"{region_name(scope.region_code)}征缴进度", "value": f"{len(counties)} 个县（区）",
        "detail": "各县（区）参保率、序时进度与对账情况", "url": progress, "tone": "",
    }]
    for code, name in counties:
        year = benefit_year_default(code)
        cards.append({
            "key": f"county-{code}", "title": name, "value": f"{year}年度" if year else "未开启征缴",
            "detail": "查看本县进度（县 → 乡镇 → 村）", "url": f"{progress}?region={code}", "tone": "",
        })
    return cards


# ---------------------------------------------------------------- all cards of a home


def home_cards(*, scope, today: dt.date | None = None) -> list[dict]:
    """What needs doing in the user's area, one card per task the role has: progress against the
    target, people left to 催缴, counter cash not yet handed over, the latest reconciliation's
    mismatches (those naming the user first) and refunds waiting for approval.

    Each card: title, value, detail, url, tone ('good', 'bad' or ''). Nothing for an account
    without a region, or a county without a campaign year.
    """
    from yibao.collection.models import Refund, SubsidyRefund
    from yibao.reconciliation import selectors as reconciliation
    from yibao.reconciliation.models import Mismatch

    if not scope.region_code:
        return []
    if scope.role == "department_clerk" and not scope.superuser:
        return department_cards(scope=scope)
    if scope.above_county:
        return above_county_cards(scope=scope)
    county = scope.county_code
    year = benefit_year_default(county)
    if not year:
        return []
    cards: list[dict] = []
    counter = scope.can("payments.collect") and scope.level in (9, 12)
    if counter:
        takings = takings_card(scope=scope, today=today)
        if takings:
            cards.append(takings)
    if scope.can("payments.ingest"):
        cards.append(channel_card(scope=scope, year=year))
    if scope.can("reconcile.run"):
        due = reconcile_due(scope=scope, year=year, today=today)
        if due:
            cards.append(due)
    if scope.can("progress.view") or scope.can("remind.view"):
        try:
            summary = renewal_summary(scope=scope, region_code=scope.region_code, benefit_year=year)
        except Http404:
            summary = None
        if summary and scope.can("progress.view"):
            unit = summary["unit"]
            detail = f"参保率 {pace_percent(unit.rate)}" if unit.target else "尚未下达目标任务"
            if unit.on_pace is not None:
                detail += "，已达序时进度" if unit.on_pace else f"，未达序时进度，差 {unit.behind} 人"
            cards.append({
                "key": "progress", "title": f"{year}年度参保", "url": reverse("progress:dashboard"),
                "value": f"{unit.enrolled}" + (f" / {unit.target}" if unit.target else "") + " 人",
                "detail": detail, "tone": "" if unit.on_pace is None else ("good" if unit.on_pace else "bad"),
            })
        if summary and scope.can("remind.view") and summary["total"]["unit"].last_year:
            left = summary["total"]["open"]
            cards.append({
                "key": "remind", "title": "我的催缴（上年参保、今年未续）" if counter else "待催缴（上年参保、今年未续）",
                "url": reverse("progress:remind"),
                "value": f"{left} 人", "tone": "bad" if left else "good",
                "detail": f"上年参保 {summary['total']['unit'].last_year} 人，已续保 {summary['total']['unit'].renewed} 人",
            })
    if scope.can("payments.view") and scope.level in (9, 12):  # those who hand over or receive the cash; the
        # county reads it per collector on the 现金交款 page (a county-wide sum scans every payment of the year)
        rows = reconciliation.cash_by_collector(scope=scope, benefit_year=year, as_of=today)
        mine = scope.role == "village_collector"
        if mine:
            rows = [r for r in rows if r["collector_id"] == scope.user_id]
        taken = sum((r["outstanding"] for r in rows if r["outstanding"] > 0), Decimal(0))
        if rows:
            cards.append({
                "key": "cash", "title": "手中现金（未登记交款）" if mine else "征收员未交现金",
                "url": reverse("reconciliation:handovers"), "value": f"{taken:,.2f} 元", "tone": "bad" if taken else "good",
                "detail": f"窗口现金收款 {sum((r['taken'] for r in rows), Decimal(0)):,.2f} 元，"
                          f"已交款 {sum((r['handed'] for r in rows), Decimal(0)):,.2f} 元",
            })
    if scope.can("reconcile.view"):
        run = reconciliation.run_list(scope=scope, county_code=county, benefit_year=year).first()
        if run is not None:
            shown = reconciliation.my_open_mismatches(scope=scope, run=run)  # not yet marked 已整改
            count = shown.count()
            naming_me = shown.filter(responsible=Mismatch.Responsible.COLLECTOR,
                                     collector_key=f"u{scope.user_id}").count() if scope.user_id else 0
            detail = f"{run.ran_on:%Y-%m-%d} 对账（截止 {run.as_of:%Y-%m-%d}）"
            if naming_me:
                detail += f"，其中 {naming_me} 条由你整改"
            cards.append({
                "key": "reconcile", "title": "我的对账差异（待整改）" if counter else "对账差异（待整改）",
                "url": reverse("reconciliation:run_detail", args=[run.pk]) + "?state=open",
                "value": f"{count} 条", "detail": detail, "tone": "bad" if count else "good",
            })
    if scope.can("refunds.approve"):
        waiting = scope.filter(Refund.objects.filter(county_code=county, status=Refund.Status.REQUESTED)).count()
        cards.append({"key": "refunds", "title": "待审批退费", "url": reverse("collection:refunds") + "?status=requested",
                      "value": f"{waiting} 笔", "detail": "参保人申请的退费，审批后由税务退款",
                      "tone": "bad" if waiting else "good"})
    if scope.can("subsidy_refunds.approve"):
        waiting = scope.filter(SubsidyRefund.objects.filter(county_code=county, benefit_year=year,
                                                            status=SubsidyRefund.Status.PENDING)).count()
        cards.append({"key": "subsidy_refunds", "title": "先缴后补待审核",
                      "url": reverse("collection:subsidy_refunds") + "?status=pending", "value": f"{waiting} 人",
                      "detail": "先按标准缴费、事后返还资助的人员", "tone": "bad" if waiting else "good"})
    if counter:  # the counter's own work first: takings, cash in hand, my 催缴, my differences
        first = ("takings", "cash", "remind", "reconcile")
        cards.sort(key=lambda c: first.index(c["key"]) if c["key"] in first else len(first))
    return cards
