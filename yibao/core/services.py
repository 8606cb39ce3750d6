"""Writes shared by every app: event rows and job state."""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Iterable
from pathlib import Path

from django.utils import timezone

from yibao.core.models import Event, Job


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
    return Event.objects.create(
        county_code=county_code,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=before,
        after=after,
        reason=reason,
        **actor_fields(actor),
    )


def event_bulk_record(*, rows: Iterable[dict], actor=None, batch_size: int = 5000) -> int:
    """Insert many events at once (bulk paths). Each row has the keyword fields of event_record."""
    who = actor_fields(actor)
    now = timezone.now()
    objs = [Event(at=now, **who, **row) for row in rows]
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
    return Job.objects.create(
        kind=kind,
        county_code=county_code,
        params=params or {},
        input_name=input_name,
        input_path=str(input_path),
        input_sha256=file_sha256(input_path) if input_path else "",
        created_by=who["actor"],
        created_by_name=who["actor_name"],
    )


def job_start(*, job: Job, message: str = "开始处理") -> Job:
    job.status, job.started_at, job.message = Job.Status.RUNNING, timezone.now(), message
    job.save(update_fields=["status", "started_at", "message"])
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

