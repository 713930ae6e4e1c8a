"""Rows of a streaming load handed to a FastTable a few times a second instead of page by page.

Pages of a large audit arrive ~40 a second; painting after each one cost more than a third of the app's
time while 100,000 findings loaded (tests/perf/bench.py). The first rows still show at once, and rows
that arrive before a pause (a throttled retry) show when the interval is up, not when the next page comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence

from textual.timer import Timer
from textual.widget import Widget

from .fast_table import FastTable

Row = tuple[Hashable, Sequence[str]]


class RowBatcher:
    def __init__(
        self, owner: Widget, table: FastTable, interval: float, on_flush: Callable[[], None] | None = None
    ) -> None:
        self.owner = owner
        self.table = table
        self.interval = interval
        self.on_flush = on_flush
        self.pending: list[Row] = []
        self.closed = False
        self._shown_at = float("-inf")  # the first rows go straight in
        self._timer: Timer | None = None

    def add(self, rows: list[Row]) -> None:
        if self.closed:
            return
        self.pending.extend(rows)
        wait = self._shown_at + self.interval - time.monotonic()
        if wait <= 0:
            self.flush()
        elif self._timer is None:
            self._timer = self.owner.set_timer(wait, self.flush)

    def flush(self) -> None:
        """Every pending row into the table now (the end of a load calls it)."""
        self._stop_timer()
        if self.closed or not self.pending:
            return
        rows, self.pending = self.pending, []
        self.table.append_rows(rows)
        self._shown_at = time.monotonic()
        if self.on_flush is not None:
            self.on_flush()

    def close(self) -> None:
        """The load was abandoned (another view, a reload): rows still pending are dropped, never shown."""
        self.closed = True
        self.pending = []
        self._stop_timer()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
