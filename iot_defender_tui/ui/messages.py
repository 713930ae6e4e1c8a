"""Every Textual message the app's own parts post, in one module that imports none of them.

A message is shared by who posts it and who handles it: kept here, neither has to import the other (the
table's messages in the table's module and the tracker's in the tracker tied them into import loops).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from textual.widget import Widget

    from .contract import TaskKind


class Selected(Message, namespace="fast_table"):
    """Enter on a FastTable's row (handled as `on_fast_table_selected`, or `@on(FastTable.Selected)`)."""

    def __init__(self, table: Widget, key: Hashable) -> None:
        super().__init__()
        self.table = table  # the FastTable that posted it
        self.key = key

    @property
    def control(self) -> Widget:
        return self.table


class CursorMoved(Message, namespace="fast_table"):
    """A FastTable's cursor moved (handled as `on_fast_table_cursor_moved`); `key` None on an empty table."""

    def __init__(self, table: Widget, key: Hashable | None) -> None:
        super().__init__()
        self.table = table  # the FastTable that posted it
        self.key = key

    @property
    def control(self) -> Widget:
        return self.table

    def can_replace(self, message: Message) -> bool:
        # A held-down arrow key floods these: only the latest position matters.
        return isinstance(message, CursorMoved) and message.table is self.table


class TaskFinished(Message, bubble=False):
    """A task the tracker followed ended. Posted to the app, every screen in the stack and every pane on
    them; a view showing something the task touched may refresh (FindingDetailScreen does)."""

    def __init__(self, kind: TaskKind, task_id: str, status: str, finding_ids: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.kind = kind
        self.task_id = task_id
        self.status = status
        self.finding_ids = finding_ids  # the mitigation task's target, when it named findings


class ContextChosen(Message):
    """Switch the whole app to this context (aws/contexts.py): the Overview's enter, the `:` picker
    (handled as `on_context_chosen`)."""

    def __init__(self, context_name: str) -> None:
        super().__init__()
        self.context_name = context_name
