"""Keeping a Textual DataTable in step with a live list, so a refresh leaves its cursor and scroll alone."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Row = Sequence[Text]


def sync_table(table: DataTable, rows: dict[str, Row]) -> None:
    """Show `rows` (key → cells, in order) changing only what changed, so the cursor and scroll stay."""
    current = [str(key.value) for key in table.rows]
    if current != list(rows):
        # Rows came, went or moved: rebuild, keeping the cursor on the same row where it still exists.
        keep = current[table.cursor_row] if current and 0 <= table.cursor_row < len(current) else None
        table.clear()
        for key, cells in rows.items():
            table.add_row(*cells, key=key)
        if keep in rows:
            table.move_cursor(row=list(rows).index(keep))
        return
    for key, cells in rows.items():
        for column, cell in zip(table.columns, cells, strict=False):
            if table.get_cell(key, column) != cell:
                table.update_cell(key, column, cell)
