"""Seed audit tasks and findings straight into the sandbox's state, for tests that need specific ones.

The server runs in the test process, so the state seeded here is what the HTTP handlers read.
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError
from moto.iam.models import iam_backends
from moto.iot.models import iot_backends

from iot_defender_tui.sandbox.checks import CHECKS
from iot_defender_tui.sandbox.engine.audit_role import MANAGED_POLICY_ACTIONS
from iot_defender_tui.sandbox.fleet_roles import create_role
from iot_defender_tui.sandbox.iam_eval import find_role
from iot_defender_tui.sandbox.state import AuditTask, CheckRun, DefenderState, Finding, state_for
from tests.support.sandbox import ACCOUNT, REGION

ROLE = f"arn:aws:iam::{ACCOUNT}:role/AuditRole"


def defender_state() -> DefenderState:
    return state_for(iot_backends[ACCOUNT][REGION])


def audit_role() -> str:
    """ROLE, made if missing as AWS would accept it for audits: AWS IoT may assume it, and it allows what
    the managed AWSIoTDeviceDefenderAudit policy does (an audit with a missing role fails every check)."""
    if find_role(iam_backends[ACCOUNT]["global"], ROLE) is None:
        grant = {"Effect": "Allow", "Action": list(MANAGED_POLICY_ACTIONS), "Resource": "*"}
        create_role(ACCOUNT, ROLE.rpartition("/")[2], "iot.amazonaws.com", [grant])
    return ROLE


def configure_audit(iot: Any, *checks: str) -> None:
    """Enable `checks` (every check when none are named) with an audit role."""
    names = checks or tuple(CHECKS)
    iot.update_account_audit_configuration(
        roleArn=audit_role(), auditCheckConfigurations={name: {"enabled": True} for name in names}
    )


def cert_id(n: int) -> str:
    return f"{n:064x}"


def seed_task(
    state: DefenderState,
    start_time: float,
    checks: tuple[str, ...] = ("DEVICE_CERTIFICATE_SHARED_CHECK",),
    status: str = "COMPLETED",
    task_type: str = "ON_DEMAND_AUDIT_TASK",
) -> AuditTask:
    run_status = {"COMPLETED": "COMPLETED_NON_COMPLIANT", "CANCELED": "CANCELED"}.get(status, status)
    task = AuditTask(
        task_id=uuid.uuid4().hex,
        task_type=task_type,
        start_time=start_time,
        checks={name: CheckRun(name=name, due=start_time, status=run_status) for name in checks},
        status=status,
    )
    with state.lock:
        state.tasks[task.task_id] = task
    return task


def seed_finding(
    state: DefenderState,
    task: AuditTask,
    identifier: dict[str, Any],
    check_name: str = "DEVICE_CERTIFICATE_SHARED_CHECK",
    finding_time: float | None = None,
    related: list[dict[str, Any]] | None = None,
    suppressed_at_audit: bool = False,
    reason_code: str = "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES",
    reason: str = "Certificate shared by one or more devices.",
) -> Finding:
    spec = CHECKS[check_name]
    finding = Finding(
        finding_id=uuid.uuid4().hex,
        task_id=task.task_id,
        check_name=check_name,
        task_start_time=task.start_time,
        finding_time=task.start_time + 1 if finding_time is None else finding_time,
        severity=spec.severity,
        resource_type=spec.resource_type,
        resource_identifier=identifier,
        additional_info={},
        related_resources=related or [],
        reason_code=reason_code,
        reason=reason,
        suppressed_at_audit=suppressed_at_audit,
    )
    with state.lock:
        state.findings[finding.finding_id] = finding
        task.finding_ids.append(finding.finding_id)
    return finding


def seed_cert_findings(
    state: DefenderState, task: AuditTask, count: int, check_name: str = "DEVICE_CERTIFICATE_SHARED_CHECK"
) -> list[Finding]:
    """`count` device-certificate findings, a few sharing each finding time (so ids break ties)."""
    return [
        seed_finding(
            state,
            task,
            {"deviceCertificateId": cert_id(i)},
            check_name=check_name,
            finding_time=task.start_time + 1 + i // 7,
        )
        for i in range(count)
    ]


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """The AWS error code and message `call(*args, **kwargs)` fails with."""
    try:
        call(*args, **kwargs)
    except ClientError as err:
        return err.response["Error"]["Code"], err.response["Error"]["Message"]
    raise AssertionError(f"{call.__name__} succeeded; an error was expected")
