"""StartOnDemandAuditTask, ListAuditTasks, DescribeAuditTask, CancelAuditTask."""

from __future__ import annotations

from typing import Any

from .. import audits, ticker
from ..errors import InvalidRequest, ResourceNotFound
from ..state import AuditTask, CheckRun, now
from ..wire import epoch, time_window
from .base import DefenderResponse, page
from .validate import require_checks

RETENTION_SECONDS = 90 * 86400  # audit results are kept 90 days
TASK_TYPES = ("ON_DEMAND_AUDIT_TASK", "SCHEDULED_AUDIT_TASK")
TASK_STATUSES = ("IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED")


def check_details(run: CheckRun) -> dict[str, Any]:
    done = run.status in ("COMPLETED_COMPLIANT", "COMPLETED_NON_COMPLIANT")
    return {
        "checkRunStatus": run.status,
        "checkCompliant": run.compliant if done else None,
        "totalResourcesCount": run.total_resources if done or run.status == "FAILED" else None,
        "nonCompliantResourcesCount": run.non_compliant if done else None,
        "suppressedNonCompliantResourcesCount": run.suppressed_non_compliant if done else None,
        "errorCode": run.error_code,
        "message": run.message,
    }


def task_statistics(task: AuditTask) -> dict[str, int]:
    statuses = [run.status for run in task.checks.values()]
    return {
        "totalChecks": len(statuses),
        "inProgressChecks": statuses.count("IN_PROGRESS"),
        "waitingForDataCollectionChecks": statuses.count("WAITING_FOR_DATA_COLLECTION"),
        "compliantChecks": statuses.count("COMPLETED_COMPLIANT"),
        "nonCompliantChecks": statuses.count("COMPLETED_NON_COMPLIANT"),
        "failedChecks": statuses.count("FAILED"),
        "canceledChecks": statuses.count("CANCELED"),
    }


class AuditTasksMixin(DefenderResponse):
    def start_on_demand_audit_task(self) -> str:
        checks = require_checks(self.args.get("targetCheckNames"))
        with self.state.lock:
            task = audits.start_audit(self.state, checks, now())
        return self.reply({"taskId": task.task_id})

    def list_audit_tasks(self) -> str:
        args = self.args
        start, end = time_window(args)
        if start < now() - RETENTION_SECONDS:
            raise InvalidRequest("startTime is earlier than the 90 days for which audit results are kept.")
        task_type = args.get("taskType")
        if task_type is not None and task_type not in TASK_TYPES:
            raise InvalidRequest(f"taskType must be one of {', '.join(TASK_TYPES)}: {task_type!r}")
        status = args.get("taskStatus")
        if status is not None and status not in TASK_STATUSES:
            raise InvalidRequest(f"taskStatus must be one of {', '.join(TASK_STATUSES)}: {status!r}")
        ticker.tick()
        with self.state.lock:
            tasks = [
                (t.start_time, t.task_id, t.status, t.task_type)
                for t in self.state.tasks.values()
                if start <= t.start_time <= end
                and (task_type is None or t.task_type == task_type)
                and (status is None or t.status == status)
            ]
        tasks.sort(reverse=True)  # newest first
        items, token = page(tasks, args.get("nextToken"), args.get("maxResults"), 25)
        return self.reply(
            {
                "tasks": [
                    {"taskId": task_id, "taskStatus": task_status, "taskType": kind}
                    for _, task_id, task_status, kind in items
                ],
                "nextToken": token,
            }
        )

    def describe_audit_task(self) -> str:
        task_id = self.args.get("taskId", "")
        ticker.tick()
        with self.state.lock:
            task = self.state.tasks.get(task_id)
            if task is None:
                raise ResourceNotFound(f"Audit task {task_id} does not exist.")
            return self.reply(
                {
                    "taskStatus": task.status,
                    "taskType": task.task_type,
                    "taskStartTime": epoch(task.start_time),
                    "taskStatistics": task_statistics(task),
                    "scheduledAuditName": task.scheduled_audit_name,
                    "auditDetails": {name: check_details(run) for name, run in sorted(task.checks.items())},
                }
            )

    def cancel_audit_task(self) -> str:
        # Bring the task up to date first: a task whose last check is already due has finished.
        ticker.tick()
        audits.cancel_audit(self.state, self.args.get("taskId", ""))
        return self.reply({})
