"""The mitigation executor: applies audit mitigation actions task by task, one finding at a time.

Finding i (0-based) of a task's n findings is processed at start + mitigation_seconds * (i + 1) / n, so
progress is visible while a task runs; a tick that comes late catches up on every finding that is due.
Executions exist as records only once their finding has been processed: the PENDING (or, after a
cancel, CANCELED) executions of later findings are derived from the task when asked for.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from .mitigation_effects import ExecutionFailed, FindingWork, apply
from .runtime import runtime
from .state import DefenderState, Execution, Finding, MitigationTask
from .wire import finding_to_dict

log = logging.getLogger(__name__)

SUCCEEDED, FAILED, SKIPPED, CANCELED = "succeeded", "failed", "skipped", "canceled"


def advance(state: DefenderState, now: float) -> None:
    """Process the findings whose turn has come in every IN_PROGRESS mitigation task."""
    with state.lock:
        running = [t for t in state.mitigation_tasks.values() if t.status == "IN_PROGRESS"]
    if not running:
        return
    seconds = runtime().options.mitigation_seconds
    for task in running:
        while True:
            # One finding per lock hold, so requests are served between findings of a big task.
            with state.lock:
                if task.status != "IN_PROGRESS":
                    break
                total = len(task.finding_ids)
                index = task.next_index
                if index >= total:
                    _finish(task, now)
                    break
                if task.start_time + seconds * (index + 1) / total > now:
                    break
                task.executions += _process(state, task, task.finding_ids[index], now)
                task.next_index = index + 1


def _finish(task: MitigationTask, now: float) -> None:
    task.status = "FAILED" if any(e.status == "FAILED" for e in task.executions) else "COMPLETED"
    task.end_time = now


def _message(finding: Finding) -> str:
    return json.dumps(finding_to_dict(finding), separators=(",", ":"))


def _process(state: DefenderState, task: MitigationTask, finding_id: str, now: float) -> list[Execution]:
    """Run the mapped actions for one finding in order; after a failure the rest are SKIPPED."""
    finding = state.findings.get(finding_id)
    names = task.check_to_actions.get(finding.check_name, []) if finding else []
    work = FindingWork(state, finding, _message) if finding else None
    executions = []
    failed: str | None = None
    for name in names:
        action = task.actions[name]
        execution = Execution(task.task_id, finding_id, name, action.action_id, start_time=now, end_time=now)
        if failed is not None:
            execution.status = "SKIPPED"
            execution.message = f"Skipped because mitigation action {failed} failed for this finding."
        else:
            try:
                apply(work, action)
                execution.status = "COMPLETED"
            except ExecutionFailed as err:
                execution.status, execution.error_code, execution.message = "FAILED", err.code, err.message
            except Exception:  # a moto surprise fails this execution, not the ticker
                log.exception("mitigation action %s failed on finding %s", name, finding_id)
                execution.status, execution.error_code = "FAILED", "InternalFailure"
                execution.message = f"The sandbox failed while applying {name}."
            if execution.status == "FAILED":
                failed = name
        executions.append(execution)
    return executions


def skipped_executions(
    task: MitigationTask,
    finding: Finding,
    now: float,
    message: str = "Skipped because the finding is suppressed.",
) -> list[Execution]:
    """The SKIPPED executions of a finding the task does not mitigate: a suppressed one (suppressed
    findings are never mitigated), or one its target's reason-code filter leaves out."""
    return [
        Execution(
            task.task_id,
            finding.finding_id,
            name,
            task.actions[name].action_id,
            status="SKIPPED",
            start_time=now,
            end_time=now,
            message=message,
        )
        for name in task.check_to_actions.get(finding.check_name, [])
    ]


def executions_for(task: MitigationTask, finding_id: str, findings: dict[str, Finding]) -> list[Execution]:
    """The executions of one finding of `task`, recorded or (for findings not processed yet) derived."""
    recorded = [e for e in task.executions if e.finding_id == finding_id]
    if recorded:
        return recorded
    try:
        index = task.finding_ids.index(finding_id)
    except ValueError:
        return []
    finding = findings.get(finding_id)
    if index < task.next_index or finding is None:
        return []
    status = "CANCELED" if task.status == "CANCELED" else "PENDING"
    return [
        Execution(task.task_id, finding_id, name, task.actions[name].action_id, status=status)
        for name in task.check_to_actions.get(finding.check_name, [])
    ]


def _outcome(statuses: list[str]) -> str:
    if "FAILED" in statuses:
        return FAILED
    if all(s == "SKIPPED" for s in statuses):
        return SKIPPED
    if "CANCELED" in statuses:
        return CANCELED
    return SUCCEEDED


def statistics(task: MitigationTask, findings: dict[str, Finding]) -> dict[str, dict[str, Any]]:
    """taskStatistics: per check, how many findings succeeded, failed, were skipped or canceled."""
    counts = {
        check: dict.fromkeys((SUCCEEDED, FAILED, SKIPPED, CANCELED, "total"), 0)
        for check in task.check_to_actions
    }
    by_finding: dict[str, list[str]] = {}
    for execution in task.executions:
        by_finding.setdefault(execution.finding_id, []).append(execution.status)
    for finding_id, statuses in by_finding.items():
        finding = findings.get(finding_id)
        if finding is not None and finding.check_name in counts:
            entry = counts[finding.check_name]
            entry["total"] += 1
            entry[_outcome(statuses)] += 1
    for finding_id in task.finding_ids[task.next_index :]:
        finding = findings.get(finding_id)
        if finding is not None and finding.check_name in counts:
            counts[finding.check_name]["total"] += 1
            counts[finding.check_name][CANCELED] += task.status == "CANCELED"
    return {
        check: {
            "totalFindingsCount": c["total"],
            "failedFindingsCount": c[FAILED],
            "succeededFindingsCount": c[SUCCEEDED],
            "skippedFindingsCount": c[SKIPPED],
            "canceledFindingsCount": c[CANCELED],
        }
        for check, c in counts.items()
    }
