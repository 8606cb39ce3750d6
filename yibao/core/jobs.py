"""Job runners: each app registers the long work it can do, keyed by Job.kind.

    @job_runner("import_residents")
    def run_resident_import(*, job, progress) -> dict: ...

`job_run` runs one synchronously (the CLI and tests); `job_enqueue` hands it to the
django-tasks database worker (pages).

A runner that writes data calls `job_outcome_record` as the last step of its data transaction, so
the job's counts commit with its data. Whatever stops the job after that commit (an error while
writing the report, a killed process) leaves it 已写入，报告未生成, never 失败.
"""

from __future__ import annotations

from collections.abc import Callable

from yibao.core.models import Job
from yibao.core.progress import JobProgress, Progress
from yibao.core.services import job_committed, job_fail, job_issues_path, job_start, job_succeed, job_written

Runner = Callable[..., dict]
RUNNERS: dict[str, Runner] = {}
KIND_LABELS: dict[str, str] = {}

# Chinese names of the counts that job results carry, for pages and reports.
RESULT_LABELS = {
    "rows": "总行数",
    "imported": "新增",
    "updated": "更新",
    "unchanged": "未变",
    "rejected": "拒绝",
    "warnings": "警告",
    "flagged": "标记",
    "booked": "入账",
    "assessed": "核定",
    "skipped": "跳过",
    "mismatches": "差异",
    "residents": "参保人",
    "removed": "移除",
    "not_accepted": "不予受理",
    "review": "核定改变、待复核",
}


def job_runner(kind: str, label: str):
    def register(func: Runner) -> Runner:
        RUNNERS[kind] = func
        KIND_LABELS[kind] = label
        return func

    return register


def result_summary(result: dict) -> list[tuple[str, object]]:
    return [(RESULT_LABELS[k], v) for k, v in (result or {}).items() if k in RESULT_LABELS]


# what became of each row of a file: every row ends in exactly one of these (a list import's "flagged"
# counts residents marked 重复参保, not rows; a payment file's "flagged" rows are 待处理 payments)
ROW_OUTCOMES = ("imported", "updated", "unchanged", "rejected", "skipped")
PAYMENT_ROW_OUTCOMES = ("booked", "flagged", "unchanged", "rejected")


def result_parts(result: dict) -> list[tuple[str, int]] | None:
    """The row outcomes of a file job that add up to its 总行数, or None for a job without rows per file line."""
    result = result or {}
    if not isinstance(result.get("rows"), int) or not any(k in result for k in ("imported", "booked")):
        return None
    keys = PAYMENT_ROW_OUTCOMES if "booked" in result else ROW_OUTCOMES
    return [(k, int(result[k])) for k in keys if isinstance(result.get(k), int)]


def result_balance(result: dict) -> str:
    """'总行数 6 = 新增 0 + 更新 1 + 未变 2 + 拒绝 3；警告 1 行已导入（计入前几项）', or '' when not a file job."""
    parts = result_parts(result)
    if parts is None:
        return _assessment_balance(result or {})
    total = int(result["rows"])
    shown = " + ".join(f"{RESULT_LABELS[k]} {n}" for k, n in parts if n or k in ("imported", "booked", "rejected"))
    text = f"总行数 {total} = {shown}"
    if sum(n for _k, n in parts) != total:
        text = f"总行数 {total}，各项合计 {sum(n for _k, n in parts)}（{shown}），两者不符，请联系管理员核查"
    warned = result.get("warnings")
    if isinstance(warned, int) and warned:
        text += f"；其中 {warned} 行带警告，已导入（计入前几项）"
    return text


class JobFailed(Exception):
    """Raised by a runner to fail a job with a Chinese message and a partial result (e.g. a report)."""

    def __init__(self, message: str, result: dict | None = None):
        super().__init__(message)
        self.result = result or {}


def job_run(job: Job, progress: Progress | None = None) -> Job:
    from yibao.core.requestlog import request_id_bound, request_id_get

    with request_id_bound((job.params or {}).get("request_id") or request_id_get()):
        return _job_run(job, progress)


def _job_run(job: Job, progress: Progress | None) -> Job:
    runner = RUNNERS.get(job.kind)
    if runner is None:
        return job_fail(job=job, error=f"未知的任务类型：{job.kind}")
    job_start(job=job)
    tracker = JobProgress(job)

    class _Both:
        """Reports to the job file and, from the CLI, to a rich bar as well."""

        def start(self, total, message=""):
            tracker.start(total, message)
            progress and progress.start(total, message)

        def advance(self, n=1):
            tracker.advance(n)
            progress and progress.advance(n)

        def step(self, message):
            tracker.step(message)
            progress and progress.step(message)

    try:
        result = runner(job=job, progress=_Both())
    except JobFailed as exc:
        tracker.finish()
        if job_committed(job):  # its data is in: never say it failed
            return job_written(job=job, error=str(exc))
        return job_fail(job=job, error=str(exc), result=exc.result)
    except Exception as exc:  # the job row must say what went wrong, whatever it was
        tracker.finish()
        if job_committed(job):
            return job_written(job=job, error=exc)
        return job_fail(job=job, error=exc)
    tracker.finish()
    job = job_succeed(job=job, result=result, report_path=result.get("report") or "")
    job_issues_path(job.pk).unlink(missing_ok=True)  # the report is written: its lines are no longer needed
    return job


def job_enqueue(job: Job) -> Job:
    from yibao.core.tasks import run_job_task

    run_job_task.enqueue(job.pk)
    return job


def _assessment_balance(result: dict) -> str:
    """参保核定: every resident of the county is assessed anew or left unchanged."""
    if not all(isinstance(result.get(k), int) for k in ("residents", "assessed", "unchanged")):
        return ""
    total, parts = result["residents"], result["assessed"] + result["unchanged"]
    text = f"参保人 {total} = 核定 {result['assessed']} + 未变 {result['unchanged']}"
    if parts != total:
        text = f"参保人 {total}，核定与未变合计 {parts}，两者不符，请联系管理员核查"
    if result.get("removed"):
        text += f"；另移除 {result['removed']} 条已不在册的核定"
    return text
