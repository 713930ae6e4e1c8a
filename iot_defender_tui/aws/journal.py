"""The journal of every change the app makes to an AWS account, kept in SQLite (WAL).

An intent is committed (and fsynced) before the request is sent and the outcome after it returns, so a
crash or a kill in between leaves an intent without an outcome: "outcome unknown", to be reconciled with
AWS on the next start. One connection per Journal, guarded by a lock, with short transactions: safe to
use from an asyncio app and its worker threads.

Opened `read_only` (the `journal` command) it writes nothing to the file and reads one it cannot write;
a row it cannot read back is listed with what is `damaged`. `Journal.temporary()` is a `--sandbox`
session's own, removed on close.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path, PurePath
from typing import Any, Literal, Self

from ..config import journal_path

State = Literal["intent", "ok", "error", "reconciled"]
OUTCOME_UNKNOWN = "outcome unknown"
SCHEMA_VERSION = 2  # 2: the `prior` column
BUSY_TIMEOUT_SECONDS = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    identity_arn TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    operation TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('intent', 'ok', 'error', 'reconciled')),
    result TEXT,
    error TEXT,
    reconcile_note TEXT,
    prior TEXT
)
"""
_INDEX = "CREATE INDEX IF NOT EXISTS journal_state ON journal (state)"
_COLUMNS = "id, time, identity_arn, account, region, operation, params, state, result, error, reconcile_note"
# What a change replaced, read from AWS just before it was sent, where AWS keeps no record of it (the
# things already in a thing group, the logging options): what `revert` restores (aws/prior_state.py).
_PRIOR = "prior"


class JournalError(Exception):
    """The journal cannot be opened or an entry cannot be updated as asked.

    `reason` is the cause alone (e.g. SQLite's "file is not a database"): short enough to lead a one-row
    status line, where the full message would show only its path."""

    def __init__(self, message: str, *, reason: str | None = None):
        super().__init__(message)
        self.reason = reason or message


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    time: datetime | None  # None: the stored time is unreadable (see `damaged`)
    identity_arn: str
    account: str
    region: str
    operation: str
    params: dict[str, Any]
    state: State
    result: dict[str, Any] | None
    error: str | None
    reconcile_note: str | None
    prior: dict[str, Any] | None = None
    # Column -> stored text of what could not be read back (a bad disk, a hand edit): shown, never fatal.
    damaged: dict[str, str] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        if self.state == "ok":
            return "ok"
        if self.state == "error":
            return f"error: {self.error}"
        if self.state == "reconciled":
            return f"reconciled: {self.reconcile_note}"
        # Still unknown; a note says why checking AWS could not settle it.
        return f"{OUTCOME_UNKNOWN} ({self.reconcile_note})" if self.reconcile_note else OUTCOME_UNKNOWN

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": None if self.time is None else self.time.isoformat(),
            "identity_arn": self.identity_arn,
            "account": self.account,
            "region": self.region,
            "operation": self.operation,
            "params": self.params,
            "state": self.state,
            "outcome": self.outcome,
            "result": self.result,
            "error": self.error,
            "reconcile_note": self.reconcile_note,
            "prior": self.prior,
            "damaged": self.damaged,
        }

    @classmethod
    def _from_row(cls, row: tuple) -> Self:
        (entry_id, time, identity_arn, account, region, operation, params, state, result, error, note,
         prior) = row  # fmt: skip
        damaged: dict[str, str] = {}
        try:
            when: datetime | None = datetime.fromisoformat(_text(time))
        except ValueError:
            when, damaged["time"] = None, _text(time)
        parsed_params = _json_object(params, "params", damaged)
        return cls(
            id=entry_id,
            time=when,
            identity_arn=_text(identity_arn),
            account=_text(account),
            region=_text(region),
            operation=_text(operation),
            params={} if parsed_params is None else parsed_params,
            state=state,
            result=None if result is None else _json_object(result, "result", damaged),
            error=None if error is None else _text(error),
            reconcile_note=None if note is None else _text(note),
            prior=None if prior is None else _json_object(prior, "prior", damaged),
            damaged=damaged,
        )


def _text(value: object) -> str:
    """A TEXT column as str: SQLite lets any column hold a BLOB or a number."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return "" if value is None else str(value)


def _json_object(value: object, column: str, damaged: dict[str, str]) -> dict[str, Any] | None:
    try:
        parsed = json.loads(_text(value))
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    damaged[column] = _text(value)
    return None


class Journal:
    def __init__(self, path: Path, *, read_only: bool = False):
        self.path = path
        self.read_only = read_only
        self._has_table = True
        self._prior = _PRIOR  # a version-1 journal opened read-only has no such column: NULL
        self._temporary: Path | None = None  # a directory removed on close (`temporary`)
        self._lock = threading.Lock()
        if read_only:
            self._db = self._open_read_only(path)
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            created = not path.exists()
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as err:
            raise JournalError(f"cannot open the journal {path}: {err}", reason=str(err)) from err
        try:
            if created:
                # Before the first write, so the -wal and -shm files SQLite makes inherit the mode too.
                path.chmod(0o600)  # it names accounts, roles and resources
            self._prepare()
        except (OSError, sqlite3.Error) as err:
            self._db.close()
            raise JournalError(
                f"cannot use the journal {path}: {err}. If the file is damaged, move it aside and the app "
                "starts a new journal.",
                reason=str(err),
            ) from err

    @classmethod
    def open(cls, path: Path | str | None = None, *, read_only: bool = False) -> Journal:
        """`read_only`: for listing; writes nothing to the file, and works where it cannot be written."""
        return cls(Path(path) if path is not None else journal_path(), read_only=read_only)

    @classmethod
    def temporary(cls) -> Journal:
        """A journal of its own, removed with its directory on close: a `--sandbox` session's. A sandbox
        is a new account every time: its entries must neither mix with the user's nor be reconciled
        against another sandbox."""
        try:
            directory = Path(tempfile.mkdtemp(prefix="iot-defender-tui-sandbox-"))
        except OSError as err:
            raise JournalError(f"cannot make a journal for the sandbox: {err}") from err
        try:
            journal = cls(directory / "journal.sqlite3")
        except JournalError:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        journal._temporary = directory
        return journal

    def _open_read_only(self, path: Path) -> sqlite3.Connection:
        if not path.is_file():
            raise JournalError(f"there is no journal at {path}")
        uri = path.absolute().as_uri()
        # mode=ro reads a live journal through its WAL; in a directory it cannot write to (a journal left
        # by a clean exit has no -wal file, and one cannot be made) only `immutable` can open it.
        problem: sqlite3.Error | None = None
        for query in ("?mode=ro", "?mode=ro&immutable=1"):
            db: sqlite3.Connection | None = None
            try:
                db = sqlite3.connect(
                    uri + query, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                    check_same_thread=False,
                )  # fmt: skip
                self._check_version(db)
                found = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal'")
                self._has_table = found.fetchone() is not None
                if self._has_table and not _has_column(db, _PRIOR):
                    self._prior = "NULL"
                return db
            except sqlite3.Error as err:
                if db is not None:
                    db.close()
                problem = err
                if not isinstance(err, sqlite3.OperationalError):
                    break  # not a database, or a newer one: reading it another way would not help
        raise JournalError(
            f"cannot read the journal {path}: {problem}. If the file is damaged, move it aside and the app "
            "starts a new journal."
        ) from problem

    @staticmethod
    def _check_version(db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"written by a newer iot-defender-tui (journal version {version})")

    def _prepare(self) -> None:
        self._check_version(self._db)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: the intent must be on disk before the request leaves, or a power cut could lose it.
        self._db.execute("PRAGMA synchronous=FULL")
        with self._transaction():
            self._db.execute(_SCHEMA)
            if not _has_column(self._db, _PRIOR):  # a version-1 journal
                self._db.execute(f"ALTER TABLE journal ADD COLUMN {_PRIOR} TEXT")
            self._db.execute(_INDEX)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _transaction(self) -> _Transaction:
        if self.read_only:
            raise JournalError(f"the journal {self.path} was opened read-only: nothing can be recorded")
        return _Transaction(self._db)

    def record_intent(
        self,
        *,
        identity_arn: str,
        account: str,
        region: str,
        operation: str,
        params: Mapping[str, Any],
        prior: Mapping[str, Any] | None = None,
    ) -> int:
        """Commit what is about to be sent (and `prior`, what it will replace); call before the request,
        keep the id for record_outcome."""
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._lock, self._transaction():
            cursor = self._db.execute(
                "INSERT INTO journal (time, identity_arn, account, region, operation, params, state, prior) "
                "VALUES (?, ?, ?, ?, ?, ?, 'intent', ?)",
                (now, identity_arn, account, region, operation, to_json_text(params),
                 None if prior is None else to_json_text(prior)),
            )  # fmt: skip
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def record_outcome(
        self, entry_id: int, *, result: Mapping[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Record how the request ended: `error` set means it failed, otherwise it succeeded."""
        state: State = "error" if error is not None else "ok"
        with self._lock, self._transaction():
            # A reconciled entry may still get its real outcome (another instance reconciled it while
            # this one was waiting for AWS); a finished one may not be rewritten.
            cursor = self._db.execute(
                "UPDATE journal SET state = ?, result = ?, error = ? "
                "WHERE id = ? AND state IN ('intent', 'reconciled')",
                (state, None if result is None else to_json_text(result), error, entry_id),
            )
            if cursor.rowcount == 0:
                self._refuse(entry_id, "record an outcome for")

    def mark_reconciled(self, entry_id: int, note: str) -> None:
        """Close an "outcome unknown" entry with what checking AWS found out."""
        with self._lock, self._transaction():
            cursor = self._db.execute(
                "UPDATE journal SET state = 'reconciled', reconcile_note = ? "
                "WHERE id = ? AND state = 'intent'",
                (note, entry_id),
            )
            if cursor.rowcount == 0:
                self._refuse(entry_id, "reconcile")

    def note_unverified(self, entry_id: int, note: str) -> None:
        """Say why checking AWS could not settle an entry; it stays "outcome unknown"."""
        with self._lock, self._transaction():
            cursor = self._db.execute(
                "UPDATE journal SET reconcile_note = ? WHERE id = ? AND state = 'intent'", (note, entry_id)
            )
            if cursor.rowcount == 0:
                self._refuse(entry_id, "annotate")

    def _refuse(self, entry_id: int, doing: str) -> None:
        row = self._db.execute("SELECT state FROM journal WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise JournalError(f"cannot {doing} journal entry {entry_id}: there is no such entry")
        raise JournalError(f"cannot {doing} journal entry {entry_id}: it is already {row[0]}")

    def entries(self, limit: int | None = None) -> list[JournalEntry]:
        """Newest first."""
        if limit is not None and limit < 0:
            raise ValueError(f"limit must not be negative: {limit}")
        return self._select("ORDER BY id DESC LIMIT ?", (-1 if limit is None else limit,))

    def started(self, operation: str, task_id: str) -> JournalEntry | None:
        """The newest entry that sent `operation` with this taskId (a mitigation task this app started)."""
        found = self._select(
            "WHERE operation = ? AND json_valid(params) AND json_extract(params, '$.taskId') = ? "
            "ORDER BY id DESC LIMIT 1",
            (operation, task_id),
        )
        return found[0] if found else None

    def unknown_outcomes(self) -> list[JournalEntry]:
        """Intents without an outcome, oldest first: the order to reconcile them in."""
        return self._select("WHERE state = 'intent' ORDER BY id", ())

    def _select(self, clauses: str, args: tuple[object, ...]) -> list[JournalEntry]:
        if not self._has_table:
            return []  # an SQLite file the app never prepared, opened read-only: nothing journaled in it
        try:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT {_COLUMNS}, {self._prior} FROM journal {clauses}", args
                ).fetchall()
        except sqlite3.Error as err:  # a damaged page: found only when read
            raise JournalError(
                f"cannot read the journal {self.path}: {err}. If the file is damaged, move it aside and the "
                "app starts a new journal."
            ) from err
        return [JournalEntry._from_row(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
        if self._temporary is not None:
            shutil.rmtree(self._temporary, ignore_errors=True)
            self._temporary = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _has_column(db: sqlite3.Connection, name: str) -> bool:
    return any(row[1] == name for row in db.execute("PRAGMA table_info(journal)"))


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT: takes the write lock up front, so a busy journal waits instead of failing."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def to_json_text(value: Any) -> str:
    """JSON of parameters and results as AWS SDKs hand them over (datetimes, bytes, sets, dataclasses…).

    ASCII: a lone surrogate (JSON from AWS can carry one) cannot be stored as UTF-8 text in SQLite.
    """
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=True)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)  # JSON has no NaN
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, PurePath):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return repr(value)
