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


def job_fail_if_interrupted(*, job: Job) -> Job:
    """A running job whose process was killed (power cut, kill -9, a stopped worker) is failed with
    the reason. Its file was written in one transaction, so the database holds none of it."""
    if job.status != Job.Status.RUNNING or not job.runner or not _runner_gone(job.runner):
        return job
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.status != Job.Status.RUNNING or locked.runner != job.runner:
            job.refresh_from_db()
            return job
        job_fail(job=locked, error="任务中断：处理它的进程已退出（断电、被终止或后台任务进程重启）。"
                                   "整个任务在一个事务中，数据库没有留下任何改动；请重新提交。")
        event_record(county_code=locked.county_code, entity="job", entity_id=str(locked.pk), action="interrupted",
                     before={"status": Job.Status.RUNNING, "runner": job.runner}, after={"status": locked.status},
                     reason="处理进程已退出", actor=None)
    job.refresh_from_db()
    return job


def job_succeed(*, job: Job, result: dict, report_path: str = "", message: str = "已完成") -> Job:
    job.status, job.finished_at, job.result, job.message = Job.Status.SUCCEEDED, timezone.now(), result, message
    job.report_path = report_path or job.report_path
    if job.total and job.done < job.total:
        job.done = job.total
    job.save(update_fields=["status", "finished_at", "result", "message", "report_path", "total", "done"])
    return job


def job_fail(*, job: Job, error: BaseException | str, result: dict | None = None) -> Job:
    job.status, job.finished_at = Job.Status.FAILED, timezone.now()
    job.error = error if isinstance(error, str) else f"{error}\n\n{traceback.format_exc()}"
    job.message = (str(error).splitlines() or ["失败"])[0][:200]
    if result is not None:
        job.result = result
    job.save(update_fields=["status", "finished_at", "error", "message", "result", "total", "done"])
    return job

