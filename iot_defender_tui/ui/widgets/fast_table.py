"""A table for up to 100,000 rows on Textual's line API: only the visible rows are ever rendered.

DataTable takes about a second to show 10,000 rows; this keeps rows as plain data, renders a row when
`render_line` asks for it (with a small LRU of Strips), and filters with one pass over a lowercase
haystack computed once per row when it is appended.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Cell = Text | str
MARK = "● "
MARKER_WIDTH = 2


@dataclass(frozen=True, slots=True)
class Column:
    """A fixed `width` in cells, or a share (`fraction`) of what the fixed columns leave."""

    label: str
    width: int | None = None
    fraction: int = 1
    sort_key: Callable[[str], Any] | None = None  # over the cell's plain text; default: lowercase text


class _Row:
    __slots__ = ("cells", "haystack", "key")

    def __init__(self, key: Hashable, cells: Sequence[Cell]) -> None:
        self.key = key
        # A str is shown as plain text: Text(str) never parses markup.
        self.cells = tuple(c if isinstance(c, Text) else Text(str(c)) for c in cells)
        self.haystack = " ".join(c.plain for c in self.cells).lower()


class FastTable(ScrollView, can_focus=True):
    """Rows are (key, cells); keys are stable across filter, sort and streaming appends."""

    DEFAULT_CSS = """
    FastTable { height: 1fr; }
    FastTable > .fast-table--header { text-style: bold; background: $panel; }
    FastTable > .fast-table--cursor { background: $accent 40%; }
    FastTable:focus > .fast-table--cursor { background: $accent; }
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

    class Selected(Message):
        def __init__(self, table: FastTable, key: Hashable) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FastTable:
            return self.table

    class CursorMoved(Message):
        def __init__(self, table: FastTable, key: Hashable | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FastTable:
            return self.table

        def can_replace(self, message: Message) -> bool:
            # A held-down arrow key floods these: only the latest position matters.
            return isinstance(message, FastTable.CursorMoved) and message.table is self.table

    def __init__(self, columns: Sequence[Column], *, markable: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns = tuple(columns)
        self.markable = markable
        self._rows: list[_Row] = []
        self._index: dict[Hashable, int] = {}
        self._view: list[int] = []  # indices into _rows, filtered and sorted
        self._filter = ""
        self._sort: tuple[int, bool] | None = None  # (column, reverse)
        self._marked: set[Hashable] = set()
        self.cursor = 0
        self._cache: LRUCache[tuple, Strip] = LRUCache(512)

    # -- data -------------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return len(self._view)

    @property
    def total_count(self) -> int:
        return len(self._rows)

    @property
    def marked(self) -> frozenset[Hashable]:
        return frozenset(self._marked)

    @property
    def filter_text(self) -> str:
        return self._filter

    @property
    def cursor_key(self) -> Hashable | None:
        return self._rows[self._view[self.cursor]].key if self._view else None

    def visible_keys(self) -> list[Hashable]:
        return [self._rows[i].key for i in self._view]

    def row_cells(self, key: Hashable) -> tuple[Text, ...]:
        return self._rows[self._index[key]].cells

    def append_rows(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> None:
        """Add rows (a row whose key exists replaces it); the cursor stays on its row, scroll stays put."""
        key = self.cursor_key
        start = len(self._rows)
        replaced = False
        for row_key, cells in rows:
            row = _Row(row_key, cells)
            if row_key in self._index:
                self._rows[self._index[row_key]] = row
                replaced = True
            else:
                self._index[row_key] = len(self._rows)
                self._rows.append(row)
        if replaced or self._sort is not None:
            self._rebuild(key)
        else:
            needle = self._filter
            rows_ = self._rows
            self._view.extend(i for i in range(start, len(rows_)) if needle in rows_[i].haystack)
            self._changed()

    def set_rows(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> None:
        """Replace every row (a live list's refresh); the cursor follows its key, marks of gone rows drop."""
        key = self.cursor_key
        self._rows = [_Row(k, cells) for k, cells in rows]
        self._index = {row.key: i for i, row in enumerate(self._rows)}
        self._marked &= self._index.keys()
        self._rebuild(key)

    def clear(self) -> None:
        self._rows, self._index, self._view = [], {}, []
        self._marked.clear()
        self.cursor = 0
        self._changed()
        self.scroll_to(y=0, animate=False)

    # -- filter and sort --------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        self._filter = text.lower()
        self._rebuild(self.cursor_key)

    def sort_by(self, column: int, reverse: bool | None = None) -> None:
        """Sort by `column`; asking for the current column again toggles the direction."""
        if reverse is None:
            reverse = not self._sort[1] if self._sort and self._sort[0] == column else False
        self._sort = (column, reverse)
        self._rebuild(self.cursor_key)

    @property
    def sort_state(self) -> tuple[int, bool] | None:
        return self._sort

    def _rebuild(self, key: Hashable | None) -> None:
        needle = self._filter
        rows = self._rows
        view = (
            [i for i, row in enumerate(rows) if needle in row.haystack] if needle else list(range(len(rows)))
        )
        if self._sort is not None:
            column, reverse = self._sort
            to_key = self.columns[column].sort_key or str.lower
            view.sort(key=lambda i: to_key(rows[i].cells[column].plain), reverse=reverse)
        self._view = view
        if key is not None and key in self._index:
            target = self._index[key]
            # One scan at most, only when the cursor's row moved.
            self.cursor = next(
                (n for n, i in enumerate(view) if i == target), min(self.cursor, len(view) - 1)
            )
        self.cursor = max(0, min(self.cursor, len(view) - 1))
        self._changed()

    def _changed(self) -> None:
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(self._view) + 1)
        self.refresh()

    # -- marks ------------------------------------------------------------------------------------
    def toggle_mark(self, key: Hashable | None = None) -> None:
        key = self.cursor_key if key is None else key
        if key is None:
            return
        self._marked.symmetric_difference_update({key})
        self._cache.clear()
        self.refresh()

    def mark_all(self) -> None:
        """Marks every row the filter shows."""
        self._marked.update(self._rows[i].key for i in self._view)
        self._cache.clear()
        self.refresh()

    def clear_marks(self) -> None:
        self._marked.clear()
        self._cache.clear()
        self.refresh()

    # -- cursor -----------------------------------------------------------------------------------
    @property
    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def move_cursor(self, row: int) -> None:
        if not self._view:
            return
        row = max(0, min(row, len(self._view) - 1))
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
        if key in self._index:
            target = self._index[key]
            self.move_cursor(next((n for n, i in enumerate(self._view) if i == target), self.cursor))

    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor + direction * self._page)

    def action_edge(self, last: bool) -> None:
        self.move_cursor(len(self._view) - 1 if last else 0)

    def action_select(self) -> None:
        if self._view:
            self.post_message(self.Selected(self, self.cursor_key))

    def action_cycle_sort(self) -> None:
        column = 0 if self._sort is None else (self._sort[0] + 1) % len(self.columns)
        self.sort_by(column, reverse=False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self._sort[0] if self._sort else 0)

    # -- rendering --------------------------------------------------------------------------------
    def on_resize(self) -> None:
        self._changed()

    def _widths(self, width: int) -> list[int]:
        gaps = len(self.columns) - 1
        free = max(0, width - (MARKER_WIDTH if self.markable else 0) - gaps)
        fixed = sum(c.width or 0 for c in self.columns)
        shares = sum(c.fraction for c in self.columns if c.width is None) or 1
        rest = max(0, free - fixed)
        widths = [c.width if c.width is not None else rest * c.fraction // shares for c in self.columns]
        flexible = [n for n, c in enumerate(self.columns) if c.width is None]
        if flexible:  # the rounding remainder goes to the last flexible column
            widths[flexible[-1]] += max(0, free - sum(widths))
        return widths

    def _line(self, cells: Sequence[Text], marker: str, width: int, style: Style) -> Strip:
        line = Text(no_wrap=True, end="")
        if self.markable:
            line.append(marker.ljust(MARKER_WIDTH))
        for n, (cell, cell_width) in enumerate(zip(cells, self._widths(width), strict=False)):
            if n:
                line.append(" ")
            piece = cell.copy()
            piece.no_wrap = True
            piece.truncate(cell_width, overflow="ellipsis", pad=True)
            line.append_text(piece)
        segments = list(line.render(self.app.console))
        return Strip(Segment.apply_style(segments, style)).adjust_cell_length(width, style)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header = base + self.get_component_rich_style("fast-table--header")
            labels = [Text(c.label) for c in self.columns]
            if self._sort is not None:
                column, reverse = self._sort
                labels[column] = Text(self.columns[column].label + (" ▼" if reverse else " ▲"))
            return self._line(labels, "", width, header)
        index = round(self.scroll_y) + y - 1
        if index >= len(self._view):
            return Strip.blank(width, base)
        row = self._rows[self._view[index]]
        marked = row.key in self._marked
        is_cursor = index == self.cursor
        cache_key = (row.key, width, marked, is_cursor, self.has_focus)
        strip = self._cache.get(cache_key)
        if strip is None:
            style = base
            if marked:
                style += self.get_component_rich_style("fast-table--marked")
            if is_cursor:
                style += self.get_component_rich_style("fast-table--cursor")
            strip = self._line(row.cells, MARK if marked else "", width, style)
            self._cache[cache_key] = strip
        return strip

    def on_focus(self) -> None:
        self._cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._cache.clear()
        self.refresh()
