"""FastTable's messages (handled as `on_fast_table_selected` / `on_fast_table_cursor_moved`)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from .fast_table import FastTable


class Selected(Message, namespace="fast_table"):
    """Enter on a row."""

    def __init__(self, table: FastTable, key: Hashable) -> None:
        super().__init__()
        self.table = table
        self.key = key

    @property
    def control(self) -> FastTable:
        return self.table


class CursorMoved(Message, namespace="fast_table"):
    def __init__(self, table: FastTable, key: Hashable | None) -> None:
        super().__init__()
        self.table = table
        self.key = key

    @property
    def control(self) -> FastTable:
        return self.table

    def can_replace(self, message: Message) -> bool:
        # A held-down arrow key floods these: only the latest position matters.
        return isinstance(message, CursorMoved) and message.table is self.table
