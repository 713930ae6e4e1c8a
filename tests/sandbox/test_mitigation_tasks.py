"""Audit mitigation actions tasks: targets, validation, idempotency, suppression, progress, cancel, lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from iot_defender_tui.sandbox import ticker
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.factories import defender_state, error_of, seed_finding
from tests.support.mitigation import (
    CA_CHECK,
    NEEDS,
    SHARED,
    audit_task,
    cert_finding,
    device_certificate,
    executions,
    make_role,
    run_out,
    start,
)
from tests.support.sandbox import make_client

DEACTIVATE = {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}
KEY_QUALITY = "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK"


@pytest.fixture
def deactivate(iot, sandbox_url):
    role = make_role(sandbox_url, "DeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    iot.create_mitigation_action(actionName="Deactivate", roleArn=role, actionParams=DEACTIVATE)
    return role


@pytest.fixture
def slow():
    """Tasks take 30 sandbox seconds, so a test moves them along itself."""
    runtime().options.mitigation_seconds = 30.0


def status_of(iot, cert_id):
    return iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"]


def certs_with_findings(iot, count, task=None):
    task = task or audit_task()
    certs = [device_certificate(iot)[0] for _ in range(count)]
    return certs, [cert_finding(task, c) for c in certs], task


def counts(statistics: dict) -> dict[str, int]:
    """TaskStatisticsForAuditCheck's non-zero counts, by short name ("total", "skipped", ...)."""
    return {k.removesuffix("FindingsCount"): v for k, v in statistics.items() if v}


def move(seconds):
    runtime().clock.advance(seconds)
    ticker.tick()


def test_progress_is_visible_one_finding_at_a_time(iot, deactivate, slow):
    certs, findings, _ = certs_with_findings(iot, 3)
    start(iot, "progress", {SHARED: ["Deactivate"]}, findingIds=[f.finding_id for f in findings])
    move(10.5)  # the first of three findings is due at 10 s
    described = iot.describe_audit_mitigation_actions_task(taskId="progress")
    assert described["taskStatus"] == "IN_PROGRESS" and "endTime" not in described
    stats = described["taskStatistics"][SHARED]
    assert stats["totalFindingsCount"] == 3 and stats["succeededFindingsCount"] == 1
    assert [status_of(iot, c) for c in certs] == ["INACTIVE", "ACTIVE", "ACTIVE"]
    assert executions(iot, "progress", findings[2].finding_id)[0]["status"] == "PENDING"
    move(30)
    described = iot.describe_audit_mitigation_actions_task(taskId="progress")
    assert described["taskStatus"] == "COMPLETED"
    assert described["taskStatistics"][SHARED]["succeededFindingsCount"] == 3


def test_cancel_stops_what_remains_without_rollback(iot, deactivate, slow):
    certs, findings, _ = certs_with_findings(iot, 3)
    start(iot, "stop", {SHARED: ["Deactivate"]}, findingIds=[f.finding_id for f in findings])
    move(10.5)
    iot.cancel_audit_mitigation_actions_task(taskId="stop")
    move(60)
    described = iot.describe_audit_mitigation_actions_task(taskId="stop")
    assert described["taskStatus"] == "CANCELED" and "endTime" in described
    stats = described["taskStatistics"][SHARED]
    assert (stats["succeededFindingsCount"], stats["canceledFindingsCount"]) == (1, 2)
    assert [status_of(iot, c) for c in certs] == ["INACTIVE", "ACTIVE", "ACTIVE"]
    assert executions(iot, "stop", findings[0].finding_id)[0]["status"] == "COMPLETED"
    assert executions(iot, "stop", findings[1].finding_id)[0]["status"] == "CANCELED"
    code, message = error_of(iot.cancel_audit_mitigation_actions_task, taskId="stop")
    assert code == "InvalidRequestException" and "CANCELED" in message
    assert error_of(iot.cancel_audit_mitigation_actions_task, taskId="nope")[0] == "ResourceNotFoundException"


def test_same_token_is_the_same_task_and_another_token_clashes(iot, deactivate, slow):
    _, findings, _ = certs_with_findings(iot, 1)
    ids = [findings[0].finding_id]
    assert start(iot, "once", {SHARED: ["Deactivate"]}, token="abc", findingIds=ids) == "once"
    assert start(iot, "once", {SHARED: ["Deactivate"]}, token="abc", findingIds=ids) == "once"
    assert list(defender_state().mitigation_tasks) == ["once"]
    code, message = error_of(start, iot, "once", {SHARED: ["Deactivate"]}, token="xyz", findingIds=ids)
    assert code == "TaskAlreadyExistsException" and "once" in message


def test_suppressed_findings_are_not_mitigated(iot, deactivate):
    task = audit_task()
    certs = [device_certificate(iot)[0] for _ in range(3)]
    plain = cert_finding(task, certs[0])
    at_audit = cert_finding(task, certs[1], suppressed_at_audit=True)
    later = cert_finding(task, certs[2])
    iot.create_audit_suppression(
        checkName=SHARED, resourceIdentifier={"deviceCertificateId": certs[2]}, suppressIndefinitely=True
    )
    start(iot, "supp", {SHARED: ["Deactivate"]}, auditTaskId=task.task_id)
    described = run_out(iot, "supp")
    assert described["taskStatus"] == "COMPLETED"
    stats = described["taskStatistics"][SHARED]
    assert (stats["totalFindingsCount"], stats["succeededFindingsCount"], stats["skippedFindingsCount"]) == (
        3,
        1,
        2,
    )
    assert [status_of(iot, c) for c in certs] == ["INACTIVE", "ACTIVE", "ACTIVE"]
    assert executions(iot, "supp", plain.finding_id)[0]["status"] == "COMPLETED"
    for finding in (at_audit, later):
        [execution] = executions(iot, "supp", finding.finding_id)
        assert execution["status"] == "SKIPPED" and "suppressed" in execution["message"]


def test_audit_task_target_with_reason_code_filter(iot, deactivate):
    """Findings the reason-code filter leaves out are skipped, and counted: skippedFindingsCount is "the
    number of findings skipped because of filter conditions provided in the parameters to the command"
    (https://docs.aws.amazon.com/iot/latest/apireference/API_TaskStatisticsForAuditCheck.html)."""
    task = audit_task()
    certs = [device_certificate(iot)[0] for _ in range(2)]
    shared = cert_finding(task, certs[0])
    weak = seed_finding(
        defender_state(),
        task,
        {"deviceCertificateId": certs[1]},
        check_name=KEY_QUALITY,
        reason_code="CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166",
        reason="Certificate key is vulnerable to CVE-2008-0166.",
    )
    mapping = {SHARED: ["Deactivate"], KEY_QUALITY: ["Deactivate"]}
    target = {"auditTaskId": task.task_id, "auditCheckToReasonCodeFilter": {SHARED: ["SOME_OTHER_CODE"]}}
    start(iot, "filtered", mapping, **target)
    described = run_out(iot, "filtered")
    assert described["taskStatus"] == "COMPLETED"
    # A check the filter does not name has none of its findings picked by it.
    for check in (SHARED, KEY_QUALITY):
        assert counts(described["taskStatistics"][check]) == {"total": 1, "skipped": 1}
    assert [status_of(iot, c) for c in certs] == ["ACTIVE", "ACTIVE"]
    for finding in (shared, weak):
        [execution] = executions(iot, "filtered", finding.finding_id)
        assert execution["status"] == "SKIPPED" and "auditCheckToReasonCodeFilter" in execution["message"]

    target["auditCheckToReasonCodeFilter"] = {SHARED: ["CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"]}
    start(iot, "matching", mapping, **target)
    statistics = run_out(iot, "matching")["taskStatistics"]
    assert counts(statistics[SHARED]) == {"total": 1, "succeeded": 1}
    assert counts(statistics[KEY_QUALITY]) == {"total": 1, "skipped": 1}
    assert [status_of(iot, c) for c in certs] == ["INACTIVE", "ACTIVE"]


def test_validation(iot, sandbox_url, deactivate):
    _, findings, task = certs_with_findings(iot, 1)
    ids = [findings[0].finding_id]
    code, message = error_of(start, iot, "t", {CA_CHECK: ["Deactivate"]}, findingIds=ids)
    assert code == "InvalidRequestException" and "UPDATE_DEVICE_CERTIFICATE" in message
    code, message = error_of(start, iot, "t", {SHARED: ["Nope"]}, findingIds=ids)
    assert code == "InvalidRequestException" and "Nope" in message
    code, _ = error_of(start, iot, "t", {"NOT_A_CHECK": ["Deactivate"]}, findingIds=ids)
    assert code == "InvalidRequestException"
    assert (
        error_of(start, iot, "t", {SHARED: ["Deactivate"]}, findingIds=["missing"])[0]
        == "ResourceNotFoundException"
    )
    assert (
        error_of(start, iot, "t", {SHARED: ["Deactivate"]}, auditTaskId="missing")[0]
        == "ResourceNotFoundException"
    )
    both = {"findingIds": ids, "auditTaskId": task.task_id}
    assert error_of(start, iot, "t", {SHARED: ["Deactivate"]}, **both)[0] == "InvalidRequestException"
    unchecked = make_client(sandbox_url, parameter_validation=False)
    too_many = {"findingIds": [f"f{i}" for i in range(26)]}
    assert (
        error_of(start, unchecked, "t", {SHARED: ["Deactivate"]}, **too_many)[0] == "InvalidRequestException"
    )
    six = {SHARED: ["Deactivate"] * 6}
    assert error_of(start, unchecked, "t", six, findingIds=ids)[0] == "InvalidRequestException"
    assert defender_state().mitigation_tasks == {}


def test_at_most_ten_tasks_run_at_once(iot, deactivate, slow):
    _, findings, _ = certs_with_findings(iot, 1)
    for i in range(10):
        start(iot, f"run{i}", {SHARED: ["Deactivate"]}, token=f"t{i}", findingIds=[findings[0].finding_id])
    code, _ = error_of(start, iot, "run10", {SHARED: ["Deactivate"]}, findingIds=[findings[0].finding_id])
    assert code == "LimitExceededException"
    iot.cancel_audit_mitigation_actions_task(taskId="run0")
    start(iot, "run10", {SHARED: ["Deactivate"]}, findingIds=[findings[0].finding_id])


def test_actions_are_snapshot_at_start(iot, sandbox_url, deactivate, slow):
    _, findings, _ = certs_with_findings(iot, 1)
    start(iot, "snap", {SHARED: ["Deactivate"]}, findingIds=[findings[0].finding_id])
    iot.update_mitigation_action(actionName="Deactivate", roleArn=make_role(sandbox_url, "Powerless", []))
    iot.delete_mitigation_action(actionName="Deactivate")
    move(31)
    described = iot.describe_audit_mitigation_actions_task(taskId="snap")
    assert described["taskStatus"] == "COMPLETED"
    assert described["actionsDefinition"] == [
        {
            "name": "Deactivate",
            "id": described["actionsDefinition"][0]["id"],
            "roleArn": deactivate,
            "actionParams": DEACTIVATE,
        }
    ]


def test_listing_tasks_and_executions(iot, deactivate, slow):
    _, findings, task = certs_with_findings(iot, 2)
    for i in range(3):
        start(iot, f"task{i}", {SHARED: ["Deactivate"]}, token=f"t{i}", findingIds=[findings[0].finding_id])
        move(1)
    start(iot, "other", {SHARED: ["Deactivate"]}, token="o", findingIds=[findings[1].finding_id])
    iot.cancel_audit_mitigation_actions_task(taskId="task1")
    now = datetime.fromtimestamp(runtime().clock.now(), UTC)
    window = {"startTime": now - timedelta(hours=1), "endTime": now + timedelta(minutes=1)}
    first = iot.list_audit_mitigation_actions_tasks(**window, maxResults=2)
    second = iot.list_audit_mitigation_actions_tasks(**window, nextToken=first["nextToken"])
    assert [t["taskId"] for t in first["tasks"] + second["tasks"]] == ["other", "task2", "task1", "task0"]
    by_finding = iot.list_audit_mitigation_actions_tasks(**window, findingId=findings[1].finding_id)["tasks"]
    assert [t["taskId"] for t in by_finding] == ["other"]
    canceled = iot.list_audit_mitigation_actions_tasks(**window, taskStatus="CANCELED")["tasks"]
    assert [(t["taskId"], t["taskStatus"]) for t in canceled] == [("task1", "CANCELED")]
    by_audit = iot.list_audit_mitigation_actions_tasks(**window, auditTaskId=task.task_id)["tasks"]
    assert len(by_audit) == 4
    early = {"startTime": now - timedelta(hours=2), "endTime": now - timedelta(hours=1)}
    assert iot.list_audit_mitigation_actions_tasks(**early)["tasks"] == []

    move(40)
    done = executions(iot, "task0", findings[0].finding_id)
    assert [(e["taskId"], e["status"], e["actionName"]) for e in done] == [
        ("task0", "COMPLETED", "Deactivate")
    ]
    assert done[0]["startTime"] <= done[0]["endTime"]
    reply = iot.list_audit_mitigation_actions_executions(
        taskId="task1", findingId=findings[0].finding_id, actionStatus="COMPLETED"
    )
    assert reply["actionsExecutions"] == []
    assert executions(iot, "task0", findings[1].finding_id) == []
