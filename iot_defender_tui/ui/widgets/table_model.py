"""FastTable's data: rows as plain data, the filtered and sorted view over them, and the marks.

Kept free of Textual so the cost of 100,000 rows is only list and dict work. A row is its key, a tuple of
cells (plain `str` wherever the caller can: a `Column.style` colours them when drawn, so no `Text` object
is kept per cell) and a lowercase haystack computed once when it is added; the rows are parallel lists,
not objects, because 100,000 small objects cost memory and garbage-collector time.
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
    style: Callable[[str], str] | None = None  # the style of a plain `str` cell, from its text


def _compact(cell: Any) -> Cell:
    """A Text without styling is kept as its str (a str is shown as plain text, never markup)."""
    if isinstance(cell, Text):
        return cell.plain if not cell.spans and not cell.style else cell
    return cell if isinstance(cell, str) else str(cell)


def _plain(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell.plain


def styled(columns: Sequence[Column], cells: Sequence[Cell]) -> tuple[Text, ...]:
    """Cells as Text, a plain `str` cell with its column's style (any table model's rows)."""
    out = []
    for cell, column in zip(cells, columns, strict=False):
        if isinstance(cell, str):
            cell = Text(cell, style=column.style(cell) if column.style else "")
        out.append(cell)
    return tuple(out)


class TableModel:
    """Rows are (key, cells); keys are stable across filter, sort and streaming appends."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = tuple(columns)
        self.keys: list[Hashable] = []
        self.cells: list[tuple[Cell, ...]] = []
        self.haystacks: list[str] = []
        self.index: dict[Hashable, int] = {}
        self.view: list[int] = []  # indices into the rows, filtered and sorted
        self.filter = ""
        self.sort: tuple[int, bool] | None = None  # (column, reverse)
        self.marked: set[Hashable] = set()
        self._sort_keys: list[Any] = []  # the sort column's key of every row, extended as rows arrive

    def __len__(self) -> int:
        return len(self.keys)

    def key_at(self, position: int) -> Hashable:
        return self.keys[self.view[position]]

    def visible_keys(self) -> list[Hashable]:
        keys = self.keys
        return [keys[i] for i in self.view]

    def cells_of(self, key: Hashable) -> tuple[Cell, ...]:
        return self.cells[self.index[key]]

    def cells_at(self, position: int) -> tuple[Cell, ...]:
        """The cells of the view's row at `position`."""
        return self.cells[self.view[position]]

    def has_key(self, key: Hashable) -> bool:
        return key in self.index

    def styled(self, cells: Sequence[Cell]) -> tuple[Text, ...]:
        """Cells as Text, with their column's style (for callers that read a row, and for drawing)."""
        return styled(self.columns, cells)

    def text_cells(self, key: Hashable) -> tuple[Text, ...]:
        return self.styled(self.cells_of(key))

    def position(self, key: Hashable) -> int | None:
        """Where `key` shows in the view, or None if absent or filtered out."""
        target = self.index.get(key)
        if target is None:
            return None
        try:
            return self.view.index(target)  # one C-level scan
        except ValueError:
            return None

    def _add(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> bool:
        """Store rows (an existing key is replaced in place). True when one was replaced."""
        replaced = False
        keys, cells, haystacks, index = self.keys, self.cells, self.haystacks, self.index
        for row_key, raw in rows:
            try:  # cells that are all str (100,000 findings' rows): nothing to convert, one join
                haystack = " ".join(raw).lower()  # type: ignore[arg-type]
                row = raw if type(raw) is tuple else tuple(raw)
            except TypeError:  # a Text or another value among them
                row = tuple(_compact(c) for c in raw)
                haystack = " ".join(_plain(c) for c in row).lower()
            at = index.get(row_key)
            if at is None:
                index[row_key] = len(keys)
                keys.append(row_key)
                cells.append(row)
                haystacks.append(haystack)
            else:
                cells[at], haystacks[at] = row, haystack
                replaced = True
        if replaced:
            self._sort_keys = []  # a replaced row may sort elsewhere now
        return replaced

    def append(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> bool:
        """Add rows (an existing key is replaced). True when the view was rebuilt, not just extended."""
        start = len(self.keys)
        if self._add(rows):
            self.rebuild()
            return True
        needle, haystacks = self.filter, self.haystacks
        new = range(start, len(haystacks))
        added = [i for i in new if needle in haystacks[i]] if needle else list(new)
        if self.sort is None:
            self.view.extend(added)
            return False
        # Sorted while streaming: two sorted runs, which Timsort merges in one linear pass.
        sort_keys = self._extend_sort_keys()
        self.view.extend(added)
        self.view.sort(key=sort_keys.__getitem__, reverse=self.sort[1])
        return True

    def replace(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> None:
        self.keys, self.cells, self.haystacks, self.index = [], [], [], {}
        self._sort_keys = []
        self._add(rows)
        self.marked &= self.index.keys()
        self.rebuild()

    def clear(self) -> None:
        self.keys, self.cells, self.haystacks, self.index, self.view = [], [], [], {}, []
        self._sort_keys = []
        self.marked.clear()

    def set_filter(self, text: str) -> None:
        self.filter = text.lower()
        self.rebuild()

    def sort_by(self, column: int, reverse: bool | None = None) -> None:
        """Sort by `column`; asking for the current column again toggles the direction."""
        if reverse is None:
            reverse = not self.sort[1] if self.sort and self.sort[0] == column else False
        if self.sort is None or self.sort[0] != column:
            self._sort_keys = []
        self.sort = (column, reverse)
        self.rebuild()

    def _extend_sort_keys(self) -> list[Any]:
        assert self.sort is not None
        column = self.sort[0]
        to_key = self.columns[column].sort_key or str.lower
        keys, cells = self._sort_keys, self.cells
        if len(keys) > len(cells):  # rows were replaced or cleared since
            keys.clear()
        keys.extend([to_key(_plain(row[column])) for row in cells[len(keys) :]])
        return keys

    def rebuild(self) -> None:
        needle, haystacks = self.filter, self.haystacks
        if needle:
            view = [i for i, haystack in enumerate(haystacks) if needle in haystack]
        else:
            view = list(range(len(haystacks)))
        if self.sort is not None:
            view.sort(key=self._extend_sort_keys().__getitem__, reverse=self.sort[1])
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
        plain = piece.plain
        if "\n" in plain or "\t" in plain:  # AWS's free text keeps them; a row is one line of the terminal
            piece.plain = plain.replace("\n", " ").replace("\t", " ")
        piece.no_wrap = True
        piece.truncate(cell_width, overflow="ellipsis", pad=True)
        line.append_text(piece)
    return line
