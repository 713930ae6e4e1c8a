"""The Fleet overview filled for N contexts of one sandbox, headless at 80x24 (run by bench.py --overview).

    python tests/perf/overview_probe.py URL N

N contexts over the sandbox's IoT regions (each region two or three times once N passes 23: the sandbox
is one account), the pane in the stand-in app of tests/support/fleet.py. Prints one JSON line: seconds
from the pane's first read to every row filled (clients opened meanwhile, as the first time the pane is
shown; one botocore session per profile shared by the clients), then again (`r`, clients open), the
rows' outcome, and the first fill again with a session of its own per client.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository: tests.support

import boto3

from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.aws.errors import AwsError
from iot_defender_tui.aws.session import Tuning
from iot_defender_tui.ui.panes.overview import OverviewPane
from tests.support.fleet import FleetApp

TIMEOUT = 120.0


def contexts(n: int) -> list[Context]:
    regions = boto3.session.Session().get_available_regions("iot")
    return [
        Context(f"ctx-{k:02d}/{regions[k % len(regions)]}", None, regions[k % len(regions)]) for k in range(n)
    ]


def warm_up(url: str) -> None:
    """One request per protocol first: moto builds its router on the first request, and concurrent
    first requests race building it (a 500 botocore retries, and a traceback on the sandbox's stderr)."""
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
    boto3.client("iot", endpoint_url=url, **keys).describe_account_audit_configuration()
    boto3.client("sts", endpoint_url=url, **keys).get_caller_identity()


async def fill(app: FleetApp, pilot, pane: OverviewPane) -> float:
    started = time.perf_counter()
    pane.refresh_now()
    deadline = started + TIMEOUT
    await pilot.pause(0)
    while pane.read_count < pane.total:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{pane.read_count}/{pane.total} read after {TIMEOUT:g} s")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


def iot_requests(url: str) -> int:
    """IoT requests the sandbox has served (STS's are not counted there)."""
    with urllib.request.urlopen(f"{url}/_sandbox/stats", timeout=10) as reply:
        return sum(json.load(reply)["requests"].values())


async def run(url: str, n: int, *, share_sessions: bool) -> dict:
    app = FleetApp(
        url, contexts(n), tuning=Tuning(rate_scale=None), read_at_once=False, share_sessions=share_sessions
    )
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(OverviewPane)
        before = iot_requests(url)
        cold = await fill(app, pilot, pane)
        sent = iot_requests(url) - before
        warm = await fill(app, pilot, pane)
        errors = [str(r) for r in pane.results.values() if isinstance(r, AwsError)]
    outcome = {"errors": len(errors), "first_error": errors[:1]}
    return {"cold_s": cold, "warm_s": warm, "iot_requests": sent, **outcome}


async def main(url: str, n: int) -> dict:
    warm_up(url)
    shared = await run(url, n, share_sessions=True)
    own = await run(url, n, share_sessions=False)
    return {"contexts": n, **shared, "own_sessions_cold_s": own["cold_s"]}


if __name__ == "__main__":
    print("RESULT " + json.dumps(asyncio.run(main(sys.argv[1], int(sys.argv[2])))), flush=True)
