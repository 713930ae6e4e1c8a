"""A stored list of findings browsed without holding it: what a 1,000,000-finding audit's table needs.

`StoredList` keeps, per finding, only what filtering and sorting read, as numpy columns (~60 bytes a
finding: its row number, kind, time, suppression, identity and the resource's label in lowercase); the
findings themselves are read back from the file a screenful at a time (`findings`). Rows are numbered
0..n-1 in the order `AuditStore.findings` reads them (check, resource identity, as saved), so the first
page read the usual way lines up with the list built here.

It has its own read-only connection: in WAL mode a reader is never held up by the app's writes on the
history's thread, and a screenful's read costs ~2 ms whatever the list's size.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..aws.models_findings import Finding
from . import codec
from .store import HistoryError

SCAN_BATCH = 50_000  # rows converted to numpy at a time: the Python tuples of one batch are all that live
READ_BATCH = 500  # SQLite's default limit on bound parameters is far above; a screenful is ~50


def _searchable(labels: Sequence[str | None]) -> np.ndarray:
    """Labels in lowercase, as fixed-width UTF-8 bytes: numpy searches those ~3x faster than str (a
    needle's UTF-8 bytes are found exactly where the text holds it)."""
    lowered = [(text or "").lower().encode("utf-8", "surrogatepass") for text in labels]
    return np.array(lowered, dtype=f"S{max(map(len, lowered), default=1) or 1}")


def _compact(labels: np.ndarray) -> np.ndarray:
    """Should one long label make the fixed width cost over ~100 MB, numpy's variable-width strings."""
    if labels.nbytes <= 100_000_000:
        return labels
    texts = [text.decode("utf-8", "surrogatepass") for text in labels.tolist()]
    return np.array(texts, np.dtypes.StringDType())


def needle_for(column: np.ndarray, text: str) -> str | bytes:
    """`text` in the form `column` (a label column) is searched with."""
    return text.encode("utf-8", "surrogatepass") if column.dtype.kind == "S" else text


class StoredList:
    """One stored audit's findings (of one check, or of all); built by `load` on a worker thread."""

    def __init__(
        self,
        path: Path,
        account: str,
        region: str,
        task_id: str,
        check_name: str | None,
        *,
        against: tuple[str, bool] | None = None,
    ):
        """`against` (another audit's id, matched): a drift list, only the findings that audit has too
        (matched) or lacks (not matched), the same finding being the same check and resource identity."""
        self.task_id = task_id
        self._against = against
        self._lock = threading.Lock()
        self._kinds = codec.Kinds()
        try:
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as err:
            raise HistoryError(f"cannot read the audit history {path}: {err}", reason=str(err)) from err
        self._where = (account, region, task_id, check_name)
        empty = np.zeros(0, np.int64)
        self.seq, self.identity = empty, empty
        self.kind = np.zeros(0, np.int32)
        self.time = np.zeros(0, np.float64)  # NaN: no time
        self.suppressed = np.zeros(0, np.bool_)
        self.label = np.zeros(0, "S1")

    def __len__(self) -> int:
        return len(self.seq)

    @property
    def kinds(self) -> dict[int, codec.Kind]:
        """Kind id → (check, severity, reason code, reason, task start): the values rows share."""
        return self._kinds.values

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _read(self, doing: str, sql: str, params: Sequence[object]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as err:
            raise HistoryError(f"cannot {doing} in the audit history: {err}", reason=str(err)) from err

    def load(self) -> None:
        """Scan the task's rows once (a range of row ids: its findings were written together, so this is a
        sequential read, ~4x faster than through an index) and keep the columns."""
        account, region, task_id, check_name = self._where
        with self._lock:
            self._kinds.load(self._db)
            found = self._read(
                "read an audit",
                "SELECT id FROM task WHERE account = ? AND region = ? AND task_id = ?",
                (account, region, task_id),
            ).fetchone()
            if found is None:
                return
            task = found[0]
            low, high = self._read(
                "read an audit", "SELECT min(seq), max(seq) FROM finding WHERE task = ?", (task,)
            ).fetchone()
            if low is None:
                return
            # `+`: no index for these tests; the row id range drives the scan.
            where, params = "seq BETWEEN ? AND ? AND +task = ?", (low, high, task)
            if check_name is not None:
                where, params = where + " AND +check_name = ?", (*params, check_name)
            cursor = self._read(
                "read findings",
                f"SELECT identity, seq, kind, finding_time, suppressed, label FROM finding WHERE {where}",
                params,
            )
            parts = []
            # Batch by batch into numpy, so only one batch's Python objects live at a time (the peak of a
            # 1,000,000-finding list's load stays near what the list keeps).
            while rows := cursor.fetchmany(SCAN_BATCH):
                identity, seq, kind, time, suppressed, label = zip(*rows, strict=True)
                if None in label:  # rows saved before labels were kept (history version 1)
                    label = self._relabel(list(seq), label)
                parts.append((
                    np.array(identity, np.int64), np.array(seq, np.int64), np.array(kind, np.int32),
                    np.array(time, np.float64),  # None becomes NaN
                    np.array(suppressed, np.bool_), _searchable(label),
                ))  # fmt: skip
            self._kinds.load(self._db)
        if not parts:
            return
        identity, seq, kind, time, suppressed, label = (np.concatenate(c) for c in zip(*parts, strict=True))
        del parts
        # AuditStore.findings' order: by check (a kind's), resource identity, then as saved.
        checks = sorted({k[0] for k in self._kinds.values.values()})
        check_rank = np.zeros(max(self._kinds.values, default=0) + 1, np.int32)
        for kind_id, value in self._kinds.values.items():
            check_rank[kind_id] = checks.index(value[0])
        order = np.lexsort((seq, identity, check_rank[kind]))
        if self._against is not None:
            other, matched = self._against
            keep = np.isin(identity[order], self._identities(other)) == matched
            order = order[keep]
        self.seq, self.identity, self.kind = seq[order], identity[order], kind[order]
        self.time, self.suppressed = time[order], suppressed[order]
        self.label = _compact(label[order])

    def _identities(self, task_id: str) -> np.ndarray:
        """Every finding identity of another stored audit of the same account and region."""
        account, region, _task, _check = self._where
        sql = (
            "SELECT identity FROM finding WHERE task = "
            "(SELECT id FROM task WHERE account = ? AND region = ? AND task_id = ?)"
        )
        with self._lock:
            rows = self._read("read an audit", sql, (account, region, task_id)).fetchall()
        return np.array([row[0] for row in rows], np.int64)

    def _relabel(self, seq: list[int], label: Sequence[str | None]) -> list[str | None]:
        """Labels of rows written before they were stored, rebuilt from their resources (under the lock)."""
        missing = [s for s, text in zip(seq, label, strict=True) if text is None]
        at = {s: n for n, s in enumerate(seq)}
        out = list(label)
        for start in range(0, len(missing), READ_BATCH):
            for s, finding in self._by_seq_held(missing[start : start + READ_BATCH]):
                out[at[s]] = finding.resource.readable
        return out

    def _by_seq(self, seqs: Sequence[int]) -> list[tuple[int, Finding]]:
        with self._lock:
            return self._by_seq_held(seqs)

    def _by_seq_held(self, seqs: Sequence[int]) -> list[tuple[int, Finding]]:
        marks = ",".join("?" * len(seqs))
        sql = f"SELECT seq, {codec.FINDING_COLUMNS} FROM finding WHERE seq IN ({marks})"
        rows = self._read("read findings", sql, seqs).fetchall()
        self._kinds.load(self._db)
        read = codec.FindingReader(self.task_id, self._kinds.values)
        try:
            findings = read(row[1:] for row in rows)
        except ValueError as err:  # a damaged row: its JSON does not parse
            raise HistoryError(f"a stored finding is damaged: {err}", reason=f"damaged: {err}") from err
        return [(row[0], finding) for row, finding in zip(rows, findings, strict=True)]

    def findings(self, positions: Iterable[int]) -> list[Finding]:
        """The findings at these positions (0..n-1), in that order; rows gone from the file (pruned by
        another process meanwhile) left out."""
        wanted = [int(p) for p in positions]
        found = self.findings_at(wanted)
        return [found[p] for p in wanted if p in found]

    def findings_at(self, positions: Iterable[int]) -> dict[int, Finding]:
        """Position -> finding, in the order asked, for the rows still in the file."""
        wanted = [int(p) for p in positions]
        out: dict[int, Finding] = {}
        seq, suppressed = self.seq, self.suppressed
        for start in range(0, len(wanted), READ_BATCH):
            chunk = wanted[start : start + READ_BATCH]
            by_seq = dict(self._by_seq([int(seq[p]) for p in chunk]))
            for p in chunk:
                found = by_seq.get(int(seq[p]))
                if found is not None:
                    # The column is what the app last did (the table's suppressed_changed); the file gets it
                    # later, on the history's thread, and not at all if that write fails.
                    if found.is_suppressed != suppressed[p]:
                        found = dataclasses.replace(found, is_suppressed=bool(suppressed[p]))
                    out[p] = found
        return {p: out[p] for p in wanted if p in out}

    def same_resource(self, findings: Iterable[Finding]) -> np.ndarray:
        """Positions of every finding of these findings' checks on their resources (what one suppression
        covers): the drift identity, so no JSON is read."""
        identities = [codec.identity(f.check_name, f.resource) for f in findings]
        return np.flatnonzero(np.isin(self.identity, np.array(identities, np.int64)))
