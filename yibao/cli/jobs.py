"""CLI commands of background jobs: `yibao jobs show ID`, `yibao jobs report ID`."""

from __future__ import annotations

import typer

from yibao.cli.common import cli_actor, django_setup, emit_json, fail

jobs_app = typer.Typer(help="后台任务：查看任务结果，重新生成报告", no_args_is_help=True)

JOB_ID = typer.Argument(..., help="任务编号")
JSON = typer.Option(False, "--json", help="在标准输出打印一个 JSON 对象")


def _job(job_id: int):
    from yibao.core.models import Job
    from yibao.core.services import job_fail_if_interrupted

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        fail(f"任务 #{job_id} 不存在。")
    return job_fail_if_interrupted(job=job)  # a job left 'running' by a killed process says what became of it


def _out(job) -> dict:
    return {"job": job.pk, "kind": job.kind, "kind_label": job.kind_label, "status": job.status,
            "status_label": job.get_status_display(), "message": job.message,
            "result": {k: v for k, v in (job.result or {}).items() if k != "report_pending"},
            "report": job.report_path or None, "report_pending": job.report_pending}


def _echo(job) -> None:
    from yibao.core.jobs import result_summary

    counts = "，".join(f"{label} {value}" for label, value in result_summary(job.result))
    typer.echo(f"{job.kind_label}（任务 #{job.pk}）：{job.get_status_display()}。{job.message}" + (f"；{counts}" if counts else ""))
    if job.report_path:
        typer.echo(f"报告：{job.report_path}")
    elif job.report_pending:
        typer.echo(f"报告未生成：执行 yibao jobs report {job.pk} 重新生成。")


@jobs_app.command("show")
def jobs_show(job_id: int = JOB_ID, as_json: bool = JSON):
    """一个任务的状态、计数和报告。"""
    django_setup()
    job = _job(job_id)
    emit_json(_out(job)) if as_json else _echo(job)


@jobs_app.command("report")
def jobs_report(job_id: int = JOB_ID, as_json: bool = JSON):
    """重新生成任务的报告（任务在数据提交后、报告写完前中断时：已写入，报告未生成）。"""
    django_setup()
    from django.core.exceptions import ValidationError

    from yibao.core.services import job_report_regenerate

    job = _job(job_id)
    try:
        job = job_report_regenerate(job=job, actor=cli_actor())
    except ValidationError as exc:
        fail("；".join(exc.messages))
    emit_json(_out(job)) if as_json else _echo(job)


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
