"""The process's cyclic-GC policy, owned by the app: what lives as long as the app is frozen out of the
collector's reach, so full collections stop walking it.

Start-up (imports, styles, widgets) makes about a million such objects; the collector walking them
meanwhile cost ~0.1 s before the first frame. So cli.main holds it off (`collector_held_off`) while they
are made, and `MemoryPolicy.start_up_done` (run_tui) freezes them and lets it run again. A findings list
is the other big one: a full collection walking 100,000 loaded findings took ~120 ms, and keys stuttered
(tests/perf/bench.py). Loads report what they keep through `kept` and `settled`; panes never call gc.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

FREEZE_EVERY = 10_000  # long-lived objects made between two freezes while a load runs


@contextmanager
def collector_held_off() -> Iterator[None]:
    """Around the app's whole run: the collector off until start-up is done, and on again at the end
    whatever happened (the process may go on, as tests do)."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class MemoryPolicy:
    def __init__(self, freeze_every: int = FREEZE_EVERY) -> None:
        self.freeze_every = freeze_every
        self._unfrozen = 0

    def start_up_done(self) -> None:
        """What start-up made lives as long as the app: freeze it, and let the collector run again."""
        gc.freeze()
        gc.enable()

    def kept(self, count: int) -> None:
        """`count` more objects that live as long as what shows them (a page of findings).

        Frozen every FREEZE_EVERY, not after each page: a freeze also pins the cycles of the requests
        then in flight, which per page added up to ~45 MB at 100,000 findings; every 10,000 it is
        about a megabyte."""
        self._unfrozen += count
        if self._unfrozen >= self.freeze_every:
            self.settled()

    def settled(self) -> None:
        """A load ended: freeze what it kept."""
        gc.freeze()
        self._unfrozen = 0
