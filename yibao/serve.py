"""`make serve`: the production stack on one machine, in the foreground.

    python -m yibao.serve [--bind 127.0.0.1:8000] [--workers N] [--no-prepare] [--no-worker]

First it checks the settings (`manage.py check --deploy`), migrates and collects the static files;
then it starts gunicorn (the web process, workers sized to the cores: yibao/gunicorn_conf.py) and the
django-tasks worker (`manage.py yibao_worker`, or `db_worker --queue-name '*'`), and supervises them: the task worker is
restarted when it stops (waiting longer after each quick failure); if the web server stops, everything
stops. Ctrl+C or SIGTERM stops both. Settings come from the environment or .env with DEBUG off;
missing SECRET_KEY or ALLOWED_HOSTS stops it before anything starts. On a server with systemd use
deploy/systemd/ instead (docs/deploy.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 20
WORKER_BACKOFF_MAX = 30.0
WORKER_STEADY_SECONDS = 60.0  # a worker that ran this long before stopping restarts at once


def say(message: str) -> None:
    print(f"[yibao serve] {message}", file=sys.stderr, flush=True)


def preflight() -> str | None:
    """The reason the stack must not start, or None. Loads the settings as the processes will."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yibao.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.conf import settings

        debug, hosts = settings.DEBUG, settings.ALLOWED_HOSTS
    except ImproperlyConfigured as exc:
        return str(exc)
    if debug:
        return "make serve 是生产方式，DEBUG 必须关闭（去掉 DEBUG=1）；演示请用 make run。"
    if not hosts:
        return "生产环境必须设置 ALLOWED_HOSTS（本服务的域名或 IP，逗号分隔；见 docs/deploy.md）。"
    return None


def prepare() -> int:
    """check --deploy (warnings are printed, errors stop), migrate, collectstatic."""
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    for step, args in (("检查设置", ["check", "--deploy"]), ("数据库迁移", ["migrate", "--noinput"]),
                       ("收集静态文件", ["collectstatic", "--noinput", "--verbosity", "0"])):
        say(f"{step}……")
        code = subprocess.call(manage + args, cwd=BASE_DIR)
        if code:
            say(f"{step}失败（代码 {code}），未启动。")
            return code
    return 0


def web_command(bind: str | None, workers: int | None) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", "-c", "python:yibao.gunicorn_conf"]
    if bind:
        command += ["--bind", bind]
    if workers:
        command += ["--workers", str(workers)]
    return command + ["yibao.wsgi:application"]


def worker_command() -> list[str]:
    """`manage.py yibao_worker` (db_worker plus the heartbeat /healthz checks) where the project has it."""
    if (BASE_DIR / "yibao" / "core" / "management" / "commands" / "yibao_worker.py").exists():
        return [sys.executable, str(BASE_DIR / "manage.py"), "yibao_worker"]
    return [sys.executable, str(BASE_DIR / "manage.py"), "db_worker", "--queue-name", "*"]


class Supervisor:
    def __init__(self, web: list[str], worker: list[str] | None):
        self.web_cmd, self.worker_cmd = web, worker
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.worker_started = 0.0
        self.worker_backoff = 1.0
        self.worker_due = 0.0
        self.stopping = False

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(self.worker_cmd, cwd=BASE_DIR, start_new_session=True)
        self.worker_started = time.monotonic()
        say(f"后台任务进程已启动（pid {self.worker.pid}）。")

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        # own sessions: a Ctrl+C reaches us only, and we stop the children in order
        self.web = subprocess.Popen(self.web_cmd, cwd=BASE_DIR, start_new_session=True)
        say(f"网页服务（gunicorn）已启动（pid {self.web.pid}）。按 Ctrl+C 停止。")
        if self.worker_cmd:
            self.start_worker()
        code = 0
        while not self.stopping:
            web_code = self.web.poll()
            if web_code is not None:
                say(f"网页服务已退出（代码 {web_code}），停止全部进程。")
                code = web_code or 1
                break
            if self.worker_cmd:
                self._watch_worker()
            time.sleep(0.5)
        self.stop()
        return code

    def _watch_worker(self) -> None:
        now = time.monotonic()
        if self.worker is not None:
            worker_code = self.worker.poll()
            if worker_code is None:
                return
            ran = now - self.worker_started
            self.worker_backoff = 1.0 if ran >= WORKER_STEADY_SECONDS else min(self.worker_backoff * 2, WORKER_BACKOFF_MAX)
            self.worker_due = now + (0 if ran >= WORKER_STEADY_SECONDS else self.worker_backoff)
            say(f"后台任务进程已退出（代码 {worker_code}），{self.worker_due - now:.0f} 秒后重启。")
            self.worker = None
        if now >= self.worker_due:
            self.start_worker()

    def _on_signal(self, signum, _frame) -> None:
        self.stopping = True

    def stop(self) -> None:
        say("正在停止……")
        children = [p for p in (self.web, self.worker) if p is not None and p.poll() is None]
        for process in children:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in children:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        say("已停止。")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m yibao.serve", description="生产方式运行医保征缴（gunicorn + 后台任务进程）")
    parser.add_argument("--bind", help="监听地址，默认取 YIBAO_BIND 或 127.0.0.1:8000")
    parser.add_argument("--workers", type=int, help="网页进程数，默认取 WEB_CONCURRENCY 或 2×CPU 核数+1")
    parser.add_argument("--no-prepare", action="store_true", help="跳过检查、迁移与收集静态文件")
    parser.add_argument("--no-worker", action="store_true", help="不启动后台任务进程（另有机器运行时）")
    args = parser.parse_args(argv)
    reason = preflight()
    if reason:
        say(f"无法启动：{reason}")
        return 2
    if not args.no_prepare:
        code = prepare()
        if code:
            return code
    supervisor = Supervisor(web_command(args.bind, args.workers), None if args.no_worker else worker_command())
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
