"""Filling the store from AWS: every completed audit of the last days, resumable check by check.

A check's findings are streamed page by page into the store and the check is marked complete once the
last page is saved, so a sync interrupted anywhere (Ctrl-C, network) starts again at the first check not
marked: a completed audit never changes, so nothing marked is asked for twice. The store is written in
worker threads (asyncio.to_thread): SQLite waits for its lock and writes, the event loop keeps the
requests flowing. Pacing is the client's (ListAuditFindings: 10 requests/s).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..aws.client import DefenderClient
    from .store import AuditStore

RETENTION_DAYS = 90  # AWS keeps audit results this long and refuses an older startTime
# The window's start is computed here and checked there a moment later: without a margin, "90 days ago"
# has become 90 days and a few milliseconds by the time AWS reads it.
MARGIN = timedelta(minutes=10)
CONCURRENCY = 4  # checks of one audit fetched at once: enough to fill the quota over a slow link


@dataclass
class SyncState:
    """What a sync has done so far; the reporter gets it after each step."""

    account: str = ""
    region: str = ""
    tasks_total: int = 0  # completed audits listed in the window
    tasks_done: int = 0  # of which handled (stored now or already)
    tasks_already: int = 0  # of which complete in the store before this sync
    checks_fetched: int = 0
    findings: int = 0  # findings saved by this sync


Report = Callable[[SyncState, str | None], None]  # the state, and a line saying what just happened


def window_start(now: datetime, since_days: int) -> datetime:
    return max(now - timedelta(days=since_days), now - timedelta(days=RETENTION_DAYS) + MARGIN)


async def sync(
    dd: DefenderClient,
    store: AuditStore,
    since_days: int = RETENTION_DAYS,
    *,
    state: SyncState | None = None,
    report: Report | None = None,
    concurrency: int | None = None,
    now: datetime | None = None,
) -> SyncState:
    """Store every COMPLETED audit started in the last `since_days` days that the store lacks, with its
    check results and findings. `state` (updated in place) says how far it got if it is interrupted."""
    state = state if state is not None else SyncState()
    tell = report or (lambda _state, _line: None)
    me = await dd.identity()
    state.account, state.region = me.account, dd.region or ""
    now = now or datetime.now(UTC)
    listed = await dd.list_audit_tasks(
        window_start(now, since_days), now + timedelta(minutes=1), status="COMPLETED"
    )
    state.tasks_total = len(listed)
    audits = "audit" if len(listed) == 1 else "audits"
    tell(state, f"{len(listed)} completed {audits} in the last {since_days} days")
    # Oldest first: they are the first AWS forgets.
    for listed_task in reversed(listed):
        await store_audit(dd, store, listed_task.task_id, state, tell, concurrency or CONCURRENCY)
    return state


async def store_audit(
    dd: DefenderClient,
    store: AuditStore,
    task_id: str,
    state: SyncState,
    tell: Report | None = None,
    concurrency: int = CONCURRENCY,
) -> None:
    """One audit made whole in the store (`state` names its account and region): what `sync` does for
    each audit, and what drift in the TUI does for the two it compares."""
    tell = tell or (lambda _state, _line: None)
    account, region = state.account, state.region
    if await asyncio.to_thread(store.is_complete, account, region, task_id):
        state.tasks_done += 1
        state.tasks_already += 1
        tell(state, f"audit {task_id}: already stored")
        return
    task = await dd.describe_audit_task(task_id)
    await asyncio.to_thread(store.save_task, account, region, task)
    done = await asyncio.to_thread(store.complete_checks, account, region, task_id)
    todo = [c.check_name for c in task.checks if c.non_compliant > 0 and c.check_name not in done]
    gate = asyncio.Semaphore(concurrency)
    stored_before = state.findings

    async def fetch(check: str) -> None:
        async with gate:
            async for page in dd.iter_findings(task_id=task_id, check_name=check):
                if page:
                    saved = await asyncio.to_thread(store.save_findings, account, region, task_id, page)
                    # Not `state.findings += await ...`: that reads the count before the await, and the
                    # other checks' pages saved meanwhile would be lost from it.
                    state.findings += saved
                    tell(state, None)
            await asyncio.to_thread(store.mark_check_complete, account, region, task_id, check)
            state.checks_fetched += 1
            tell(state, f"audit {task_id}: {check} stored")

    try:
        async with asyncio.TaskGroup() as group:
            for check in todo:
                group.create_task(fetch(check))
    except BaseExceptionGroup as errors:
        raise errors.exceptions[0] from None  # callers expect the AwsError or HistoryError itself
    state.tasks_done += 1
    tell(state, f"audit {task_id}: stored ({state.findings - stored_before} findings)")
