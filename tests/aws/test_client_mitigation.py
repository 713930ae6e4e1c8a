"""DefenderClient: mitigation actions, idempotent mitigation tasks, executions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iot_defender_tui.aws.errors import ConflictError, NotFoundError
from iot_defender_tui.aws.guard import mitigation_request_identity
from iot_defender_tui.aws.models import PublishFindingToSnsParams, UpdateDeviceCertificateParams
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.mitigation import SHARED, audit_task, cert_finding, device_certificate, make_role
from tests.support.sandbox import make_client, request_counts

START = "StartAuditMitigationActionsTask"


async def test_mitigation_action_lifecycle(dd, sandbox_url):
    role = make_role(sandbox_url, "MitigationRole", ["iot:UpdateCertificate", "sns:Publish"])
    created = await dd.create_mitigation_action("deactivate", role, UpdateDeviceCertificateParams())
    assert created.arn and created.action_id and created.action_type == "UPDATE_DEVICE_CERTIFICATE"

    described = await dd.describe_mitigation_action("deactivate")
    assert (described.role_arn, described.params) == (role, UpdateDeviceCertificateParams("DEACTIVATE"))

    topic = "arn:aws:sns:us-east-1:123456789012:alerts"
    await dd.create_mitigation_action("tell", role, {"publishFindingToSnsParams": {"topicArn": topic}})
    with pytest.raises(ConflictError):
        await dd.create_mitigation_action("tell", role, PublishFindingToSnsParams(topic))
    other = "arn:aws:sns:us-east-1:123456789012:other"
    await dd.update_mitigation_action("tell", params=PublishFindingToSnsParams(other))
    assert (await dd.describe_mitigation_action("tell")).params == PublishFindingToSnsParams(other)

    assert {a.name for a in await dd.list_mitigation_actions()} == {"deactivate", "tell"}
    assert [a.name for a in await dd.list_mitigation_actions("PUBLISH_FINDING_TO_SNS")] == ["tell"]

    await dd.delete_mitigation_action("tell")
    with pytest.raises(NotFoundError):
        await dd.describe_mitigation_action("tell")


async def test_start_is_idempotent_and_the_task_runs(dd, sandbox_url):
    runtime().options.mitigation_seconds = 2  # still running when the key is pressed again
    iot = make_client(sandbox_url)
    role = make_role(sandbox_url, "MitigationRole", ["iot:UpdateCertificate"])
    await dd.create_mitigation_action("deactivate", role, UpdateDeviceCertificateParams())
    cert_id, _arn = device_certificate(iot)
    task = audit_task()
    finding = cert_finding(task, cert_id)
    target, mapping = {"findingIds": [finding.finding_id]}, {SHARED: ["deactivate"]}

    before = request_counts(sandbox_url).get(START, 0)
    first = await dd.start_mitigation_task(target, mapping)
    second = await dd.start_mitigation_task(target, mapping)  # the repeated key press
    assert first.task_id == second.task_id == mitigation_request_identity(target, mapping)[0]
    assert second.reused
    assert request_counts(sandbox_url)[START] - before == 1  # found running: not sent again

    now = datetime.now(UTC)
    window = (now - timedelta(hours=1), now + timedelta(hours=1))
    assert [t.task_id for t in await dd.list_mitigation_tasks(*window)] == [first.task_id]
    assert [t.task_id for t in await dd.list_mitigation_tasks(*window, finding_id=finding.finding_id)] == [
        first.task_id
    ]

    runtime().clock.advance(5)
    done = await dd.describe_mitigation_task(first.task_id)
    assert done.status == "COMPLETED"
    assert done.stats[SHARED].succeeded == 1
    assert done.target == target and done.mapping == {SHARED: ("deactivate",)}

    executions = await dd.list_mitigation_executions(first.task_id, finding.finding_id)
    assert [(e.action_name, e.status) for e in executions] == [("deactivate", "COMPLETED")]
    assert await dd.list_mitigation_executions(first.task_id, finding.finding_id, status="FAILED") == ()
    assert iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"] == "INACTIVE"


async def test_task_already_existing_under_the_derived_id_is_returned(dd, sandbox_url):
    iot = make_client(sandbox_url)
    role = make_role(sandbox_url, "MitigationRole", ["iot:UpdateCertificate"])
    await dd.create_mitigation_action("deactivate", role, UpdateDeviceCertificateParams())
    finding = cert_finding(audit_task(), device_certificate(iot)[0])
    target, mapping = {"findingIds": [finding.finding_id]}, {SHARED: ["deactivate"]}
    task_id, _token = mitigation_request_identity(target, mapping)
    # Started earlier with another token (e.g. AWS's idempotency window has passed since).
    iot.start_audit_mitigation_actions_task(
        taskId=task_id, target=target, auditCheckToActionsMapping=mapping, clientRequestToken="older"
    )
    again = await dd.start_mitigation_task(target, mapping)
    assert again.task_id == task_id


async def test_cancel_mitigation_task(dd, sandbox_url):
    runtime().options.mitigation_seconds = 60
    iot = make_client(sandbox_url)
    role = make_role(sandbox_url, "MitigationRole", ["iot:UpdateCertificate"])
    await dd.create_mitigation_action("deactivate", role, UpdateDeviceCertificateParams())
    task = audit_task()
    findings = [cert_finding(task, device_certificate(iot)[0]) for _ in range(3)]
    started = await dd.start_mitigation_task(
        {"findingIds": [f.finding_id for f in findings]}, {SHARED: ["deactivate"]}
    )
    await dd.cancel_mitigation_task(started.task_id)
    assert (await dd.describe_mitigation_task(started.task_id)).status == "CANCELED"
