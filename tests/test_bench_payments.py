"""The channel-file benchmark compares the ingest with the raw insert of everything it wrote."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_baseline_inserts_every_row_the_ingest_wrote_in_every_table(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bench.payments", "--rows", "600", "--databases", "sqlite", "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [figures] = json.loads((tmp_path / "payments.json").read_text(encoding="utf-8"))
    rows, result = figures["baseline_rows"], figures["result"]
    assert rows["collection.Payment"] == result["booked"] + result["flagged"]
    assert rows["enrollment.Enrollment"] == rows["enrollment.EnrollmentClaim"] == result["booked"]  # all new this year
    # one event per payment, one per enrollment made paid, one per 先缴后补 entry
    assert rows["core.Event"] == result["booked"] + result["flagged"] + result["booked"] + rows["collection.SubsidyRefund"]
    assert rows["collection.SubsidyRefund"] > 0 and rows["collection.QuoteExplanation"] > 0
    assert figures["baseline_raw_insert_seconds"] > 0 and figures["ratio"] > 0
    assert "原始批量插入导入写入的全部" in done.stdout and "峰值" in done.stdout
    assert not list(tmp_path.glob("*.baseline"))  # the copy the baseline wrote into is gone
