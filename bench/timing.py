"""What the query benchmarks share: the median time of a call, and running a worker process on a scratch database.

A benchmark's figures are measured in a fresh process (`python -m bench.<module> --worker …`) on a temporary
SQLite file or on a PostgreSQL database created for the run and dropped after it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def median_ms(func, runs: int) -> tuple[float, object]:
    """Call func runs times: the median in milliseconds (one decimal) and the last answer."""
    times, value = [], None
    for _ in range(runs):
        began = time.perf_counter()
        value = func()
        times.append((time.perf_counter() - began) * 1000)
    return round(statistics.median(times), 1), value


def pg_admin(sql: str, url: str) -> bool:
    """Run sql on the server of url (in its database postgres); False, said on stderr, when it does not answer."""
    try:
        import psycopg

        base = url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as conn:
            conn.execute(sql)
        return True
    except Exception as exc:  # PostgreSQL not answering: skip it
        print(f"PostgreSQL 不可用，跳过：{exc}", file=sys.stderr)
        return False


def run_worker(backend: str, command: list[str], *, pg_url: str, admin_url: str | None = None) -> dict | None:
    """Run `python <command>` on a scratch database of backend and return the JSON of its last line; None when
    PostgreSQL does not answer. On PostgreSQL the database named by pg_url is created and dropped again (through
    the server of admin_url, pg_url's by default)."""
    admin_url = admin_url or pg_url
    env = dict(os.environ)
    env.update({"DEBUG": "0", "SECRET_KEY": "bench-only", "DJANGO_SETTINGS_MODULE": "yibao.settings"})
    name = pg_url.rsplit("/", 1)[1]
    with tempfile.TemporaryDirectory(prefix="yibao-bench-") as scratch:
        env["YIBAO_VAR_DIR"] = scratch
        if backend == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
        else:
            if (not pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin_url)
                    or not pg_admin(f'CREATE DATABASE "{name}"', admin_url)):
                return None
            env["DATABASE_URL"] = pg_url
        try:
            out = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True,
                                 check=False)
        finally:
            if backend == "postgresql":
                pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin_url)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        raise SystemExit(f"{backend} 基准失败")
    return json.loads(out.stdout.strip().splitlines()[-1])
