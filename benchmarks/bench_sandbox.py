"""Sandbox figures for generated fleets: seeding, a full audit, paging its findings, memory.

    python benchmarks/bench_sandbox.py [--devices 10000 100000] [--audit-seconds 0]

For each fleet size it starts `iot-defender-tui sandbox --devices N` as its own process (as a user
would), then measures over HTTP with boto3 what a client sees. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config

URL = re.compile(r"http://127\.0\.0\.1:\d+")
PAGE_SIZE = 250
POLL = 0.05


def sandbox_command(devices: int, audit_seconds: float) -> list[str]:
    script = Path(sys.executable).parent / "iot-defender-tui"
    launcher = [str(script)] if script.exists() else [sys.executable, "-m", "iot_defender_tui"]
    flags = ["--port", "0", "--devices", str(devices), "--audit-seconds", str(audit_seconds)]
    return [*launcher, "sandbox", *flags]


def wait_for_url(process: subprocess.Popen[str], timeout: float) -> str:
    """The URL from the sandbox's one line (stdout read on a thread: readline cannot time out)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    line = lines.get(timeout=timeout)
    if line is None:
        raise RuntimeError(f"the sandbox exited with {process.wait()} before printing its URL")
    found = URL.search(line)
    if not found:
        raise RuntimeError(f"no URL in the sandbox's line: {line!r}")
    return found.group(0)


def rss_mib(pid: int) -> tuple[float, float]:
    """Current and peak resident memory (VmRSS, VmHWM) of `pid` in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", float("nan")), fields.get("VmHWM", float("nan"))


def run_audit(iot, timeout: float) -> tuple[str, float, dict]:
    config = iot.describe_account_audit_configuration()["auditCheckConfigurations"]
    checks = sorted(name for name, check in config.items() if check["enabled"])
    if not checks:
        raise RuntimeError("the fleet has no enabled checks to audit")
    start = time.perf_counter()
    task_id = iot.start_on_demand_audit_task(targetCheckNames=checks)["taskId"]
    deadline = start + timeout
    while True:
        task = iot.describe_audit_task(taskId=task_id)
        if task["taskStatus"] != "IN_PROGRESS":
            return task_id, time.perf_counter() - start, task
        if time.perf_counter() > deadline:
            raise RuntimeError(f"the audit was still IN_PROGRESS after {timeout} s")
        time.sleep(POLL)


def page_findings(iot, task_id: str) -> tuple[int, int, float]:
    pages = findings = 0
    kwargs = {"taskId": task_id, "maxResults": PAGE_SIZE}
    start = time.perf_counter()
    while True:
        reply = iot.list_audit_findings(**kwargs)
        pages += 1
        findings += len(reply["findings"])
        if not reply.get("nextToken"):
            return pages, findings, time.perf_counter() - start
        kwargs["nextToken"] = reply["nextToken"]


def bench(devices: int, audit_seconds: float, timeout: float) -> None:
    print(f"\n== {devices:,} generated devices (lab fleet + generated, --audit-seconds {audit_seconds:g})")
    command = sandbox_command(devices, audit_seconds)
    print("$", " ".join(command))
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = wait_for_url(process, timeout)
        print(f"seeding (start to URL line)   {time.perf_counter() - started:8.2f} s")
        rss, peak = rss_mib(process.pid)
        print(f"RSS after seeding             {rss:8.0f} MiB (peak {peak:.0f} MiB)")

        iot = boto3.client(
            "iot",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}, read_timeout=timeout),
        )
        task_id, elapsed, task = run_audit(iot, timeout)
        stats = task["taskStatistics"]
        print(
            f"full audit until {task['taskStatus']:<9}    {elapsed:8.2f} s "
            f"({elapsed - audit_seconds:.2f} s beyond --audit-seconds)"
        )
        print(
            f"  checks {stats['totalChecks']}: {stats['nonCompliantChecks']} non-compliant, "
            f"{stats['compliantChecks']} compliant, {stats['failedChecks']} failed"
        )

        pages, findings, paging = page_findings(iot, task_id)
        print(
            f"ListAuditFindings @{PAGE_SIZE}/page     {pages / paging:8.1f} pages/s, "
            f"{findings / paging:,.0f} findings/s ({findings:,} findings, {pages} pages, {paging:.2f} s)"
        )
        rss, peak = rss_mib(process.pid)
        print(f"RSS after audit and paging    {rss:8.0f} MiB (peak {peak:.0f} MiB)")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        stderr = process.stderr.read() if process.stderr else ""
        if stderr.strip():
            print(f"sandbox stderr:\n{stderr.strip()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[10_000, 100_000], metavar="N")
    parser.add_argument("--audit-seconds", type=float, default=0.0, help="the sandbox's --audit-seconds")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per phase")
    args = parser.parse_args()
    for devices in args.devices:
        bench(devices, args.audit_seconds, args.timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
