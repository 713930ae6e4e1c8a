"""Textual's Footer, rebuilt once for a burst of binding changes and a moment after them.

Textual's Footer queues a full recompose (~20-50 ms) after the next refresh for every change of the
screen's bindings, and runs them in the screen's message loop, which paints nothing meanwhile. Opening an
audit (level, focus and tab change at once) queued seven, and the first findings rows waited ~0.15 s
behind them (tests/perf/bench.py, first_row_s). Here one rebuild, REBUILD_AFTER seconds after the first
change, covers every change made until it runs (it reads the bindings then); the frame the change itself
made (a new list, its rows) is painted first.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter

REBUILD_AFTER = 0.1  # seconds; a key's own frame takes ~20-40 ms, so it goes first


class Footer(TextualFooter):
    _rebuild_queued = False

    def bindings_changed(self, screen: Screen) -> None:
        # Textual's own, but for the one queued rebuild.
        self._bindings_ready = True  # its compose() shows nothing until the bindings were first set
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_queued:
            self._rebuild_queued = True
            self.set_timer(REBUILD_AFTER, self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_queued = False  # first: a change while this one runs may come after it read them
        await self.recompose()
