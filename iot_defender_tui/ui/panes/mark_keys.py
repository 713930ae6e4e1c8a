"""The keys of a findings list that can be filtered and marked: Results' and the cross-context one's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.widgets import Input

from ..widgets.fast_table import FastTable
from ..widgets.filter_bar import FilterBar


class MarkKeys:
    """`/` filters, `space` marks and moves down, `A` marks all, `u` clears; the host says the counts in
    `_update_status`, and binds the keys (each list words its own)."""

    # The host's (a Widget's query_one, its list, its status line): annotations only, so that nothing
    # here stands before the host's own in the method order.
    table: FastTable
    query_one: Callable[..., Any]
    _update_status: Callable[[], None]

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self.table)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._update_status()  # the FilterBar has filtered the table

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.table.action_cursor(1)
        self._update_status()

    def action_mark_all(self) -> None:
        self.table.mark_all()
        self._update_status()

    def action_clear_marks(self) -> None:
        self.table.clear_marks()
        self._update_status()
