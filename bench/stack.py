"""Start Yibao for a load benchmark on loopback: the production stack, or Django's runserver beside it.

    start_production(env)   gunicorn with workers sized to the cores, DEBUG off, static files collected,
                            and the task worker beside it: what `make serve` runs
    start_runserver(env)    `manage.py runserver` (threaded, no reloader), the same settings

Both take the environment from bench_env() (a scratch database, DEBUG off, no second factor) and
return a Server whose .url answers; .stop() ends every process it started. When `make serve`'s
own launcher (yibao/serve.py) is on the branch, start_production runs it instead of gunicorn by hand,
so the benchmark measures what a county runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 120.0


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(database_url: str, var_dir: Path, today: str | None = None) -> dict:
    """Production settings for a benchmark server: DEBUG off, plain HTTP on loopback, no second factor.

    The second factor (TOTP) is off (YIBAO_REQUIRE_2FA_ROLES empty): the simulated users log in once
    each with their password. The lockout stays on: they must log in right the first time.
    """
    env = dict(os.environ)
    var_dir.mkdir(parents=True, exist_ok=True)
    env.update({
        "DJANGO_SETTINGS_MODULE": "yibao.settings", "DEBUG": "0", "DJANGO_DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 50, "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url, "YIBAO_VAR_DIR": str(var_dir), "PYTHONPATH": str(ROOT),
        "YIBAO_REQUIRE_2FA_ROLES": "",
        "YIBAO_HTTPS": "0",  # loopback without TLS: cookies must not be Secure-only, no redirect to https
        "YIBAO_ENV_FILE": "",  # never a developer's .env
        "YIBAO_HEALTH_MIN_FREE_BYTES": "0",
        "YIBAO_REQUEST_LOG": str(var_dir / "requests.log"),  # one line per request, off the terminal
        "YIBAO_STATIC_ROOT": str(var_dir / "static"),  # collected per run: two runs never write one folder
        "LOG_LEVEL": "ERROR",
    })
    if today:
        env["YIBAO_TODAY"] = today
    return env


@dataclass
class Server:
    name: str
    url: str
    processes: list[subprocess.Popen] = field(default_factory=list)
    log: Path | None = None
    detail: str = ""
    request_log: Path | None = None  # the app's one JSON line per request (duration_ms measured in the server)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)  # its own session: gunicorn and its workers
                except ProcessLookupError:
                    pass
        for proc in reversed(self.processes):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _spawn(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _wait_ready(server: Server) -> Server:
    """Until the login page answers 200 (the app loaded, the database open)."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for proc in server.processes[:1]:
            if proc.poll() is not None:
                tail = server.log.read_text(errors="replace")[-3000:] if server.log else ""
                raise RuntimeError(f"{server.name} 未能启动（代码 {proc.returncode}）：\n{tail}")
        try:
            with urllib.request.urlopen(server.url + "/accounts/login/", timeout=5) as answer:
                if answer.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"{server.name} {READY_TIMEOUT:.0f} 秒内未应答 {server.url}")


def collectstatic(env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True)


def _worker_command() -> list[str]:
    if (ROOT / "yibao" / "core" / "management" / "commands" / "yibao_worker.py").exists():
        return [sys.executable, "manage.py", "yibao_worker"]
    return [sys.executable, "manage.py", "db_worker", "--queue-name", "*"]


def start_production(env: dict, *, workers: int | None = None, port: int | None = None, log_dir: Path,
                     task_worker: bool = True) -> Server:
    """The production stack on 127.0.0.1:<port>: gunicorn (2 × cores + 1 sync workers), the task worker.

    Static files are collected first. With yibao/serve.py (`make serve`) present, that launcher starts
    and supervises both processes, as it does for a county.
    """
    port = port or free_port()
    workers = workers or 2 * cores() + 1
    log = log_dir / f"production-{port}.log"
    collectstatic(env)
    if (ROOT / "yibao" / "serve.py").exists():
        command = [sys.executable, "-m", "yibao.serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                   "--no-prepare"]
        if not task_worker:
            command.append("--no-worker")
        server = Server("gunicorn（make serve）", f"http://127.0.0.1:{port}", [_spawn(command, env, log)], log)
    else:
        command = [sys.executable, "-m", "gunicorn", "yibao.wsgi:application", "--workers", str(workers),
                   "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
        server = Server("gunicorn", f"http://127.0.0.1:{port}", [_spawn(command, env, log)], log)
        if task_worker:
            server.processes.append(_spawn(_worker_command(), env, log_dir / f"worker-{port}.log"))
    server.detail = f"{workers} 个同步工作进程"
    server.request_log = Path(env["YIBAO_REQUEST_LOG"]) if env.get("YIBAO_REQUEST_LOG") else None
    return _wait_ready(server)


def start_runserver(env: dict, *, port: int | None = None, log_dir: Path) -> Server:
    """Django's development server (threaded, no autoreloader), the same settings and database."""
    port = port or free_port()
    log = log_dir / f"runserver-{port}.log"
    collectstatic(env)  # DEBUG is off here too: pages need the static manifest, as under gunicorn
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    server = Server("runserver", f"http://127.0.0.1:{port}", [_spawn(command, env, log)], log)
    server.detail = "单进程多线程"
    server.request_log = Path(env["YIBAO_REQUEST_LOG"]) if env.get("YIBAO_REQUEST_LOG") else None
    return _wait_ready(server)
