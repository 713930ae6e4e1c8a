"""Models for the history's tests, built the way the app builds them: from AWS-shaped replies."""

from __future__ import annotations

from typing import Any

from iot_defender_tui.aws.models_audit import AuditTask
from iot_defender_tui.aws.models_findings import Finding

ACCOUNT = "123456789012"
REGION = "eu-west-1"
SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
EXPIRING = "DEVICE_CERTIFICATE_EXPIRING_CHECK"
POLICY = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
DAY = 86_400


def task(task_id: str, start: float, counts: dict[str, int], status: str = "COMPLETED") -> AuditTask:
    """DescribeAuditTask's reply for an audit that ran `counts`' checks with that many findings each."""
    return AuditTask.from_describe(
        task_id,
        {
            "taskStatus": status,
            "taskType": "SCHEDULED_AUDIT_TASK",
            "taskStartTime": start,
            "scheduledAuditName": "daily",
            "taskStatistics": {"totalChecks": len(counts),
                               "nonCompliantChecks": sum(1 for n in counts.values() if n),
                               "compliantChecks": sum(1 for n in counts.values() if not n)},
            "auditDetails": {
                name: {
                    "checkRunStatus": "COMPLETED_NON_COMPLIANT" if n else "COMPLETED_COMPLIANT",
                    "checkCompliant": not n,
                    "totalResourcesCount": n + 10,
                    "nonCompliantResourcesCount": n,
                    "suppressedNonCompliantResourcesCount": 0,
                }
                for name, n in counts.items()
            },
        },
    )  # fmt: skip


def cert(n: int) -> str:
    return f"{n:064x}"


def finding(
    finding_id: str, task_id: str, check: str, resource: dict[str, Any], *, start: float = 1_700_000_000,
    related: list[dict[str, Any]] | None = None, suppressed: bool = False, **extra: Any,
) -> Finding:  # fmt: skip
    """ListAuditFindings' item."""
    data = {
        "findingId": finding_id,
        "taskId": task_id,
        "checkName": check,
        "taskStartTime": start,
        "findingTime": start + 61.5,
        "severity": "CRITICAL",
        "nonCompliantResource": resource,
        "relatedResources": related or [],
        "reasonForNonComplianceCode": "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES",
        "reasonForNonCompliance": "Certificate shared by one or more devices.",
        "isSuppressed": suppressed,
    }
    return Finding.from_api({**data, **extra})


def cert_finding(finding_id: str, task_id: str, n: int, check: str = SHARED, **kw: Any) -> Finding:
    resource = {"resourceType": "DEVICE_CERTIFICATE", "resourceIdentifier": {"deviceCertificateId": cert(n)}}
    return finding(finding_id, task_id, check, resource, **kw)
