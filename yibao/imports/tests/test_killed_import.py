"""A register import killed with SIGKILL half-way leaves nothing behind, and its job says so.

Runs the real CLI in child processes on a SQLite file of its own (the suite's test database is
not visible to other processes)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.data import write_register

ROOT = Path(__file__).resolve().parents[3]
VILLAGES = ["340321100201", "340321100202"]
ROWS = 60_000
WRITE_STEPS = ("新增参保人", "家庭户", "确定户主")  # inside the transaction, each long enough to catch


def _env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "YIBAO_TODAY")}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'kill.sqlite3'}", YIBAO_VAR_DIR=str(tmp / "var"),
               DJANGO_SETTINGS_MODULE="yibao.settings")
    return env


def _yibao(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "yibao.cli", *args], cwd=ROOT, env=_env(tmp), capture_output=True,
                          text=True, timeout=300)


STATE = """
import json, django
django.setup()
from yibao.core.models import Event, Job
from yibao.core.selectors import job_progress
from yibao.registry.models import Household, Resident
job = Job.objects.filter(kind="import_residents").order_by("pk").first()
before = job.status
job_progress(job)  # what the job page polls
print(json.dumps({"job": job.pk, "residents": Resident.objects.count(), "households": Household.objects.count(),
                  "import_events": Event.objects.filter(entity="resident").count(),
                  "before": before, "after": job.status, "message": job.message,
                  "interrupted": Event.objects.filter(entity="job", action="interrupted").count()}))
"""


def _state(tmp: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", STATE], cwd=ROOT, env=_env(tmp), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _write_step(var: Path) -> str | None:
    for path in (var / "jobs").glob("*.progress.json"):
        try:
            message = json.loads(path.read_text(encoding="utf-8"))["message"]
        except (OSError, ValueError, KeyError):
            continue
        if any(step in message for step in WRITE_STEPS):
            return message
    return None


def test_a_killed_register_import_leaves_nothing_and_its_job_says_interrupted(tmp_path):
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                              env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    regions = tmp_path / "regions.csv"
    regions.write_text("区划代码,名称\n340321,怀远县\n340321100,城关镇\n340321100201,东村\n340321100202,西村\n",
                       encoding="utf-8")
    assert _yibao(tmp_path, "import", "regions", str(regions), "--quiet").returncode == 0
    register = write_register(tmp_path / "户籍.csv", ROWS, VILLAGES)

    child = subprocess.Popen([sys.executable, "-m", "yibao.cli", "import", "residents", str(register),
                              "--county", "340321", "--quiet"], cwd=ROOT, env=_env(tmp_path),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, step = time.monotonic() + 240, None
    while step is None and child.poll() is None and time.monotonic() < deadline:
        step = _write_step(tmp_path / "var")
        time.sleep(0.01)
    assert step is not None, "the import finished or stalled before it began writing"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)

    state = _state(tmp_path)
    assert (state["residents"], state["households"], state["import_events"]) == (0, 0, 0), (step, state)
    assert state["before"] == "running" and state["after"] == "failed" and "任务中断" in state["message"]
    assert state["interrupted"] == 1

    again = _yibao(tmp_path, "import", "residents", str(register), "--county", "340321", "--json", "--quiet")
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["imported"] == ROWS
    assert _state(tmp_path)["residents"] == ROWS


BAD_ROWS = 25


def _committed(tmp: Path) -> bool:
    import sqlite3

    with sqlite3.connect(tmp / "kill.sqlite3", timeout=5) as db:
        row = db.execute("SELECT committed_at FROM core_job WHERE kind = 'import_residents'").fetchone()
    return bool(row and row[0])


def test_a_register_import_killed_after_its_commit_says_written_and_its_report_is_made_again(tmp_path):
    """SIGKILL after the data committed, while the report is due: 已写入，报告未生成 with the right counts,
    then `yibao jobs report` makes the report from the job's data."""
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                              env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    regions = tmp_path / "regions.csv"
    regions.write_text("区划代码,名称\n340321,怀远县\n340321100,城关镇\n340321100201,东村\n340321100202,西村\n",
                       encoding="utf-8")
    assert _yibao(tmp_path, "import", "regions", str(regions), "--quiet").returncode == 0
    rows = 5_000
    register = write_register(tmp_path / "户籍.csv", rows, VILLAGES)
    lines = register.read_text(encoding="utf-8").splitlines()
    for i in range(1, BAD_ROWS + 1):  # a broken check digit: rejected, listed in the report
        fields = lines[i].split(",")
        fields[0] = fields[0][:-1] + ("1" if fields[0][-1] != "1" else "2")
        lines[i] = ",".join(fields)
    register.write_text("\n".join(lines) + "\n", encoding="utf-8")

    env = _env(tmp_path) | {"YIBAO_HOLD_AFTER_COMMIT": "600"}  # stop right after the commit, before the report
    child = subprocess.Popen([sys.executable, "-m", "yibao.cli", "import", "residents", str(register),
                              "--county", "340321", "--quiet"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while child.poll() is None and time.monotonic() < deadline and not _committed(tmp_path):
        time.sleep(0.05)
    assert child.poll() is None and _committed(tmp_path), "the import did not reach its commit"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)

    state = _state(tmp_path)
    assert state["residents"] == rows - BAD_ROWS and state["interrupted"] == 0
    assert state["before"] == "running" and state["after"] == "written", state
    assert state["message"] == "已写入，报告未生成"
    shown = _yibao(tmp_path, "jobs", "show", str(state["job"]), "--json")
    assert shown.returncode == 0, shown.stderr[-2000:]
    job = json.loads(shown.stdout)
    assert (job["status"], job["report"], job["report_pending"]) == ("written", None, True)
    assert (job["result"]["rows"], job["result"]["imported"], job["result"]["rejected"]) == (rows, rows - BAD_ROWS,
                                                                                           BAD_ROWS)

    made = _yibao(tmp_path, "jobs", "report", str(state["job"]), "--json")
    assert made.returncode == 0, made.stderr[-2000:]
    job = json.loads(made.stdout)
    assert job["status"] == "succeeded" and job["result"]["imported"] == rows - BAD_ROWS
    from yibao.imports.reports import report_read

    errors = [line for line in report_read(job["report"]) if line["sheet"] == "错误（未导入）"]
    assert sorted({line["行号"] for line in errors}) == list(range(2, BAD_ROWS + 2))
    assert _state(tmp_path)["residents"] == rows - BAD_ROWS  # nothing written twice
