"""One check's findings in many contexts (issue 17): each context's latest completed audit that ran the
check, its findings streamed page by page to the caller as they come.

Reads only. The fan-out over contexts is the caller's (aws/survey.py bounds it); a context whose read
fails is that context's error, the others go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .models import AuditTask, Finding, Identity
from .posture import LOOKBACK

if TYPE_CHECKING:
    from .client import DefenderClient

# Audits described, newest first, looking for one that ran the check: most audits run the same checks,
# so the first one nearly always does; a region auditing many different sets stops here.
DESCRIBE_AT_MOST = 5


@dataclass(frozen=True, slots=True)
class CheckSource:
    """Where a context's rows came from: its account and region, and the audit (None: none ran the check
    in the last 90 days)."""

    account: str
    region: str
    task_id: str | None = None
    start_time: datetime | None = None
    count: int = 0  # findings streamed


async def latest_audit_of(
    dd: DefenderClient, check_name: str, *, now: datetime | None = None
) -> AuditTask | None:
    """The newest COMPLETED audit of the last 90 days whose checks include `check_name`, described."""
    now = now or datetime.now(UTC)
    listed = await dd.list_audit_tasks(now - LOOKBACK, now + timedelta(minutes=1))  # newest first
    completed = [t for t in listed if t.status == "COMPLETED"][:DESCRIBE_AT_MOST]
    for task in completed:
        described = await dd.describe_audit_task(task.task_id)
        if described.check(check_name) is not None:
            return described
    return None


async def read_check(
    dd: DefenderClient,
    check_name: str,
    on_page: Callable[[tuple[Finding, ...]], None],
    *,
    account: str | None = None,
    now: datetime | None = None,
) -> CheckSource:
    """Every finding of `check_name` in the context's latest audit that ran it, handed to `on_page` page by
    page; `account`: the context's account when known (saves STS)."""
    identity, task = await asyncio.gather(
        _known(account) if account else dd.identity(), latest_audit_of(dd, check_name, now=now)
    )
    count = 0
    if task is not None:
        async for page in dd.iter_findings(task_id=task.task_id, check_name=check_name):
            count += len(page)
            on_page(page)
    return CheckSource(
        account=identity.account,
        region=dd.region or "",
        task_id=task.task_id if task else None,
        start_time=task.start_time if task else None,
        count=count,
    )


async def _known(account: str) -> Identity:
    return Identity(account=account, arn="", user_id="")
