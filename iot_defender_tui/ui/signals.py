"""The signals that end the app: SIGTERM (a `kill`) and SIGHUP (an SSH link dropping).

Kept apart from the app and the launcher, which both handle them: before the app runs (launch) and while it
runs (app), without either module importing the other.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from contextlib import contextmanager

# An SSH link dropping (SIGHUP) or a `kill` (SIGTERM): Python's default action ends the process on the spot,
# skipping every `finally` and atexit, so the terminal stays raw and the --sandbox child keeps running.
ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def signals_exit() -> Iterator[None]:
    """Until the app takes them over (it ends itself on them), SIGTERM and SIGHUP raise SystemExit, so the
    `finally` of run_tui and the atexit of start_sandbox stop the sandbox child. An ignored signal (nohup)
    stays ignored."""

    def end(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)  # the shell's convention for "ended by a signal"

    replaced = {}
    for signum in ENDING_SIGNALS:
        with contextlib.suppress(ValueError):  # not the main thread: nothing to take over
            if signal.getsignal(signum) is signal.SIG_DFL:
                replaced[signum] = signal.signal(signum, end)
    try:
        yield
    finally:
        for signum, previous in replaced.items():
            signal.signal(signum, previous)
