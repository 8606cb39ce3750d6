"""Writes of the reconciliation app: cash handovers and reconciliation runs.

A run reads its four inputs in bulk (the tax file through polars; bookings, receipts and cash
handovers with one SQL statement each), matches them with polars joins (matching.py), and
writes the run and its mismatches in one transaction with bulk_create.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from yibao.accounts.roles import role_label
from yibao.accounts.scope import Scope, actor_scope
from yibao.core.clock import business_now, business_today
from yibao.core.jobs import JobFailed, job_run
from yibao.core.models import Job
from yibao.core.progress import NullProgress, Progress
from yibao.core.services import (
    actor_fields,
    event_record,
    file_sha256,
    job_create,
    job_outcome_record,
)
from yibao.core.uploads import FileRefused, table_upload_store
from yibao.enrollment.models import Campaign
from yibao.imports.readers import ImportFileError
from yibao.reconciliation import advice, matching, sources
from yibao.reconciliation.models import CashHandover, Mismatch, ReconciliationRun
from yibao.reconciliation.taxfile import error_report_write, tax_records_read
from yibao.regions.models import Region
from yibao.regions.selectors import region_label

JOB_KIND = "reconcile"
DEFAULT_CASH_GRACE_DAYS = 1
WRITE_BATCH = 5000
CENT = Decimal("0.01")


def money(cents) -> Decimal | None:
    return None if cents is None else (Decimal(int(cents)) * CENT).quantize(CENT)


def money_text(cents) -> str:
    return f"{money(cents or 0):.2f}"


# ---------------------------------------------------------------- who may do what


def run_authorize(*, actor, county_code: str) -> None:
    """Running a reconciliation needs reconcile.run within the county (the command line may run any)."""
    scope = actor_scope(actor)
    if scope is None:
        return
    scope.require("reconcile.run")
    if not scope.covers_county(county_code):
        raise PermissionDenied(f"县 {county_code} 不在当前账号的管辖范围内。")


def handover_may_record(scope: Scope | None) -> bool:
    """Cash is received by the township or the county (capability cash.receive)."""
    return scope is None or scope.can("cash.receive")


def handover_authorize(*, actor, village_code: str) -> None:
    scope = actor_scope(actor)
    if scope is None:
        return
    if not handover_may_record(scope):
        raise PermissionDenied("现金交款须由接收现金的乡镇（街道）或县级人员登记，当前账号无权登记。")
    scope.require_region(village_code)


# ---------------------------------------------------------------- cash handovers


def _money_value(value, field: str, label: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{label}应为数字，最多两位小数。"}) from None
    if amount != Decimal(str(value)):
        raise ValidationError({field: f"{label}最多两位小数。"})
    if amount < 0:
        raise ValidationError({field: f"{label}不能为负数。"})
    return amount


def _collector_key(collector_id, collector_name: str) -> str:
    return f"u{collector_id}" if collector_id else f"n{collector_name}"


def _collector_resolve(
    *, scope, county_code: str, benefit_year: int, collector, collector_name: str, village_code: str = ""
):
    """The account whose cash is handed over: (user or None, name, error).

    An account given by id is used as is; a text is an account name (username), or the display
    name of exactly one account in the county. The account must be one that takes cash at the
    counter in the village (a role that collects, bound to a region holding the village), or have
    taken counter cash there this year; otherwise its handover would match no payment and show as
    现金长款 for it and 现金短款 for the real collector. A collector without any account is accepted
    only under the name their counter cash payments carry; anything else is refused.
    """
    from yibao.accounts.models import User
    from yibao.collection.models import Payment

    name = (collector_name or "").strip()
    if collector is None and name:
        by_username = User.objects.filter(username=name).first()
        if by_username is not None:
            collector = by_username
        else:
            named = list(User.objects.filter(display_name=name, region_code__startswith=county_code).order_by("pk"))
            if len(named) > 1:
                accounts = "、".join(u.username for u in named[:5])
                return None, name, f"本县有 {len(named)} 个账号的姓名为“{name}”（{accounts}），请填写账号名以确定是哪一位征收员。"
            if named:
                collector = named[0]
    if collector is not None:
        if not (collector.region_code or "").startswith(county_code):
            return None, name, f"账号 {collector.username} 不是本县（{county_code}）的账号，不能为其登记交款。"
        if scope is not None and not scope.contains(collector.region_code):
            raise PermissionDenied("该征收员不在当前账号的管辖范围内。")
        if village_code and not _collects_in(collector, village_code=village_code, benefit_year=benefit_year):
            return None, name, (
                f"账号 {collector.get_username()}（{role_label(collector.role)}，"
                f"{region_label(collector.region_code, from_level=6) if collector.region_code else '未绑定区划'}）不在村（社区）{village_code} 窗口收款，"
                "也没有在该村收过现金，不能为其登记该村的现金交款：请核对征收员或村（社区）。"
            )
        return collector, collector.display_name or collector.get_username(), ""
    if not name:
        return None, "", "请选择或填写交款的征收员。"
    unlinked = Payment.objects.filter(
        county_code=county_code, benefit_year=benefit_year, source=Payment.Source.COUNTER,
        channel=Payment.Channel.CASH, collector__isnull=True, collector_name=name,
    )
    if unlinked.exists():
        return None, name, ""
    return None, name, (
        f"找不到征收员“{name}”：请填写征收员的账号名，或本县唯一一个账号的姓名；"
        "没有账号的征收员，须与其窗口现金收款记录上的收款人姓名一致。"
    )


def _collects_in(collector, *, village_code: str, benefit_year: int) -> bool:
    """Whether the account takes counter cash in the village: it may (its role collects and its region
    holds the village) or it did (counter cash payments of the year in the village carry it)."""
    from yibao.accounts.scope import scope_for
    from yibao.collection.models import Payment

    may = scope_for(collector)
    if may.can("payments.collect") and may.contains(village_code):
        return True
    return Payment.objects.filter(
        county_code=village_code[:6], benefit_year=benefit_year, village_code=village_code,
        source=Payment.Source.COUNTER, channel=Payment.Channel.CASH, collector=collector,
    ).exists()


def handover_record(
    *,
    actor,
    village_code: str,
    benefit_year: int,
    collector_name: str = "",
    collector=None,
    period_start: dt.date,
    period_end: dt.date,
    handed_on: dt.date,
    amount,
    note: str = "",
    received_by_name: str = "",
) -> CashHandover:
    """Record the cash a collector handed over for the counter cash payments of a period.

    The collector is resolved to an account (see _collector_resolve). The period may repeat an
    earlier one of the same collector exactly (another instalment) but may not cross one that is
    not voided.
    """
    handover_authorize(actor=actor, village_code=village_code)
    county_code = (village_code or "")[:6]
    with transaction.atomic():
        # one handover at a time per county, so two overlapping ones cannot both pass the check
        Region.objects.select_for_update().filter(code=county_code).first()
        errors: dict[str, str] = {}
        village = Region.objects.filter(code=village_code, level=12).first()
        if village is None:
            errors["village_code"] = f"村（社区）区划代码 {village_code} 不存在。"
        collector, collector_name, problem = _collector_resolve(
            scope=actor_scope(actor), county_code=county_code, benefit_year=benefit_year, collector=collector,
            collector_name=collector_name, village_code=village_code if village is not None else "",
        )
        if problem:
            errors["collector"] = problem
        elif collector is not None and getattr(actor, "pk", None) and collector.pk == actor.pk:
            errors["collector"] = "交款须由接收现金的人登记，征收员不能登记自己的交款。"
        if period_end < period_start:
            errors["period_end"] = "收款期间止不能早于收款期间起。"
        if handed_on < period_end:
            errors["handed_on"] = "交款日期不能早于收款期间止：只能交已经收到的现金。"
        if handed_on > business_today():
            errors["handed_on"] = "交款日期不能晚于今天。"
        campaign = Campaign.objects.filter(county_code=county_code, benefit_year=benefit_year).first()
        if campaign is None:
            errors["benefit_year"] = f"本县 {benefit_year} 年度尚未开启征缴。"
        elif campaign.imported:
            errors["benefit_year"] = f"{campaign.history_note}，没有在本系统收款，不能登记现金交款。"
        if errors:
            raise ValidationError(errors)
        value = _money_value(amount, "amount", "交款金额")
        key = _collector_key(collector.pk if collector else None, collector_name)
        same = CashHandover.objects.filter(county_code=county_code, benefit_year=benefit_year, voided_at__isnull=True)
        same = same.filter(collector=collector) if collector else same.filter(collector__isnull=True,
                                                                             collector_name=collector_name)
        for other in same.filter(period_start__lte=period_end, period_end__gte=period_start).order_by("period_start"):
            if (other.period_start, other.period_end) != (period_start, period_end):
                raise ValidationError({"period_start": (
                    f"与 {other.handed_on:%Y-%m-%d} 登记的{collector_name}交款期间（{other.period_start:%Y-%m-%d} 至 "
                    f"{other.period_end:%Y-%m-%d}）部分重叠：同一征收员的交款期间不能交叉；"
                    "同一期间分几次交款时，请填写完全相同的期间。"
                )})
        who = actor_fields(actor)
        handover = CashHandover.objects.create(
            county_code=county_code, township_code=village_code[:9], village_code=village_code,
            benefit_year=benefit_year, collector=collector, collector_name=collector_name[:150],
            period_start=period_start, period_end=period_end, handed_on=handed_on, amount=value,
            received_by=who["actor"], received_by_name=(received_by_name or who["actor_name"])[:150], note=note[:200],
        )
        event_record(
            county_code=handover.county_code, entity="cash_handover", entity_id=handover.pk, action="record", actor=actor,
            after={"collector": collector_name, "collector_key": key, "village": village_code, "amount": str(value),
                   "period": [period_start.isoformat(), period_end.isoformat()], "handed_on": handed_on.isoformat(),
                   "received_by": handover.received_by_name},
            reason=note or "登记现金交款",
        )
    return handover


def handover_void(*, actor, handover: CashHandover, reason: str) -> CashHandover:
    """Void a handover recorded in error (the row stays, with who voided it and why)."""
    handover_authorize(actor=actor, village_code=handover.village_code)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请填写作废原因。"})
    if handover.voided_at:
        raise ValidationError("该交款记录已作废。")
    who = actor_fields(actor)
    with transaction.atomic():
        handover.voided_at, handover.voided_by_name, handover.void_reason = business_now(), who["actor_name"], reason[:200]
        handover.save(update_fields=["voided_at", "voided_by_name", "void_reason"])
        event_record(
            county_code=handover.county_code, entity="cash_handover", entity_id=handover.pk, action="void", actor=actor,
            before={"amount": str(handover.amount), "status": "有效"}, after={"amount": "0", "status": "已作废"},
            reason=reason,
        )
    return handover


# ---------------------------------------------------------------- starting a run


def run_params_check(*, county_code: str, benefit_year: int, as_of: dt.date | None) -> tuple[Campaign, dt.date]:
    county_code = (county_code or "").strip()
    if not (county_code.isdigit() and len(county_code) == 6):
        raise ValidationError({"county_code": f"县级区划代码应为6位数字：{county_code}"})
    campaign = Campaign.objects.filter(county_code=county_code, benefit_year=benefit_year).first()
    if campaign is None:
        raise ValidationError({"benefit_year": f"县 {county_code} 的 {benefit_year} 年度尚未开启征缴，无可对账的数据。"})
    if campaign.imported:
        raise ValidationError({"benefit_year": f"{campaign.history_note}，没有在本系统征缴，不能对账。"})
    today = business_today()
    as_of = as_of or today
    if as_of > today:
        raise ValidationError({"as_of": "对账截止日不能晚于今天。"})
    return campaign, as_of


def tax_file_store(*, uploaded) -> Path:
    """Keep an uploaded tax file under MEDIA_ROOT/reconciliation/ (the run points at it)."""
    try:
        return table_upload_store(uploaded=uploaded, area="reconciliation")
    except FileRefused as exc:
        raise ValidationError({"tax_file": str(exc)}) from None


def run_job_create(
    *, county_code: str, benefit_year: int, tax_file: str | Path, as_of: dt.date | None = None, file_name: str = "",
    cash_grace_days: int = DEFAULT_CASH_GRACE_DAYS, actor=None,
) -> Job:
    """Check everything a run needs, then record its Job (run it with job_run or job_enqueue)."""
    run_authorize(actor=actor, county_code=county_code)
    _campaign, as_of = run_params_check(county_code=county_code, benefit_year=benefit_year, as_of=as_of)
    path = Path(tax_file)
    if not path.exists():
        raise ValidationError({"tax_file": f"找不到税务缴费记录文件：{path}"})
    if not 0 <= int(cash_grace_days) <= 31:
        raise ValidationError({"cash_grace_days": "现金交款宽限天数应在 0 到 31 之间。"})
    return job_create(
        kind=JOB_KIND, county_code=county_code, actor=actor, input_name=file_name or path.name, input_path=str(path),
        params={"county_code": county_code, "benefit_year": int(benefit_year), "as_of": as_of.isoformat(),
                "cash_grace_days": int(cash_grace_days)},
    )


def run_now(
    *, county_code: str, benefit_year: int, tax_file: str | Path, as_of: dt.date | None = None, actor=None,
    cash_grace_days: int = DEFAULT_CASH_GRACE_DAYS, progress: Progress | None = None,
) -> tuple[Job, ReconciliationRun | None]:
    """Run a reconciliation in this process (CLI, demo, tests): the Job and, when it succeeded, the run."""
    job = run_job_create(county_code=county_code, benefit_year=benefit_year, tax_file=tax_file, as_of=as_of,
                         cash_grace_days=cash_grace_days, actor=actor)
    job = job_run(job, progress)
    run_id = (job.result or {}).get("run_id")
    return job, ReconciliationRun.objects.filter(pk=run_id).first() if run_id else None


# ---------------------------------------------------------------- the run itself


def run_job(*, job: Job, progress: Progress) -> dict:
    """The job runner: reconcile the job's tax file; the result names the run and its counts."""
    params = job.params
    actor = job.created_by or job.created_by_name or None
    run = reconcile(
        county_code=params["county_code"], benefit_year=int(params["benefit_year"]),
        as_of=dt.date.fromisoformat(params["as_of"]), tax_file=job.input_path, file_name=job.input_name,
        file_sha256=job.input_sha256, cash_grace_days=int(params.get("cash_grace_days", DEFAULT_CASH_GRACE_DAYS)),
        actor=actor, job=job, progress=progress,
    )
    return _job_result(run)


def _job_result(run: ReconciliationRun) -> dict:
    tax = run.inputs["tax"]
    return {
        "run_id": run.pk, "rows": tax["rows"], "rejected": tax["rejected"], "mismatches": run.mismatch_total,
        "counts": run.counts, "report": run.error_report_path,
    }


PHASES = (("读取税务缴费记录和医保入账、票据、交款", 50), ("比对税务与入账", 15), ("核对票据和现金交款", 10),
          ("整理差异", 10), ("写入对账结果", 15))


class _Phases:
    """Turn the run's phases into one progress bar of 100 units."""

    def __init__(self, progress: Progress):
        self.progress, self.index = progress, 0
        progress.start(100, PHASES[0][0])

    def next(self):
        self.progress.advance(PHASES[self.index][1])
        self.index += 1
        if self.index < len(PHASES):
            self.progress.step(PHASES[self.index][0])


def reconcile(
    *,
    county_code: str,
    benefit_year: int,
    as_of: dt.date,
    tax_file: str | Path,
    actor=None,
    file_name: str = "",
    file_sha256: str = "",
    cash_grace_days: int = DEFAULT_CASH_GRACE_DAYS,
    job: Job | None = None,
    progress: Progress | None = None,
) -> ReconciliationRun:
    """Reconcile a county's year as of a date against a tax file; stores and returns the run."""
    started = timezone.now()
    clock = time.perf_counter()
    cpu_start = _cpu_seconds()
    phases = _Phases(progress or NullProgress())
    timings: dict[str, float] = {}

    def lap(name):
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now
        phases.next()

    path = Path(tax_file)
    # the tax file is parsed (polars, no database) while this thread reads Yibao's side
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(tax_records_read, path, benefit_year=benefit_year, as_of=as_of)
        try:
            booked = sources.bookings(county_code=county_code, benefit_year=benefit_year, as_of=as_of)
            receipt_heads, receipt_lines = sources.receipts(county_code=county_code, benefit_year=benefit_year,
                                                            as_of=as_of, booked=booked)
            counter = sources.counter_payments(county_code=county_code, benefit_year=benefit_year, as_of=as_of)
            handed = sources.handovers(county_code=county_code, benefit_year=benefit_year, as_of=as_of)
        finally:
            try:
                tax = reading.result()
            except ImportFileError as exc:
                raise JobFailed(f"税务缴费记录文件无法读取：{exc}") from None
    report = ""
    if tax.rejected:
        from yibao.imports.reports import report_path

        target = report_path(job_id=job.pk if job else None, kind="税务缴费明细")
        report = str(error_report_write(issues=tax.issues, path=target, title=f"税务缴费记录 {file_name or path.name} 的错误行"))
    lap("read")

    tax_mismatches, tax_stats = matching.match_tax(tax.rows, booked)
    lap("match")

    covered = receipt_lines.filter(pl.col("pay_cents").is_not_null()).group_by("payment_id").agg(pl.col("receipt_id").min())
    counter = counter.drop("receipt_id").join(covered, on="payment_id", how="left").select(list(matching.COUNTER_SCHEMA))
    receipt_mismatches, receipt_stats = matching.match_receipts(receipt_heads, receipt_lines, counter)
    cash = counter.filter(pl.col("channel") == "cash").select(list(matching.CASH_SCHEMA))
    cash_mismatches, cash_stats = matching.match_cash(cash, handed, as_of=as_of, grace_days=cash_grace_days)
    lap("receipts_cash")

    found = matching.concat([tax_mismatches, receipt_mismatches, cash_mismatches])
    if tax.rejected_external_ids.height:
        hints = tax.rejected_external_ids.group_by("external_id").agg(pl.col("tax_row").min())
        found = found.join(hints.rename({"tax_row": "_hint_row"}), on="external_id", how="left", maintain_order="left")
        found = found.with_columns(
            pl.when(pl.col("_hint_row").is_not_null() & (pl.col("kind") == "booked_not_paid"))
            .then(pl.format("（税务文件第{}行流水号相同，但该行有错误，未参与对账，见错误报告）", pl.col("_hint_row")))
            .otherwise(pl.lit("")).alias("hint")
        ).drop("_hint_row")
    else:
        found = found.with_columns(pl.lit("").alias("hint"))
    found = _enrich(found, county_code=county_code)
    previous = (
        ReconciliationRun.objects.filter(county_code=county_code, benefit_year=benefit_year).order_by("-started_at", "-pk").first()
    )
    seen = _previous_keys(previous)
    bookings_digest = sources.frame_digest(booked, ["payment_id"])
    lap("describe")

    inputs = {
        "tax": {"file": file_name or path.name, "sha256": file_sha256 or file_sha256_of_path(path), "format": tax.file_format,
                "rows": tax.total, "rejected": tax.rejected, "other_year": tax.other_year,
                "after_as_of": tax.after_as_of, "used": tax.rows.height},
        "bookings": {"rows": booked.height, "sha256": bookings_digest},
        "receipts": {"rows": receipt_heads.height, "lines": receipt_lines.height,
                     "sha256": sources.frame_digest(receipt_lines, ["receipt_id", "payment_id"])},
        "counter_payments": {"rows": counter.height, "cash": cash.height},
        "handovers": {"rows": handed.height, "sha256": sources.frame_digest(handed, ["handover_id"])},
        "cash_grace_days": cash_grace_days,
    }
    totals = {
        "tax": money_text(tax.rows["cents"].sum()),
        "booked": money_text(booked["cents"].sum()),
        "matched": money_text(tax_stats["matched_cents"]),
        "receipted": money_text(receipt_stats["receipted_cents"]),
        "counter": money_text(receipt_stats["counter_cents"]),
        "cash_collected": money_text(cash_stats["cash_collected_cents"]),
        "cash_handed_over": money_text(cash_stats["cash_handed_cents"]),
        "cash_pending": money_text(cash_stats["cash_pending_cents"]),
    }
    counts = {kind: 0 for kind in Mismatch.Kind.values}
    counts.update(dict(found.group_by("kind").len().iter_rows()))
    who = actor_fields(actor)
    with transaction.atomic():
        run = ReconciliationRun.objects.create(
            county_code=county_code, benefit_year=benefit_year, as_of=as_of, ran_on=business_today(),
            started_at=started, job=job, previous=previous, created_by=who["actor"],
            created_by_name=who["actor_name"], tax_file_name=(file_name or path.name)[:255],
            tax_file_sha256=inputs["tax"]["sha256"], inputs=inputs, totals=totals, counts=counts,
            mismatch_total=found.height, error_report_path=report,
            changes={},
        )
        run.changes = _changes(found, seen, previous, inputs, totals)
        _write_mismatches(run, found, seen)
        run.finished_at = timezone.now()
        timings["write"] = round(time.perf_counter() - clock, 3)
        timings["cpu"] = round(_cpu_seconds() - cpu_start, 3)
        run.inputs = {**inputs, "seconds": timings}
        run.save(update_fields=["changes", "finished_at", "inputs"])
        event_record(
            county_code=county_code, entity="reconciliation_run", entity_id=run.pk, action="run", actor=actor,
            after={"as_of": as_of.isoformat(), "counts": counts, "totals": totals, "tax_file": run.tax_file_name,
                   "tax_sha256": run.tax_file_sha256, "previous": previous.pk if previous else None},
            reason=f"{benefit_year}年度对账，截止 {as_of:%Y-%m-%d}",
        )
        job_outcome_record(job=job, result=_job_result(run))  # the run and its job's counts commit together
    phases.next()
    return run


def _cpu_seconds() -> float:
    """CPU time of this process, every thread (what the run cost, whatever else the machine was doing)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def file_sha256_of_path(path: Path) -> str:
    return file_sha256(path)


PERSON_KINDS = ["paid_not_booked", "booked_not_paid", "amount_differs", "person_differs"]


def _enrich(found: pl.DataFrame, *, county_code: str) -> pl.DataFrame:
    """Add the payment's place, source and collector, the person's name and village, then the texts."""
    payment_ids = found["payment_id"].drop_nulls().unique().to_list()
    details = sources.payment_details(county_code=county_code, payment_ids=payment_ids)
    df = found.join(details, on="payment_id", how="left", maintain_order="left").with_columns(
        pl.coalesce("external_id", "p_external_id").alias("external_id"),
        pl.coalesce("id_number", "p_id_number").alias("id_number"),
    )
    numbers = df["id_number"].drop_nulls().unique().to_list()
    people = sources.residents_by_number(county_code=county_code, numbers=numbers)
    df = df.join(people, on="id_number", how="left", maintain_order="left")
    receipts = sources.receipt_details(county_code=county_code,
                                       receipt_ids=found["receipt_id"].drop_nulls().unique().to_list())
    df = df.join(receipts, on="receipt_id", how="left", maintain_order="left")
    # Where a mismatch sits (and who in the area sees it): one about money a collector took at a
    # counter (cash, receipts, a counter payment) sits where it was taken; one about a person's channel
    # payment sits in the village the person lives in now, where progress counts the payment.
    with_person = pl.col("kind").is_in(PERSON_KINDS) & (pl.col("source").fill_null("") != "counter")
    df = df.with_columns(
        pl.when(with_person).then(pl.coalesce("township_code", "r_township", "p_township"))
        .otherwise(pl.coalesce("township_code", "rc_township", "p_township", "r_township"))
        .fill_null("").alias("township_code"),
        pl.when(with_person).then(pl.coalesce("village_code", "r_village", "p_village"))
        .otherwise(pl.coalesce("village_code", "rc_village", "p_village", "r_village"))
        .fill_null("").alias("village_code"),
        pl.coalesce("collector_key", pl.format("n{}", "rc_issuer"), "p_collector_key").fill_null("").alias("collector_key"),
        pl.coalesce("collector_name", "rc_issuer").alias("collector_name"),
        pl.coalesce("receipt_no", "rc_no").alias("receipt_no"),
        pl.coalesce("channel", "p_channel").alias("channel"),
        pl.coalesce("paid_on", "p_paid_on", "rc_issued_on").alias("paid_on"),
        pl.coalesce("tax_name", "r_name").fill_null("").alias("person_name"),
        pl.col("r_village").is_not_null().alias("person_known"),
        pl.col("source").fill_null(
            pl.when(pl.col("kind").is_in(["receipt_without_payment", "payment_without_receipt", "cash_short", "cash_over"]))
            .then(pl.lit("counter")).otherwise(pl.lit(""))
        ).alias("source"),
    )
    names = _collector_names(df["collector_key"].unique().to_list())
    df = df.with_columns(
        pl.coalesce(
            "collector_name", "p_collector_name",
            pl.col("collector_key").replace_strict(names, default=None, return_dtype=pl.String),
        ).fill_null("").alias("collector_name")
    )
    townships = df["township_code"].unique().to_list()
    towns = dict(Region.objects.filter(code__in=[t for t in townships if t]).values_list("code", "name"))
    return advice.describe(df, towns)


def _collector_names(keys: list[str]) -> dict[str, str]:
    """Names for collector keys: 'n张三' is 张三; 'u12' is account 12's name."""
    from yibao.accounts.models import User

    names = {k: k[1:] for k in keys if k and k.startswith("n")}
    ids = [int(k[1:]) for k in keys if k and k.startswith("u") and k[1:].isdigit()]
    for pk, display, username in User.objects.filter(pk__in=ids).values_list("pk", "display_name", "username"):
        names[f"u{pk}"] = display or username
    return names


def _previous_keys(previous: ReconciliationRun | None) -> pl.DataFrame:
    schema = {"key": pl.String, "first_seen_run_id": pl.Int64, "first_seen_on": pl.Date}
    if previous is None:
        return pl.DataFrame(schema=schema)
    rows = Mismatch.objects.filter(run=previous).values_list("key", "first_seen_run_id", "first_seen_on")
    return pl.DataFrame(list(rows), schema=schema, orient="row").unique(subset=["key"], keep="first")


def _changes(found: pl.DataFrame, seen: pl.DataFrame, previous, inputs: dict, totals: dict) -> dict:
    """What changed since the previous run: new, resolved and persisting mismatches by kind, and the inputs."""
    if previous is None:
        return {"previous": None}
    now_keys = found.select("kind", "key").unique(subset=["key"])
    old = Mismatch.objects.filter(run=previous).values_list("kind", "key")
    old_keys = pl.DataFrame(list(old), schema={"kind": pl.String, "key": pl.String}, orient="row").unique(subset=["key"])
    new = now_keys.join(old_keys.select("key"), on="key", how="anti")
    resolved = old_keys.join(now_keys.select("key"), on="key", how="anti")

    def by_kind(df):
        return dict(df.group_by("kind").len().iter_rows())

    before = previous.inputs or {}
    return {
        "previous": previous.pk,
        "previous_as_of": previous.as_of.isoformat(),
        "new": new.height, "resolved": resolved.height, "persisting": now_keys.height - new.height,
        "new_by_kind": by_kind(new), "resolved_by_kind": by_kind(resolved),
        "inputs": {
            "tax_file_changed": (before.get("tax") or {}).get("sha256") != inputs["tax"]["sha256"],
            "bookings_changed": (before.get("bookings") or {}).get("sha256") != inputs["bookings"]["sha256"],
            "receipts_changed": (before.get("receipts") or {}).get("sha256") != inputs["receipts"]["sha256"],
            "handovers_changed": (before.get("handovers") or {}).get("sha256") != inputs["handovers"]["sha256"],
            "tax_rows": inputs["tax"]["used"] - (before.get("tax") or {}).get("used", 0),
            "bookings": inputs["bookings"]["rows"] - (before.get("bookings") or {}).get("rows", 0),
        },
        "totals_before": previous.totals,
    }


def _write_mismatches(run: ReconciliationRun, found: pl.DataFrame, seen: pl.DataFrame) -> int:
    df = found.join(seen, on="key", how="left", maintain_order="left").with_columns(
        pl.col("first_seen_run_id").fill_null(run.pk),
        pl.col("first_seen_on").fill_null(pl.lit(run.ran_on)),
    )
    columns = ["kind", "responsible", "responsible_name", "collector_key", "key", "first_seen_run_id", "first_seen_on",
               "payment_id", "receipt_id", "external_id", "id_number", "other_id_number", "person_name", "tax_row",
               "tax_cents", "yibao_cents", "diff_cents", "paid_on", "period_start", "period_end", "channel",
               "receipt_no", "detail", "action", "township_code", "village_code"]
    df = df.select(columns)
    county = run.county_code
    written = 0
    for offset in range(0, df.height, WRITE_BATCH):
        batch = []
        for r in df.slice(offset, WRITE_BATCH).iter_rows(named=True):
            batch.append(Mismatch(
                run_id=run.pk, county_code=county, township_code=r["township_code"], village_code=r["village_code"],
                kind=r["kind"], responsible=r["responsible"], responsible_name=r["responsible_name"][:160],
                collector_key=(r["collector_key"] or "")[:160], key=r["key"][:200],
                first_seen_run_id=r["first_seen_run_id"], first_seen_on=r["first_seen_on"],
                payment_id=r["payment_id"], receipt_id=r["receipt_id"], external_id=(r["external_id"] or "")[:64],
                id_number=r["id_number"] or "", other_id_number=r["other_id_number"] or "",
                person_name=(r["person_name"] or "")[:50], tax_row=r["tax_row"],
                tax_amount=money(r["tax_cents"]), yibao_amount=money(r["yibao_cents"]),
                difference=money(r["diff_cents"]), paid_on=r["paid_on"], period_start=r["period_start"],
                period_end=r["period_end"], channel=(r["channel"] or "")[:40], receipt_no=(r["receipt_no"] or "")[:64],
                detail=r["detail"][:400], action=r["action"][:400],
            ))
        Mismatch.objects.bulk_create(batch)
        written += len(batch)
    return written
