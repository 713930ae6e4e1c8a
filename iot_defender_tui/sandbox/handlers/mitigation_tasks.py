"""Start/Describe/List/CancelAuditMitigationActionsTask(s) and ListAuditMitigationActionsExecutions."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

from .. import ticker
from ..audits import is_suppressed
from ..checks import CHECKS, allowed_action_types
from ..errors import InvalidRequest, LimitExceeded, ResourceNotFound, TaskAlreadyExists
from ..executor import executions_for, skipped_executions, statistics
from ..state import DefenderState, Finding, MitigationTask, now
from ..wire import epoch, time_window
from .base import DefenderResponse, page
from .validate import require_name

MAX_RUNNING = 10  # concurrent audit mitigation actions tasks (Device Defender quotas)
TASK_STATUSES = ("IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED")
EXECUTION_STATUSES = ("IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED", "SKIPPED", "PENDING")
TOKEN = re.compile(r"^[a-zA-Z0-9_-]{1,64}\Z")
FILTERED_OUT = "Skipped because the target's auditCheckToReasonCodeFilter leaves the finding out."


def _validate_mapping(state: DefenderState, mapping: Any) -> dict[str, list[str]]:
    if not isinstance(mapping, dict) or not mapping:
        raise InvalidRequest("auditCheckToActionsMapping must map at least one audit check to actions.")
    for check, names in mapping.items():
        if check not in CHECKS:
            raise InvalidRequest(f"Unknown audit check: {check}")
        if not isinstance(names, list) or not 1 <= len(names) <= 5:
            raise InvalidRequest(f"{check} must be mapped to 1 to 5 mitigation actions.")
        allowed = allowed_action_types(check)
        for name in names:
            action = state.actions.get(name)
            if action is None:
                raise InvalidRequest(f"Mitigation action {name} does not exist.")
            if action.action_type not in allowed:
                raise InvalidRequest(
                    f"Mitigation action {name} ({action.action_type}) cannot be applied to {check}; "
                    f"allowed types: {', '.join(allowed)}."
                )
    return {check: list(dict.fromkeys(names)) for check, names in mapping.items()}


def _target_findings(
    state: DefenderState, target: Any, mapping: dict[str, list[str]]
) -> tuple[list[Finding], list[Finding]]:
    """The target's findings whose check the mapping covers, in processing order, and those of them that
    the target's auditCheckToReasonCodeFilter leaves out."""
    if not isinstance(target, dict):
        raise InvalidRequest("target is required.")
    finding_ids = target.get("findingIds")
    task_id = target.get("auditTaskId")
    reason_filter = target.get("auditCheckToReasonCodeFilter")
    if (finding_ids is None) == (task_id is None):
        raise InvalidRequest("target must name either findingIds or an auditTaskId.")
    if reason_filter is not None and task_id is None:
        raise InvalidRequest("auditCheckToReasonCodeFilter is only valid together with auditTaskId.")
    if finding_ids is not None:
        if not 1 <= len(finding_ids) <= 25:
            raise InvalidRequest("target.findingIds must list 1 to 25 findings.")
        missing = [f for f in finding_ids if f not in state.findings]
        if missing:
            raise ResourceNotFound(f"Audit finding(s) {', '.join(missing)} do not exist.")
        found = [state.findings[f] for f in dict.fromkeys(finding_ids)]
    else:
        task = state.tasks.get(task_id)
        if task is None:
            raise ResourceNotFound(f"Audit task {task_id} does not exist.")
        found = [state.findings[f] for f in task.finding_ids if f in state.findings]
    found = [f for f in found if f.check_name in mapping]
    if reason_filter is None:
        return found, []
    for check, codes in reason_filter.items():
        if check not in CHECKS:
            raise InvalidRequest(f"Unknown audit check in auditCheckToReasonCodeFilter: {check}")
        if not codes or len(codes) > 25:
            raise InvalidRequest(f"{check} must be filtered on 1 to 25 reason codes.")
    picked: list[Finding] = []
    left_out: list[Finding] = []  # still the task's: skipped, and counted so (TaskStatisticsForAuditCheck)
    for f in found:
        (picked if f.reason_code in (reason_filter.get(f.check_name) or ()) else left_out).append(f)
    return picked, left_out


def _execution_dict(e: Any) -> dict[str, Any]:
    return {
        "taskId": e.task_id,
        "findingId": e.finding_id,
        "actionName": e.action_name,
        "actionId": e.action_id,
        "status": e.status,
        "startTime": epoch(e.start_time),
        "endTime": epoch(e.end_time),
        "errorCode": e.error_code,
        "message": e.message,
    }


class MitigationTasksMixin(DefenderResponse):
    def start_audit_mitigation_actions_task(self) -> str:
        task_id = require_name(self.args.get("taskId"), "taskId")
        token = self.args.get("clientRequestToken")
        if not isinstance(token, str) or not TOKEN.match(token):
            raise InvalidRequest("clientRequestToken must be 1-64 characters of letters, digits, '_' or '-'.")
        target = self.args.get("target")
        raw_mapping = self.args.get("auditCheckToActionsMapping")
        fingerprint = json.dumps({"target": target, "mapping": raw_mapping}, sort_keys=True, default=str)
        ticker.tick()  # tasks that are due to finish no longer count against the limit
        state = self.state
        with state.lock:
            existing = state.mitigation_tasks.get(task_id)
            if existing is not None:
                # A retry with the same token is the same request: answer as the first time.
                if existing.client_request_token == token and existing.request_fingerprint == fingerprint:
                    return self.reply({"taskId": task_id})
                raise TaskAlreadyExists(f"An audit mitigation actions task with id {task_id} already exists.")
            mapping = _validate_mapping(state, raw_mapping)
            findings, filtered_out = _target_findings(state, target, mapping)
            running = sum(1 for t in state.mitigation_tasks.values() if t.status == "IN_PROGRESS")
            if running >= MAX_RUNNING:
                raise LimitExceeded(f"At most {MAX_RUNNING} audit mitigation actions tasks may run at once.")
            when = now()
            # Most accounts have no suppressions: then only the audit-time flag needs looking at.
            check_now = bool(state.suppressions)
            suppressed = [
                f
                for f in findings
                if f.suppressed_at_audit
                or (check_now and is_suppressed(state, f.check_name, f.resource_identifier, when))
            ]
            skipped = {f.finding_id for f in suppressed}
            names = {name for names in mapping.values() for name in names}
            task = MitigationTask(
                task_id=task_id,
                client_request_token=token,
                target=copy.deepcopy(target),
                check_to_actions=mapping,
                # Later edits of an action must not change what a running task does.
                actions={
                    n: dataclasses.replace(state.actions[n], params=copy.deepcopy(state.actions[n].params))
                    for n in names
                },
                finding_ids=[f.finding_id for f in findings if f.finding_id not in skipped],
                start_time=when,
                request_fingerprint=fingerprint,
            )
            for finding in filtered_out:
                task.executions += skipped_executions(task, finding, when, FILTERED_OUT)
            for finding in suppressed:
                task.executions += skipped_executions(task, finding, when)
            state.mitigation_tasks[task_id] = task
        return self.reply({"taskId": task_id})

    def _mitigation_task(self, task_id: str) -> MitigationTask:
        task = self.state.mitigation_tasks.get(task_id)
        if task is None:
            raise ResourceNotFound(f"Audit mitigation actions task {task_id} does not exist.")
        return task

    def describe_audit_mitigation_actions_task(self) -> str:
        ticker.tick()
        with self.state.lock:
            task = self._mitigation_task(self.args.get("taskId", ""))
            return self.reply(
                {
                    "taskStatus": task.status,
                    "startTime": epoch(task.start_time),
                    "endTime": epoch(task.end_time),
                    "taskStatistics": statistics(task, self.state.findings),
                    "target": task.target,
                    "auditCheckToActionsMapping": task.check_to_actions,
                    "actionsDefinition": [
                        {"name": a.name, "id": a.action_id, "roleArn": a.role_arn, "actionParams": a.params}
                        for a in task.actions.values()
                    ],
                }
            )

    def list_audit_mitigation_actions_tasks(self) -> str:
        start, end = time_window(self.args)
        audit_task_id = self.args.get("auditTaskId")
        finding_id = self.args.get("findingId")
        status = self.args.get("taskStatus")
        if status is not None and status not in TASK_STATUSES:
            raise InvalidRequest(f"Unknown task status: {status}")
        ticker.tick()
        state = self.state
        with state.lock:

            def matches(task: MitigationTask) -> bool:
                if not start <= task.start_time <= end or status not in (None, task.status):
                    return False
                # Suppressed findings of the target are in it too, with SKIPPED executions.
                in_target = {*task.finding_ids, *(task.target.get("findingIds") or [])}
                in_target.update(e.finding_id for e in task.executions)
                if finding_id is not None and finding_id not in in_target:
                    return False
                if audit_task_id is not None and task.target.get("auditTaskId") != audit_task_id:
                    owners = {state.findings[f].task_id for f in in_target if f in state.findings}
                    return audit_task_id in owners
                return True

            tasks = [t for t in state.mitigation_tasks.values() if matches(t)]
            tasks.sort(key=lambda t: (-t.start_time, t.task_id))  # newest first
            items, token = page(tasks, self.args.get("nextToken"), self.args.get("maxResults"))
            rows = [
                {"taskId": t.task_id, "startTime": epoch(t.start_time), "taskStatus": t.status} for t in items
            ]
        return self.reply({"tasks": rows, "nextToken": token})

    def list_audit_mitigation_actions_executions(self) -> str:
        task_id = self.args.get("taskId")
        finding_id = self.args.get("findingId")
        if not task_id or not finding_id:
            raise InvalidRequest("taskId and findingId are both required.")
        status = self.args.get("actionStatus")
        if status is not None and status not in EXECUTION_STATUSES:
            raise InvalidRequest(f"Unknown execution status: {status}")
        ticker.tick()
        with self.state.lock:
            task = self.state.mitigation_tasks.get(task_id)
            found = executions_for(task, finding_id, self.state.findings) if task else []
            rows = [_execution_dict(e) for e in found if status in (None, e.status)]
        items, token = page(rows, self.args.get("nextToken"), self.args.get("maxResults"))
        return self.reply({"actionsExecutions": list(items), "nextToken": token})

    def cancel_audit_mitigation_actions_task(self) -> str:
        ticker.tick()  # what was due before the cancel has run
        with self.state.lock:
            task = self._mitigation_task(self.args.get("taskId", ""))
            if task.status != "IN_PROGRESS":
                raise InvalidRequest(
                    f"Audit mitigation actions task {task.task_id} is {task.status}, not IN_PROGRESS."
                )
            # Nothing already done is rolled back; findings not reached yet become CANCELED.
            task.status = "CANCELED"
            task.end_time = now()
        return self.reply({})
