"""Applying a mitigation again: a new task once the previous one ended, the running one while it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.models import UpdateDeviceCertificateParams
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.mitigation import SHARED, audit_task, cert_finding, device_certificate, make_role
from tests.support.sandbox import make_client, request_counts

START = "StartAuditMitigationActionsTask"


async def _deactivation(dd: DefenderClient, url: str) -> tuple[str, dict, dict]:
    """(certificate id, target, mapping) of one ACTIVE certificate's finding and a DEACTIVATE action."""
    role = make_role(url, "MitigationRole", ["iot:UpdateCertificate"])
    await dd.create_mitigation_action("deactivate", role, UpdateDeviceCertificateParams())
    cert_id, _arn = device_certificate(make_client(url))
    finding = cert_finding(audit_task(), cert_id)
    return cert_id, {"findingIds": [finding.finding_id]}, {SHARED: ["deactivate"]}


def _status(url: str, cert_id: str) -> str:
    return make_client(url).describe_certificate(certificateId=cert_id)["certificateDescription"]["status"]


async def _tasks(dd: DefenderClient) -> list[str]:
    now = datetime.now(UTC)
    found = await dd.list_mitigation_tasks(now - timedelta(hours=1), now + timedelta(days=2))
    return [t.task_id for t in found]


async def test_applying_again_after_the_task_ended_starts_a_new_task(dd, sandbox_url):
    runtime().options.mitigation_seconds = 2
    cert_id, target, mapping = await _deactivation(dd, sandbox_url)
    first = await dd.start_mitigation_task(target, mapping)
    assert not first.reused and first.previous is None
    runtime().clock.advance(5)
    assert (await dd.describe_mitigation_task(first.task_id)).status == "COMPLETED"
    assert _status(sandbox_url, cert_id) == "INACTIVE"

    # Someone re-activates the certificate (with the CLI); the user applies the same mitigation again.
    make_client(sandbox_url).update_certificate(certificateId=cert_id, newStatus="ACTIVE")
    second = await dd.start_mitigation_task(target, mapping)
    assert second.task_id != first.task_id
    assert not second.reused
    assert second.previous is not None and (second.previous.task_id, second.previous.status) == (
        first.task_id,
        "COMPLETED",
    )
    runtime().clock.advance(5)
    assert (await dd.describe_mitigation_task(second.task_id)).status == "COMPLETED"
    assert _status(sandbox_url, cert_id) == "INACTIVE"
    assert sorted(await _tasks(dd)) == sorted([first.task_id, second.task_id])


async def test_applying_again_after_a_canceled_task_starts_a_new_one(dd, sandbox_url):
    runtime().options.mitigation_seconds = 60
    _cert, target, mapping = await _deactivation(dd, sandbox_url)
    first = await dd.start_mitigation_task(target, mapping)
    await dd.cancel_mitigation_task(first.task_id)
    again = await dd.start_mitigation_task(target, mapping)
    assert again.task_id != first.task_id and not again.reused
    assert again.previous is not None and again.previous.status == "CANCELED"


async def test_applying_again_while_the_task_runs_reuses_it(dd, sandbox_url):
    runtime().options.mitigation_seconds = 60
    _cert, target, mapping = await _deactivation(dd, sandbox_url)
    first = await dd.start_mitigation_task(target, mapping)
    before = request_counts(sandbox_url).get(START, 0)
    again = await dd.start_mitigation_task(target, mapping)
    assert again.reused and again.task_id == first.task_id
    assert request_counts(sandbox_url).get(START, 0) == before  # not even sent
    assert await _tasks(dd) == [first.task_id]
