"""Writes shared by every app: event rows and job state."""

from __future__ import annotations

import hashlib
import os
import socket
import traceback
from collections.abc import Iterable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from yibao.core.idnumber import mask_id_numbers_deep, mask_id_numbers_in
from yibao.core.models import Event, Job
from yibao.core.requestlog import request_id_get


def actor_fields(actor) -> dict:
    """Split an actor (a User, a name like 'cli:root', or None) into the two event columns."""
    if actor is None:
        return {"actor": None, "actor_name": "系统"}
    if isinstance(actor, str):
        return {"actor": None, "actor_name": actor}
    return {"actor": actor, "actor_name": getattr(actor, "display_name", "") or actor.get_username()}


def export_counties(scope) -> list[str]:
    """The counties whose change logs record an export made by this scope: its own county; each county of
    a city or province (an export of theirs may hold every one); "" for a superuser without a region."""
    if not scope.above_county:
        return [scope.county_code]
    from yibao.regions.selectors import scope_counties

    return [code for code, _ in scope_counties(scope=scope)]


def event_record(
    *,
    county_code: str,
    entity: str,
    entity_id,
    action: str,
    actor=None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> Event:
    if entity == "export":
        # an export's search terms are often ID numbers: the change log keeps them masked
        before, after, reason = mask_id_numbers_deep(before), mask_id_numbers_deep(after), mask_id_numbers_in(reason)
    return Event.objects.create(
        county_code=county_code,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=before,
        after=after,
        reason=reason,
        request_id=request_id_get(),
        **actor_fields(actor),
    )


def event_bulk_record(*, rows: Iterable[dict], actor=None, batch_size: int = 5000) -> int:
    """Insert many events at once (bulk paths). Each row has the keyword fields of event_record."""
    who = actor_fields(actor)
    now = timezone.now()
    request_id = request_id_get()
    objs = [Event(at=now, request_id=request_id, **who, **row) for row in rows]
    Event.objects.bulk_create(objs, batch_size=batch_size)
    return len(objs)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def job_create(
    *,
    kind: str,
    county_code: str = "",
    params: dict | None = None,
    input_name: str = "",
    input_path: str = "",
    actor=None,
) -> Job:
    who = actor_fields(actor)
    params = dict(params or {})
    if request_id_get():
        params.setdefault("request_id", request_id_get())  # the worker's events carry the page's request id
    return Job.objects.create(
        kind=kind,
        county_code=county_code,
        params=params,
        input_name=input_name,
        input_path=str(input_path),
        input_sha256=file_sha256(input_path) if input_path else "",
        created_by=who["actor"],
        created_by_name=who["actor_name"],
    )


def this_runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def job_start(*, job: Job, message: str = "开始处理") -> Job:
    job.status, job.started_at, job.message = Job.Status.RUNNING, timezone.now(), message
    job.runner = this_runner()
    job.save(update_fields=["status", "started_at", "message", "runner"])
    return job


def _runner_gone(runner: str) -> bool:
    """True when the job's process ran on this machine and no longer exists."""
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's worker: it can't be checked from here
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


INTERRUPTED_BEFORE_COMMIT = ("任务中断：处理它的进程已退出（断电、被终止或后台任务进程重启）。"
                             "整个任务在一个事务中，数据库没有留下任何改动；请重新提交。")
WRITTEN_MESSAGE = "已写入，报告未生成"


def job_fail_if_interrupted(*, job: Job) -> Job:
    """Settle a running job whose process was killed (power cut, kill -9, a stopped worker).

    Its data and its outcome (counts, the rows its report is made from) commit in one transaction
    (job_outcome_record), so the row says which side of the commit the process died on:
    - nothing committed: failed, and the database holds none of it;
    - committed, report still to write: 已写入，报告未生成, with the counts; the report can be made again;
    - committed, no report due: succeeded, with the counts recorded at the commit.
    """
    if job.status != Job.Status.RUNNING or not job.runner or not _runner_gone(job.runner):
        return job
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(county_code=job.county_code, pk=job.pk)
        if locked.status != Job.Status.RUNNING or locked.runner != job.runner:
            job.refresh_from_db()
            return job
        _last_figures(locked)
        if locked.committed_at is None:
            job_fail(job=locked, error=INTERRUPTED_BEFORE_COMMIT)
            action, reason = "interrupted", "处理进程已退出"
        elif (locked.result or {}).get("report_pending"):
            job_written(job=locked, error="处理它的进程在数据提交后、报告写完前退出（断电、被终止或后台任务进程重启）。")
            action, reason = "interrupted_after_commit", "处理进程在数据提交后退出，报告未生成"
        else:
            job_succeed(job=locked, result=locked.result,
                        message="已完成（处理进程在数据提交后退出，计数取自提交时的记录）")
            action, reason = "interrupted_after_commit", "处理进程在数据提交后退出"
        event_record(county_code=locked.county_code, entity="job", entity_id=str(locked.pk), action=action,
                     before={"status": Job.Status.RUNNING, "runner": job.runner}, after={"status": locked.status},
                     reason=reason, actor=None)
    job.refresh_from_db()
    return job


def _last_figures(job: Job) -> None:
    """The bar's last figures from the dead process's progress file onto the row; the file goes."""
    from yibao.core.progress import job_progress_path, job_progress_read

    live = job_progress_read(job.pk)
    if live:
        job.total, job.done = int(live.get("total") or 0), int(live.get("done") or 0)
    job_progress_path(job.pk).unlink(missing_ok=True)


def _jsonable(value: dict) -> dict:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


def job_issues_path(job_id: int) -> Path:
    """Where a job keeps the rows its report is made from (written before its data commits)."""
    from django.conf import settings

    folder = Path(settings.VAR_DIR) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{job_id}.issues.parquet"


def _hold_after_commit() -> None:
    """YIBAO_HOLD_AFTER_COMMIT=seconds stops a job right after its data committed (tests that kill it there)."""
    import time

    seconds = os.environ.get("YIBAO_HOLD_AFTER_COMMIT")
    if seconds:
        time.sleep(float(seconds))


def job_outcome_record(*, job: Job | None, result: dict, issues=None, report_kind: str = "", report_title: str = "") -> None:
    """Record what a job wrote, INSIDE the transaction that writes its data (its last step there).

    The counts commit with the data or not at all, so a crash after the commit can't make the job
    claim that nothing was written. `issues` (a polars frame of the report's lines) is saved beside
    the job before the commit: the report written after the commit can be made again from it.
    """
    if job is None or job.pk is None:
        return
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("job_outcome_record belongs inside the job's data transaction")
    outcome = _jsonable(result)
    outcome.pop("report_pending", None)
    if issues is not None and issues.height:
        target = job_issues_path(job.pk)
        tmp = target.with_suffix(".tmp")
        issues.write_parquet(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        outcome["report_pending"] = {"kind": report_kind, "title": report_title, "lines": issues.height}
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(result=outcome, committed_at=now)
    job.result, job.committed_at = outcome, now
    transaction.on_commit(_hold_after_commit)


def job_succeed(*, job: Job, result: dict, report_path: str = "", message: str = "已完成") -> Job:
    job.status, job.finished_at, job.result, job.message = Job.Status.SUCCEEDED, timezone.now(), result, message
    job.report_path = report_path or job.report_path
    if job.total and job.done < job.total:
        job.done = job.total
    job.save(update_fields=["status", "finished_at", "result", "message", "report_path", "total", "done", "error"])
    return job


def job_fail(*, job: Job, error: BaseException | str, result: dict | None = None) -> Job:
    job.status, job.finished_at = Job.Status.FAILED, timezone.now()
    job.error = error if isinstance(error, str) else f"{error}\n\n{traceback.format_exc()}"
    job.message = (str(error).splitlines() or ["失败"])[0][:200]
    if result is not None:
        job.result = result
    job.save(update_fields=["status", "finished_at", "error", "message", "result", "total", "done"])
    return job


def job_written(*, job: Job, error: BaseException | str = "") -> Job:
    """The job's data and counts committed, then something stopped it: 已写入，报告未生成 when its report
    was still to write; done (with the counts of the commit and the error noted) when none was due."""
    committed = Job.objects.filter(pk=job.pk).values_list("result", "committed_at").first()
    if committed:
        job.result, job.committed_at = committed
    if isinstance(error, BaseException):
        error = f"{error}\n\n{traceback.format_exc()}"
    first = (str(error).splitlines() or [""])[0]
    if not (job.result or {}).get("report_pending"):
        job.error = f"数据已提交，之后出错：{error}".strip()
        return job_succeed(job=job, result=job.result, message=f"已完成（数据已提交；之后出错：{first}）"[:200])
    job.status, job.finished_at, job.message = Job.Status.WRITTEN, timezone.now(), WRITTEN_MESSAGE
    job.error = f"{WRITTEN_MESSAGE}：数据已提交，计数如上；可以重新生成报告。\n{error}".strip()
    if job.total and job.done < job.total:
        job.done = job.total
    job.save(update_fields=["status", "finished_at", "error", "message", "result", "total", "done"])
    return job


def job_committed(job: Job) -> bool:
    """Whether the job's data transaction committed (read from the row, not from memory)."""
    return Job.objects.filter(pk=job.pk, committed_at__isnull=False).exists()


def job_report_regenerate(*, job: Job, actor=None) -> Job:
    """Make a job's report again from its committed data (after a crash between commit and report)."""
    from django.core.exceptions import ValidationError

    from yibao.imports.reports import report_path, report_write

    job = Job.objects.get(pk=job.pk)
    pending = (job.result or {}).get("report_pending")
    if job.status in (Job.Status.QUEUED, Job.Status.RUNNING):
        raise ValidationError(f"任务 #{job.pk} 仍在{job.get_status_display()}，完成后才能生成报告。")
    if job.status == Job.Status.SUCCEEDED:
        raise ValidationError(f"任务 #{job.pk} 已完成，报告已生成。")
    if job.status != Job.Status.WRITTEN or job.committed_at is None:
        raise ValidationError(f"任务 #{job.pk} 没有已提交的数据（{job.get_status_display()}），不能生成报告。")
    before = {"status": job.status, "report": job.report_path}
    result = dict(job.result or {})
    if pending:
        source = job_issues_path(job.pk)
        if not source.exists():
            raise ValidationError(f"任务 #{job.pk} 生成报告所需的数据已不存在，请重新导入原文件以取得报告。")
        import polars as pl

        target = report_path(job_id=job.pk, kind=pending.get("kind") or job.kind)
        report_write(issues=pl.read_parquet(source), path=target, title=pending.get("title") or job.kind_label)
        source.unlink(missing_ok=True)
        result.pop("report_pending", None)
        result["report"] = str(target)
        job.report_path = str(target)
    job.status, job.result = Job.Status.SUCCEEDED, result
    job.message = "已完成（报告已重新生成）" if pending else "已完成（数据已写入，该任务没有报告）"
    job.finished_at = job.finished_at or timezone.now()
    job.save(update_fields=["status", "result", "message", "report_path", "finished_at"])
    event_record(county_code=job.county_code, entity="job", entity_id=str(job.pk), action="report_regenerated",
                 before=before, after={"status": job.status, "report": job.report_path}, reason="重新生成任务报告",
                 actor=actor)
    return job
