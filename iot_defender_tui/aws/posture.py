"""One account-region's audit posture at a glance: the Fleet overview's row (issue 17).

`read_posture` asks five things, four of them at once: who we are (STS), whether the audit is configured,
the audits of the last 90 days (newest first, as ListAuditTasks answers), the mitigation tasks running;
then describes the latest finished audit for its per-check counts. Reads only: nothing here needs a
journal or a writable context.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .catalogue import check_info
from .models import AuditConfiguration, AuditTask, Identity

if TYPE_CHECKING:
    from .client import DefenderClient

# AWS keeps 90 days and refuses a startTime even slightly older, so stay a little inside it.
LOOKBACK = timedelta(days=90) - timedelta(minutes=10)
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
TASK_KINDS = {"ON_DEMAND_AUDIT_TASK": "on-demand", "SCHEDULED_AUDIT_TASK": "scheduled"}


@dataclass(frozen=True, slots=True)
class Posture:
    """Counts are AWS's per-check statistics of the latest finished audit (nonCompliantResourcesCount,
    suppressed findings included, as the trend counts them); zero without one."""

    account: str
    region: str
    audit_configured: bool  # an audit role or an enabled check: a fresh region has neither
    latest_task_id: str | None = None  # the newest audit that is not IN_PROGRESS
    latest_time: datetime | None = None
    latest_status: str | None = None  # COMPLETED, FAILED, CANCELED
    latest_type: str | None = None  # ON_DEMAND_AUDIT_TASK or SCHEDULED_AUDIT_TASK
    non_compliant_checks: int = 0
    failed_checks: int = 0
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    unrated: int = 0  # findings of checks this version's catalogue does not know
    running_audits: int = 0
    running_mitigations: int = 0
    previous_task_id: str | None = None  # the COMPLETED audit before the latest one (for drift)

    @property
    def findings(self) -> int:
        return self.critical + self.high + self.medium + self.low + self.unrated

    @property
    def by_severity(self) -> dict[str, int]:
        return dict(zip(SEVERITIES, (self.critical, self.high, self.medium, self.low), strict=True))

    @property
    def latest_kind(self) -> str | None:
        """ "on-demand" or "scheduled" (AWS's own word for a type this version does not know)."""
        return TASK_KINDS.get(self.latest_type or "", self.latest_type)


def configured(configuration: AuditConfiguration) -> bool:
    """A region never set up answers with every check disabled and no role."""
    return bool(configuration.role_arn) or bool(configuration.enabled_checks)


def posture_of(
    identity: Identity,
    region: str,
    configuration: AuditConfiguration,
    listed: Sequence[AuditTask],
    latest: AuditTask | None,
    running_mitigations: int,
) -> Posture:
    """The posture from the replies: `listed` newest first, `latest` the newest finished one described."""
    previous = None
    if latest is not None:
        at = next((n for n, t in enumerate(listed) if t.task_id == latest.task_id), -1)
        previous = next((t.task_id for t in listed[at + 1 :] if t.status == "COMPLETED"), None)
    counts = dict.fromkeys((*SEVERITIES, ""), 0)
    checks = latest.checks if latest is not None else ()
    for check in checks:
        severity = check_info(check.check_name).severity
        counts[severity if severity in SEVERITIES else ""] += check.non_compliant
    return Posture(
        account=identity.account,
        region=region,
        audit_configured=configured(configuration),
        latest_task_id=latest.task_id if latest else None,
        latest_time=latest.start_time if latest else None,
        latest_status=latest.status if latest else None,
        latest_type=latest.task_type if latest else None,
        non_compliant_checks=sum(1 for c in checks if c.non_compliant > 0),
        failed_checks=sum(1 for c in checks if c.status == "FAILED"),
        critical=counts["CRITICAL"],
        high=counts["HIGH"],
        medium=counts["MEDIUM"],
        low=counts["LOW"],
        unrated=counts[""],
        running_audits=sum(1 for t in listed if t.status == "IN_PROGRESS"),
        running_mitigations=running_mitigations,
        previous_task_id=previous,
    )


async def read_posture(
    dd: DefenderClient, *, account: str | None = None, now: datetime | None = None
) -> Posture:
    """Five reads, in two round trips; any failure is the AwsError of the read that failed. `account`: the
    context's account when already known (organization discovery), which saves STS and its client."""
    now = now or datetime.now(UTC)
    start, end = now - LOOKBACK, now + timedelta(minutes=1)
    identity, configuration, listed, running = await asyncio.gather(
        _known(account) if account else dd.identity(),
        dd.describe_audit_configuration(),
        dd.list_audit_tasks(start, end),
        dd.list_mitigation_tasks(start, end, status="IN_PROGRESS"),
    )
    finished = next((t for t in listed if t.status != "IN_PROGRESS"), None)
    latest = await dd.describe_audit_task(finished.task_id) if finished else None
    return posture_of(identity, dd.region or "", configuration, listed, latest, len(running))


async def _known(account: str) -> Identity:
    return Identity(account=account, arn="", user_id="")
