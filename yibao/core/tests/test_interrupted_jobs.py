import os
import socket
import subprocess
import sys

from yibao.core.models import Event, Job
from yibao.core.selectors import job_progress
from yibao.core.services import job_create, job_fail_if_interrupted, job_start


def _running(runner: str) -> Job:
    job = job_start(job=job_create(kind="import_residents", county_code="340321", actor="测试"))
    Job.objects.filter(pk=job.pk).update(runner=runner)
    job.refresh_from_db()
    return job


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_job_start_records_this_process(db):
    job = job_start(job=job_create(kind="import_residents", county_code="340321", actor="测试"))
    assert job.runner == f"{socket.gethostname()}:{os.getpid()}"
    assert job_fail_if_interrupted(job=job).status == Job.Status.RUNNING  # this process is alive


def test_a_job_whose_process_is_gone_fails_with_the_reason_and_an_event(db):
    job = _running(f"{socket.gethostname()}:{_dead_pid()}")
    figures = job_progress(job)  # the page's poll finds it
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.message.startswith("任务中断")
    assert "数据库没有留下任何改动" in job.error and figures["message"].startswith("任务中断")
    event = Event.objects.get(entity="job", entity_id=str(job.pk))
    assert event.action == "interrupted" and event.before["status"] == "running" and event.after["status"] == "failed"
    job_fail_if_interrupted(job=job)
    assert Event.objects.filter(entity="job").count() == 1  # once


def test_a_job_of_another_machine_is_left_alone(db):
    job = _running(f"another-host-{socket.gethostname()}:{_dead_pid()}")
    assert job_fail_if_interrupted(job=job).status == Job.Status.RUNNING
    assert not Event.objects.filter(entity="job").exists()
