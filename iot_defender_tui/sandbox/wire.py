"""The wire format shared by the handlers and the mitigation executor: timestamps and findings.

AWS sends timestamps as epoch seconds (with milliseconds) and accepts them as numbers or, through
botocore, datetimes; a finding travels as the AuditFinding shape, both in replies and in the message a
PUBLISH_FINDING_TO_SNS mitigation publishes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .errors import InvalidRequest
from .state import Finding


def epoch(value: float | None) -> float | None:
    """Epoch seconds with milliseconds, as AWS sends timestamps."""
    return None if value is None else round(value, 3)


def as_epoch(value: Any, member: str) -> float | None:
    """A request timestamp in epoch seconds (botocore hands over datetimes; raw requests carry numbers)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise InvalidRequest(f"{member} is not a valid timestamp: {value!r}")


def time_window(args: dict[str, Any]) -> tuple[float, float]:
    """A request's required startTime..endTime, in epoch seconds."""
    start = as_epoch(args.get("startTime"), "startTime")
    end = as_epoch(args.get("endTime"), "endTime")
    if start is None or end is None:
        raise InvalidRequest("startTime and endTime are both required.")
    if start > end:
        raise InvalidRequest("startTime must not be later than endTime.")
    return start, end


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    """A finding as AWS's AuditFinding shape (used for replies and for findings published to SNS)."""
    resource: dict[str, Any] = {
        "resourceType": finding.resource_type,
        "resourceIdentifier": finding.resource_identifier,
    }
    if finding.additional_info:
        resource["additionalInfo"] = finding.additional_info
    body: dict[str, Any] = {
        "findingId": finding.finding_id,
        "taskId": finding.task_id,
        "checkName": finding.check_name,
        "taskStartTime": epoch(finding.task_start_time),
        "findingTime": epoch(finding.finding_time),
        "severity": finding.severity,
        "nonCompliantResource": resource,
        "reasonForNonCompliance": finding.reason,
        "reasonForNonComplianceCode": finding.reason_code,
        # "Whether the audit finding was suppressed or not during reporting" (API_AuditFinding): as of its
        # audit, like the audit's statistics; a suppression made or lifted later does not rewrite it.
        "isSuppressed": finding.suppressed_at_audit,
    }
    if finding.related_resources:
        body["relatedResources"] = finding.related_resources
    return body
