"""Health for monitors (/healthz) and the background worker's heartbeat.

The heartbeat is a small file per worker process under VAR_DIR/worker-heartbeats, rewritten every
YIBAO_WORKER_HEARTBEAT_SECONDS by a thread of `manage.py yibao_worker`. A file rather than a row:
on SQLite a long import holds the write lock for minutes, and the heartbeat must not stall behind
the very work it vouches for. Web and worker share VAR_DIR already (uploaded files live there).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connections

from yibao.core.services import this_runner

logger = logging.getLogger("yibao.health")
STALE_FILE_SECONDS = 24 * 3600  # a killed worker's file is cleared after a day


def heartbeat_dir() -> Path:
    return Path(settings.VAR_DIR) / "worker-heartbeats"


def _heartbeat_path(runner: str) -> Path:
    return heartbeat_dir() / (runner.replace(":", "-").replace("/", "_") + ".json")


def worker_heartbeat_beat(*, runner: str | None = None, started_at: float | None = None,
                          now: float | None = None) -> Path:
    """Write (atomically) that this worker process is alive now."""
    runner = runner or this_runner()
    now = time.time() if now is None else now
    folder = heartbeat_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = _heartbeat_path(runner)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"runner": runner, "beat_at": now, "started_at": started_at or now}),
                       encoding="utf-8")
    os.replace(partial, path)
    for other in folder.glob("*.json"):  # files of workers that were killed long ago
        try:
            if now - other.stat().st_mtime > STALE_FILE_SECONDS:
                other.unlink(missing_ok=True)
        except OSError:
            pass
    return path


def worker_heartbeat_stop(*, runner: str | None = None) -> None:
    """A worker that stops cleanly removes its heartbeat, so /healthz fails at once."""
    _heartbeat_path(runner or this_runner()).unlink(missing_ok=True)


def worker_heartbeat_latest() -> float | None:
    """The newest heartbeat of any worker (a unix time), or None."""
    latest = None
    for path in heartbeat_dir().glob("*.json"):
        try:
            beat = float(json.loads(path.read_text(encoding="utf-8"))["beat_at"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        latest = beat if latest is None else max(latest, beat)
    return latest


class HeartbeatThread(threading.Thread):
    """Beats while the worker process lives, also during a long job."""

    def __init__(self, interval: float | None = None):
        super().__init__(name="yibao-worker-heartbeat", daemon=True)
        self.interval = interval or settings.YIBAO_WORKER_HEARTBEAT_SECONDS
        self.runner = this_runner()
        self.started_at = time.time()
        self.stopping = threading.Event()

    def start(self):
        worker_heartbeat_beat(runner=self.runner, started_at=self.started_at)  # alive from the first moment
        super().start()

    def run(self):
        while not self.stopping.wait(self.interval):
            try:
                worker_heartbeat_beat(runner=self.runner, started_at=self.started_at)
            except OSError:
                logger.exception("无法写入后台任务进程心跳文件")

    def stop(self):
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=5)  # a beat in flight must not rewrite the file after it is removed
        worker_heartbeat_stop(runner=self.runner)


# ---- the checks behind /healthz -------------------------------------------------------------------
# Each check answers {"status": "ok"|"fail", ...}; a failing one adds a machine-readable "reason"
# and a Chinese "message". No paths, host names, versions or error texts: /healthz needs no login.


def check_database(using: str = "default") -> dict:
    try:
        with connections[using].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure of the database is the answer, not a 500
        logger.exception("健康检查：数据库无应答")
        return {"status": "fail", "reason": "unreachable", "message": "数据库无应答"}
    return {"status": "ok"}


def check_worker(now: float | None = None) -> dict:
    if not settings.YIBAO_HEALTH_REQUIRE_WORKER:
        return {"status": "ok", "reason": "not_required"}
    max_age = settings.YIBAO_WORKER_HEARTBEAT_MAX_AGE
    latest = worker_heartbeat_latest()
    if latest is None:
        return {"status": "fail", "reason": "no_heartbeat", "max_age_seconds": max_age,
                "message": "后台任务进程没有心跳：请启动 manage.py yibao_worker"}
    age = max(0, round((time.time() if now is None else now) - latest))
    if age > max_age:
        return {"status": "fail", "reason": "stale_heartbeat", "age_seconds": age, "max_age_seconds": max_age,
                "message": f"后台任务进程已 {age} 秒没有心跳（上限 {max_age} 秒）"}
    return {"status": "ok", "age_seconds": age, "max_age_seconds": max_age}


def _free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def check_disk() -> dict:
    minimum = settings.YIBAO_HEALTH_MIN_FREE_BYTES
    free = None
    for folder in (Path(settings.VAR_DIR), Path(settings.MEDIA_ROOT)):
        try:
            room = _free_bytes(folder)
        except OSError:
            return {"status": "fail", "reason": "unreadable", "message": "无法读取数据目录所在磁盘的空间"}
        free = room if free is None else min(free, room)
    if free < minimum:
        return {"status": "fail", "reason": "low_space", "free_bytes": free, "min_free_bytes": minimum,
                "message": f"数据目录所在磁盘只剩 {free // (1024 * 1024)} MB，低于下限 {minimum // (1024 * 1024)} MB"}
    return {"status": "ok", "free_bytes": free, "min_free_bytes": minimum}


def health_report() -> dict:
    checks = {"database": check_database(), "worker": check_worker(), "disk": check_disk()}
    status = "ok" if all(c["status"] == "ok" for c in checks.values()) else "fail"
    return {"status": status, "checks": checks}
