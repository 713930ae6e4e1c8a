"""One mitigation task across several checks, each with its own actions (issue 13.5), below the UI: the
derived task id (a repeat while it runs finds it, after it ended starts anew), the journal, read-only,
an ambiguous 500, and the sandbox giving each finding the actions of its own check."""

from __future__ import annotations

import pytest

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.guard import ReadOnlyError
from iot_defender_tui.aws.models import UpdateDeviceCertificateParams
from iot_defender_tui.sandbox.runtime import runtime
from tests.aws.test_mutation_safety import Faults
from tests.support.mitigation import (
    NEEDS,
    POLICY_CHECK,
    SHARED,
    audit_task,
    cert_finding,
    device_certificate,
    executions,
    make_role,
    policy_finding,
    run_out,
)
from tests.support.sandbox import make_client, request_counts, sandbox_settings

START = "StartAuditMitigationActionsTask"


async def two_checks(dd: DefenderClient, url: str) -> tuple[dict, dict, dict[str, str]]:
    """(target, mapping, finding id by check): a shared-certificate and an over-permissive-policy finding,
    each check mapped to its own action (the SNS one would be the only action valid for both)."""
    iot = make_client(url)
    await dd.create_mitigation_action(
        "deactivate",
        make_role(url, "CertRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"]),
        UpdateDeviceCertificateParams(),
    )
    iot.create_mitigation_action(
        actionName="replace",
        roleArn=make_role(url, "PolicyRole", NEEDS["REPLACE_DEFAULT_POLICY_VERSION"]),
        actionParams={"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}},
    )
    iot.create_policy(policyName="TooBroad", policyDocument='{"Version":"2012-10-17","Statement":[]}')
    task = audit_task()
    cert = cert_finding(task, device_certificate(iot)[0])
    policy = policy_finding(task, "TooBroad")
    ids = {SHARED: cert.finding_id, POLICY_CHECK: policy.finding_id}
    return {"findingIds": list(ids.values())}, {SHARED: ["deactivate"], POLICY_CHECK: ["replace"]}, ids


async def test_each_finding_gets_the_actions_of_its_own_check(dd, sandbox_url):
    target, mapping, ids = await two_checks(dd, sandbox_url)
    start = await dd.start_mitigation_task(target, mapping)
    iot = make_client(sandbox_url)
    described = run_out(iot, start.task_id)
    assert described["taskStatus"] == "COMPLETED"
    assert described["auditCheckToActionsMapping"] == mapping
    stats = described["taskStatistics"]
    assert {c: (s["totalFindingsCount"], s["succeededFindingsCount"]) for c, s in stats.items()} == {
        SHARED: (1, 1),
        POLICY_CHECK: (1, 1),
    }
    for check, finding_id in ids.items():
        assert [(e["actionName"], e["status"]) for e in executions(iot, start.task_id, finding_id)] == [
            (mapping[check][0], "COMPLETED")
        ]
    policy = iot.get_policy(policyName="TooBroad")
    assert policy["defaultVersionId"] == "2"  # replaced; and the certificate of the other finding:
    certs = iot.list_certificates()["certificates"]
    assert [c["status"] for c in certs] == ["INACTIVE"]


async def test_the_same_mapping_while_it_runs_is_the_same_task_and_after_it_a_new_one(
    dd, journal, sandbox_url
):
    runtime().options.mitigation_seconds = 30
    target, mapping, _ = await two_checks(dd, sandbox_url)
    first = await dd.start_mitigation_task(target, mapping)
    # The checks in another order are the same request; a check's actions are not reordered.
    again = await dd.start_mitigation_task(target, dict(reversed(list(mapping.items()))))
    assert again.reused and again.task_id == first.task_id
    runtime().clock.advance(60)
    third = await dd.start_mitigation_task(target, mapping)
    assert not third.reused and third.task_id != first.task_id
    assert third.previous is not None and third.previous.task_id == first.task_id
    starts = [e for e in journal.entries() if e.operation == START]
    assert [e.params["auditCheckToActionsMapping"] for e in starts] == [mapping, mapping]
    assert all(e.state == "ok" for e in starts)


async def test_an_ambiguous_500_on_a_multi_check_start_is_checked_not_resent(dd, journal, sandbox_url):
    runtime().options.mitigation_seconds = 60
    target, mapping, _ = await two_checks(dd, sandbox_url)
    faults = Faults(dd, "error_after_rate", START)
    start = await dd.start_mitigation_task(target, mapping)
    assert not start.reused and faults.sent[START] == 1
    assert start.task.mapping == {check: tuple(actions) for check, actions in mapping.items()}
    (entry,) = [e for e in journal.entries() if e.operation == START]
    assert entry.reconcile_note.startswith(f"carried out: mitigation task {start.task_id}")


async def test_read_only_refuses_a_multi_check_start_before_sending(sandbox_url, aws_env, journal):
    target = {"findingIds": ["f1", "f2"]}
    mapping = {SHARED: ["deactivate"], POLICY_CHECK: ["replace"]}
    before = request_counts(sandbox_url).get(START, 0)
    async with DefenderClient(sandbox_settings(sandbox_url, read_only=True), journal) as dd:
        with pytest.raises(ReadOnlyError):
            await dd.start_mitigation_task(target, mapping)
    assert request_counts(sandbox_url).get(START, 0) == before
    assert journal.entries() == []
