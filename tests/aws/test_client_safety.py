"""DefenderClient: read-only sends nothing, the journal around every write, reconciliation, faults, errors."""

from __future__ import annotations

import asyncio
import inspect
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, UnauthorizedSSOTokenError

from iot_defender_tui.aws.client import DefenderClient, reconcile_journal
from iot_defender_tui.aws.errors import (
    AccessDeniedError,
    InvalidRequestError,
    NotFoundError,
    SsoTokenExpiredError,
    ThrottledError,
    map_error,
)
from iot_defender_tui.aws.guard import MUTATING_OPERATIONS, ReadOnlyError, mitigation_request_identity
from iot_defender_tui.aws.journal import OUTCOME_UNKNOWN, Journal
from iot_defender_tui.aws.models import SnsTarget, UpdateDeviceCertificateParams
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.mitigation import SHARED, audit_task, cert_finding, device_certificate, make_role
from tests.support.sandbox import (
    ACCOUNT,
    FAST,
    PATIENT,
    REGION,
    make_client,
    request_counts,
    sandbox_settings,
)

CERT = {"deviceCertificateId": "ab" * 32}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Any"
# Every mutating method with arguments AWS would accept.
WRITES = {
    "update_audit_configuration": lambda dd: dd.update_audit_configuration(
        role_arn=ROLE, sns_target=SnsTarget(None, ROLE, False), checks={SHARED: True}
    ),
    "delete_audit_configuration": lambda dd: dd.delete_audit_configuration(),
    "create_scheduled_audit": lambda dd: dd.create_scheduled_audit("daily", "DAILY", [SHARED]),
    "update_scheduled_audit": lambda dd: dd.update_scheduled_audit("daily", frequency="DAILY"),
    "delete_scheduled_audit": lambda dd: dd.delete_scheduled_audit("daily"),
    "start_audit": lambda dd: dd.start_audit([SHARED]),
    "cancel_audit_task": lambda dd: dd.cancel_audit_task("0" * 32),
    "create_suppression": lambda dd: dd.create_suppression(SHARED, CERT, indefinitely=True),
    "update_suppression": lambda dd: dd.update_suppression(SHARED, CERT, description="x"),
    "delete_suppression": lambda dd: dd.delete_suppression(SHARED, CERT),
    "create_mitigation_role": lambda dd: dd.create_mitigation_role("r", "UPDATE_DEVICE_CERTIFICATE"),
    "create_mitigation_action": lambda dd: dd.create_mitigation_action(
        "a", ROLE, UpdateDeviceCertificateParams()
    ),
    "update_mitigation_action": lambda dd: dd.update_mitigation_action("a", role_arn=ROLE),
    "delete_mitigation_action": lambda dd: dd.delete_mitigation_action("a"),
    "update_certificate": lambda dd: dd.update_certificate("c", "ACTIVE"),
    "update_ca_certificate": lambda dd: dd.update_ca_certificate("c", "ACTIVE"),
    "set_default_policy_version": lambda dd: dd.set_default_policy_version("p", "1"),
    "start_mitigation_task": lambda dd: dd.start_mitigation_task({"findingIds": ["f"]}, {SHARED: ["a"]}),
    "cancel_mitigation_task": lambda dd: dd.cancel_mitigation_task("t"),
    "set_logging_options_v1": lambda dd: dd.set_logging_options_v1(ROLE, "INFO"),
    "set_v2_logging_options": lambda dd: dd.set_v2_logging_options(default_level="INFO"),
    "set_v2_logging_level": lambda dd: dd.set_v2_logging_level("CLIENT_ID", "c", "INFO"),
    "delete_v2_logging_level": lambda dd: dd.delete_v2_logging_level("CLIENT_ID", "c"),
}
WRITE_PREFIXES = ("create_", "update_", "delete_", "start_", "cancel_", "set_")


def test_every_mutating_method_is_covered_here():
    methods = {
        name
        for name, _ in inspect.getmembers(DefenderClient, inspect.iscoroutinefunction)
        if name.startswith(WRITE_PREFIXES)
    }
    assert methods == set(WRITES)


async def test_read_only_refuses_every_write_and_sends_nothing(sandbox_url, aws_env, tmp_path: Path):
    journal = Journal.open(tmp_path / "journal.sqlite")
    before = request_counts(sandbox_url)
    async with DefenderClient(sandbox_settings(sandbox_url, read_only=True), journal) as dd:
        for name, write in WRITES.items():
            with pytest.raises(ReadOnlyError) as err:
                await write(dd)
            assert err.value.operation in MUTATING_OPERATIONS, name
        assert (await dd.describe_audit_configuration()).checks  # reading still works
    after = request_counts(sandbox_url)
    sent = {op: after.get(op, 0) - before.get(op, 0) for op in after}
    assert {op: n for op, n in sent.items() if n} == {"DescribeAccountAuditConfiguration": 1}
    assert journal.entries() == []  # nothing refused is journaled as if it had been tried


async def test_journal_records_intent_and_outcome_of_real_calls(sandbox_url, aws_env, tmp_path: Path):
    journal = Journal.open(tmp_path / "journal.sqlite")
    role = make_role(sandbox_url, "MitigationRole", ["iot:UpdateCertificate"])
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as dd:
        me = await dd.identity()
        await dd.create_mitigation_action("deactivate", role, UpdateDeviceCertificateParams())
        with pytest.raises(NotFoundError):
            await dd.delete_scheduled_audit("never-made")
    failed, made = journal.entries()
    assert (made.operation, made.state, made.outcome) == ("CreateMitigationAction", "ok", "ok")
    assert made.params["actionParams"] == {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}
    assert made.result is not None and made.result["actionArn"].endswith("/deactivate")
    assert (made.identity_arn, made.account, made.region) == (me.arn, ACCOUNT, REGION)
    assert (failed.operation, failed.state) == ("DeleteScheduledAudit", "error")
    assert "never-made" in (failed.error or "")


async def test_a_write_without_answer_stays_unknown_and_is_reconciled(sandbox_url, aws_env, tmp_path: Path):
    journal = Journal.open(tmp_path / "journal.sqlite")
    iot = make_client(sandbox_url)
    role = make_role(sandbox_url, "MitigationRole", ["iot:UpdateCertificate"])
    finding = cert_finding(audit_task(), device_certificate(iot)[0])
    target, mapping = {"findingIds": [finding.finding_id]}, {SHARED: ["deactivate"]}
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as dd:
        await dd.create_mitigation_action("deactivate", role, UpdateDeviceCertificateParams())

        def slow_down(**_):  # only the write: the look-up for a running task before it is answered
            runtime().options.latency_ms = 800

        for client in (*dd._clients.values(), *dd._writers.values()):
            client.meta.events.register("before-send.iot.StartAuditMitigationActionsTask", slow_down)
        # The app is closed (or killed) while AWS is still working on the request.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(dd.start_mitigation_task(target, mapping), 0.5)
        runtime().options.latency_ms = 0
        (unknown,) = journal.unknown_outcomes()
        assert unknown.operation == "StartAuditMitigationActionsTask"
        assert unknown.outcome == OUTCOME_UNKNOWN
        # What was never carried out, and what cannot be checked.
        never = dict(unknown.params, taskId="idt-never-started")
        journal.record_intent(
            identity_arn="x", account=ACCOUNT, region=REGION, operation=unknown.operation, params=never
        )
        journal.record_intent(
            identity_arn="x", account=ACCOUNT, region=REGION, operation="SetV2LoggingOptions", params={}
        )
        journal.record_intent(
            identity_arn="x",
            account="999999999999",
            region=REGION,
            operation="StartOnDemandAuditTask",
            params={},
        )
        await asyncio.sleep(0.8)  # the server finishes the abandoned request
        results = await reconcile_journal(dd, journal)

    task_id = mitigation_request_identity(target, mapping)[0]
    notes = [(r.closed, r.note) for r in results]
    assert notes[0][0] and notes[0][1].startswith(f"carried out: mitigation task {task_id} is ")
    assert notes[1] == (True, "not carried out: mitigation task idt-never-started does not exist")
    assert not notes[2][0] and notes[2][1].startswith("cannot be verified")  # stays unknown
    assert not notes[3][0] and "999999999999" in notes[3][1]
    still_unknown = ["SetV2LoggingOptions", "StartOnDemandAuditTask"]
    assert [e.operation for e in journal.unknown_outcomes()] == still_unknown


async def test_throttling_is_retried_until_it_passes(sandbox_url, aws_env):
    runtime().options.throttle_rate = 0.5
    runtime().rng.seed(7)
    async with DefenderClient(sandbox_settings(sandbox_url), tuning=PATIENT) as dd:
        for _ in range(5):
            assert (await dd.describe_audit_configuration()).checks
        now = datetime.now(UTC)
        assert await dd.list_audit_tasks(now - timedelta(days=1), now) == ()


async def test_server_errors_are_retried_by_botocore(dd):
    runtime().options.error_rate = 0.3
    runtime().rng.seed(3)
    for _ in range(4):
        assert (await dd.describe_audit_configuration()).checks
    now = datetime.now(UTC)
    assert await dd.list_audit_tasks(now - timedelta(days=1), now) == ()


async def test_throttling_that_never_ends_surfaces_after_the_retries(sandbox_url, aws_env):
    runtime().options.throttle_rate = 1.0
    started = time.monotonic()
    async with DefenderClient(sandbox_settings(sandbox_url), tuning=FAST) as dd:
        with pytest.raises(ThrottledError) as err:
            await dd.describe_audit_task("0" * 32)
    assert err.value.operation == "DescribeAuditTask"
    assert "retries" in err.value.text
    assert time.monotonic() - started < 2


async def test_not_found_and_invalid_request(dd):
    with pytest.raises(NotFoundError) as missing:
        await dd.describe_audit_task("0" * 32)
    assert missing.value.code == "ResourceNotFoundException"
    with pytest.raises(InvalidRequestError) as invalid:
        await dd.start_audit(["NO_SUCH_CHECK"])
    assert invalid.value.code == "InvalidRequestException"
    assert "NO_SUCH_CHECK" in invalid.value.text


def test_access_denied_names_the_permission_of_the_right_service():
    denied = ClientError(
        {
            "Error": {"Code": "AccessDeniedException", "Message": "not allowed"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "DescribeAuditTask",
    )
    err = map_error(denied, "DescribeAuditTask", None)
    assert isinstance(err, AccessDeniedError) and err.permission == "iot:DescribeAuditTask"
    assert "iot:DescribeAuditTask" in err.text
    iam = map_error(
        ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListRoles"),
        None,
        None,
        service="iam",
    )
    assert isinstance(iam, AccessDeniedError) and iam.permission == "iam:ListRoles"


def test_expired_sso_token_names_the_profile():
    err = map_error(UnauthorizedSSOTokenError(), "ListAuditFindings", "prod-audit")
    assert isinstance(err, SsoTokenExpiredError)
    assert "aws sso login --profile prod-audit" in err.text
