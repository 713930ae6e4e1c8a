"""The fleet-scale benchmark still runs: a small, quick run of tests/perf/bench.py (figures are not tests).

Only that every metric comes out as a finite number; the figures themselves are for the README and the
issue, from `python tests/perf/bench.py --devices 100000`.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent / "bench.py"
DEVICES = 1000
METRICS = {
    "findings",
    "first_row_s",
    "first_row_from_app_start_s",
    "first_row_nav_s",
    "all_loaded_s",
    "all_loaded_nav_s",
    "key_p50_ms",
    "key_p99_ms",
    "filter_ms",
    "rss_mb",
    "idle_requests_per_min",
    "busy_requests_per_min",
    "progress_lag_s",
    "reopen_first_row_s",
    "reopen_all_loaded_s",
    "reopen_list_findings_requests",
    "history_write_wait_s",
    "drift_s",
    "findings_first_line_s",
    "floor_findings_imports_s",
    "findings_jsonl_s",
    "findings_rss_mb",
}


def test_benchmark_smoke_run_gives_every_metric() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run(
        [sys.executable, str(BENCH), "--devices", str(DEVICES), "--json", "--quick"],
        capture_output=True,
        text=True,
        timeout=150,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines, "no output"
    found = {}
    for line in lines:
        entry = json.loads(line)  # --json: nothing but JSON lines on stdout
        assert set(entry) >= {"metric", "value", "unit", "devices"}, entry
        assert entry["devices"] == DEVICES
        found[entry["metric"]] = entry
    assert set(found) >= METRICS, f"missing: {METRICS - set(found)}"
    for name in METRICS:
        value = found[name]["value"]
        assert isinstance(value, int | float) and math.isfinite(value), found[name]
    # The run is about the fleet it was asked for: a badly kept fleet, about a finding per device.
    assert found["findings"]["value"] > DEVICES / 2
    assert found["all_loaded_s"]["note"].startswith(f"{int(found['findings']['value'])} rows")
    assert found["all_loaded_nav_s"]["note"].startswith(f"{int(found['findings']['value'])} rows")
    cli = found["cli_all_loaded_s"]
    assert (cli["value"] is None and "skipped" in cli["note"]) or math.isfinite(cli["value"])
