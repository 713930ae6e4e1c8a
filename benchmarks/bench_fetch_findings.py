"""How fast the app's AWS layer fetches every finding of a large audit (prints figures, asserts nothing).

Starts `iot-defender-tui sandbox --devices N` as a subprocess, runs an on-demand audit of every enabled
check, then fetches all of its findings with `DefenderClient.fetch_findings` (17 checks, bounded
concurrency, 250 per page, Device Defender's 10 TPS quota on ListAuditFindings applied by our limiter):
time to the first page, total time, findings and ListAuditFindings requests counted at the server.

    python benchmarks/bench_fetch_findings.py --devices 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sandbox import sandbox_command, wait_for_url

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.session import ConnectionSettings


def requests_served(url: str, operation: str) -> int:
    with urllib.request.urlopen(f"{url}/_sandbox/stats") as reply:
        return json.load(reply)["requests"].get(operation, 0)


async def measure(url: str, concurrency: int) -> None:
    settings = ConnectionSettings.resolve(region="us-east-1", endpoint_url=url)
    async with DefenderClient(settings) as dd:
        config = await dd.describe_audit_configuration()
        checks = [c.name for c in config.checks if c.enabled]
        task_id = await dd.start_audit(checks)
        while (task := await dd.describe_audit_task(task_id)).status == "IN_PROGRESS":
            await asyncio.sleep(0.2)
        before = requests_served(url, "ListAuditFindings")
        started = time.perf_counter()
        first = None
        total = 0
        async for _check, page in dd.fetch_findings(task_id, checks, concurrency=concurrency):
            if first is None and page:
                first = time.perf_counter() - started
            total += len(page)
        elapsed = time.perf_counter() - started
        sent = requests_served(url, "ListAuditFindings") - before
    expected = sum(c.non_compliant for c in task.checks)
    print(
        f"  concurrency {concurrency}: {total:,} findings (audit says {expected:,}) in {elapsed:.2f} s, "
        f"first page after {first or 0:.2f} s, {sent} ListAuditFindings requests, "
        f"{total / elapsed:,.0f} findings/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[10000])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    for devices in args.devices:
        print(f"== {devices:,} generated devices")
        process = subprocess.Popen(
            sandbox_command(devices, 0.0), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        try:
            url = wait_for_url(process, timeout=300)
            for concurrency in args.concurrency:
                asyncio.run(measure(url, concurrency))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
