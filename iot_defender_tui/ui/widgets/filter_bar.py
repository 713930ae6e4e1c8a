"""The `/` filter of a FastTable: an Input shown under the list while typing.

Typing narrows the table at once; enter goes back to the table keeping the filter; escape clears it.
The same in every list (Results, Mitigation, a task's executions), so one key habit works everywhere.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding
from textual.widgets import Input

from .fast_table import FastTable


class FilterBar(Input):
    DEFAULT_CSS = """
    FilterBar { display: none; height: 3; }
    FilterBar.shown { display: block; }
    """
    BINDINGS: ClassVar = [Binding("escape", "clear", "Clear filter", id="filter-clear")]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("placeholder", "filter: enter keeps it, escape clears it")
        super().__init__(**kwargs)
        self.table: FastTable | None = None

    @property
    def shown(self) -> bool:
        return self.has_class("shown")

    def open(self, table: FastTable) -> None:
        self.table = table
        with self.prevent(Input.Changed):
            self.value = table.filter_text
        self.add_class("shown")
        self.focus()

    def close(self) -> None:
        self.remove_class("shown")
        if self.table is not None:
            self.table.focus()

    def clear_filter(self) -> None:
        if self.table is not None:
            self.table.set_filter("")
        self.value = ""  # its Changed lets the owner update the count
        self.close()

    def on_input_changed(self, event: Input.Changed) -> None:
        # Left to bubble: the list's owner shows the count.
        if self.table is not None:
            self.table.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()

    def action_clear(self) -> None:
        self.clear_filter()
