"""The audit role (UpdateAccountAuditConfiguration's roleArn): a check it cannot run FAILS with
INSUFFICIENT_PERMISSIONS (https://docs.aws.amazon.com/iot/latest/apireference/API_AuditCheckDetails.html)."""

from __future__ import annotations

import json

import pytest

from iot_defender_tui.sandbox import audits
from iot_defender_tui.sandbox.checks import CHECKS
from iot_defender_tui.sandbox.engine.audit_role import MANAGED_POLICY_ACTIONS
from tests.support.factories import defender_state
from tests.support.mitigation import TRUST
from tests.support.sandbox import make_client


@pytest.fixture
def iam(sandbox_url):
    return make_client(sandbox_url, "iam")


AUDIT_ROLE_CHECKS = (
    "LOGGING_DISABLED_CHECK",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "DEVICE_CERTIFICATE_SHARED_CHECK",
)


def audit_role(iam, name: str, actions: list[str], service: str = "iot.amazonaws.com") -> str:
    trust = json.loads(json.dumps(TRUST))
    trust["Statement"][0]["Principal"]["Service"] = service
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if actions:
        grant = {"Effect": "Allow", "Action": actions, "Resource": "*"}
        document = {"Version": "2012-10-17", "Statement": [grant]}
        iam.put_role_policy(RoleName=name, PolicyName="audit", PolicyDocument=json.dumps(document))
    return arn


def audit_as(iot, role_arn: str, checks=AUDIT_ROLE_CHECKS) -> dict:
    """Run an audit of `checks` with `role_arn` as the audit role; DescribeAuditTask's reply."""
    iot.update_account_audit_configuration(
        roleArn=role_arn, auditCheckConfigurations={name: {"enabled": True} for name in checks}
    )
    task_id = iot.start_on_demand_audit_task(targetCheckNames=list(checks))["taskId"]
    state = defender_state()
    audits.run_to_completion(state, state.tasks[task_id])
    return iot.describe_audit_task(taskId=task_id)


def moto_managed_audit_policy() -> dict:
    """AWSIoTDeviceDefenderAudit as moto's IAM knows it (loaded only with MOTO_IAM_LOAD_MANAGED_POLICIES)."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)["AWSIoTDeviceDefenderAudit"]["Document"]


@pytest.mark.parametrize("role", ["missing", "trusts-another-service", "no-permissions"])
def test_audit_role_that_cannot_be_used_fails_every_check(iot, iam, role) -> None:
    """An audit role that does not exist, that AWS IoT may not assume, or that grants nothing fails each
    check it cannot run: checkRunStatus FAILED, errorCode INSUFFICIENT_PERMISSIONS, a message
    (https://docs.aws.amazon.com/iot/latest/apireference/API_AuditCheckDetails.html; the role "grants
    permission to IoT to access information about your devices, policies, certificates, and other items as
    required when performing an audit":
    https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateAccountAuditConfiguration.html). With every
    check failed, the task FAILS too."""
    everything = list(MANAGED_POLICY_ACTIONS)
    arn = {
        "missing": lambda: "arn:aws:iam::123456789012:role/NeverCreated",
        "trusts-another-service": lambda: audit_role(iam, "LambdaRole", everything, "lambda.amazonaws.com"),
        "no-permissions": lambda: audit_role(iam, "Empty", []),
    }[role]()
    described = audit_as(iot, arn, ("LOGGING_DISABLED_CHECK", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"))
    assert described["taskStatus"] == "FAILED"
    for details in described["auditDetails"].values():
        assert details["checkRunStatus"] == "FAILED"
        assert details["errorCode"] == "INSUFFICIENT_PERMISSIONS"
        assert arn in details["message"]
    assert not any(d.get("nonCompliantResourcesCount") for d in described["auditDetails"].values())


def test_audit_role_missing_a_permission_fails_only_the_checks_that_need_it(iot, iam) -> None:
    """A role allowing the logging reads but not iot:ListPolicies runs LOGGING_DISABLED_CHECK and fails
    IOT_POLICY_OVERLY_PERMISSIVE_CHECK with INSUFFICIENT_PERMISSIONS; the connection check needs no listed
    permission (https://docs.aws.amazon.com/iot/latest/apireference/API_AuditCheckDetails.html,
    https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSIoTDeviceDefenderAudit.html). The
    task COMPLETES, as not every check failed."""
    arn = audit_role(iam, "LoggingOnly", ["iot:GetLoggingOptions", "iot:GetV2LoggingOptions"])
    described = audit_as(iot, arn)
    assert described["taskStatus"] == "COMPLETED"
    details = described["auditDetails"]
    assert details["LOGGING_DISABLED_CHECK"]["checkRunStatus"] == "COMPLETED_NON_COMPLIANT"
    assert details["DEVICE_CERTIFICATE_SHARED_CHECK"]["checkRunStatus"] == "COMPLETED_COMPLIANT"
    failed = details["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]
    assert (failed["checkRunStatus"], failed["errorCode"]) == ("FAILED", "INSUFFICIENT_PERMISSIONS")
    assert "iot:ListPolicies" in failed["message"]


def test_audit_role_with_the_managed_audit_policy_runs_every_check(iot, iam) -> None:
    """A role AWS IoT may assume with the AWS managed AWSIoTDeviceDefenderAudit policy's permissions
    (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSIoTDeviceDefenderAudit.html, here
    as moto's IAM data has it) runs all 17 checks; the sandbox's copy of its actions is that policy's."""
    document = moto_managed_audit_policy()
    (statement,) = document["Statement"]
    assert tuple(statement["Action"]) == MANAGED_POLICY_ACTIONS
    arn = iam.create_role(RoleName="Managed", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName="Managed", PolicyName="audit", PolicyDocument=json.dumps(document))
    described = audit_as(iot, arn, tuple(sorted(CHECKS)))
    assert described["taskStatus"] == "COMPLETED"
    statuses = {name: d["checkRunStatus"] for name, d in described["auditDetails"].items()}
    assert "FAILED" not in statuses.values(), statuses


def test_the_attached_aws_managed_policy_passes_every_check(monkeypatch) -> None:
    """The managed policy itself, attached by its ARN as AWS's audit guide does
    (https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSIoTDeviceDefenderAudit.html): moto
    has it only when MOTO_IAM_LOAD_MANAGED_POLICIES=true (off by default, as loading its ~1,600 AWS policies
    costs ~0.2 s per account), here in an IAM backend of this test's own."""
    import time

    from moto.iam.models import IAMBackend

    from iot_defender_tui.sandbox.engine import audit_role as gate
    from iot_defender_tui.sandbox.engine.context import AuditContext
    from iot_defender_tui.sandbox.state import AuditConfig, DefenderState

    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    account = "111122223333"
    iam = IAMBackend("global", account)
    role = iam.create_role("Audit", json.dumps(TRUST), "/", None, "", [], None)
    iam.attach_role_policy("arn:aws:iam::aws:policy/service-role/AWSIoTDeviceDefenderAudit", "Audit")
    state = DefenderState(account, "us-east-1", audit_config=AuditConfig(role_arn=role.arn))
    ctx = AuditContext(state, time.time(), iot=None, iam=iam, cognito=None)
    assert {check: gate.problem(ctx, check) for check in CHECKS} == dict.fromkeys(CHECKS)
