"""Client-side pacing to Device Defender's quotas, and our back-off on throttling."""

from __future__ import annotations

import asyncio
import random

import pytest

from iot_defender_tui.aws.ratelimit import Backoff, RateLimiter, TokenBucket, rate_for, retry_throttled


def test_quota_classes():
    assert rate_for("UpdateScheduledAudit") == rate_for("DescribeAccountAuditConfiguration") == 5
    assert rate_for("DescribeAuditFinding") == rate_for("DescribeAuditMitigationActionsTask") == 25
    assert rate_for("ListAuditFindings") == rate_for("StartAuditMitigationActionsTask") == 10


class FakeTime:
    """A clock that moves only when the bucket sleeps: what the bucket waited is exact, on any host."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.slept.append(delay)
        # A real sleep always overshoots a little; without that, float rounding can leave the bucket a
        # hair under one token, asking for sleeps too short to move the clock.
        self.now += delay + 1e-6


async def test_bucket_spends_its_burst_then_paces_to_the_rate():
    fake = FakeTime()
    bucket = TokenBucket(rate=20, burst=5, clock=fake.clock, sleep=fake.sleep)
    await asyncio.gather(*(bucket.acquire() for _ in range(5)))
    assert fake.slept == []  # the burst goes at once
    await asyncio.gather(*(bucket.acquire() for _ in range(10)))
    assert sum(fake.slept) == pytest.approx(0.5, abs=1e-3)  # then 20 per second


async def test_operations_have_their_own_buckets(monkeypatch: pytest.MonkeyPatch):
    fake = FakeTime()
    # The limiter makes its buckets itself: they get the fake clock and sleep as their defaults.
    monkeypatch.setattr(TokenBucket.__init__, "__defaults__", (None, fake.clock, fake.sleep))
    limiter = RateLimiter()
    for _ in range(5):  # the 5-TPS burst of one operation is used up...
        await limiter.acquire("iot", "UpdateScheduledAudit")
    await limiter.acquire("iot", "ListAuditFindings")  # ...which does not hold up another
    assert fake.slept == []
    await limiter.acquire("iot", "UpdateScheduledAudit")
    assert sum(fake.slept) == pytest.approx(0.2, abs=1e-3)  # one token at 5 per second


@pytest.mark.parametrize("scale", [None, 0])
async def test_unlimited_never_waits(scale: float | None, monkeypatch: pytest.MonkeyPatch):
    fake = FakeTime()
    monkeypatch.setattr(TokenBucket.__init__, "__defaults__", (None, fake.clock, fake.sleep))
    limiter = RateLimiter(scale)
    assert limiter.unlimited
    for _ in range(200):  # 40 times the 5-TPS burst of a slow operation
        await limiter.acquire("iot", "UpdateScheduledAudit")
    assert fake.slept == []
    paced = RateLimiter()  # the same calls paced: the sleep is what the unlimited one skipped
    for _ in range(6):
        await paced.acquire("iot", "UpdateScheduledAudit")
    assert fake.slept and not paced.unlimited


def test_backoff_grows_and_is_capped_with_jitter():
    backoff = Backoff(attempts=5, base=0.1, cap=0.5)
    rng = random.Random(1)
    delays = [backoff.delay(n, rng) for n in range(6)]
    assert all(0.05 <= d <= 0.5 for d in delays)
    assert delays[0] <= 0.1 and delays[-1] >= 0.25


async def test_retry_gives_up_after_its_attempts():
    calls = 0

    async def always_throttled() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("throttled")

    with pytest.raises(RuntimeError):
        await retry_throttled(always_throttled, lambda e: True, Backoff(attempts=3, base=0.001, cap=0.001))
    assert calls == 4

    calls = 0
    with pytest.raises(RuntimeError):
        await retry_throttled(always_throttled, lambda e: False, Backoff(attempts=3, base=0.001, cap=0.001))
    assert calls == 1
