"""Audit findings: listing by task or time window, filters, paging through many, describe, related."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from iot_defender_tui.sandbox.runtime import runtime
from tests.support.factories import (
    cert_id,
    defender_state,
    error_of,
    seed_cert_findings,
    seed_finding,
    seed_task,
)

POLICY_CHECK = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"


def ts(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def all_pages(iot, page_size: int = 250, **query) -> tuple[list[dict], int]:
    found, token, pages = [], None, 0
    while True:
        reply = iot.list_audit_findings(
            maxResults=page_size, **query, **({"nextToken": token} if token else {})
        )
        found += reply["findings"]
        pages += 1
        token = reply.get("nextToken")
        if not token:
            return found, pages


@pytest.fixture
def task():
    # Whole seconds: botocore sends the time window of ListAuditFindings as whole epoch seconds.
    return seed_task(defender_state(), float(int(runtime().clock.now()) - 600))


def test_600_findings_page_in_order_without_gaps_or_repeats(iot, task):
    seeded = seed_cert_findings(defender_state(), task, 600)
    other = seed_task(defender_state(), task.start_time)
    seed_cert_findings(defender_state(), other, 5)
    found, pages = all_pages(iot, taskId=task.task_id)
    assert pages == 3
    ids = [f["findingId"] for f in found]
    assert len(ids) == len(set(ids)) == 600
    assert set(ids) == {f.finding_id for f in seeded}
    order = [(f["findingTime"], f["findingId"]) for f in found]
    assert order == sorted(order)


def test_finding_shape(iot, task):
    related = [
        {"resourceType": "CLIENT_ID", "resourceIdentifier": {"clientId": "SensorDevice01"},
         "additionalInfo": {"CONNECTION_TIME": "1560086374068"}},
    ]  # fmt: skip
    seeded = seed_finding(defender_state(), task, {"deviceCertificateId": cert_id(7)}, related=related)
    finding = iot.describe_audit_finding(findingId=seeded.finding_id)["finding"]
    assert finding["findingId"] == seeded.finding_id and finding["taskId"] == task.task_id
    assert finding["checkName"] == "DEVICE_CERTIFICATE_SHARED_CHECK" and finding["severity"] == "CRITICAL"
    assert finding["taskStartTime"].timestamp() == pytest.approx(task.start_time, abs=0.001)
    assert finding["findingTime"].timestamp() == pytest.approx(seeded.finding_time, abs=0.001)
    assert finding["nonCompliantResource"] == {
        "resourceType": "DEVICE_CERTIFICATE",
        "resourceIdentifier": {"deviceCertificateId": cert_id(7)},
    }
    assert finding["relatedResources"] == related
    assert finding["reasonForNonCompliance"] == "Certificate shared by one or more devices."
    assert finding["reasonForNonComplianceCode"] == "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"
    assert finding["isSuppressed"] is False
    assert iot.list_audit_findings(taskId=task.task_id)["findings"] == [finding]


def test_filters(iot, task):
    state = defender_state()
    certs = seed_cert_findings(state, task, 3)
    policy = seed_finding(
        state, task, {"policyVersionIdentifier": {"policyName": "open", "policyVersionId": "1"}},
        check_name=POLICY_CHECK, reason_code="ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
        reason="Policy allows broad access to IoT data plane actions: [iot:Connect].",
    )  # fmt: skip

    def ids(**query) -> list[str]:
        return [f["findingId"] for f in all_pages(iot, **query)[0]]

    assert ids(taskId=task.task_id, checkName=POLICY_CHECK) == [policy.finding_id]
    assert ids(taskId=task.task_id, checkName="CA_CERTIFICATE_EXPIRING_CHECK") == []
    assert ids(taskId=task.task_id, resourceIdentifier={"deviceCertificateId": cert_id(1)}) == [
        certs[1].finding_id
    ]
    by_policy = {"policyVersionIdentifier": {"policyName": "open", "policyVersionId": "1"}}
    assert ids(taskId=task.task_id, resourceIdentifier=by_policy) == [policy.finding_id]
    assert ids(taskId="f" * 32) == []

    # Time window: on finding time, both ends included.
    later = seed_task(state, task.start_time + 100)
    late = seed_finding(state, later, {"deviceCertificateId": cert_id(9)}, finding_time=later.start_time + 5)
    assert ids(startTime=ts(later.start_time), endTime=ts(late.finding_time)) == [late.finding_id]
    everything = ids(startTime=ts(task.start_time), endTime=ts(late.finding_time))
    assert set(everything) == {f.finding_id for f in [*certs, policy, late]}


def test_suppressed_filter(iot, task):
    """listSuppressedFindings lists "only the suppressed findings or the unsuppressed findings"
    (https://docs.aws.amazon.com/iot/latest/apireference/API_ListAuditFindings.html), suppressed meaning
    isSuppressed, "whether the audit finding was suppressed or not during reporting"
    (https://docs.aws.amazon.com/iot/latest/apireference/API_AuditFinding.html): a suppression made or
    lifted after the audit changes neither."""
    state = defender_state()
    certs = seed_cert_findings(state, task, 4)
    at_audit = seed_finding(state, task, {"deviceCertificateId": cert_id(50)}, suppressed_at_audit=True)

    def listed(suppressed: bool) -> set[str]:
        found = all_pages(iot, taskId=task.task_id, listSuppressedFindings=suppressed)[0]
        assert all(f["isSuppressed"] == suppressed for f in found)
        return {f["findingId"] for f in found}

    assert listed(True) == {at_audit.finding_id}
    assert listed(False) == {f.finding_id for f in certs}
    assert len(all_pages(iot, taskId=task.task_id)[0]) == 5

    later = {"deviceCertificateId": cert_id(2)}
    iot.create_audit_suppression(checkName=SHARED, resourceIdentifier=later, suppressIndefinitely=True)
    assert listed(True) == {at_audit.finding_id}
    iot.delete_audit_suppression(checkName=SHARED, resourceIdentifier=later)
    assert listed(False) == {f.finding_id for f in certs}


def test_findings_added_while_paging_come_after_the_pages_read(iot, task):
    state = defender_state()
    seed_cert_findings(state, task, 300)
    first = iot.list_audit_findings(taskId=task.task_id, maxResults=250)
    newer = seed_finding(
        state, task, {"deviceCertificateId": cert_id(999)}, finding_time=task.start_time + 500
    )
    rest = iot.list_audit_findings(taskId=task.task_id, maxResults=250, nextToken=first["nextToken"])
    assert len(rest["findings"]) == 51 and rest["findings"][-1]["findingId"] == newer.finding_id
    assert "nextToken" not in rest


def test_a_checks_findings_keep_the_audits_order_and_follow_new_findings(iot, task):
    state = defender_state()
    seed_cert_findings(state, task, 300)  # one check
    for n in range(40):  # another, interleaved in time
        seed_finding(
            state,
            task,
            {"policyVersionIdentifier": {"policyName": f"p{n}", "policyVersionId": "1"}},
            POLICY_CHECK,
            task.start_time + 3 * n,
        )
    everything, _ = all_pages(iot, taskId=task.task_id)
    for check in ("DEVICE_CERTIFICATE_SHARED_CHECK", POLICY_CHECK):
        one, _ = all_pages(iot, 100, taskId=task.task_id, checkName=check)
        assert one == [f for f in everything if f["checkName"] == check]
    newer = seed_finding(
        state, task, {"policyVersionIdentifier": {"policyName": "late", "policyVersionId": "1"}}, POLICY_CHECK
    )
    again, _ = all_pages(iot, taskId=task.task_id, checkName=POLICY_CHECK)
    assert len(again) == 41 and newer.finding_id in {f["findingId"] for f in again}


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"startTime": ts(0)},
        {"endTime": ts(0)},
        {"taskId": "a" * 32, "startTime": ts(0), "endTime": ts(10)},
        {"startTime": ts(10), "endTime": ts(0)},
        {"taskId": "a" * 32, "nextToken": "garbage"},
    ],
)
def test_list_rejects_bad_queries(iot, query):
    assert error_of(iot.list_audit_findings, **query)[0] == "InvalidRequestException"


def test_related_resources_and_unknown_findings(iot, task):
    related = [
        {"resourceType": "CLIENT_ID", "resourceIdentifier": {"clientId": f"client-{i}"}} for i in range(30)
    ]
    finding = seed_finding(defender_state(), task, {"deviceCertificateId": cert_id(1)}, related=related)
    got, token, pages = [], None, 0
    while True:
        reply = iot.list_related_resources_for_audit_finding(
            findingId=finding.finding_id, maxResults=12, **({"nextToken": token} if token else {})
        )
        got += reply["relatedResources"]
        pages += 1
        token = reply.get("nextToken")
        if not token:
            break
    assert pages == 3 and got == related
    assert error_of(iot.describe_audit_finding, findingId="missing")[0] == "ResourceNotFoundException"
    code = error_of(iot.list_related_resources_for_audit_finding, findingId="missing")[0]
    assert code == "ResourceNotFoundException"
