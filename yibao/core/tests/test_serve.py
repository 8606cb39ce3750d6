"""`make serve`'s supervisor (yibao/serve.py): restarts the task worker, stops everything on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SUPERVISE = """
import sys
from yibao.serve import Supervisor
web = [sys.executable, "-c", "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(600)", {web_pid!r}]
worker = [sys.executable, "-c", "import sys; open(sys.argv[1], 'a').write('started\\\\n'); sys.exit(3)", {starts!r}]
sys.exit(Supervisor(web, worker).run())
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_worker_is_restarted_and_sigterm_stops_web_and_worker(tmp_path):
    web_pid, starts = tmp_path / "web.pid", tmp_path / "starts"
    code = SUPERVISE.format(web_pid=str(web_pid), starts=str(starts))
    supervisor = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if web_pid.exists() and web_pid.read_text() and starts.exists() and len(starts.read_text().split()) >= 2:
                break
            time.sleep(0.2)
        assert len(starts.read_text().split()) >= 2, "后台任务进程退出后没有被重启"
        web = int(web_pid.read_text())
        assert alive(web)
        supervisor.send_signal(signal.SIGTERM)
        _, stderr = supervisor.communicate(timeout=30)
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    assert supervisor.returncode == 0
    assert "后台任务进程已退出（代码 3）" in stderr and "已停止" in stderr
    for _ in range(50):
        if not alive(web):
            break
        time.sleep(0.1)
    assert not alive(web), "停止后网页进程仍在运行"


def test_when_the_web_server_stops_everything_stops(tmp_path):
    code = (
        "import sys\nfrom yibao.serve import Supervisor\n"
        "web = [sys.executable, '-c', 'import sys; sys.exit(4)']\n"
        "worker = [sys.executable, '-c', 'import time; time.sleep(600)']\n"
        "sys.exit(Supervisor(web, worker).run())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 4
    assert "网页服务已退出（代码 4），停止全部进程" in done.stderr


def test_web_workers_are_sized_to_the_cores(monkeypatch):
    from yibao import gunicorn_conf

    monkeypatch.setattr(gunicorn_conf, "cpu_count", lambda: 2)
    assert gunicorn_conf.default_workers() == 5
