"""Undoing a finished mitigation task, where AWS allows it (issue 15).

The plan comes from what AWS recorded, not from guesses: the task's own action definitions (what each
action did), its executions (which findings it acted on, and whether it succeeded) and each finding's
resource as the audit saw it (the certificate that was active, the policy version that was the default),
checked against the resource as it is now. Every change it makes goes through the client's `_mutate`, so it
is refused in read-only mode and journaled like any other.

What cannot be undone is said, with why: a message published to SNS is out; the things an
ADD_THINGS_TO_THING_GROUP action moved and the logging options ENABLE_IOT_LOGGING replaced are not recorded
by AWS, so removing or restoring them would be a guess.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .client_mitigation import TASK_ENDED
from .errors import AwsError

if TYPE_CHECKING:
    from .client import DefenderClient
    from .models import Finding, MitigationTask

DONE = "COMPLETED"  # an execution that did its change
AT_ONCE = 8  # findings looked up at the same time


@dataclass(frozen=True, slots=True)
class Undo:
    """One change that undoes one execution, or (operation None) why it cannot be undone."""

    finding_id: str
    action_name: str
    action_type: str
    what: str  # "re-activate certificate 3f2a… (the task deactivated it)"
    operation: str | None = None  # UpdateCertificate, UpdateCACertificate, SetDefaultPolicyVersion
    args: tuple[str, ...] = ()
    why_not: str = ""

    @property
    def possible(self) -> bool:
        return self.operation is not None


@dataclass(frozen=True, slots=True)
class Outcome:
    undo: Undo
    error: str | None = None  # None: done


class NotFinished(Exception):
    """The task is still running: its changes are not all made yet."""


def _short(identifier: str) -> str:
    return identifier if len(identifier) <= 13 else f"{identifier[:10]}…"


async def plan(dd: DefenderClient, task_id: str) -> tuple[MitigationTask, list[Undo]]:
    """What undoing `task_id` would change, execution by execution (a skipped or failed execution changed
    nothing and has no line)."""
    task = await dd.describe_mitigation_task(task_id)
    if task.status not in TASK_ENDED:
        raise NotFinished(f"mitigation task {task_id} is {task.status}: wait for it to end, then revert")
    actions = {a.name: a for a in task.actions}
    gate = asyncio.Semaphore(AT_ONCE)

    async def for_finding(finding_id: str) -> list[Undo]:
        async with gate:
            executions = await dd.list_mitigation_executions(task_id, finding_id, status=DONE)
            if not executions:
                return []
            finding = await dd.describe_finding(finding_id)
            out = []
            for execution in executions:
                action = actions.get(execution.action_name)
                action_type = (action.action_type if action else None) or "unknown"
                out.append(await _undo(dd, finding, execution.action_name, action_type))
            return out

    ids = await _finding_ids(dd, task)
    found = await asyncio.gather(*(for_finding(i) for i in ids))
    return task, [undo for undos in found for undo in undos]


async def _finding_ids(dd: DefenderClient, task: MitigationTask) -> list[str]:
    """The findings the task targeted: named, or every finding of its checks in its audit."""
    named = task.target.get("findingIds")
    if isinstance(named, list):
        return [str(i) for i in named]
    audit = task.target.get("auditTaskId")
    if not audit:
        return []
    ids: list[str] = []
    for check in task.mapping:
        async for page in dd.iter_findings(task_id=str(audit), check_name=check):
            ids.extend(f.finding_id for f in page)
    return ids


async def _undo(dd: DefenderClient, finding: Finding, action: str, action_type: str) -> Undo:
    def said(what: str, why_not: str = "") -> Undo:
        return Undo(finding.finding_id, action, action_type, what, why_not=why_not)

    ref = finding.resource
    if action_type == "UPDATE_DEVICE_CERTIFICATE":
        cert_id = ref.device_certificate_id
        if not cert_id:
            return said("certificate: the finding names none", "no certificate to re-activate")
        return await _certificate(dd, finding, action, action_type, cert_id, ca=False)
    if action_type == "UPDATE_CA_CERTIFICATE":
        ca_id = str(ref.identifier.get("caCertificateId") or "")
        if not ca_id:
            return said("CA certificate: the finding names none", "no CA certificate to re-activate")
        return await _certificate(dd, finding, action, action_type, ca_id, ca=True)
    if action_type == "REPLACE_DEFAULT_POLICY_VERSION":
        return await _policy(dd, finding, action, action_type)
    if action_type == "PUBLISH_FINDING_TO_SNS":
        return said("a message published to SNS", "a message sent cannot be unsent")
    if action_type == "ADD_THINGS_TO_THING_GROUP":
        return said(
            "things added to thing groups",
            "AWS does not record which things were in the groups before: remove them by hand if needed",
        )
    if action_type == "ENABLE_IOT_LOGGING":
        return said(
            "logging enabled",
            "AWS does not record the logging options it replaced: set them in Settings if needed",
        )
    return said(f"{action_type} action", "the app does not know how to undo this action type")


async def _certificate(
    dd: DefenderClient, finding: Finding, action: str, action_type: str, cert_id: str, *, ca: bool
) -> Undo:
    kind = "CA certificate" if ca else "certificate"
    now = await (dd.describe_ca_certificate(cert_id) if ca else dd.describe_certificate(cert_id))
    base = Undo(finding.finding_id, action, action_type, f"re-activate {kind} {_short(cert_id)}")
    if now.status != "INACTIVE":
        return Undo(base.finding_id, action, action_type, base.what, why_not=f"it is {now.status} now")
    operation = "UpdateCACertificate" if ca else "UpdateCertificate"
    return Undo(base.finding_id, action, action_type, f"{base.what} (INACTIVE now)", operation, (cert_id,))


async def _policy(dd: DefenderClient, finding: Finding, action: str, action_type: str) -> Undo:
    version = finding.resource.identifier.get("policyVersionIdentifier")
    version = version if isinstance(version, dict) else {}
    name, old = str(version.get("policyName") or ""), str(version.get("policyVersionId") or "")
    if not name or not old:
        return Undo(finding.finding_id, action, action_type, "policy: the finding names no version",
                    why_not="no policy version to restore")  # fmt: skip
    what = f"make version {old} of policy {name} the default again"
    policy = await dd.get_policy(name)
    if policy.default_version_id == old:
        return Undo(finding.finding_id, action, action_type, what, why_not="it is the default now")
    versions = {v.version_id for v in await dd.list_policy_versions(name)}
    if old not in versions:
        return Undo(finding.finding_id, action, action_type, what, why_not=f"version {old} was deleted")
    what += f" (default now: {policy.default_version_id})"
    return Undo(finding.finding_id, action, action_type, what, "SetDefaultPolicyVersion", (name, old))


async def apply(
    dd: DefenderClient, undos: Iterable[Undo], done: Callable[[Outcome], None] | None = None
) -> list[Outcome]:
    """Make the possible changes, one resource once (findings may share a resource), in order."""
    outcomes, seen = [], set()
    for undo in undos:
        key = (undo.operation, undo.args)
        if not undo.possible or key in seen:
            continue
        seen.add(key)
        try:
            if undo.operation == "UpdateCertificate":
                await dd.update_certificate(undo.args[0], "ACTIVE")
            elif undo.operation == "UpdateCACertificate":
                await dd.update_ca_certificate(undo.args[0], "ACTIVE")
            else:
                await dd.set_default_policy_version(*undo.args)
            outcome = Outcome(undo)
        except AwsError as err:
            outcome = Outcome(undo, err.text)
        outcomes.append(outcome)
        if done is not None:
            done(outcome)
    return outcomes


def describe(undos: list[Undo]) -> list[str]:
    """The plan as lines for a confirmation: each change once, then what cannot be undone and why."""
    lines, seen = [], set()
    for undo in undos:
        if undo.possible and (undo.operation, undo.args) not in seen:
            seen.add((undo.operation, undo.args))
            lines.append(f"{undo.what}  [{undo.action_name}]")
    for undo in undos:
        if not undo.possible:
            lines.append(f"not undone: {undo.what} for finding {undo.finding_id}: {undo.why_not}")
    return lines
