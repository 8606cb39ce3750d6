"""gunicorn settings for Yibao: `gunicorn -c python:yibao.gunicorn_conf yibao.wsgi`.

Used by `make serve` (yibao/serve.py) and by deploy/systemd/yibao-web.service. Each value can be set
in the environment or .env (docs/deploy.md).
"""

import os
from pathlib import Path

# The same .env as the Django settings (yibao/settings.py), read before them: bind and workers live there.
_ENV_FILE = os.environ.get("YIBAO_ENV_FILE", str(Path(__file__).resolve().parent.parent / ".env"))
if _ENV_FILE and Path(_ENV_FILE).is_file():
    from dotenv import load_dotenv

    load_dotenv(_ENV_FILE, override=False)


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """gunicorn's advice for sync workers: two per core, plus one."""
    return 2 * cpu_count() + 1


bind = os.environ.get("YIBAO_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or default_workers())
worker_class = "sync"
timeout = int(os.environ.get("YIBAO_WEB_TIMEOUT", "120"))  # a county-wide export page can take a while
graceful_timeout = 30
max_requests = 2000  # recycle workers now and then, staggered
max_requests_jitter = 200
# nginx on the same machine passes X-Forwarded-Proto; only it is trusted to.
forwarded_allow_ips = os.environ.get("YIBAO_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("YIBAO_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("YIBAO_GUNICORN_LOG_LEVEL", "info")
proc_name = "yibao-web"
control_socket_disable = True  # gunicorn 27's control socket sits in $HOME and would clash between instances
