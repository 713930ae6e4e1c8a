"""Findings and tasks to rows and back.

Reading 100,000 findings back must stay well under a second, so a row is rebuilt with one `json.loads`
for its resource (and one more only when it has related resources), and the values an audit repeats in
every finding (check, severity, reason, times) come out as one shared object each, as `Finding.from_api`
makes them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ..aws.models_audit import AuditTask, CheckResult, TaskStatistics
from ..aws.models_findings import Finding, ResourceRef, shared

_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
_canonical = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode
_loads = json.loads

FINDING_COLUMNS = (
    "finding_id, task_start, finding_time, check_name, severity, resource, related, reason_code, reason, "
    "suppressed"
)


def epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def identity(check_name: str, resource: ResourceRef) -> int:
    """Which finding of another audit is "the same": check + resource type + identifier, hashed to 64 bits
    (a collision in 1,000,000 findings has odds of about 1 in 30 million) so the drift join compares
    integers. Keys are sorted: AWS does not promise an identifier's member order."""
    key = f"{check_name}\x00{resource.resource_type}\x00{_canonical(resource.identifier)}"
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _resource(ref: ResourceRef) -> list[Any]:
    info = ref.additional_info
    return [ref.resource_type, ref.identifier, info] if info else [ref.resource_type, ref.identifier]


def finding_rows(task: int, findings: Iterable[Finding]) -> Iterable[tuple[Any, ...]]:
    """The finding table's columns after seq, in schema order."""
    times: dict[datetime | None, float | None] = {None: None}
    for f in findings:
        start, found = f.task_start_time, f.finding_time
        if start not in times:
            times[start] = epoch(start)
        if found not in times:
            times[found] = epoch(found)
        yield (
            task,
            f.check_name,
            f.finding_id,
            identity(f.check_name, f.resource),
            times[start],
            times[found],
            f.severity,
            _dumps(_resource(f.resource)),
            _dumps([_resource(r) for r in f.related]) if f.related else None,
            f.reason_code,
            f.reason,
            1 if f.is_suppressed else 0,
        )


def _ref(data: list[Any]) -> ResourceRef:
    return ResourceRef(shared(data[0]), data[1], data[2] if len(data) > 2 else None)


class FindingReader:
    """Rebuilds findings of one task from rows of FINDING_COLUMNS; keep one per read so its caches of
    times and strings live as long as the read."""

    def __init__(self, task_id: str):
        self._task_id = shared(task_id)
        self._times: dict[float | None, datetime | None] = {None: None}

    def _time(self, value: float | None) -> datetime | None:
        found = self._times.get(value, self)
        if found is self:
            assert value is not None
            found = self._times[value] = datetime.fromtimestamp(value, UTC)
        return found  # type: ignore[return-value]

    def __call__(self, rows: Iterable[tuple[Any, ...]]) -> list[Finding]:
        time, task_id = self._time, self._task_id
        out = []
        for finding_id, start, found, check, severity, resource, related, code, reason, suppressed in rows:
            out.append(
                Finding(
                    finding_id,
                    task_id,
                    shared(check),
                    time(start),
                    time(found),
                    shared(severity),
                    _ref(_loads(resource)),
                    tuple(_ref(r) for r in _loads(related)) if related else (),
                    shared(code),
                    shared(reason),
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
        start_time=None if start is None else datetime.fromtimestamp(start, UTC),
        scheduled_audit_name=scheduled,
        statistics=None if stats is None else TaskStatistics(*_loads(stats)),
        checks=checks,
    )
