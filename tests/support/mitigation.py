"""Seeding for the mitigation tests: moto resources over HTTP, findings straight into the state."""

from __future__ import annotations

import json
import time
from typing import Any

from iot_defender_tui.sandbox import pki, ticker
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.sandbox.state import AuditTask, Finding
from tests.support.factories import defender_state, seed_finding, seed_task
from tests.support.sandbox import ACCOUNT, make_client

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
CA_CHECK = "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK"
POLICY_CHECK = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
LOGGING_CHECK = "LOGGING_DISABLED_CHECK"

# What each action type's role must allow (the reference's mitigation table).
NEEDS = {
    "UPDATE_DEVICE_CERTIFICATE": ["iot:UpdateCertificate"],
    "UPDATE_CA_CERTIFICATE": ["iot:UpdateCACertificate"],
    "ADD_THINGS_TO_THING_GROUP": ["iot:ListPrincipalThings", "iot:AddThingToThingGroup"],
    "REPLACE_DEFAULT_POLICY_VERSION": ["iot:CreatePolicyVersion"],
    "ENABLE_IOT_LOGGING": ["iot:SetV2LoggingOptions", "iam:PassRole"],
    "PUBLISH_FINDING_TO_SNS": ["sns:Publish"],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def make_role(url: str, name: str, actions: list[str]) -> str:
    """An IAM role whose inline policy allows `actions` on every resource (none: no policy)."""
    iam = make_client(url, "iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    if actions:
        document = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
        }
        iam.put_role_policy(RoleName=name, PolicyName="mitigation", PolicyDocument=json.dumps(document))
    return role_arn(name)


def device_certificate(iot: Any, things: tuple[str, ...] = ()) -> tuple[str, str]:
    """(certificate id, ARN) of a new ACTIVE certificate attached to `things` (created here)."""
    cert = iot.create_keys_and_certificate(setAsActive=True)
    for thing in things:
        iot.create_thing(thingName=thing)
        iot.attach_thing_principal(thingName=thing, principal=cert["certificateArn"])
    return cert["certificateId"], cert["certificateArn"]


def ca_certificate(iot: Any) -> str:
    now = time.time()
    ca = pki.make_ca(f"Mitigation CA {time.time_ns()}", now - 86400, now + 365 * 86400)
    return iot.register_ca_certificate(caCertificate=ca.pem, setAsActive=True)["certificateId"]


def audit_task() -> AuditTask:
    return seed_task(defender_state(), runtime().clock.now() - 600, checks=(SHARED, CA_CHECK, POLICY_CHECK))


def cert_finding(task: AuditTask, cert_id: str, **kwargs: Any) -> Finding:
    return seed_finding(defender_state(), task, {"deviceCertificateId": cert_id}, **kwargs)


def ca_finding(task: AuditTask, ca_id: str) -> Finding:
    return seed_finding(
        defender_state(),
        task,
        {"caCertificateId": ca_id},
        check_name=CA_CHECK,
        reason_code="CERTIFICATE_REVOKED_BY_ISSUER",
        reason="CA certificate is revoked by the issuer.",
    )


def policy_finding(task: AuditTask, policy_name: str, version: str = "1") -> Finding:
    return seed_finding(
        defender_state(),
        task,
        {"policyVersionIdentifier": {"policyName": policy_name, "policyVersionId": version}},
        check_name=POLICY_CHECK,
        reason_code="ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
        reason="Policy allows broad access to IoT data plane actions: [iot:Connect].",
    )


def logging_finding(task: AuditTask) -> Finding:
    return seed_finding(
        defender_state(),
        task,
        {"account": ACCOUNT},
        check_name=LOGGING_CHECK,
        reason_code="LOGGING_DISABLED",
        reason="Logging to CloudWatch Logs is disabled for AWS IoT.",
    )


def start(
    iot: Any, task_id: str, mapping: dict[str, list[str]], token: str = "token-1", **target: Any
) -> str:
    reply = iot.start_audit_mitigation_actions_task(
        taskId=task_id, target=target, auditCheckToActionsMapping=mapping, clientRequestToken=token
    )
    return reply["taskId"]


def run_out(iot: Any, task_id: str, timeout: float = 5.0) -> dict[str, Any]:
    """Move the sandbox clock past the task's duration and answer its description once it has ended."""
    deadline = time.monotonic() + timeout
    while True:
        runtime().clock.advance(runtime().options.mitigation_seconds + 1)
        ticker.tick()
        described = iot.describe_audit_mitigation_actions_task(taskId=task_id)
        if described["taskStatus"] != "IN_PROGRESS":
            return described
        if time.monotonic() > deadline:
            raise AssertionError(
                f"mitigation task {task_id} still IN_PROGRESS: {described['taskStatistics']}"
            )
        time.sleep(0.02)  # the ticker thread holds the tick: let it finish


def executions(iot: Any, task_id: str, finding_id: str) -> list[dict[str, Any]]:
    return iot.list_audit_mitigation_actions_executions(taskId=task_id, findingId=finding_id)[
        "actionsExecutions"
    ]
