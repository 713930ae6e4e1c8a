"""A table for up to 100,000 rows on Textual's line API: only the visible rows are ever rendered.

DataTable takes about a second to show 10,000 rows; this keeps rows as plain data (`TableModel`), renders
a row when `render_line` asks for it (with a small LRU of Strips), and filters with one pass over a
lowercase haystack computed once per row when it is appended.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .. import messages
from .contrast import readable_on
from .table_model import MARK, Cell, Column, TableModel, row_text

__all__ = ["Cell", "Column", "FastTable"]


class FastTable(ScrollView, can_focus=True):
    """Rows are (key, cells); keys are stable across filter, sort and streaming appends."""

    DEFAULT_CSS = """
    FastTable { height: 1fr; }
    FastTable > .fast-table--header { text-style: bold; background: $panel; }
    FastTable > .fast-table--cursor { background: $accent 40%; color: auto 90%; }
    FastTable:focus > .fast-table--cursor { background: $accent; color: auto 90%; }
    FastTable > .fast-table--marked { color: $warning; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fast-table--header",
        "fast-table--cursor",
        "fast-table--marked",
    }
    BINDINGS: ClassVar = [
        Binding("up", "cursor(-1)", "Up", show=False, id="table-up"),
        Binding("down", "cursor(1)", "Down", show=False, id="table-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table-page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table-page-down"),
        Binding("home", "edge(False)", "First", show=False, id="table-home"),
        Binding("end", "edge(True)", "Last", show=False, id="table-end"),
        Binding("enter", "select", "Open", id="table-select"),
        Binding("o", "cycle_sort", "Sort", id="table-sort"),
        Binding("O", "reverse_sort", "Reverse", show=False, id="table-sort-reverse"),
    ]

    Selected = messages.Selected
    CursorMoved = messages.CursorMoved

    def __init__(self, columns: Sequence[Column], *, markable: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model = TableModel(columns)
        self.markable = markable
        self.cursor = 0
        self._cache: LRUCache[tuple, Strip] = LRUCache(512)

    # -- data -------------------------------------------------------------------------------------
    @property
    def columns(self) -> tuple[Column, ...]:
        return self.model.columns

    @property
    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return len(self.model.view)

    @property
    def total_count(self) -> int:
        return len(self.model)

    @property
    def marked(self) -> frozenset[Hashable]:
        return frozenset(self.model.marked)

    @property
    def mark_count(self) -> int:
        """len(marked) without copying 100,000 keys."""
        return len(self.model.marked)

    @property
    def filter_text(self) -> str:
        return self.model.filter

    @property
    def sort_state(self) -> tuple[int, bool] | None:
        return self.model.sort

    @property
    def cursor_key(self) -> Hashable | None:
        return self.model.key_at(self.cursor) if len(self.model.view) else None

    def visible_keys(self) -> list[Hashable]:
        return self.model.visible_keys()

    def row_cells(self, key: Hashable) -> tuple[Text, ...]:
        return self.model.text_cells(key)

    def append_rows(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> None:
        """Add rows (a row whose key exists replaces it); the cursor stays on its row, scroll stays put."""
        key = self.cursor_key
        if self.model.append(rows):
            self._follow(key)
        else:
            # Only extended at the end: every line drawn so far is still right (lines are cached by key).
            self._changed(keep_lines=True)

    def set_rows(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> None:
        """Replace every row (a live list's refresh); the cursor follows its key, marks of gone rows drop."""
        key = self.cursor_key
        if type(self.model) is not TableModel:  # rows held here again: the view's filter and sort kept
            held = TableModel(self.model.columns)
            held.filter, held.sort = self.model.filter, self.model.sort
            self.model = held
        self.model.replace(rows)
        self._follow(key)

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Other columns (the rows, built for the old ones, are cleared, and the sort with them)."""
        if type(self.model) is not TableModel:  # a list read from elsewhere: back to rows held here
            self.model = TableModel(columns)
        self.model.columns = tuple(columns)
        self.model.sort = None
        self.clear()

    def view_changed(self) -> None:
        """The model's rows changed under it (a stored list's suppressions): redrawn, the cursor kept."""
        self._follow(self.cursor_key)

    def use_model(self, model: Any, cursor_key: Hashable | None = None) -> None:
        """Rows from another model with TableModel's interface (a stored list read on demand); the cursor
        goes to `cursor_key`'s row if it shows."""
        self.model = model
        self._follow(cursor_key)

    def clear(self) -> None:
        self.model.clear()
        self.cursor = 0
        self._changed()
        self.scroll_to(y=0, animate=False)

    # -- filter and sort --------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        key = self.cursor_key
        self.model.set_filter(text)
        self._follow(key)

    def sort_by(self, column: int, reverse: bool | None = None) -> None:
        """Sort by `column`; asking for the current column again toggles the direction."""
        key = self.cursor_key
        self.model.sort_by(column, reverse)
        self._follow(key)

    def _follow(self, key: Hashable | None) -> None:
        """After the view changed: the cursor goes back to `key`'s row if it still shows."""
        last = len(self.model.view) - 1
        if key is not None:
            found = self.model.position(key)
            self.cursor = found if found is not None else min(self.cursor, last)
        self.cursor = max(0, min(self.cursor, last))
        self._changed()

    def _changed(self, *, keep_lines: bool = False) -> None:
        if not keep_lines:
            self._cache.clear()
        self.virtual_size = Size(self.size.width, len(self.model.view) + 1)
        self.refresh()

    # -- marks ------------------------------------------------------------------------------------
    def toggle_mark(self, key: Hashable | None = None) -> None:
        key = self.cursor_key if key is None else key
        if key is None:
            return
        self.model.marked.symmetric_difference_update({key})
        self._marks_changed()

    def mark_all(self) -> None:
        """Marks every row the filter shows."""
        self.model.marked.update(self.model.visible_keys())
        self._marks_changed()

    def clear_marks(self) -> None:
        self.model.marked.clear()
        self._marks_changed()

    def set_marks(self, keys: Iterable[Hashable]) -> None:
        """Marks exactly `keys` that are rows (a reload keeps the marks of rows that remain)."""
        self.model.marked = {k for k in keys if self.model.has_key(k)}
        self._marks_changed()

    def _marks_changed(self) -> None:
        self._cache.clear()
        self.refresh()

    # -- cursor -----------------------------------------------------------------------------------
    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def move_cursor(self, row: int) -> None:
        if not len(self.model.view):
            return
        row = max(0, min(row, len(self.model.view) - 1))
        if row != self.cursor:
            self.cursor = row
            self.refresh()
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + self._page:
            self.scroll_to(y=row - self._page + 1, animate=False)
        self.post_message(self.CursorMoved(self, self.cursor_key))

    def move_to_key(self, key: Hashable) -> None:
        found = self.model.position(key)
        if found is not None:
            self.move_cursor(found)

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * self._page)

    def action_edge(self, last: bool) -> None:
        self.move_cursor(len(self.model.view) - 1 if last else 0)

    def action_select(self) -> None:
        if len(self.model.view):
            self.post_message(self.Selected(self, self.cursor_key))

    def action_cycle_sort(self) -> None:
        sort = self.model.sort
        column = 0 if sort is None else (sort[0] + 1) % len(self.columns)
        self.sort_by(column, reverse=False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.model.sort[0] if self.model.sort else 0)

    # -- rendering --------------------------------------------------------------------------------
    def on_resize(self) -> None:
        self._changed()

    def notify_style_update(self) -> None:
        # A theme (or CSS) change: every cached line holds the old colours.
        super().notify_style_update()
        cache = getattr(self, "_cache", None)  # Textual may style the widget before __init__ ends
        if cache is not None:
            cache.clear()
        self.refresh()

    def _line(
        self, cells: Sequence[Text], marker: str, width: int, style: Style, over: Style | None = None
    ) -> Strip:
        """`style` lies under the cells' own styles; `over` (the cursor's colour) on top of them."""
        line = row_text(self.columns, cells, marker if self.markable else None, width)
        segments = list(line.render(self.app.console))
        return Strip(Segment.apply_style(segments, style, over)).adjust_cell_length(width, style)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = base + self.get_component_rich_style("fast-table--header")
            labels = [Text(c.label) for c in self.columns]
            if self.model.sort is not None:
                column, reverse = self.model.sort
                labels[column] = Text(self.columns[column].label + (" ▼" if reverse else " ▲"))
            return self._line(labels, "", width, header)
        index = round(self.scroll_y) + y - 1
        if index >= len(self.model.view):
            return Strip.blank(width, base)
        model = self.model
        key = model.key_at(index)
        marked = key in model.marked
        # Keyed on focus, not cleared on focus: focus changes only the cursor row's look, and the key says
        # exactly what a line's pixels depend on, whether or not Textual restyles the table on focus.
        cursor = ("focused" if self.has_focus else "blurred") if index == self.cursor else None
        cache_key = (key, width, marked, cursor)
        strip = self._cache.get(cache_key)
        if strip is None:
            style = base
            over = None
            if marked:
                style += self.get_component_rich_style("fast-table--marked")
            if cursor:
                style += self.get_component_rich_style("fast-table--cursor")
                # One readable colour over the whole cursor row: a cell's own colour or dim (red
                # severity, a dim status, the theme's text) can vanish into the accent background.
                over = Style(color=readable_on(style.bgcolor, style.color), dim=False)
            cells = model.styled(model.cells_at(index))
            strip = self._line(cells, MARK if marked else "", width, style, over)
            self._cache[cache_key] = strip
        return strip
