"""Process-wide sandbox settings and clock.

The sandbox is its own process (or a test's server thread) and moto builds a new response object
per request, so handlers reach the settings through `runtime()`.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class Options:
    audit_seconds: float = 5.0  # how long an audit runs from start to its last check
    day_seconds: float = 86400.0  # length of a sandbox day, for scheduled audits
    mitigation_seconds: float = 2.0  # how long a mitigation task takes to work through its findings
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    latency_ms: float = 0.0
    seed: int = 0


class Clock:
    """Wall-clock time plus an offset that tests (and the admin API) may move forward."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


@dataclass
class Runtime:
    options: Options = field(default_factory=Options)
    clock: Clock = field(default_factory=Clock)
    rng: random.Random = field(default_factory=random.Random)
    started: float = field(default_factory=time.time)  # day 0 of the sandbox calendar


_runtime = Runtime()


def runtime() -> Runtime:
    return _runtime


def configure(options: Options) -> Runtime:
    """Replace the process's settings (the server calls this once before serving)."""
    global _runtime
    _runtime = Runtime(options=options, rng=random.Random(options.seed))
    return _runtime
