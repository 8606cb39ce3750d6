"""Progress reporting shared by pages (a Job row that htmx polls) and the CLI (a rich bar).

A service that does long work takes `progress: Progress` and calls it as it goes:
    progress.start(total, "校验身份证号码")
    progress.advance(n)
    progress.step("写入数据库")
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Protocol


class Progress(Protocol):
    def start(self, total: int, message: str = "") -> None: ...
    def advance(self, n: int = 1) -> None: ...
    def step(self, message: str) -> None: ...


class NullProgress:
    def start(self, total: int, message: str = "") -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def step(self, message: str) -> None:
        pass


def job_progress_path(job_id: int) -> Path:
    from django.conf import settings

    folder = Path(settings.VAR_DIR) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{job_id}.progress.json"


def job_progress_read(job_id: int) -> dict | None:
    try:
        return json.loads(job_progress_path(job_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


class JobProgress:
    """Progress of a running Job, kept in a small file beside the database.

    A bulk write holds one transaction (on SQLite, the write lock) for the whole file, so
    progress can't go through the database: other connections would not see it until commit.
    """

    def __init__(self, job, interval: float = 0.3):
        self.job = job
        self.interval = interval
        self._last = 0.0
        self.total, self.done, self.message = 0, 0, job.message or ""

    def _save(self, force: bool = False):
        now = time.monotonic()
        if not (force or now - self._last >= self.interval):
            return
        self._last = now
        path = job_progress_path(self.job.pk)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"total": self.total, "done": self.done, "message": self.message}, ensure_ascii=False),
            encoding="utf-8",
        )
        os.replace(tmp, path)

    def start(self, total: int, message: str = "") -> None:
        self.total, self.done = int(total), 0
        if message:
            self.message = message
        self._save(force=True)

    def advance(self, n: int = 1) -> None:
        self.done += int(n)
        self._save()

    def step(self, message: str) -> None:
        self.message = message
        self._save(force=True)

    def finish(self) -> None:
        """Copy the last figures to the Job row and drop the file."""
        self.job.total, self.job.done = self.total, self.done if self.done else self.total
        job_progress_path(self.job.pk).unlink(missing_ok=True)


class RichProgress:
    """A rich progress bar on stderr for the CLI (stdout stays clean for --json)."""

    def __init__(self, description: str = "处理中", enabled: bool = True):
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress as _Bar, TextColumn, TimeElapsedColumn

        self._bar = _Bar(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not enabled,
            transient=False,
        )
        self._task = None
        self._description = description

    def __enter__(self):
        self._bar.start()
        self._task = self._bar.add_task(self._description, total=None)
        return self

    def __exit__(self, *exc):
        self._bar.stop()

    def start(self, total: int, message: str = "") -> None:
        self._bar.update(self._task, total=total, completed=0, description=message or self._description)

    def advance(self, n: int = 1) -> None:
        self._bar.advance(self._task, n)

    def step(self, message: str) -> None:
        self._bar.update(self._task, description=message)
