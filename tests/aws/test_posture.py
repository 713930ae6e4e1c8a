"""read_posture(): one account-region at a glance, read from the loopback sandbox in a few requests."""

from __future__ import annotations

from datetime import UTC, datetime

from iot_defender_tui.aws.catalogue import check_info
from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.models import AuditConfiguration, AuditTask, CheckResult, Identity
from iot_defender_tui.aws.posture import posture_of, read_posture
from iot_defender_tui.aws.session import ConnectionSettings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.sandbox import ACCOUNT, request_counts

LAB_NON_COMPLIANT = {
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "LOGGING_DISABLED_CHECK",
}


async def test_the_lab_reads_as_its_audit_found_it(sandbox_url: str, dd: DefenderClient) -> None:
    seed_fleet("lab")
    before = sum(request_counts(sandbox_url).values())
    posture = await read_posture(dd)
    sent = sum(request_counts(sandbox_url).values()) - before
    assert sent <= 5  # IoT requests; the identity is STS's one more
    task = await dd.describe_audit_task(posture.latest_task_id or "")
    assert posture.account == ACCOUNT and posture.region == "us-east-1"
    assert posture.audit_configured
    assert (posture.latest_status, posture.latest_kind) == ("COMPLETED", "on-demand")
    assert posture.latest_time == task.start_time
    assert posture.non_compliant_checks == len(LAB_NON_COMPLIANT)
    # Each finding counted once, under its check's severity in the catalogue.
    expected = {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 0}
    for check in task.checks:
        if check.check_name in LAB_NON_COMPLIANT:
            expected[check_info(check.check_name).severity] += check.non_compliant
    assert posture.by_severity == expected
    assert posture.findings == sum(expected.values()) > 0
    assert posture.low >= 1  # LOGGING_DISABLED_CHECK is LOW
    assert (posture.running_audits, posture.running_mitigations, posture.previous_task_id) == (0, 0, None)


async def test_a_running_audit_is_counted_and_the_finished_one_stays_the_latest(dd: DefenderClient) -> None:
    seed_fleet("lab")
    first = await read_posture(dd)
    runtime().options.audit_seconds = 600  # still running when read
    await dd.start_audit(["LOGGING_DISABLED_CHECK"])
    posture = await read_posture(dd)
    assert posture.running_audits == 1
    assert posture.latest_task_id == first.latest_task_id


async def test_a_new_audit_is_the_latest_and_the_one_before_it_the_previous(dd: DefenderClient) -> None:
    seed_fleet("lab")
    first = await read_posture(dd)
    runtime().options.audit_seconds = 0
    started = await dd.start_audit(["LOGGING_DISABLED_CHECK"])
    for _ in range(200):  # audit_seconds=0: done by its first describe or so
        if (await dd.describe_audit_task(started)).status != "IN_PROGRESS":
            break
    posture = await read_posture(dd)
    assert (posture.latest_task_id, posture.previous_task_id) == (started, first.latest_task_id)
    assert (posture.non_compliant_checks, posture.critical, posture.low) == (1, 0, 1)


async def test_a_region_never_set_up_has_no_audit_configuration(sandbox_url: str, aws_env) -> None:
    seed_fleet("lab")  # in us-east-1 only
    settings = ConnectionSettings(region="eu-west-1", endpoint_url=sandbox_url)
    async with DefenderClient(settings) as other:
        posture = await read_posture(other)
    assert posture.region == "eu-west-1"
    assert not posture.audit_configured
    assert posture.latest_task_id is None and posture.findings == 0


async def test_an_account_the_context_already_knows_is_taken_as_it_is(dd: DefenderClient) -> None:
    seed_fleet("lab")
    posture = await read_posture(dd, account="444455556666")  # what discovery said, not asked again
    assert posture.account == "444455556666"
    assert posture.non_compliant_checks == len(LAB_NON_COMPLIANT)


def test_counts_come_from_the_latest_finished_audit_and_checks_unknown_to_the_catalogue_count() -> None:
    def task(task_id: str, status: str, checks: tuple[CheckResult, ...] = ()) -> AuditTask:
        return AuditTask(
            task_id, status, "SCHEDULED_AUDIT_TASK", datetime(2026, 12, 1, tzinfo=UTC), None, None, checks
        )

    def check(name: str, found: int, status: str = "COMPLETED_NON_COMPLIANT") -> CheckResult:
        return CheckResult(name, status, found == 0, 10, found, 0, None, None)

    listed = [
        task("run", "IN_PROGRESS"),
        task("new", "COMPLETED"),
        task("x", "FAILED"),
        task("old", "COMPLETED"),
    ]
    latest = task(
        "new",
        "COMPLETED",
        (
            check("CA_CERTIFICATE_EXPIRING_CHECK", 2),  # MEDIUM
            check("A_CHECK_FROM_THE_FUTURE", 5),
            check("LOGGING_DISABLED_CHECK", 0, "FAILED"),
        ),
    )
    posture = posture_of(
        Identity("111122223333", "arn", "id"),
        "eu-west-1",
        AuditConfiguration(None, None, ()),
        listed,
        latest,
        2,
    )
    assert (posture.medium, posture.unrated, posture.findings) == (2, 5, 7)
    assert (posture.non_compliant_checks, posture.failed_checks) == (2, 1)
    assert (posture.running_audits, posture.running_mitigations) == (1, 2)
    assert posture.previous_task_id == "old"
    assert posture.latest_kind == "scheduled"
    assert not posture.audit_configured
