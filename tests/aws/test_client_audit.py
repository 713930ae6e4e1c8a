"""DefenderClient: audit configuration, scheduled audits, audit tasks and suppressions over the sandbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from iot_defender_tui.aws.errors import ConflictError, InvalidRequestError, NotFoundError
from iot_defender_tui.aws.models import CheckConfiguration, ResourceRef, SnsTarget
from tests.support.factories import ROLE, audit_role

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
AGE = "DEVICE_CERTIFICATE_AGE_CHECK"
LOGGING = "LOGGING_DISABLED_CHECK"
TOPIC = "arn:aws:sns:us-east-1:123456789012:audit-results"


async def test_audit_configuration_round_trip(dd):
    before = await dd.describe_audit_configuration()
    assert not before.check(SHARED).enabled

    await dd.update_audit_configuration(
        role_arn=ROLE,
        sns_target=SnsTarget(TOPIC, ROLE, True),
        checks=[CheckConfiguration(AGE, True, {"CERT_AGE_THRESHOLD_IN_DAYS": "400"})],
    )
    await dd.update_audit_configuration(checks={LOGGING: True})
    after = await dd.describe_audit_configuration()
    assert after.role_arn == ROLE
    assert after.sns_target == SnsTarget(TOPIC, ROLE, True)
    assert after.check(AGE).configuration == {"CERT_AGE_THRESHOLD_IN_DAYS": "400"}
    assert set(after.enabled_checks) == {AGE, LOGGING}

    await dd.delete_audit_configuration(delete_scheduled_audits=True)
    assert not (await dd.describe_audit_configuration()).enabled_checks


async def test_scheduled_audit_lifecycle(dd):
    await dd.update_audit_configuration(role_arn=ROLE, checks={SHARED: True, LOGGING: True})
    arn = await dd.create_scheduled_audit("weekly", "WEEKLY", [SHARED], day_of_week="MON")
    assert arn.endswith(":scheduledaudit/weekly")

    described = await dd.describe_scheduled_audit("weekly")
    assert (described.frequency, described.day_of_week, described.check_names) == ("WEEKLY", "MON", (SHARED,))

    await dd.update_scheduled_audit("weekly", frequency="MONTHLY", day_of_month="15", check_names=[LOGGING])
    updated = await dd.describe_scheduled_audit("weekly")
    assert (updated.frequency, updated.day_of_month, updated.check_names) == ("MONTHLY", "15", (LOGGING,))

    with pytest.raises(ConflictError):
        await dd.create_scheduled_audit("weekly", "DAILY", [SHARED])
    assert [s.name for s in await dd.list_scheduled_audits()] == ["weekly"]

    await dd.delete_scheduled_audit("weekly")
    assert await dd.list_scheduled_audits() == ()
    with pytest.raises(NotFoundError) as err:
        await dd.describe_scheduled_audit("weekly")
    assert err.value.operation == "DescribeScheduledAudit"


async def test_weekly_audit_without_a_day_is_an_invalid_request(dd):
    await dd.update_audit_configuration(role_arn=ROLE, checks={SHARED: True})
    with pytest.raises(InvalidRequestError, match=r"(?i)day"):
        await dd.create_scheduled_audit("broken", "WEEKLY", [SHARED])


async def test_on_demand_audit_start_list_describe(dd):
    # An audit role AWS IoT may assume, with the audit's permissions: with a missing one every check fails.
    await dd.update_audit_configuration(role_arn=audit_role(), checks={SHARED: True, LOGGING: True})
    task_id = await dd.start_audit([SHARED, LOGGING])
    now = datetime.now(UTC)

    listed = await dd.list_audit_tasks(now - timedelta(hours=1), now + timedelta(hours=1))
    assert [t.task_id for t in listed] == [task_id]
    assert listed[0].task_type == "ON_DEMAND_AUDIT_TASK"

    for _ in range(100):
        task = await dd.describe_audit_task(task_id)
        if task.status == "COMPLETED":
            break
        await asyncio.sleep(0.05)
    assert task.status == "COMPLETED"
    assert {c.check_name for c in task.checks} == {SHARED, LOGGING}
    assert task.statistics is not None and task.statistics.total == 2
    assert task.start_time is not None and task.start_time.tzinfo is not None

    window = (now - timedelta(hours=1), now + timedelta(hours=1))
    assert await dd.list_audit_tasks(*window, status="IN_PROGRESS") == ()
    assert await dd.list_audit_tasks(*window, task_type="SCHEDULED_AUDIT_TASK") == ()


async def test_cancel_audit_task(dd, sandbox_url):
    from iot_defender_tui.sandbox.runtime import runtime

    runtime().options.audit_seconds = 60  # long enough to still be running when cancelled
    await dd.update_audit_configuration(role_arn=ROLE, checks={SHARED: True})
    task_id = await dd.start_audit([SHARED])
    await dd.cancel_audit_task(task_id)
    assert (await dd.describe_audit_task(task_id)).status == "CANCELED"


async def test_suppression_lifecycle(dd):
    cert = ResourceRef.from_identifier({"deviceCertificateId": "ab" * 32})
    until = datetime.now(UTC) + timedelta(days=30)
    await dd.create_suppression(SHARED, cert, expiration=until, description="lab bench")

    described = await dd.describe_suppression(SHARED, cert)
    assert described.description == "lab bench"
    assert described.expiration is not None and abs(described.expiration - until) < timedelta(seconds=1)

    await dd.update_suppression(SHARED, cert.identifier, indefinitely=True, description="forever")
    updated = await dd.describe_suppression(SHARED, cert)
    assert (updated.indefinitely, updated.description) == (True, "forever")

    listed = await dd.list_suppressions(check_name=SHARED)
    assert [s.resource.identifier for s in listed] == [cert.identifier]
    assert await dd.list_suppressions(check_name=LOGGING) == ()

    await dd.delete_suppression(SHARED, cert)
    assert await dd.list_suppressions() == ()
    with pytest.raises(NotFoundError):
        await dd.describe_suppression(SHARED, cert)
