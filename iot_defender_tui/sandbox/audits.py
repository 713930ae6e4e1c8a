"""Audit task lifecycle: start, checks finishing one by one over `audit_seconds`, cancel, suppression."""

from __future__ import annotations

import json
from typing import Any

from .checks import CHECKS
from .engine.context import AuditContext
from .engine.registry import evaluate_check
from .errors import InvalidRequest, LimitExceeded, ResourceNotFound
from .notifications import notify
from .runtime import new_uuid, runtime
from .state import AuditTask, CheckRun, DefenderState, Finding

MAX_CONCURRENT_ON_DEMAND = 10


def resource_key(identifier: dict[str, Any]) -> str:
    return json.dumps(identifier, sort_keys=True, separators=(",", ":"))


def is_suppressed(state: DefenderState, check_name: str, identifier: dict[str, Any], now: float) -> bool:
    suppression = state.suppressions.get((check_name, resource_key(identifier)))
    if suppression is None:
        return False
    if suppression.suppress_indefinitely:
        return True
    return suppression.expiration_date is None or suppression.expiration_date > now


def start_audit(
    state: DefenderState,
    checks: list[str],
    now: float,
    task_type: str = "ON_DEMAND_AUDIT_TASK",
    scheduled_audit_name: str | None = None,
    duration: float | None = None,
) -> AuditTask:
    """Create an IN_PROGRESS task whose checks finish evenly over `duration` seconds (under lock)."""
    config = state.audit_config
    if config is None:
        raise InvalidRequest("Audit is not configured for this account: set the audit configuration first.")
    disabled = [c for c in checks if not (c in config.checks and config.checks[c].enabled)]
    if disabled:
        raise InvalidRequest(f"These checks are not enabled for the account: {', '.join(disabled)}")
    if task_type == "ON_DEMAND_AUDIT_TASK":
        running = sum(
            1
            for t in state.tasks.values()
            if t.status == "IN_PROGRESS" and t.task_type == "ON_DEMAND_AUDIT_TASK"
        )
        if running >= MAX_CONCURRENT_ON_DEMAND:
            raise LimitExceeded(f"At most {MAX_CONCURRENT_ON_DEMAND} on-demand audits may run at once.")
    seconds = runtime().options.audit_seconds if duration is None else duration
    ordered = sorted(dict.fromkeys(checks))
    runs = {
        name: CheckRun(name=name, due=now + seconds * (i + 1) / len(ordered))
        for i, name in enumerate(ordered)
    }
    task = AuditTask(
        task_id=new_uuid().hex,
        task_type=task_type,
        start_time=now,
        checks=runs,
        scheduled_audit_name=scheduled_audit_name,
    )
    state.tasks[task.task_id] = task
    return task


def advance(state: DefenderState, now: float) -> None:
    """Finish every check whose time has come. Evaluation runs outside the lock: it can be slow."""
    with state.lock:
        due = [
            (task, run)
            for task in state.tasks.values()
            if task.status == "IN_PROGRESS"
            for run in task.checks.values()
            if run.status == "IN_PROGRESS" and run.due <= now
        ]
    for task, run in due:
        finish_check(state, task, run, now)


def finish_check(state: DefenderState, task: AuditTask, run: CheckRun, now: float) -> None:
    outcome = evaluate_check(run.name, AuditContext.of(state, now, task))
    with state.lock:
        if task.status != "IN_PROGRESS" or run.status != "IN_PROGRESS":
            return  # canceled meanwhile
        run.total_resources = outcome.total_resources
        if outcome.error is not None:
            run.status = "FAILED"
            run.error_code = outcome.error_code
            run.message = outcome.error
        else:
            severity = CHECKS[run.name].severity
            suppressed = 0
            for draft in outcome.findings:
                finding = Finding(
                    finding_id=new_uuid().hex,
                    task_id=task.task_id,
                    check_name=run.name,
                    task_start_time=task.start_time,
                    finding_time=now,
                    severity=severity,
                    resource_type=draft.resource_type,
                    resource_identifier=draft.resource_identifier,
                    additional_info=draft.additional_info,
                    related_resources=draft.related_resources,
                    reason_code=draft.reason_code,
                    reason=draft.reason,
                    suppressed_at_audit=is_suppressed(state, run.name, draft.resource_identifier, now),
                )
                suppressed += finding.suppressed_at_audit
                state.findings[finding.finding_id] = finding
                task.finding_ids.append(finding.finding_id)
            run.non_compliant = len(outcome.findings)
            run.suppressed_non_compliant = suppressed
            # Suppressed findings do not make a check non-compliant.
            run.compliant = run.non_compliant == suppressed
            run.status = "COMPLETED_COMPLIANT" if run.compliant else "COMPLETED_NON_COMPLIANT"
        if all(r.status != "IN_PROGRESS" for r in task.checks.values()):
            failed = all(r.status == "FAILED" for r in task.checks.values())
            task.status = "FAILED" if failed else "COMPLETED"
            notify(state, task)


def cancel_audit(state: DefenderState, task_id: str) -> None:
    with state.lock:
        task = state.tasks.get(task_id)
        if task is None:
            raise ResourceNotFound(f"Audit task {task_id} does not exist.")
        if task.status != "IN_PROGRESS":
            raise InvalidRequest(f"Audit task {task_id} is {task.status}, not IN_PROGRESS.")
        task.status = "CANCELED"
        for run in task.checks.values():
            if run.status == "IN_PROGRESS":
                run.status = "CANCELED"
        notify(state, task)


def run_to_completion(state: DefenderState, task: AuditTask) -> None:
    """Finish every check of `task` now (fleet seeding of past audits; tests)."""
    for run in list(task.checks.values()):
        if run.status == "IN_PROGRESS":
            finish_check(state, task, run, run.due)
