"""Client-side pacing to Device Defender's per-API quotas, and our retry of throttling botocore gave up on.

AWS publishes a TPS quota per Device Defender API (5 for scheduled audits and the account's audit
configuration, 25 for the Describe calls the UI makes per row, 10 for the rest). Each operation gets its
own token bucket at its class's rate: the quotas are per API, so ListAuditFindings pages must not wait
for an unrelated DescribeAuditTask poll. Everything is asyncio; nothing sleeps a thread.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

SLOW_TPS = 5.0
FAST_TPS = 25.0
DEFAULT_TPS = 10.0

SLOW_OPERATIONS = frozenset(
    {
        "CreateScheduledAudit",
        "DescribeScheduledAudit",
        "UpdateScheduledAudit",
        "DeleteScheduledAudit",
        "ListScheduledAudits",
        "DescribeAccountAuditConfiguration",
        "UpdateAccountAuditConfiguration",
        "DeleteAccountAuditConfiguration",
    }
)
FAST_OPERATIONS = frozenset(
    {
        "DescribeAuditFinding",
        "DescribeAuditTask",
        "DescribeAuditMitigationActionsTask",
        "DescribeMitigationAction",
    }
)

T = TypeVar("T")


def rate_for(operation: str) -> float:
    if operation in SLOW_OPERATIONS:
        return SLOW_TPS
    if operation in FAST_OPERATIONS:
        return FAST_TPS
    return DEFAULT_TPS


class TokenBucket:
    """`rate` tokens per second, holding at most `burst`; acquire() waits for a token."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self) -> None:
        # The lock keeps waiters in FIFO order, so a burst of page fetches is served fairly.
        async with self._lock:
            self._refill()
            while self._tokens < 1.0:
                await self._sleep((1.0 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1.0


class RateLimiter:
    """One bucket per (service, operation), created on first use inside the running loop.

    `scale` None or 0 paces nothing: a loopback sandbox enforces no quota, and timing the app against
    the AWS CLI (which paces nothing either) on it must not measure our own waiting.
    """

    def __init__(self, scale: float | None = 1.0):
        # `scale` < 1 leaves headroom for other tools sharing the account's quota.
        self.scale = scale
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    @property
    def unlimited(self) -> bool:
        return not self.scale

    def bucket(self, service: str, operation: str) -> TokenBucket:
        key = (service, operation)
        if key not in self._buckets:
            rate = rate_for(operation) if service == "iot" else DEFAULT_TPS
            self._buckets[key] = TokenBucket(rate * (self.scale or 1.0))
        return self._buckets[key]

    async def acquire(self, service: str, operation: str) -> None:
        if self.unlimited:
            return
        await self.bucket(service, operation).acquire()


@dataclass(frozen=True, slots=True)
class Backoff:
    """Our retries of throttling after botocore's own: delay = min(cap, base * 2**n) * jitter."""

    attempts: int = 4
    base: float = 0.5
    cap: float = 8.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        # Full jitter: concurrent fetches that were throttled together must not retry together.
        roll = (rng or random).random()
        return min(self.cap, self.base * (2**attempt)) * (0.5 + roll / 2)


# Who wants to hear of each retry of a throttled request made in this context: a pane sets it around its
# poll, to show "throttled, retrying (2)…" where its data is missing, rather than an empty list.
RETRYING: ContextVar[Callable[[], None] | None] = ContextVar("RETRYING", default=None)


def report_retry() -> None:
    if (listener := RETRYING.get()) is not None:
        listener()


async def retry_throttled(
    call: Callable[[], Awaitable[T]],
    is_throttle: Callable[[BaseException], bool],
    backoff: Backoff,
) -> T:
    """Run `call`; when it fails with throttling, wait and run it again up to `backoff.attempts` times."""
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not is_throttle(exc) or attempt >= backoff.attempts:
                raise
            report_retry()
            await asyncio.sleep(backoff.delay(attempt))
            attempt += 1
