"""The background thread that moves time forward: the fleet drifts, audit checks finish, schedules fire,
mitigations run.

Every handler that reads progress also calls `tick()` first, so answers never lag the clock even when
the thread has not run yet.
"""

from __future__ import annotations

import logging
import threading

from . import audits, drift, executor, scheduler
from .runtime import runtime
from .state import all_states

log = logging.getLogger(__name__)
INTERVAL = 0.05

_stop = threading.Event()
_thread: threading.Thread | None = None
_tick_lock = threading.Lock()  # one advance at a time; callers that find it busy skip


def tick() -> None:
    if not _tick_lock.acquire(blocking=False):
        return
    try:
        now = runtime().clock.now()
        for state in all_states():
            try:
                drift.advance(state, now)  # first: the day's scheduled audit sees the day's fleet
                scheduler.advance(state, now)
                audits.advance(state, now)
                executor.advance(state, now)
            except Exception:  # a bug in one account must not stop time for the others
                log.exception("sandbox tick failed for %s/%s", state.account_id, state.region)
    finally:
        _tick_lock.release()


def _run() -> None:
    while not _stop.wait(INTERVAL):
        tick()


def start() -> None:
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    _stop.clear()
    _thread = threading.Thread(target=_run, name="sandbox-ticker", daemon=True)
    _thread.start()


def stop() -> None:
    global _thread
    _stop.set()
    if _thread is not None:
        _thread.join(timeout=5)
    _thread = None
