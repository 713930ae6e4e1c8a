"""Findings and tasks to rows and back.

Reading 100,000 findings back must stay well under a second, so a row is rebuilt with one `json.loads`
(its resource and related resources), and the values an audit repeats in every finding (check, severity,
reason, times: its "kind") come out as one shared object each, as `Finding.from_api` makes them.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ..aws.models_audit import AuditTask, CheckResult, TaskStatistics
from ..aws.models_findings import Finding, ResourceRef, shared


def _not_json(value: object) -> None:
    raise TypeError(f"not JSON: {type(value).__name__}")


def _encoder(sort_keys: bool) -> Callable[[Any], str]:
    """json.dumps without its per-call setup (a new C encoder every call: half the cost of a finding's
    small JSON), falling back to it where the C accelerator is missing. ASCII: a lone surrogate from AWS
    cannot be stored as UTF-8 text."""
    make = json.encoder.c_make_encoder  # type: ignore[attr-defined]
    if make is None:
        return json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), sort_keys=sort_keys).encode
    ascii_text = json.encoder.encode_basestring_ascii
    encode = make(None, _not_json, ascii_text, None, ":", ",", sort_keys, False, True)
    return lambda value: "".join(encode(value, 0))


def _decoder() -> Callable[[str], Any]:
    """json.loads without its whitespace regexes: the store reads back only what it wrote."""
    scan = json.scanner.c_make_scanner  # type: ignore[attr-defined]
    if scan is None:
        return json.loads
    scanner = scan(json.JSONDecoder())

    def loads(text: str) -> Any:
        try:
            return scanner(text, 0)[0]
        except StopIteration as err:  # what the scanner raises for text that is not JSON at all
            raise ValueError(f"not JSON: {text[:40]!r}") from err

    return loads


_dumps = _encoder(sort_keys=False)
_canonical = _encoder(sort_keys=True)
_loads = _decoder()

# What a read selects: the rest of a finding comes from its task and its kind.
FINDING_COLUMNS = "finding_id, kind, finding_time, resources, suppressed"
FINDING_INSERT = (
    "INSERT INTO finding (task, check_name, identity, finding_id, kind, finding_time, resources, suppressed, "
    "label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (task, finding_id) DO UPDATE SET check_name = excluded.check_name, "
    "identity = excluded.identity, kind = excluded.kind, finding_time = excluded.finding_time, "
    "resources = excluded.resources, suppressed = excluded.suppressed, label = excluded.label"
)
_NO_INFO: dict[str, str] = {}  # shared by every resource without additionalInfo: models are never mutated

Kind = tuple[str, str, str | None, str | None, datetime | None]  # check, severity, code, reason, task start


@contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic collector off while a batch of findings is built or encoded: each batch makes ~10 objects
    per finding, which set off collections that walk every object the app holds (half a read's time).
    Nothing made here is cyclic. Another thread's no_gc leaves it to whichever turned it off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _datetime(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class Kinds:
    """The kind table of one store, in memory both ways. A row may name a kind another process added:
    `load` reads the ones this process has not seen (cheap: a handful per audit)."""

    def __init__(self) -> None:
        self.values: dict[int, Kind] = {}
        self._ids: dict[Kind, int] = {}
        self._starts: dict[float | None, datetime | None] = {None: None}  # one per audit, as from_api's
        self._last = 0

    def load(self, db: sqlite3.Connection) -> None:
        for kind_id, key in db.execute("SELECT id, key FROM kind WHERE id > ? ORDER BY id", (self._last,)):
            check, severity, code, reason, start = _loads(key)
            when = self._starts.setdefault(start, _datetime(start))
            value = (shared(check), shared(severity), shared(code), shared(reason), when)
            self.values[kind_id] = value
            self._ids.setdefault(value, kind_id)
            self._last = kind_id

    def id_of(self, db: sqlite3.Connection, value: Kind) -> int:
        """Inside a write transaction; `forget` if it rolls back, or an id would name nothing."""
        found = self._ids.get(value)
        if found is None:
            check, severity, code, reason, start = value
            key = _dumps([check, severity, code, reason, epoch(start)])
            db.execute("INSERT INTO kind (key) VALUES (?) ON CONFLICT (key) DO NOTHING", (key,))
            found = db.execute("SELECT id FROM kind WHERE key = ?", (key,)).fetchone()[0]
            self._ids[value] = found
            start = self._starts.setdefault(epoch(start), start)
            self.values[found] = (check, severity, code, reason, start)
        return found

    def forget(self) -> None:
        self.values.clear()
        self._ids.clear()
        self._starts.clear()
        self._starts[None] = None
        self._last = 0


# ResourceRef keeps its identifier as a flat (member, value…) tuple (`_pairs`); the store keeps it flat too
# and builds ResourceRef without its __init__, which would go through a dict (a third of a read's time).
# tests/history/test_store.py's round trip compares rebuilt findings with the originals: it fails if
# ResourceRef's fields change.
_new = object.__new__
_set = object.__setattr__


def _flat(ref: ResourceRef) -> list[Any]:
    return [ref.resource_type, ref.additional_info or 0, *ref._pairs]


def identity(check_name: str, resource: ResourceRef) -> int:
    """Which finding of another audit is "the same": check + resource type + identifier, hashed to 64 bits
    (a collision among 1,000,000 findings has odds of about 1 in 30 million) so the drift join compares
    integers. Members are sorted: AWS does not promise their order."""
    key = _canonical([check_name, resource.resource_type, resource.identifier])
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def finding_rows(
    task: int, findings: Iterable[Finding], kind_id: Callable[[Kind], int]
) -> Iterator[tuple[Any, ...]]:
    """Rows for FINDING_INSERT."""
    times: dict[datetime | None, float | None] = {None: None}
    for f in findings:
        found = f.finding_time
        if found not in times:
            times[found] = epoch(found)
        kind = kind_id((f.check_name, f.severity, f.reason_code, f.reason, f.task_start_time))
        resources = [_flat(f.resource), *map(_flat, f.related)] if f.related else [_flat(f.resource)]
        yield (
            task, f.check_name, identity(f.check_name, f.resource), f.finding_id, kind, times[found],
            _dumps(resources), 1 if f.is_suppressed else 0, f.resource.readable,
        )  # fmt: skip


class FindingReader:
    """Rebuilds findings of one task from rows of FINDING_COLUMNS; one per read, so its caches of times and
    strings live as long as the read."""

    def __init__(self, task_id: str, kinds: Mapping[int, Kind]):
        self._task_id = shared(task_id)
        self._kinds = kinds
        self._times: dict[float | None, datetime | None] = {None: None}
        self._types: dict[str, str] = {}

    def _ref(self, flat: list[Any]) -> ResourceRef:
        ref = _new(ResourceRef)
        kind = flat[0]
        _set(ref, "resource_type", self._types.setdefault(kind, kind))
        _set(ref, "_pairs", tuple(flat[2:]))
        _set(ref, "additional_info", flat[1] or _NO_INFO)
        return ref

    def __call__(self, rows: Iterable[tuple[Any, ...]]) -> list[Finding]:
        with no_gc():
            return self._read(rows)

    def _read(self, rows: Iterable[tuple[Any, ...]]) -> list[Finding]:
        task_id, kinds, times, ref = self._task_id, self._kinds, self._times, self._ref
        out = []
        for finding_id, kind_id, found, resources, suppressed in rows:
            check, severity, code, reason, start = kinds[kind_id]
            when = times.get(found)
            if when is None and found is not None:
                when = times[found] = datetime.fromtimestamp(found, UTC)
            flats = _loads(resources)
            related = tuple(map(ref, flats[1:])) if len(flats) > 1 else ()
            resource = ref(flats[0])
            out.append(
                Finding(
                    finding_id,
                    task_id,
                    check,
                    start,
                    when,
                    severity,
                    resource,
                    related,
                    code,
                    reason,
                    bool(suppressed),
                )
            )
        return out


def statistics_text(stats: TaskStatistics | None) -> str | None:
    if stats is None:
        return None
    return _dumps(
        [stats.total, stats.in_progress, stats.waiting, stats.compliant, stats.non_compliant, stats.failed,
         stats.canceled]
    )  # fmt: skip


def check_rows(task: int, checks: Iterable[CheckResult]) -> list[tuple[Any, ...]]:
    return [
        (task, c.check_name, c.status, None if c.compliant is None else int(c.compliant), c.total_resources,
         c.non_compliant, c.suppressed_non_compliant, c.error_code, c.message)
        for c in checks
    ]  # fmt: skip


def check_result(row: tuple[Any, ...]) -> CheckResult:
    """From check_result's columns after task."""
    name, status, compliant, total, non_compliant, suppressed, error_code, message = row
    return CheckResult(
        name, status, None if compliant is None else bool(compliant), total, non_compliant, suppressed,
        error_code, message,
    )  # fmt: skip


def audit_task(row: tuple[Any, ...], checks: tuple[CheckResult, ...]) -> AuditTask:
    """From task's columns task_id, status, task_type, start_time, scheduled_audit_name, statistics."""
    task_id, status, task_type, start, scheduled, stats = row
    return AuditTask(
        task_id=task_id,
        status=status,
        task_type=task_type,
        start_time=_datetime(start),
        scheduled_audit_name=scheduled,
        statistics=None if stats is None else TaskStatistics(*_loads(stats)),
        checks=checks,
    )
