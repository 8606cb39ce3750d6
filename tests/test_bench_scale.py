"""The province-scale benchmark (`python -m bench --only scale`) at a tiny size, on PostgreSQL only.

Three counties of 300 people: the first loaded and measured alone, the last two imported at once,
then the first measured again with all three in the database. Skipped unless DATABASE_URL names
PostgreSQL (the benchmark makes its own database, yibao_bench_scale_test, and drops it).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")),
    reason="省级规模基准只在 PostgreSQL 上运行",
)


def test_scale_bench_runs_at_a_tiny_size(tmp_path):
    env = dict(os.environ, YIBAO_BENCH_SCALE_DB=f"yibao_bench_scale_test_{os.getpid()}")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "scale", "--counties", "3", "--rows", "300", "--counter-payments", "5",
         "--databases", "postgresql", "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "== 省级规模：多县同库（仅 PostgreSQL） ==" in out
    assert "省级规模：3 个县 × 300 人（库中居民 900 人）" in out
    for label in ("全县进度查询", "县管理员首页待办卡片", "一个村的催缴名单", "市排名（3 个县", "两县同时导入", "等锁采样"):
        assert label in out, label

    f = json.loads((tmp_path / "scale.json").read_text(encoding="utf-8"))
    alone, every = f["alone"], f["all"]
    assert alone["residents_total"] == 300 and every["residents_total"] == 900
    assert alone["county"] == every["county"] == "140621"
    assert alone["answer"] == every["answer"]  # the other counties change nothing of the first county's figures
    assert 0 < every["answer"]["enrolled"] <= 300 and every["answer"]["paid"] > 0 and every["answer"]["target"] > 0
    for key in ("query_ms", "home_ms", "remind_ms", "ranking_ms"):
        assert 0 < alone[key] < 60_000 and 0 < every[key] < 60_000, key
    assert {"progress", "remind"} <= set(every["cards"])
    for measured in (alone, every):  # measured once autovacuum was done (or the wait gave up and says so)
        assert measured["quiet"]["waited_seconds"] >= 0 and isinstance(measured["quiet"]["still_running"], list)
    assert "测量前先等 autovacuum 结束" in out
    assert every["ranking_counties"] == 3 and alone["ranking_counties"] == 3  # the ranking lists every county of the city

    assert [i["county"] for i in f["imports"]] == ["140621"]
    together = f["together"]
    assert [i["county"] for i in together["imports"]] == ["140622", "140623"]
    assert all(i["imported"] == 300 and i["rejected"] == 0 for i in f["imports"] + together["imports"])
    assert together["deadlocks"] == 0 and together["logical_wait_samples"] == 0
    assert together["lock_samples"] + together["samples_outside"] > 0  # sampled, inside or outside the both-writing window

    assert set(f["years"]) == {"140621", "140622", "140623"}
    for county, year in f["years"].items():
        assert year["assessed"] == 300, county
        assert year["counter"]["paid"] == 5, county
        assert year["ingest"]["booked"] > 150 and year["ingest"]["rejected"] == 0, county
        assert year["reconcile"]["status"] == "succeeded", county
        assert year["refresh_villages"] == 9, county
