"""Process-wide sandbox settings and clock.

The sandbox is its own process (or a test's server thread) and moto builds a new response object
per request, so handlers reach the settings through `runtime()`.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field


@dataclass(slots=True)
class Options:
    audit_seconds: float = 5.0  # how long an audit runs from start to its last check
    day_seconds: float = 86400.0  # length of a sandbox day, for scheduled audits
    mitigation_seconds: float = 2.0  # how long a mitigation task takes to work through its findings
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    # Executed, then answered with a 500: the client cannot tell whether AWS acted (as after a timeout).
    error_after_rate: float = 0.0
    latency_ms: float = 0.0
    seed: int = 0
    # Generated fleets: every problem's share of devices is multiplied by this (each capped at
    # MAX_RATE), so a badly kept fleet of N devices can yield about N findings for the benchmark.
    problem_scale: float = 1.0
    # Generated fleets change every sandbox day (drift.py): this share of the problems there are is
    # fixed, and `drift_new` (None: the same share) of them is introduced anew. 0: the fleet stays put.
    drift: float = 0.0
    drift_new: float | None = None
    # Reproducible screens (snapshot tests, screenshots): ids come from `Runtime.ids` instead of uuid4 and
    # the lab certificate from a fixed key. Off for users: real AWS ids are unpredictable.
    deterministic: bool = False


class Clock:
    """Wall-clock time plus an offset that tests (and the admin API) may move forward.

    `frozen_at` stops the clock there (still moved by `advance`): time shown on screen is then the same
    on every run.
    """

    def __init__(self, frozen_at: float | None = None) -> None:
        self._offset = 0.0
        self._frozen_at = frozen_at
        self._lock = threading.Lock()

    def now(self) -> float:
        return (time.time() if self._frozen_at is None else self._frozen_at) + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


@dataclass
class Runtime:
    options: Options = field(default_factory=Options)
    clock: Clock = field(default_factory=Clock)
    rng: random.Random = field(default_factory=random.Random)
    ids: random.Random = field(default_factory=random.Random)  # used only with Options.deterministic
    started: float = field(default_factory=time.time)  # day 0 of the sandbox calendar


_runtime = Runtime()


def runtime() -> Runtime:
    return _runtime


def configure(options: Options) -> Runtime:
    """Replace the process's settings (the server calls this once before serving)."""
    global _runtime
    _runtime = Runtime(options=options, rng=random.Random(options.seed), ids=random.Random(options.seed))
    return _runtime


def new_uuid() -> uuid.UUID:
    """A random id, or with `Options.deterministic` the next one of `Runtime.ids`."""
    rt = runtime()
    if rt.options.deterministic:
        return uuid.UUID(int=rt.ids.getrandbits(128), version=4)
    return uuid.uuid4()
