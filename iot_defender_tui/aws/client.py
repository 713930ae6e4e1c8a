"""`DefenderClient`: the app's one door to AWS, and the reconciliation of the journal with AWS.

    async with DefenderClient(ConnectionSettings.resolve(profile, region)) as dd:
        me = await dd.identity()
        async for page in dd.iter_findings(task_id=task):
            ...

The methods live in mixins by subject (client_audit, client_findings, client_mitigation,
client_resources) over the plumbing in client_core.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from . import mutations
from .client_audit import AuditMixin
from .client_findings import FindingsMixin
from .client_mitigation import MitigationMixin
from .client_resources import ResourcesMixin
from .errors import AwsError, NotFoundError
from .journal import Journal, JournalEntry, JournalError
from .session import ConnectionSettings, Tuning

__all__ = ["ConnectionSettings", "DefenderClient", "Reconciled", "Tuning", "reconcile_journal"]


class DefenderClient(AuditMixin, FindingsMixin, MitigationMixin, ResourcesMixin):
    """Async client of Device Defender Audit and what the app needs around it. Use with `async with`."""


@dataclass(frozen=True, slots=True)
class Reconciled:
    entry_id: int
    operation: str
    note: str
    # False: left "outcome unknown": another account or region, AWS failed, or it cannot be verified
    closed: bool


Probe = Callable[[DefenderClient, dict[str, Any]], Awaitable[Any]]

# A delete whose answer never came: carried out if what it named is gone. (Writes that make or change
# something are checked by aws/mutations.VERIFIERS, the table the write path itself uses.)
_DELETED: dict[str, tuple[str, Probe]] = {
    "DeleteScheduledAudit": (
        "scheduled audit {scheduledAuditName}",
        lambda dd, p: dd.describe_scheduled_audit(p["scheduledAuditName"]),
    ),
    "DeleteMitigationAction": (
        "mitigation action {actionName}",
        lambda dd, p: dd.describe_mitigation_action(p["actionName"]),
    ),
    "DeleteAuditSuppression": (
        "suppression of {checkName}",
        lambda dd, p: dd.describe_suppression(p["checkName"], p["resourceIdentifier"]),
    ),
}


async def reconcile_journal(dd: DefenderClient, journal: Journal) -> list[Reconciled]:
    """Settle every "outcome unknown" entry of this account and region by asking AWS what happened."""
    # SQLite waits for its lock and fsyncs: in a thread, not on the app's event loop.
    unknown = await asyncio.to_thread(journal.unknown_outcomes)
    if not unknown:
        return []  # the usual case: no need to ask who we are
    me = await dd.identity()
    results: list[Reconciled] = []
    for entry in unknown:
        if entry.account != me.account or entry.region != dd.region:
            where = f"account {entry.account}, region {entry.region}"
            results.append(Reconciled(entry.id, entry.operation, f"left open: it was sent to {where}", False))
            continue
        try:
            note = await _verdict(dd, entry)
        except AwsError as err:
            results.append(Reconciled(entry.id, entry.operation, f"left open: checking failed: {err}", False))
            continue
        # Nothing learnt ("cannot be verified"): closing it would read as settled. It stays unknown,
        # with the reason.
        closed = not note.startswith(UNVERIFIABLE)
        record = journal.mark_reconciled if closed else journal.note_unverified
        try:
            await asyncio.to_thread(record, entry.id, note)
        except JournalError as err:  # its real outcome arrived meanwhile (another instance of the app)
            results.append(Reconciled(entry.id, entry.operation, f"left as it is: {err}", False))
            continue
        results.append(Reconciled(entry.id, entry.operation, note, closed))
    return results


UNVERIFIABLE = "cannot be verified"


async def _verdict(dd: DefenderClient, entry: JournalEntry) -> str:
    operation, params = entry.operation, entry.params
    if operation in mutations.VERIFIERS:
        verdict = await mutations.verify(dd, operation, params, entry.time.timestamp())
        if verdict.done is None:
            return f"{UNVERIFIABLE}: {verdict.note}"
        return f"{'carried out' if verdict.done else 'not carried out'}: {verdict.note}"
    if operation in _DELETED:
        label, probe = _DELETED[operation]
        what = label.format_map(_Defaulting(params))
        try:
            await probe(dd, params)
        except (KeyError, TypeError):
            return f"cannot be verified: the journal lacks what identifies the {what}"
        except NotFoundError:
            return f"carried out: {what} no longer exists"
        return f"not carried out: {what} still exists"
    return "cannot be verified: AWS keeps no record of this request that the app can read; check by hand"


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"
