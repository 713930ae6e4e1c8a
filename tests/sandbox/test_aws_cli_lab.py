"""The Device Defender lab (../shared/seeds) done with the AWS CLI against `iot-defender-tui sandbox`.

The CLI runs as a subprocess only: AWS CLI v1 ships its own botocore, which must never be imported
next to ours. Each step names itself so a failure says where the lab broke.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from subprocess import run
from typing import Any

import pytest

from iot_defender_tui.sandbox.checks import CHECKS
from tests.sandbox.test_cli_sandbox import URL, running

AWS = shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed")

# The CLI needs ~0.5 s to start; an audit of 3 s leaves room to see it IN_PROGRESS on a busy machine.
AUDIT_SECONDS = 3
POLL_DEADLINE = 60
NON_COMPLIANT = {
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "LOGGING_DISABLED_CHECK",
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
UPDATE_CERTIFICATE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iot:UpdateCertificate", "Resource": "*"}],
}


@pytest.fixture(scope="module")
def lab_url() -> Iterator[str]:
    command = [sys.executable, "-m", "iot_defender_tui", "sandbox", "--port", "0", "--fleet", "lab"]
    command += ["--audit-seconds", str(AUDIT_SECONDS), "--mitigation-seconds", "1"]
    with running(command) as sandbox:
        port = URL.findall(sandbox.first_line())[0]
        yield f"http://127.0.0.1:{port}"
        sandbox.process.send_signal(signal.SIGTERM)


class Cli:
    def __init__(self, url: str):
        self.url = url
        self.env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
        self.env |= {"AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}
        self.env.pop("AWS_PROFILE", None)
        self.step = ""

    def __call__(self, service: str, *args: str) -> dict[str, Any]:
        command = [AWS, "--endpoint-url", self.url, "--output", "json", service, *args]
        done = run(command, capture_output=True, text=True, timeout=60, env=self.env)
        if done.returncode != 0:
            pytest.fail(f"lab step {self.step!r}: {' '.join(command[5:])} failed: {done.stderr.strip()}")
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def poll(self, until: str, *args: str) -> list[dict[str, Any]]:
        """Run `iot *args` until its `until` member is COMPLETED; every reply, in order."""
        replies: list[dict[str, Any]] = []
        deadline = time.monotonic() + POLL_DEADLINE
        while True:
            replies.append(self("iot", *args))
            status = replies[-1][until]
            if status == "COMPLETED":
                return replies
            assert status == "IN_PROGRESS", f"lab step {self.step!r}: {replies[-1]}"
            assert time.monotonic() < deadline, (
                f"lab step {self.step!r}: still {status} after {POLL_DEADLINE} s"
            )
            time.sleep(0.1)


def test_lab_end_to_end_with_the_aws_cli(lab_url):
    aws = Cli(lab_url)

    aws.step = "check audit settings"
    config = aws("iot", "describe-account-audit-configuration")
    assert config["roleArn"].startswith("arn:aws:iam::123456789012:role/")
    checks = config["auditCheckConfigurations"]
    assert set(checks) == set(CHECKS) and all(c["enabled"] for c in checks.values())

    aws.step = "the audit run the day before"
    now = int(time.time())
    earlier = aws(
        "iot", "list-audit-tasks", "--start-time", str(now - 7 * 86400), "--end-time", str(now + 60)
    )["tasks"]
    assert any(t["taskType"] == "ON_DEMAND_AUDIT_TASK" and t["taskStatus"] == "COMPLETED" for t in earlier), (
        earlier
    )

    aws.step = "run an on-demand audit"
    task_id = aws("iot", "start-on-demand-audit-task", "--target-check-names", *sorted(checks))["taskId"]
    progress = aws.poll("taskStatus", "describe-audit-task", "--task-id", task_id)
    assert progress[0]["taskStatus"] == "IN_PROGRESS", "the audit finished before it could be watched"
    result = progress[-1]
    assert result["taskStatistics"]["totalChecks"] == len(CHECKS)
    assert result["taskStatistics"]["nonCompliantChecks"] == 3
    failing = {
        n for n, d in result["auditDetails"].items() if d["checkRunStatus"] == "COMPLETED_NON_COMPLIANT"
    }
    assert failing == NON_COMPLIANT

    aws.step = "the shared certificate finding"
    findings = aws(
        "iot", "list-audit-findings", "--task-id", task_id, "--check-name", "DEVICE_CERTIFICATE_SHARED_CHECK"
    )["findings"]
    assert len(findings) == 1
    finding = findings[0]
    cert_id = finding["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]
    clients = {r["resourceIdentifier"].get("clientId") for r in finding["relatedResources"]}
    assert {"SensorDevice01", "SensorDevice02"} <= clients

    aws.step = "a role Device Defender may use to update certificates"
    role_arn = aws(
        "iam",
        "create-role",
        "--role-name",
        "LabMitigationRole",
        "--assume-role-policy-document",
        json.dumps(TRUST),
    )["Role"]["Arn"]
    aws(
        "iam",
        "put-role-policy",
        "--role-name",
        "LabMitigationRole",
        "--policy-name",
        "UpdateCertificate",
        "--policy-document",
        json.dumps(UPDATE_CERTIFICATE),
    )

    aws.step = "define the deactivate-certificate mitigation action"
    aws(
        "iot",
        "create-mitigation-action",
        "--action-name",
        "DeactivateSharedCertificate",
        "--role-arn",
        role_arn,
        "--action-params",
        json.dumps({"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}),
    )

    aws.step = "apply it to the finding"
    mitigation = aws(
        "iot",
        "start-audit-mitigation-actions-task",
        "--task-id",
        "LabDeactivateSharedCertificate",
        "--target",
        json.dumps({"findingIds": [finding["findingId"]]}),
        "--audit-check-to-actions-mapping",
        json.dumps({"DEVICE_CERTIFICATE_SHARED_CHECK": ["DeactivateSharedCertificate"]}),
        "--client-request-token",
        "lab-mitigation-1",
    )
    assert mitigation["taskId"] == "LabDeactivateSharedCertificate"
    aws.poll("taskStatus", "describe-audit-mitigation-actions-task", "--task-id", mitigation["taskId"])
    executions = aws(
        "iot",
        "list-audit-mitigation-actions-executions",
        "--task-id",
        mitigation["taskId"],
        "--finding-id",
        finding["findingId"],
    )["actionsExecutions"]
    assert [(e["actionName"], e["status"]) for e in executions] == [
        ("DeactivateSharedCertificate", "COMPLETED")
    ]

    aws.step = "the certificate is inactive"
    described = aws("iot", "describe-certificate", "--certificate-id", cert_id)["certificateDescription"]
    assert described["status"] == "INACTIVE"

    aws.step = "re-activate it for the next module"
    aws("iot", "update-certificate", "--certificate-id", cert_id, "--new-status", "ACTIVE")
    described = aws("iot", "describe-certificate", "--certificate-id", cert_id)["certificateDescription"]
    assert described["status"] == "ACTIVE"
