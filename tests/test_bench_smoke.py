"""`make bench` at a tiny size: every registered benchmark runs, prints its table and baseline."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_benchmark_runs_at_a_tiny_size(tmp_path):
    from bench import BENCHMARKS
    from bench.__main__ import discover

    discover()
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--rows", "2000", "--naive-rows", "100", "--databases", "sqlite",
         "--load-seconds", "1", "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for item in BENCHMARKS.values():
        assert f"== {item.title} ==" in done.stdout
    tables = [line for line in done.stdout.splitlines() if line.startswith("| SQLite")]
    assert len(tables) == 4  # assess, imports, payments, reconcile print a table row each
    assert "全县进度查询 2,000 人（sqlite" in done.stdout and "直接统计基线" in done.stdout
    assert "原始批量插入" in done.stdout and "逐行 ORM" in done.stdout
    assert "市、省汇总（sqlite，10 个县" in done.stdout and "逐县读进度基线" in done.stdout
