"""How long a request has waited for the endpoint's answer (the header's "no answer for n s"): a silent
endpoint counts, a throttling one that answers at once does not, whatever botocore's back-off sleeps."""

from __future__ import annotations

import asyncio

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.ratelimit import Backoff
from iot_defender_tui.aws.session import Tuning
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.sandbox import sandbox_settings


async def _sampled(dd: DefenderClient, seconds: float) -> tuple[list[float], BaseException | None]:
    call = asyncio.create_task(dd.describe_audit_configuration())
    seen = []
    for _ in range(int(seconds / 0.05)):
        await asyncio.sleep(0.05)
        seen.append(dd.longest_wait())
        if call.done():
            break
    call.cancel()
    error = None
    try:
        await call
    except BaseException as exc:
        error = exc
    return seen, error


async def test_a_slow_answer_is_waited_for(aws_env, sandbox_url, journal) -> None:
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as dd:
        await dd.identity()
        runtime().options.latency_ms = 1200
        seen, _ = await _sampled(dd, 3.0)
        assert max(seen) >= 1.0
        assert dd.longest_wait() == 0.0  # answered: nothing waits any more


async def test_throttled_answers_are_answers_through_botocores_back_off(aws_env, sandbox_url, journal):
    # botocore's own retries (rand * 2**n s between attempts) sleep inside one call: not a silent endpoint.
    tuning = Tuning(max_attempts=4, backoff=Backoff(attempts=1, base=0.01, cap=0.01))
    async with DefenderClient(sandbox_settings(sandbox_url), journal, tuning=tuning) as dd:
        await dd.identity()
        runtime().options.throttle_rate = 1.0
        seen, error = await _sampled(dd, 4.0)
        assert max(seen) < 0.5, seen
        assert error is not None  # throttled to the end: the call failed, having been answered each time
