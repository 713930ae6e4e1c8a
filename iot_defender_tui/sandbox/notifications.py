"""Audit notifications: when an audit ends, its summary goes to the SNS target of the audit configuration.

AWS's payload (device-defender-audit.html#device-defender-audit-notifications, with its JSON schema):
the task's id, status, type and start time (integer milliseconds), its check counts, and per check its run
status and resource counts. Each check's suppressed resource count is in it too, as the suppressions page
says ("A suppressed resource count is also included in each audit check notification").

AWS publishes with the target's role, which needs a trust policy for iot.amazonaws.com and sns:Publish on
the topic (device-defender-audit.html#device-defender-audit-permissions-publish). A disabled target, or a
role or topic that cannot do that, gets nothing: the audit itself is not affected, and the sandbox's log
says why nothing was sent.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from moto.iam.models import iam_backends

from .iam_eval import allows, find_role, role_documents, trusts_service
from .mitigation_effects import ExecutionFailed, publish_to_topic
from .state import AuditTask, CheckRun, DefenderState

log = logging.getLogger(__name__)
IOT_SERVICE = "iot.amazonaws.com"


def audit_notification(state: DefenderState, task: AuditTask) -> dict[str, Any]:
    """The message AWS publishes for a finished (COMPLETED, FAILED or CANCELED) audit."""
    statuses = [run.status for run in task.checks.values()]
    message: dict[str, Any] = {
        "accountId": state.account_id,
        "taskId": task.task_id,
        "taskStatus": task.status,
        "taskType": task.task_type,
    }
    if task.scheduled_audit_name:
        message["scheduledAuditName"] = task.scheduled_audit_name
    message |= {
        "failedChecksCount": statuses.count("FAILED"),
        "canceledChecksCount": statuses.count("CANCELED"),
        "nonCompliantChecksCount": statuses.count("COMPLETED_NON_COMPLIANT"),
        "compliantChecksCount": statuses.count("COMPLETED_COMPLIANT"),
        "totalChecksCount": len(statuses),
        "taskStartTime": round(task.start_time * 1000),
        "auditDetails": [_check(run) for run in sorted(task.checks.values(), key=lambda r: r.name)],
    }
    return message


def _check(run: CheckRun) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "checkName": run.name,
        "checkRunStatus": run.status,
        "nonCompliantResourcesCount": run.non_compliant,
        "totalResourcesCount": run.total_resources,
        "suppressedNonCompliantResourcesCount": run.suppressed_non_compliant,
    }
    if run.message:
        detail["message"] = run.message
    if run.error_code:
        detail["errorCode"] = run.error_code
    return detail


def notify(state: DefenderState, task: AuditTask) -> None:
    """Publish `task`'s summary to the account's SNS audit target, if it is enabled and can be used.

    Called once, when the audit ends, under `state.lock` (moto's backends are not thread-safe)."""
    config = state.audit_config
    target = (config.notifications if config else {}).get("SNS") or {}
    if not target.get("enabled"):
        return
    topic_arn, role_arn = str(target.get("targetArn") or ""), str(target.get("roleArn") or "")
    try:
        why = _cannot_publish(state, role_arn, topic_arn)
        if why is None:
            publish_to_topic(topic_arn, json.dumps(audit_notification(state, task)))
            return
    except ExecutionFailed as err:
        why = err.message
    except Exception:  # a moto surprise loses the notification, not the audit
        log.exception("audit %s: the notification to %s failed", task.task_id, topic_arn)
        return
    log.warning("audit %s: no notification sent to %s: %s", task.task_id, topic_arn, why)


def _cannot_publish(state: DefenderState, role_arn: str, topic_arn: str) -> str | None:
    role = find_role(iam_backends[state.account_id]["global"], role_arn)
    if role is None:
        return f"the role {role_arn} does not exist"
    if not trusts_service(role, IOT_SERVICE):
        return f"the role {role_arn} does not trust {IOT_SERVICE}"
    if not allows(role_documents(role), "sns:Publish", topic_arn):
        return f"the role {role_arn} does not allow sns:Publish on the topic"
    return None
