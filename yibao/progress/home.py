"""The task-first cards of each role's home (selectors.home_cards adds the area's progress, 催缴,
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
from django.urls import reverse
from django.utils import timezone

from yibao.core.clock import business_today


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
    from yibao.progress.selectors import benefit_year_default
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
