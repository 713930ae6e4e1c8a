"""Reads cancelled while botocore holds them back (a pane hidden during throttling) must not stall the
client: the fault soak found every later read hanging with no error after a few minutes."""

from __future__ import annotations

import asyncio
import random

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.ratelimit import Backoff
from iot_defender_tui.aws.session import Tuning
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.sandbox import sandbox_settings


async def test_cancelled_reads_under_throttling_do_not_stall_the_client(sandbox_url, aws_env):
    runtime().options.throttle_rate = 0.6
    rng = random.Random(1)
    # The retry mode is the app's; few botocore retries keep each read short (its back-off is not tunable).
    tuning = Tuning(rate_scale=None, max_attempts=1, backoff=Backoff(attempts=2, base=0.01, cap=0.02))
    async with DefenderClient(sandbox_settings(sandbox_url), tuning=tuning) as dd:
        for _ in range(15):
            reads = [asyncio.create_task(dd.describe_audit_configuration()) for _ in range(6)]
            await asyncio.sleep(rng.random() * 0.1)
            for read in reads[::2]:
                read.cancel()
            await asyncio.wait(reads, timeout=10)
            assert all(read.done() for read in reads), "reads stalled"
        runtime().options.throttle_rate = 0
        assert (await asyncio.wait_for(dd.describe_audit_configuration(), 30)).checks
