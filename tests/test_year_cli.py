"""docs/year-cli.sh, the year from the command line, runs from start to end on a fresh database.

The script runs as a county would run it: a shell, the `yibao` command (here `python -m yibao.cli`
of this checkout), `manage.py migrate` on an empty database. It always gets a fresh SQLite file in a
temp dir, also when the test session runs on PostgreSQL: the script creates, migrates and fills its
own database from nothing, and it must not touch the session's test database (which pytest-django
owns and rolls back) nor depend on what other tests left there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "docs" / "year-cli.sh"
PAGE = ROOT / "docs" / "year-cli.md"


def test_page_shows_the_script_as_it_is():
    """The page's full listing is the script, byte for byte (edit both together)."""
    page = PAGE.read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", page, flags=re.S)
    assert blocks and blocks[-1] == SCRIPT.read_text(encoding="utf-8")
    assert "year-cli.md" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_year_runs_on_a_fresh_database(tmp_path):
    tmp_path = tmp_path / "year"  # the session's autouse fixture owns tmp_path/var
    tmp_path.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "YIBAO_", "DJANGO_", "PG"))}
    python = sys.executable
    env.update({
        "DJANGO_SETTINGS_MODULE": "yibao.settings",
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "YIBAO_VAR_DIR": str(tmp_path / "var"),
        "YIBAO": f"{python} -m yibao.cli",
        "MANAGE": f"{python} manage.py",
        "OUT": str(tmp_path / "out"),
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "160",
    })
    (tmp_path / "var").mkdir()
    done = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "最后一次对账" in done.stderr

    def yibao(*args) -> dict:
        result = subprocess.run([python, "-m", "yibao.cli", *args, "--json"], cwd=ROOT, capture_output=True, text=True,
                                env={**env, "YIBAO_TODAY": "2024-12-31"}, timeout=60)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    county = yibao("progress", "--county", "340321", "--year", "2025", "--no-refresh")["county"]
    # 周立新, 张建国户 three, 刘海, 陈静 (topped up), 刘欣, 张伟; 吴红梅 was refunded
    assert (county["target"], county["paid"], county["amount"]) == (14, 8, "2900.00")
    receipt = yibao("find", "340321-2025-0000002")["best"]
    assert receipt["kind"] == "receipt" and "1,200.00" in receipt["detail"]  # one receipt for the household
    refunds = yibao("refund", "list")["refunds"]
    assert [(r["name"], r["status"]) for r in refunds] == [("吴红梅", "booked")]
    months = yibao("reconcile-calendar", "--county", "340321", "--year", "2025")
    assert [m["runs"] for m in months["months"] if m["month"] == "2024-12"] == [1]
    assert (tmp_path / "out" / "周报-2024-10-25.xlsx").stat().st_size > 0
    assert (tmp_path / "out" / "对账差异-2024-12-31.xlsx").exists()
