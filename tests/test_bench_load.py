"""The load benchmark's harness at a tiny size (not timed): locust drives runserver, and the report has
latencies for every request of each case, no errors, and a gapless receipt series."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# its own scratch database, free loopback port and work folder: safe beside other tests, but it
# keeps a server and locust busy, so under xdist --dist loadgroup it stays on one worker
pytestmark = pytest.mark.xdist_group("bench")


def test_load_harness_reports_latencies_and_no_errors(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--rows", "300", "--load-seconds", "2", "--load-warmup", "0",
         "--databases", "sqlite", "--servers", "runserver", "--cases", "quote,counter,progress",
         "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (figures,) = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    expected = {"quote": ["quote"], "counter": ["booking", "receipt_pdf"], "progress": ["progress", "home"]}
    for case, names in expected.items():
        (result,) = figures["cases"][case]["results"]
        assert result["server"] == "runserver"
        for name in names:
            row = result["requests"][name]
            assert row["count"] > 0 and row["errors"] == 0, (case, name, row, result["failures"])
            assert None not in (row["p50"], row["p95"], row["p99"]) and row["p50"] <= row["p95"] <= row["p99"]
            assert row["rps"] > 0
            inside = result["in_server"][name]  # the app's own time, from its request log
            assert inside["count"] >= row["count"] and inside["p50"] <= inside["p95"]
        login = result["requests"].get("login", {"count": 0, "errors": 0})
        assert (login["count"], login["errors"]) == (0, 0), login  # logins: before the measured window, none failed
    receipts = figures["cases"]["counter"]["receipts"]
    assert receipts["gapless"] and receipts["receipts"] > 0
    assert receipts["counter_payments"] == 2 * receipts["receipts"]  # households of two, one receipt each
    assert "p95" in done.stdout and "| sqlite | counter | runserver |" in done.stdout
