"""AuditStore: the audits the app has read, kept in one SQLite file (WAL), keyed by account and region.

The app calls it from worker threads (asyncio.to_thread): one connection guarded by a lock, short
transactions, and a big write committed in chunks so a reader waits for one chunk, not for the whole
audit. Anything SQLite or the file system refuses becomes a HistoryError with a short `reason`, so the
app can say "history unavailable: <reason>" and carry on without the store.

A completed audit's findings never change but for their suppression state; a stored copy is only as
good as its completeness marks (`mark_check_complete`), which a caller sets once a check's findings are
all saved.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from operator import itemgetter
from pathlib import Path
from typing import Any, Self

from ..aws.models_audit import AuditTask
from ..aws.models_findings import Finding
from ..config import history_path
from . import codec, schema

BUSY_TIMEOUT_SECONDS = 10.0
CHUNK = 50_000  # findings per write transaction


class HistoryError(Exception):
    """The history cannot be opened, read or written. `reason` is the cause alone (e.g. "file is not a
    database"), short enough for "history unavailable: <reason>"."""

    def __init__(self, message: str, *, reason: str | None = None):
        super().__init__(message)
        self.reason = reason or message


class AuditStore:
    def __init__(self, path: Path, *, cache_mib: int = 32):
        """`cache_mib`: SQLite's page cache. 32 MiB holds the indexes of a 1,000,000-finding write (sync,
        the benchmark's generator); the app, whose writes are one AWS page at a time, asks for less: the
        cache fills as it writes and stays in the process's memory."""
        self.path = path
        self._cache_mib = cache_mib
        self._lock = threading.Lock()
        self._kinds = codec.Kinds()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            created = not path.exists()
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as err:
            raise HistoryError(f"cannot open the audit history {path}: {err}", reason=str(err)) from err
        try:
            if created:
                path.chmod(0o600)  # it names accounts, devices and their weaknesses
            self._prepare()
        except (OSError, sqlite3.Error) as err:
            self._db.close()
            raise HistoryError(
                f"cannot use the audit history {path}: {err}. If the file is damaged, move it aside and the "
                "app starts a new one.",
                reason=str(err),
            ) from err

    @classmethod
    def open(cls, path: Path | str | None = None, *, cache_mib: int = 32) -> AuditStore:
        return cls(Path(path) if path is not None else history_path(), cache_mib=cache_mib)

    def _prepare(self) -> None:
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        latest = len(schema.MIGRATIONS)
        if version > latest:
            raise sqlite3.DatabaseError(f"written by a newer iot-defender-tui (history version {version})")
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: the history is a copy of what AWS holds; a power cut may lose the last chunk, not the file.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA cache_size=-{int(self._cache_mib) * 1024}")
        db.execute("PRAGMA temp_store=MEMORY")
        if version < latest:
            db.execute("BEGIN IMMEDIATE")
            try:
                # Again inside the write lock: another process may have migrated it meanwhile.
                version = db.execute("PRAGMA user_version").fetchone()[0]
                for steps in schema.MIGRATIONS[version:]:
                    for statement in steps:
                        db.execute(statement)
                db.execute(f"PRAGMA user_version={latest}")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        self._kinds.load(db)

    @contextmanager
    def _using(self, doing: str, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """The connection under the lock (in a write transaction when `write`); SQLite's errors (a damaged
        page is only found when read, a full disk when written) become HistoryError."""
        with self._lock:
            try:
                if write:
                    self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    if write:
                        self._db.execute("ROLLBACK")
                    raise
                if write:
                    self._db.execute("COMMIT")
            except sqlite3.Error as err:
                message = f"cannot {doing} in the audit history {self.path}: {err}"
                raise HistoryError(message, reason=str(err)) from err

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query: for the history package's own modules (drift, trend)."""
        with self._using("read") as db:
            return db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Tasks

    def _key(self, db: sqlite3.Connection, account: str, region: str, task_id: str) -> int | None:
        row = db.execute(
            "SELECT id FROM task WHERE account = ? AND region = ? AND task_id = ?", (account, region, task_id)
        ).fetchone()
        return None if row is None else row[0]

    def _key_or_stub(self, db: sqlite3.Connection, account: str, region: str, task_id: str) -> int:
        """The task's key, making a row with an empty status when findings come before their task."""
        key = self._key(db, account, region, task_id)
        if key is None:
            cursor = db.execute(
                "INSERT INTO task (account, region, task_id, status) VALUES (?, ?, ?, '')",
                (account, region, task_id),
            )
            key = cursor.lastrowid
        assert key is not None
        return key

    def save_task(self, account: str, region: str, task: AuditTask) -> None:
        """Insert or update. A task from a list reply carries no statistics or check results: those
        already stored are kept rather than wiped."""
        with self._using("save an audit", write=True) as db:
            key = self._key_or_stub(db, account, region, task.task_id)
            db.execute(
                "UPDATE task SET status = ?, task_type = coalesce(?, task_type), "
                "start_time = coalesce(?, start_time), "
                "scheduled_audit_name = coalesce(?, scheduled_audit_name), "
                "statistics = coalesce(?, statistics) WHERE id = ?",
                (task.status, task.task_type, codec.epoch(task.start_time), task.scheduled_audit_name,
                 codec.statistics_text(task.statistics), key),
            )  # fmt: skip
            if task.checks:
                db.execute("DELETE FROM check_result WHERE task = ?", (key,))
                rows = codec.check_rows(key, task.checks)
                db.executemany("INSERT INTO check_result VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def _tasks(self, db: sqlite3.Connection, where: str, params: Sequence[Any]) -> list[AuditTask]:
        rows = db.execute(
            "SELECT id, task_id, status, task_type, start_time, scheduled_audit_name, statistics FROM task "
            f"WHERE {where} ORDER BY start_time DESC NULLS LAST, id DESC",
            params,
        ).fetchall()
        checks: dict[int, list[Any]] = {row[0]: [] for row in rows}
        for task, *rest in db.execute(
            "SELECT check_result.* FROM check_result JOIN task ON task.id = check_result.task "
            f"WHERE {where} ORDER BY task, check_name",
            params,
        ):
            checks[task].append(codec.check_result(tuple(rest)))
        return [codec.audit_task(tuple(row[1:]), tuple(checks[row[0]])) for row in rows]

    def tasks(self, account: str, region: str) -> list[AuditTask]:
        """Newest first (tasks without a start time last)."""
        with self._using("read the audits") as db:
            return self._tasks(db, "account = ? AND region = ?", (account, region))

    def task(self, account: str, region: str, task_id: str) -> AuditTask | None:
        with self._using("read an audit") as db:
            found = self._tasks(db, "account = ? AND region = ? AND task_id = ?", (account, region, task_id))
        return found[0] if found else None

    # Findings

    def save_findings(self, account: str, region: str, task_id: str, findings: Iterable[Finding]) -> int:
        """Insert or update by finding id; committed every CHUNK findings (a check is whole only once marked
        complete). Returns how many were saved."""
        with self._using("save findings", write=True) as db:
            key = self._key_or_stub(db, account, region, task_id)
        source = iter(findings)
        saved = 0
        while chunk := list(islice(source, CHUNK)):
            try:
                with self._using("save findings", write=True) as db, codec.no_gc():
                    rows = list(codec.finding_rows(key, chunk, partial(self._kinds.id_of, db)))
                    # In finding id order: the unique index's pages are then visited once each, in order,
                    # not at random (half the time of a 1,000,000-finding write).
                    rows.sort(key=itemgetter(3))
                    db.executemany(codec.FINDING_INSERT, rows)
            except BaseException:
                self._kinds.forget()  # it may hold kinds of the rolled back chunk
                raise
            saved += len(chunk)
        return saved

    def set_suppressed(self, account: str, region: str, finding_ids: Iterable[str], suppressed: bool) -> int:
        """Suppression is the one thing that changes in a completed audit's findings. Finding ids are
        unique per account, so every stored audit of the account and region is updated."""
        flag = 1 if suppressed else 0
        rows = [(flag, finding_id, account, region) for finding_id in finding_ids]
        with self._using("update suppressions", write=True) as db:
            before = db.total_changes
            db.executemany(
                "UPDATE finding SET suppressed = ? WHERE finding_id = ? AND task IN "
                "(SELECT id FROM task WHERE account = ? AND region = ?)",
                rows,
            )
            return db.total_changes - before

    def count(self, account: str, region: str, task_id: str, check_name: str | None = None) -> int:
        with self._using("count findings") as db:
            key = self._key(db, account, region, task_id)
            if key is None:
                return 0
            if check_name is None:
                return db.execute("SELECT count(*) FROM finding WHERE task = ?", (key,)).fetchone()[0]
            return db.execute(
                "SELECT count(*) FROM finding WHERE task = ? AND check_name = ?", (key, check_name)
            ).fetchone()[0]

    def counts_by_check(self, account: str, region: str, task_id: str) -> dict[str, int]:
        """Stored findings per check (checks with none are absent)."""
        with self._using("count findings") as db:
            rows = db.execute(
                "SELECT check_name, count(*) FROM finding WHERE task = "
                "(SELECT id FROM task WHERE account = ? AND region = ? AND task_id = ?) GROUP BY check_name",
                (account, region, task_id),
            ).fetchall()
        return dict(rows)

    def _finding_rows(
        self, account: str, region: str, task_id: str, sql: str, params: Sequence[Any]
    ) -> list[tuple[Any, ...]] | None:
        """The rows of `sql`, a select of the finding table whose first parameter is the task's key (then
        `params`), with the kinds they name loaded; None if the task is not stored. One lock hold: a batch."""
        with self._using("read findings") as db:
            key = self._key(db, account, region, task_id)
            if key is None:
                return None
            rows = db.execute(sql, (key, *params)).fetchall()
            with self._damaged():
                self._kinds.load(db)
        return rows

    def _decode(self, read: codec.FindingReader, rows: Iterable[tuple[Any, ...]]) -> list[Finding]:
        with self._damaged():
            return read(rows)

    @contextmanager
    def _damaged(self) -> Iterator[None]:
        """A stored value that does not decode (a damaged page SQLite cannot see, a hand edit) is the
        history's failure, said as one, not a crash: the store wrote every value it reads."""
        try:
            yield
        except (ValueError, TypeError, IndexError, KeyError) as err:
            detail = str(err) if isinstance(err, ValueError) else f"{type(err).__name__} {err}"
            reason = f"a stored finding is damaged: {detail}"
            raise HistoryError(f"cannot read findings in the audit history {self.path}: {reason}",
                               reason=reason) from err  # fmt: skip

    def findings(
        self, account: str, region: str, task_id: str, check_name: str | None = None, *, batch: int = 5000
    ) -> Iterator[list[Finding]]:
        """Every finding of the task (or of one check), `batch` at a time, ordered by check, then by resource
        identity (a hash: stable, not meaningful), then as saved.
        Each batch is a query of its own (keyset, not a cursor held open), so the lock is free between them
        and a write meanwhile never invalidates the read."""
        read = codec.FindingReader(task_id, self._kinds.values)
        # Keyset: after the last (check, identity, seq) read, in the order of the finding_check index.
        last: list[Any] = ["" if check_name is None else check_name, -(2**63), -1]
        if check_name is None:
            where = "task = ? AND (check_name, identity, seq) > (?, ?, ?)"
        else:
            where = "task = ? AND check_name = ? AND (identity, seq) > (?, ?)"
        while True:
            rows = self._finding_rows(
                account, region, task_id,
                f"SELECT check_name, identity, seq, {codec.FINDING_COLUMNS} FROM finding WHERE {where} "
                "ORDER BY check_name, identity, seq LIMIT ?",
                (*last, batch),
            )  # fmt: skip
            if not rows:
                return
            end = rows[-1]
            last = [end[0], end[1], end[2]] if check_name is None else [check_name, end[1], end[2]]
            yield self._decode(read, (row[3:] for row in rows))
            if len(rows) < batch:
                return

    def findings_page(
        self, account: str, region: str, task_id: str, check_name: str | None, offset: int, limit: int
    ) -> list[Finding]:
        """Findings `offset` to `offset + limit` in the order of `findings`."""
        where = "task = ?" if check_name is None else "task = ? AND check_name = ?"
        params: list[Any] = [] if check_name is None else [check_name]
        rows = self._finding_rows(
            account, region, task_id,
            f"SELECT {codec.FINDING_COLUMNS} FROM finding WHERE {where} "
            "ORDER BY check_name, identity, seq LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )  # fmt: skip
        if rows is None:
            return []
        return self._decode(codec.FindingReader(task_id, self._kinds.values), rows)

    # Completeness

    def mark_check_complete(self, account: str, region: str, task_id: str, check_name: str) -> None:
        """Every finding of `check_name` in this audit is saved: the app may read it from the store."""
        with self._using("mark a check complete", write=True) as db:
            key = self._key_or_stub(db, account, region, task_id)
            db.execute("INSERT OR IGNORE INTO check_complete VALUES (?, ?)", (key, check_name))

    def complete_checks(self, account: str, region: str, task_id: str) -> set[str]:
        with self._using("read an audit") as db:
            rows = db.execute(
                "SELECT check_name FROM check_complete JOIN task ON task.id = check_complete.task "
                "WHERE account = ? AND region = ? AND task_id = ?",
                (account, region, task_id),
            ).fetchall()
        return {row[0] for row in rows}

    def is_complete(self, account: str, region: str, task_id: str) -> bool:
        """The audit is COMPLETED, its check results are stored, and every check that found something is
        marked complete. A task saved from a list reply (no check results) is never complete: which
        checks ran is not known."""
        task = self.task(account, region, task_id)
        if task is None or task.status != "COMPLETED" or not task.checks:
            return False
        done = self.complete_checks(account, region, task_id)
        return all(c.check_name in done for c in task.checks if c.non_compliant > 0)

    # Housekeeping

    def prune(self, keep_days: float, now: datetime | None = None) -> int:
        """Delete, in every account and region, the audits that started more than `keep_days` before `now`,
        with their findings; audits with no known start time are kept. Returns how many were deleted. The
        file does not shrink (no VACUUM): SQLite reuses the freed pages."""
        cutoff = ((now or datetime.now(UTC)) - timedelta(days=keep_days)).timestamp()
        with self._using("prune", write=True) as db:
            keys = [(row[0],) for row in db.execute("SELECT id FROM task WHERE start_time < ?", (cutoff,))]
            for table in ("finding", "check_complete", "check_result"):
                db.executemany(f"DELETE FROM {table} WHERE task = ?", keys)
            db.executemany("DELETE FROM task WHERE id = ?", keys)
        return len(keys)
