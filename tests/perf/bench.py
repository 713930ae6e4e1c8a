"""The fleet-scale benchmark: the real app against a sandbox with N generated devices (issue 5).

    python tests/perf/bench.py --devices 100000 [--json] [--quick]
    python tests/perf/bench.py --store-findings 1000000 [--json] [--quick]
    python tests/perf/bench.py --overview 50 [--json]

Starts `iot-defender-tui sandbox --devices N --problem-scale S --audit-seconds 0` (S so that the audit
finds about N findings), runs an audit of every check with boto3, times the AWS CLI paging its findings,
then runs the app headless in a child process (tests/perf/probe.py: the console script's own start-up,
real workers, real HTTP) and, against a second sandbox whose audit takes a while, the busy polling and
the progress lag. Prints one JSON object per metric; without --json also a table with the targets on
stderr. It asserts nothing: figures are not tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import queue
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
PROBE = HERE / "probe.py"
OVERVIEW_PROBE = HERE / "overview_probe.py"
URL = re.compile(r"http://127\.0\.0\.1:\d+")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "us-east-1"
PROBLEM_SCALE = 12.0  # about one finding per generated device (README, sandbox flags)
BUSY_CHECK_SECONDS = 2.0  # the busy sandbox finishes one check every this many seconds
TARGETS = {
    "first_row_s": "≤ 0.7 s",
    "all_loaded_vs_cli": "≤ 0.5",
    "findings_first_line_s": "≤ 0.5 s",
    "findings_jsonl_vs_cli": "≤ 0.5",
    "key_p99_ms": "≤ 30 ms",
    "filter_ms": "≤ 60 ms",
    "rss_mb": "≤ 250 MB",
    "idle_requests_per_min": "≤ 4 /min",
    "progress_lag_s": "≤ 2 s",
    "reopen_first_row_s": "≤ 0.3 s",
    "reopen_all_loaded_s": "≤ 1.5 s",
    "reopen_list_findings_requests": "0",
    "drift_s": "≤ 1 s",
    "store_rss_mb": "≤ 400 MB",
    "store_filter_ms": "≤ 150 ms",
    "store_key_p99_ms": "≤ 30 ms",
    "store_sort_s": "≤ 1 s",
    "overview_s": "≤ 3 s",
}
STORE_ACCOUNT = "123456789012"  # the sandbox's (moto's default account): the app keys the history by it


def child_env(home: str) -> dict[str, str]:
    env = {**os.environ, **CREDENTIALS, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}
    env["IOT_DEFENDER_TUI_HOME"] = home  # no user config, journal or logs are read or written
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.pop("AWS_PROFILE", None)
    return env


@contextmanager
def sandbox(devices: int, scale: float, audit_seconds: float, env: dict[str, str]) -> Iterator[str]:
    """A sandbox process; yields its URL once seeded."""
    script = Path(sys.executable).parent / "iot-defender-tui"
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "iot_defender_tui"]
    command = [*launcher, "sandbox", "--port", "0", "--devices", str(devices)]
    command += ["--problem-scale", str(scale), "--audit-seconds", str(audit_seconds)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # readline cannot time out; a thread with a queue can
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        line = lines.get(timeout=600)
        found = URL.search(line or "")
        if found is None:
            raise RuntimeError(f"the sandbox did not start ({process.poll()}): {line!r}")
        yield found.group(0)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def iot_client(url: str):
    return boto3.client(
        "iot",
        endpoint_url=url,
        region_name=REGION,
        **{k.lower(): v for k, v in CREDENTIALS.items()},
        config=Config(retries={"total_max_attempts": 1}, read_timeout=600),
    )


def run_audit(iot) -> tuple[str, int]:
    """An audit of every enabled check, waited for; its task id and findings count."""
    config = iot.describe_account_audit_configuration()["auditCheckConfigurations"]
    checks = sorted(name for name, check in config.items() if check["enabled"])
    task_id = iot.start_on_demand_audit_task(targetCheckNames=checks)["taskId"]
    while (task := iot.describe_audit_task(taskId=task_id))["taskStatus"] == "IN_PROGRESS":
        time.sleep(0.05)
    if task["taskStatus"] != "COMPLETED":
        raise RuntimeError(f"the audit ended {task['taskStatus']}")
    return task_id, sum(d.get("nonCompliantResourcesCount", 0) for d in task["auditDetails"].values())


def time_cli(url: str, task_id: str, env: dict[str, str], runs: int) -> tuple[float | None, str]:
    aws = shutil.which("aws")
    if aws is None:
        return None, "skipped: no `aws` on PATH"
    command = [aws, "iot", "list-audit-findings", "--task-id", task_id, "--page-size", "250"]
    command += ["--endpoint-url", url, "--region", REGION, "--output", "json"]
    best = math.inf
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
        best = min(best, time.perf_counter() - started)
    return best, f"best of {runs} runs, process start to exit, output to /dev/null"


FINDINGS_MODULES = (
    "iot_defender_tui.cli",
    "iot_defender_tui.cli_findings",
    "iot_defender_tui.aws.session",
    "iot_defender_tui.aws.client",
    "iot_defender_tui.export",
)


def findings_command(url: str, task_id: str) -> list[str]:
    script = Path(sys.executable).parent / "iot-defender-tui"
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "iot_defender_tui"]
    command = [*launcher, "findings", "--task", task_id, "--format", "jsonl"]
    return [*command, "--endpoint-url", url, "--no-rate-limit"]  # the AWS CLI does not pace either


def time_first_lines(url: str, task_id: str, env: dict[str, str], runs: int) -> list[float]:
    """Process start to the first line of `findings --format jsonl`, `runs` times (each stopped there)."""
    firsts = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            findings_command(url, task_id), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        assert process.stdout is not None
        if process.stdout.readline():
            firsts.append(time.perf_counter() - started)
        process.kill()
        process.wait()
    return firsts


def time_imports(env: dict[str, str], runs: int = 5) -> float:
    """The floor under `findings`' first line: process start to exit of a Python that only imports what
    `findings` imports (aiobotocore's aiohttp and botocore among them), median of `runs`."""
    code = "import " + ", ".join(FINDINGS_MODULES)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_findings(url: str, task_id: str, env: dict[str, str]) -> dict[str, float]:
    """`findings --task ID --format jsonl` (issue 15): process start to its first line on stdout, to its
    exit, its peak RSS (VmHWM, sampled while it runs: flat if streamed) and how many lines it wrote."""
    peak = [0.0]
    started = time.perf_counter()
    process = subprocess.Popen(
        findings_command(url, task_id), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )

    def sample() -> None:
        while process.poll() is None:
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
            except OSError:
                return
            if found := re.search(r"VmHWM:\s+(\d+) kB", status):
                peak[0] = max(peak[0], int(found.group(1)) / 1024)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stdout is not None
    first = process.stdout.readline()
    first_line = time.perf_counter() - started
    lines = 1 if first else 0
    for _ in process.stdout:
        lines += 1
    if process.wait() != 0:
        raise RuntimeError(f"`findings` exited {process.returncode}")
    sampler.join()
    return {"first": first_line, "total": time.perf_counter() - started, "rss": peak[0], "lines": lines}


def compile_package(env: dict[str, str]) -> None:
    """Bytecode for the app's modules, as `pip install` writes it for a wheel: an editable install run
    with PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module at every start."""
    spec = importlib.util.find_spec("iot_defender_tui")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            subprocess.run([sys.executable, "-m", "compileall", "-q", location], env=env, check=False)


def run_probe(args: list[str], env: dict[str, str], timeout: float, script: Path = PROBE) -> dict:
    done = subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        timeout=timeout,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise RuntimeError(f"the probe failed ({done.returncode}): {done.stderr[-3000:]}")


def requests_served(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_sandbox/stats", timeout=10) as reply:
        return sum(json.load(reply)["requests"].values())


def watch_busy(url: str, probe_args: list[str], env: dict[str, str], timeout: float) -> tuple[dict, dict]:
    """The probe starts an audit from the app and watches it; here the server's side is sampled."""
    result: dict = {}

    def probe() -> None:
        try:
            result.update(run_probe(probe_args, env, timeout))
        except Exception as err:  # reported by the main thread
            result["error"] = repr(err)

    thread = threading.Thread(target=probe)
    thread.start()
    iot = iot_client(url)
    server: dict = {"reached": {}, "own": 0}
    task_id = None
    while thread.is_alive() and task_id is None:
        time.sleep(0.1)
        listed = iot.list_audit_tasks(
            startTime=time.time() - 3600, endTime=time.time() + 60, taskStatus="IN_PROGRESS"
        )
        server["own"] += 1
        task_id = next((t["taskId"] for t in listed["tasks"]), None)
    if task_id is not None:
        server["start"] = (time.time(), requests_served(url), server["own"])
        while True:
            task = iot.describe_audit_task(taskId=task_id)
            server["own"] += 1
            now = time.time()
            stats = task["taskStatistics"]
            done = sum(
                stats.get(f"{kind}Checks", 0) for kind in ("compliant", "nonCompliant", "failed", "canceled")
            )
            for k in range(1, done + 1):
                server["reached"].setdefault(k, now)
            if task["taskStatus"] != "IN_PROGRESS":
                server["end"] = (now, requests_served(url), server["own"])
                break
            time.sleep(0.1)
    thread.join()
    if "error" in result:
        raise RuntimeError(result["error"])
    return result, server


def measure(args: argparse.Namespace) -> list[dict]:
    metrics: list[dict] = []

    def add(metric: str, value: float | None, unit: str, note: str = "") -> None:
        entry = {"metric": metric, "value": value, "unit": unit, "devices": args.devices}
        if note:
            entry["note"] = note
        metrics.append(entry)
        print(json.dumps(entry), flush=True)

    home = tempfile.mkdtemp(prefix="iot-defender-bench-")
    env = child_env(home)
    compile_package(env)
    floors = [run_probe(["floor"], env, timeout=120) for _ in range(3)]
    add(
        "floor_empty_app_s",
        statistics.median(f["empty_app_first_frame"] for f in floors),
        "s",
        "this machine's floor: an empty Textual app, process start to first frame (median of 3)",
    )
    add(
        "floor_aiobotocore_import_s",
        statistics.median(f["aiobotocore_import"] for f in floors),
        "s",
        "what importing aiobotocore (aiohttp, botocore) adds to any start (median of 3)",
    )
    idle = args.idle_seconds if args.idle_seconds is not None else (5.0 if args.quick else 60.0)
    with sandbox(args.devices, args.problem_scale, 0.0, env) as url:
        task_id, findings = run_audit(iot_client(url))
        add("findings", findings, "count", f"--problem-scale {args.problem_scale:g}")
        cli_runs = 1 if args.quick else 2
        cli, cli_note = time_cli(url, task_id, env, cli_runs)
        # As many runs as the CLI's, and its total the best of them as the CLI's is.
        jsonl_runs = [time_findings(url, task_id, env) for _ in range(cli_runs)]
        # The first line on its own, more often: one cold start (the first after the sandbox came up)
        # was 2x the others, and a median of one or two runs was that run.
        first_lines = time_first_lines(url, task_id, env, 3 if args.quick else 7)
        imports = time_imports(env)
        jsonl = {
            "first": statistics.median(first_lines),
            "total": min(r["total"] for r in jsonl_runs),
            "rss": max(r["rss"] for r in jsonl_runs),
            "lines": jsonl_runs[0]["lines"],
        }
        presses = "60" if args.quick else "200"
        runs = 1 if args.quick else 3
        firsts = [run_probe(["first", url, task_id], env, timeout=900) for _ in range(runs)]
        load = run_probe(["load", url, task_id, str(idle), presses], env, timeout=900 + idle)
    median = statistics.median
    how = f"median of {runs} run(s) of `--task TASK_ID` (opens on All findings)"
    add(
        "first_row_s",
        median(f["first_row"] - f["started"] for f in firsts),
        "s",
        f"from process start; {how}",
    )
    add(
        "first_row_from_app_start_s",
        median(f["first_row"] - f["app_started"] for f in firsts),
        "s",
        f"from the probe's first line; {how}",
    )
    start = load["started"]
    view = "All findings" if load["view"] == "__all__" else f"only {load['view']} (no All findings row yet)"
    add(
        "first_row_nav_s",
        load["first_row"] - start,
        "s",
        f"from process start, by keys 3 enter enter; {view}",
    )
    rows = " / ".join(str(r) for r in sorted({f["rows"] for f in firsts}))
    add("all_loaded_s", median(f["all_loaded"] - f["started"] for f in firsts), "s", f"{rows} rows; {how}")
    add("all_loaded_nav_s", load["all_loaded"] - start, "s", f"{load['rows']} rows, by keys")
    add("cli_all_loaded_s", cli, "s", cli_note)
    if cli:
        all_loaded = next(m["value"] for m in metrics if m["metric"] == "all_loaded_s")
        add("all_loaded_vs_cli", all_loaded / cli, "ratio", "all_loaded_s / cli_all_loaded_s")
    how_jsonl = f"`findings --task ID --format jsonl --no-rate-limit`, {jsonl['lines']} lines from a pipe"
    first_how = f"median of {len(first_lines)} run(s), process start to the first line; {how_jsonl}"
    add("findings_first_line_s", jsonl["first"], "s", first_how)
    add(
        "floor_findings_imports_s",
        imports,
        "s",
        "under the first line: process start to exit of `python -c 'import <what findings imports>'`",
    )
    add(
        "findings_jsonl_s",
        jsonl["total"],
        "s",
        f"best of {len(jsonl_runs)} run(s), start to exit; {how_jsonl}",
    )
    add("findings_rss_mb", jsonl["rss"], "MiB", "peak VmHWM of the `findings` process, sampled every 20 ms")
    if cli:
        add("findings_jsonl_vs_cli", jsonl["total"] / cli, "ratio", "findings_jsonl_s / cli_all_loaded_s")
    keys = load["keys_ms"]
    key_note = f"{len(keys)} presses, handler start to frame bytes; {load['keys_missed']} without a frame"
    add("key_p50_ms", statistics.median(keys) if keys else None, "ms", key_note)
    add(
        "key_p99_ms",
        sorted(keys)[min(len(keys) - 1, round(0.99 * (len(keys) - 1)))] if keys else None,
        "ms",
        key_note,
    )
    filt = load["filter_ms"]
    add(
        "filter_ms",
        max(filt) if filt else None,
        "ms",
        f"worst of {len(filt)} keystrokes typing {load['filter_typed']!r}",
    )
    mem = load["memory"]
    add(
        "rss_mb",
        mem.get("VmRSS"),
        "MiB",
        f"VmRSS with every finding loaded; peak VmHWM {mem.get('VmHWM', 0):.0f} MiB",
    )
    add(
        "idle_requests_per_min",
        load["idle_requests"] * 60 / load["idle_seconds"],
        "requests/min",
        f"at the server over {load['idle_seconds']:g} s idle on Results",
    )

    if "reopen_first_row" in load:
        reopened = f"{load['reopen_rows']} rows from the audit history, keypress to frame bytes"
        add("reopen_first_row_s", load["reopen_first_row"], "s", reopened)
        add("reopen_all_loaded_s", load["reopen_all_loaded"], "s", reopened)
        add("reopen_list_findings_requests", load["reopen_list_findings"], "count", "sent while re-opening")
        add(
            "history_write_wait_s",
            load["history_flush_wait"],
            "s",
            "writes still queued on the history's thread when the first load and the idle time were over",
        )
    else:
        add("reopen_first_row_s", None, "s", str(load.get("reopen", "not measured")))

    drift_findings = min(args.devices, 100_000)
    add(
        "drift_s",
        time_drift(drift_findings),
        "s",
        f"two stored audits of {drift_findings:,} findings each (history.generate), compared in the history",
    )

    checks_seconds = BUSY_CHECK_SECONDS / (4 if args.quick else 1)
    with sandbox(0, 1.0, checks_seconds * 17, env) as url:
        screen, server = watch_busy(url, ["busy", url, str(checks_seconds * 17 + 120)], env, 300)
    (t0, n0, own0), (t1, n1, own1) = server["start"], server["end"]
    app_requests = (n1 - n0) - (own1 - own0)
    add(
        "busy_requests_per_min",
        app_requests * 60 / (t1 - t0),
        "requests/min",
        f"at the server over the {t1 - t0:.0f} s an audit ran, the bench's own requests taken out",
    )
    shown = {int(k): v for k, v in screen["shown"].items()}
    lags = [shown[k] - t for k, t in server["reached"].items() if k in shown]
    add(
        "progress_lag_s",
        max(lags) if lags else None,
        "s",
        f"worst of {len(lags)} checks: screen's done/total vs describe-audit-task sampled every 0.1 s",
    )
    return metrics


GENERATE = """
import sys
from iot_defender_tui.history.generate import generate
from iot_defender_tui.history.store import AuditStore
with AuditStore.open() as store:
    print(generate(store, sys.argv[1], sys.argv[2], findings=int(sys.argv[3]), tasks=1)[-1])
"""


def measure_store(args: argparse.Namespace) -> list[dict]:
    """`--store-findings N`: an audit of N findings generated straight into the app's history (in the
    bench's own home), opened by keys from the task list (AWS no longer lists it: it shows as history)."""
    metrics: list[dict] = []
    n = args.store_findings

    def add(metric: str, value: float | None, unit: str, note: str = "") -> None:
        entry = {"metric": metric, "value": value, "unit": unit, "store_findings": n}
        if note:
            entry["note"] = note
        metrics.append(entry)
        print(json.dumps(entry), flush=True)

    home = tempfile.mkdtemp(prefix="iot-defender-bench-")
    env = child_env(home)
    compile_package(env)
    started = time.perf_counter()
    made = subprocess.run(
        [sys.executable, "-c", GENERATE, STORE_ACCOUNT, REGION, str(n)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    task_id = made.stdout.split()[-1]
    add("store_generate_s", time.perf_counter() - started, "s", f"{n:,} findings written into the history")
    with sandbox(0, 1.0, 0.0, env) as url:
        result = run_probe(["store", url, task_id, "60" if args.quick else "200"], env, timeout=1200)
    note = f"{result['rows']:,} rows, {result['model']}; keys 3, the audit, enter, All findings, enter"
    add("store_first_row_s", result["first_row"] - result["pressed"], "s", note)
    loaded = result["all_loaded"] - result["pressed"]
    add("store_all_loaded_s", loaded, "s", "every row in the table: filter and sort usable from here")
    mem = result["memory"]
    peak = f"peak VmHWM {mem.get('VmHWM', 0):.0f} MiB"
    add("store_rss_mb", mem.get("VmRSS"), "MiB", f"after keys, filter and sorts; {peak}")
    filt = result["filter_ms"]
    add("store_filter_ms", max(filt) if filt else None, "ms",
        f"worst of {len(filt)} keystrokes typing {result['filter_typed']!r}")  # fmt: skip
    keys = result["keys_ms"]
    p99 = sorted(keys)[min(len(keys) - 1, round(0.99 * (len(keys) - 1)))] if keys else None
    add("store_key_p99_ms", p99, "ms", f"{len(keys)} presses; {result['keys_missed']} without a frame")
    sorts = result["sort_ms"]
    add("store_sort_s", max(sorts) / 1000 if sorts else None, "s",
        f"worst of `o` on each of {len(sorts)} columns, key to frame")  # fmt: skip
    shutil.rmtree(home, ignore_errors=True)
    return metrics


def measure_overview(args: argparse.Namespace) -> list[dict]:
    """`--overview N`: the Fleet overview filled for N contexts of one lab sandbox (tests/perf/
    overview_probe.py): the first time, opening a client per context meanwhile, then again on `r`."""
    metrics: list[dict] = []
    n = args.overview

    def add(metric: str, value: float | None, unit: str, note: str = "") -> None:
        entry = {"metric": metric, "value": value, "unit": unit, "contexts": n}
        if note:
            entry["note"] = note
        metrics.append(entry)
        print(json.dumps(entry), flush=True)

    home = tempfile.mkdtemp(prefix="iot-defender-bench-")
    env = child_env(home)
    compile_package(env)
    with sandbox(0, 1.0, 0.0, env) as url:
        result = run_probe([url, str(n)], env, timeout=600, script=OVERVIEW_PROBE)
    failed = result["errors"]
    errors = f"{failed} rows in error {result['first_error']}" if failed else "no row in error"
    note = f"first read to every row filled, a client opened per context (a session per profile); {errors}"
    add("overview_s", result["cold_s"], "s", note)
    add("overview_again_s", result["warm_s"], "s", "`r`: every context read again with its open client")
    own = "the first fill with a botocore session per client instead of one per profile"
    add("overview_own_sessions_s", result["own_sessions_cold_s"], "s", own)
    per_context = result["iot_requests"] / n
    add("overview_requests_per_context", per_context, "requests", "IoT requests (STS's one more)")
    shutil.rmtree(home, ignore_errors=True)
    return metrics


def time_drift(findings: int) -> float:
    """history/drift.py on two generated audits: what `d` in Results costs once both are stored."""
    from iot_defender_tui.history.drift import drift
    from iot_defender_tui.history.generate import generate
    from iot_defender_tui.history.store import AuditStore

    with tempfile.TemporaryDirectory(prefix="iot-defender-drift-") as directory:
        store = AuditStore.open(Path(directory) / "history.sqlite3")
        try:
            earlier, later = generate(store, "000000000000", REGION, findings=findings, tasks=2)
            started = time.perf_counter()
            drift(store, "000000000000", REGION, earlier, later)
            return time.perf_counter() - started
        finally:
            store.close()


def table(metrics: list[dict]) -> str:
    lines = [f"{'metric':<28} {'value':>10}  {'unit':<13} {'target':<13} note"]
    for m in metrics:
        value = (
            "-" if m["value"] is None else f"{m['value']:.3g}" if m["value"] < 100 else f"{m['value']:.0f}"
        )
        target = TARGETS.get(m["metric"], "")
        lines.append(f"{m['metric']:<28} {value:>10}  {m['unit']:<13} {target:<13} {m.get('note', '')}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--devices", type=int, default=10_000, metavar="N", help="generated devices (default 10000)"
    )
    parser.add_argument("--json", action="store_true", help="only the JSON lines")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 5 s idle window, 60 key presses, a 4x shorter busy audit",
    )
    parser.add_argument("--problem-scale", type=float, default=PROBLEM_SCALE, help="the sandbox's flag")
    parser.add_argument(
        "--idle-seconds", type=float, default=None, help="idle window (default 60, --quick 5)"
    )
    parser.add_argument(
        "--store-findings",
        type=int,
        metavar="N",
        help="instead: an audit of N findings generated into the history, browsed from there",
    )
    parser.add_argument(
        "--overview",
        type=int,
        metavar="N",
        help="instead: the Fleet overview filled for N contexts (regions) of one sandbox",
    )
    args = parser.parse_args()
    if args.overview:
        metrics = measure_overview(args)
        title = f"Fleet overview of {args.overview} contexts"
    elif args.store_findings:
        metrics = measure_store(args)
        title = f"{args.store_findings:,} findings from the history"
    else:
        metrics = measure(args)
        title = f"{args.devices:,} devices"
    if not args.json:
        print(f"\n{title}\n{table(metrics)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
