"""FastTable's data: rows as plain data, the filtered and sorted view over them, and the marks.

Kept free of Textual so the cost of 100,000 rows is only list and dict work: the filter is one pass over
a lowercase haystack computed once per row when it is added.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text

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


class Row:
    __slots__ = ("cells", "haystack", "key")

    def __init__(self, key: Hashable, cells: Sequence[Cell]) -> None:
        self.key = key
        # A str is shown as plain text: Text(str) never parses markup.
        self.cells = tuple(c if isinstance(c, Text) else Text(str(c)) for c in cells)
        self.haystack = " ".join(c.plain for c in self.cells).lower()


class TableModel:
    """Rows are (key, cells); keys are stable across filter, sort and streaming appends."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self.rows: list[Row] = []
        self.index: dict[Hashable, int] = {}
        self.view: list[int] = []  # indices into rows, filtered and sorted
        self.filter = ""
        self.sort: tuple[int, bool] | None = None  # (column, reverse)
        self.marked: set[Hashable] = set()

    def key_at(self, position: int) -> Hashable:
        return self.rows[self.view[position]].key

    def row_at(self, position: int) -> Row:
        return self.rows[self.view[position]]

    def visible_keys(self) -> list[Hashable]:
        return [self.rows[i].key for i in self.view]

    def cells(self, key: Hashable) -> tuple[Text, ...]:
        return self.rows[self.index[key]].cells

    def position(self, key: Hashable) -> int | None:
        """Where `key` shows in the view (one scan), or None if absent or filtered out."""
        target = self.index.get(key)
        if target is None:
            return None
        return next((n for n, i in enumerate(self.view) if i == target), None)

    def append(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> bool:
        """Add rows (an existing key is replaced). True when the view was rebuilt, not just extended."""
        start = len(self.rows)
        replaced = False
        for row_key, cells in rows:
            row = Row(row_key, cells)
            if row_key in self.index:
                self.rows[self.index[row_key]] = row
                replaced = True
            else:
                self.index[row_key] = len(self.rows)
                self.rows.append(row)
        if replaced or self.sort is not None:
            self.rebuild()
            return True
        needle, rows_ = self.filter, self.rows
        self.view.extend(i for i in range(start, len(rows_)) if needle in rows_[i].haystack)
        return False

    def replace(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> None:
        self.rows = [Row(k, cells) for k, cells in rows]
        self.index = {row.key: i for i, row in enumerate(self.rows)}
        self.marked &= self.index.keys()
        self.rebuild()

    def clear(self) -> None:
        self.rows, self.index, self.view = [], {}, []
        self.marked.clear()

    def set_filter(self, text: str) -> None:
        self.filter = text.lower()
        self.rebuild()

    def sort_by(self, column: int, reverse: bool | None = None) -> None:
        """Sort by `column`; asking for the current column again toggles the direction."""
        if reverse is None:
            reverse = not self.sort[1] if self.sort and self.sort[0] == column else False
        self.sort = (column, reverse)
        self.rebuild()

    def rebuild(self) -> None:
        needle, rows = self.filter, self.rows
        view = (
            [i for i, row in enumerate(rows) if needle in row.haystack] if needle else list(range(len(rows)))
        )
        if self.sort is not None:
            column, reverse = self.sort
            to_key = self.columns[column].sort_key or str.lower
            view.sort(key=lambda i: to_key(rows[i].cells[column].plain), reverse=reverse)
        self.view = view


def column_widths(columns: Sequence[Column], width: int, markable: bool) -> list[int]:
    gaps = len(columns) - 1
    free = max(0, width - (MARKER_WIDTH if markable else 0) - gaps)
    fixed = sum(c.width or 0 for c in columns)
    shares = sum(c.fraction for c in columns if c.width is None) or 1
    rest = max(0, free - fixed)
    widths = [c.width if c.width is not None else rest * c.fraction // shares for c in columns]
    flexible = [n for n, c in enumerate(columns) if c.width is None]
    if flexible:  # the rounding remainder goes to the last flexible column
        widths[flexible[-1]] += max(0, free - sum(widths))
    return widths


def row_text(columns: Sequence[Column], cells: Sequence[Text], marker: str | None, width: int) -> Text:
    """One line: the marker column (None: the table has no marks), then each cell cut to its width."""
    line = Text(no_wrap=True, end="")
    if marker is not None:
        line.append(marker.ljust(MARKER_WIDTH))
    for n, (cell, cell_width) in enumerate(
        zip(cells, column_widths(columns, width, marker is not None), strict=False)
    ):
        if n:
            line.append(" ")
        piece = cell.copy()
        piece.no_wrap = True
        piece.truncate(cell_width, overflow="ellipsis", pad=True)
        line.append_text(piece)
    return line
