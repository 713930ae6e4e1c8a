"""Drift between two stored audits: per check, the findings that are new, resolved or persisting.

A finding is the same across audits when its check and resource identity match (finding ids differ per
audit): the `identity` column, a hash computed when the finding was saved, so the diff is two SQL
anti/semi-joins over the (task, check_name, identity) index, not a walk over findings in Python.
"""

from __future__ import annotations

from collections import defaultdict

from .models import CheckDrift, Drift
from .store import AuditStore, HistoryError

_TASK = "(SELECT id FROM task WHERE account = ? AND region = ? AND task_id = ?)"

# Findings of `a` (the first task) with whether `b` (the second) has one of the same check and identity.
_MATCHED = f"""
SELECT a.check_name, a.finding_id, EXISTS (
    SELECT 1 FROM finding b
    WHERE b.task = {_TASK} AND b.check_name = a.check_name AND b.identity = a.identity
)
FROM finding a WHERE a.task = {_TASK} ORDER BY a.check_name, a.identity, a.seq
"""


def drift(store: AuditStore, account: str, region: str, earlier_task_id: str, later_task_id: str) -> Drift:
    """Every check either audit ran or found something for, by name. New and persisting are finding ids of
    the later audit, resolved ones of the earlier. HistoryError if either audit is not stored."""
    earlier = store.task(account, region, earlier_task_id)
    later = store.task(account, region, later_task_id)
    for task_id, task in ((earlier_task_id, earlier), (later_task_id, later)):
        if task is None:
            raise HistoryError(f"audit {task_id} is not in the history", reason="audit not stored")
    names: set[str] = {c.check_name for t in (earlier, later) if t for c in t.checks}
    new: dict[str, list[str]] = defaultdict(list)
    persisting: dict[str, list[str]] = defaultdict(list)
    resolved: dict[str, list[str]] = defaultdict(list)
    for check, finding_id, matched in store.select(
        _MATCHED, (account, region, earlier_task_id, account, region, later_task_id)
    ):
        (persisting if matched else new)[check].append(finding_id)
    for check, finding_id, matched in store.select(
        _MATCHED, (account, region, later_task_id, account, region, earlier_task_id)
    ):
        if not matched:
            resolved[check].append(finding_id)
    names.update(new, persisting, resolved)
    return Drift(
        earlier_task_id,
        later_task_id,
        tuple(
            CheckDrift(name, tuple(new[name]), tuple(resolved[name]), tuple(persisting[name]))
            for name in sorted(names)
        ),
    )


def previous_covering(store: AuditStore, account: str, region: str, task_id: str) -> str | None:
    """The audit to compare `task_id` with: the latest stored audit that started before it, is COMPLETED,
    and ran every check `task_id` ran (more is fine: only the shared checks are compared, and a daily
    audit of five checks still finds last week's full audit). Not required: that the earlier audit's
    findings are all stored (`is_complete`), so a caller that needs them should check. None when there
    is none, or `task_id` is not stored or has no start time or check results."""
    tasks = store.tasks(account, region)  # newest first
    target = next((t for t in tasks if t.task_id == task_id), None)
    if target is None or target.start_time is None or not target.checks:
        return None
    wanted = {c.check_name for c in target.checks}
    for task in tasks:
        if (
            task.status == "COMPLETED"
            and task.start_time is not None
            and task.start_time < target.start_time
            and wanted <= {c.check_name for c in task.checks}
        ):
            return task.task_id
    return None
