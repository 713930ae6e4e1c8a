"""A findings table's model over a stored list (history/browse.py): TableModel's interface, no rows held.

A row's key is its position in the stored list (0..n-1). The view (filtered, sorted positions) is a numpy
array; filtering tests the needle against each column the way TableModel's haystack does, but column by
column and vectorised: the resource label with numpy's string search, and what a row shares with others
(check, severity, reason: its kind; its time; suppression) once per distinct value. A needle spanning two
cells ("high cert") therefore matches nothing here. Cells are read from the file a screenful at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from rich.text import Text
from textual.cache import LRUCache

from ...aws.catalogue import check_info, severity_rank
from ...aws.models import Finding
from ...history.browse import StoredList, needle_for
from ..format import short_time
from ..widgets.table_model import Cell, Column, styled

AROUND = 60  # rows read on each side of a row not yet read: a page up or down is then one read, not 30
KEPT = 2048  # rows' cells kept (a few screens)


def _kind_cell(role: str, kind: tuple[Any, ...]) -> str:
    check, severity, code, reason, _start = kind
    if role == "check":
        return check_info(check).title
    if role == "severity":
        return severity
    return reason or code or ""


def _time_cell(epoch: float) -> str:
    return "-" if math.isnan(epoch) else short_time(datetime.fromtimestamp(epoch, UTC))


def _reversed_keeping_ties(order: np.ndarray, key: np.ndarray) -> np.ndarray:
    """`order` (a stable ascending sort) descending, rows of equal keys still in list order, as Python's
    sort(reverse=True) and TableModel keep them: the reversed order, then each run of ties set back."""
    backwards = order[::-1]
    keys = key[backwards]
    run = np.zeros(len(backwards), np.int64)
    if len(backwards) > 1:
        run[1:] = np.cumsum(keys[1:] != keys[:-1])
    return backwards[np.lexsort((backwards, run))]


class StoredRows:
    """Columns have roles: "check", "severity", "reason" (from the kind), "resource", "found", "supp"."""

    def __init__(
        self,
        columns: Sequence[Column],
        roles: Sequence[str],
        stored: StoredList,
        row: Callable[[Finding], tuple[Cell, ...]],
    ) -> None:
        self.columns = tuple(columns)
        self.roles = tuple(roles)
        self.stored = stored
        self._row = row
        self.filter = ""
        self.sort: tuple[int, bool] | None = None
        self.marked: set[Hashable] = set()
        self.matched = np.arange(len(stored))  # positions the filter lets through, ascending
        self.view = self.matched
        self._order: np.ndarray | None = None  # every position, in the sort's order
        self._reversed: np.ndarray | None = None  # the same, descending
        self._cells: LRUCache[int, tuple[Cell, ...]] = LRUCache(KEPT)
        self._times = np.unique(stored.time)  # few: an audit's findings share their check's time

    def __len__(self) -> int:
        return len(self.stored)

    # -- rows -------------------------------------------------------------------------------------
    def key_at(self, position: int) -> Hashable:
        return int(self.view[position])

    def visible_keys(self) -> list[Hashable]:
        return self.view.tolist()

    def has_key(self, key: Hashable) -> bool:
        return isinstance(key, int) and 0 <= key < len(self.stored)

    def position(self, key: Hashable) -> int | None:
        if not self.has_key(key):
            return None
        found = np.flatnonzero(self.view == key)
        return int(found[0]) if len(found) else None

    def cells_at(self, position: int) -> tuple[Cell, ...]:
        key = int(self.view[position])
        cells = self._cells.get(key)
        if cells is None:
            lo, hi = max(0, position - AROUND), position + AROUND + 1
            wanted = [p for p in self.view[lo:hi].tolist() if p not in self._cells]
            for p, finding in self.stored.findings_at(wanted).items():
                self._cells[p] = self._row(finding)
            cells = self._cells.get(key) or tuple("" for _ in self.columns)
        return cells

    def cells_of(self, key: Hashable) -> tuple[Cell, ...]:
        position = self.position(key)
        return self.cells_at(position) if position is not None else tuple("" for _ in self.columns)

    def styled(self, cells: Sequence[Cell]) -> tuple[Text, ...]:
        return styled(self.columns, cells)

    def text_cells(self, key: Hashable) -> tuple[Text, ...]:
        return self.styled(self.cells_of(key))

    def findings(self, keys: Iterable[Hashable]) -> list[Finding]:
        return self.stored.findings(int(k) for k in keys)  # type: ignore[call-overload]

    def suppressed_changed(self, positions: np.ndarray, suppressed: bool) -> None:
        """A suppression changed these rows: their cells are read again, the filter and sort see it."""
        self.stored.suppressed[positions] = suppressed
        for p in positions.tolist():
            self._cells.discard(p)
        if "supp" in self.roles:
            if self.sort is not None and self.roles[self.sort[0]] == "supp":
                self._order = None
            if self.filter and self.filter in "yes":  # the filter tests the Supp cell: test it again
                self.matched = self._match(self.filter, None)
            self.rebuild()

    # -- what a streamed TableModel does, not done here ---------------------------------------------
    def append(self, rows: Iterable[tuple[Hashable, Sequence[Cell]]]) -> bool:
        raise TypeError("a stored list is read from the history, not appended to")

    replace = append

    def clear(self) -> None:
        self.marked.clear()

    # -- filter -----------------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        needle = text.lower()
        # A longer needle only narrows: test the rows the shorter one let through (when they are few
        # enough that picking them out costs less than testing every row).
        narrows = self.filter and self.filter in needle and len(self.matched) < len(self.stored) // 4
        within = self.matched if narrows else None
        self.filter = needle
        self.matched = self._match(needle, within) if needle else np.arange(len(self.stored))
        self.rebuild()

    def _match(self, needle: str, within: np.ndarray | None) -> np.ndarray:
        stored = self.stored
        pick = (lambda column: column) if within is None else (lambda column: column[within])
        hit = np.zeros(len(stored) if within is None else len(within), np.bool_)
        for role in set(self.roles):
            if role == "resource":
                hit |= np.strings.find(pick(stored.label), needle_for(stored.label, needle)) >= 0
            elif role in ("check", "severity", "reason"):
                kinds = [k for k, kind in stored.kinds.items() if needle in _kind_cell(role, kind).lower()]
                if kinds:
                    hit |= np.isin(pick(stored.kind), np.array(kinds, np.int32))
            elif role == "found":
                times = [t for t in self._times.tolist() if needle in _time_cell(t).lower()]
                if times:
                    hit |= np.isin(pick(stored.time), np.array(times, np.float64))
                if needle in "-":
                    hit |= np.isnan(pick(stored.time))
            elif role == "supp" and needle in "yes":
                hit |= pick(stored.suppressed)
        found = np.flatnonzero(hit)
        return found if within is None else within[found]

    # -- sort -------------------------------------------------------------------------------------
    def sort_by(self, column: int, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = not self.sort[1] if self.sort and self.sort[0] == column else False
        if self.sort is None or self.sort[0] != column:
            self._order = None
        self.sort = (column, reverse)
        self.rebuild()

    def _sort_key(self, role: str) -> np.ndarray:
        stored = self.stored
        if role == "resource":
            return stored.label
        if role == "found":
            return stored.time
        if role == "supp":
            return stored.suppressed

        # A kind's rank among this column's distinct texts (or severity's rank), one lookup per row. Kinds
        # showing the same text share a rank: their rows are ties, left in the list's order as the in-memory
        # table leaves them (else they would move when the stored list takes over from the first rows).
        def text(kind: tuple[Any, ...]) -> Any:
            cell = _kind_cell(role, kind)
            return severity_rank(cell) if role == "severity" else cell.lower()

        texts = {k: text(kind) for k, kind in stored.kinds.items()}
        at = {value: n for n, value in enumerate(sorted(set(texts.values())))}
        rank = np.zeros(max(stored.kinds, default=0) + 1, np.int32)
        for k, value in texts.items():
            rank[k] = at[value]
        return rank[stored.kind]

    def rebuild(self) -> None:
        if self.sort is None:
            self.view = self.matched
            return
        column, reverse = self.sort
        if self._order is None:
            self._order = np.argsort(self._sort_key(self.roles[column]), kind="stable")
            self._reversed = None
        if reverse and self._reversed is None:  # only when asked: it costs another pass (~0.2 s a 1M)
            self._reversed = _reversed_keeping_ties(self._order, self._sort_key(self.roles[column]))
        order = self._reversed if reverse else self._order
        if len(self.matched) == len(self.stored):
            self.view = order
        else:
            keep = np.zeros(len(self.stored), np.bool_)
            keep[self.matched] = True
            self.view = order[keep[order]]
