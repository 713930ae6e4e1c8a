"""Undoing a finished mitigation task, where AWS allows it (issue 15).

The plan comes from what AWS recorded, not from guesses: the task's own action definitions (what each
action did), its executions (which findings it acted on, and whether it succeeded) and each finding's
resource as the audit saw it (the certificate that was active, the policy version that was the default),
checked against the resource as it is now. Every change it makes goes through the client's `_mutate`, so it
is refused in read-only mode and journaled like any other.

The things an ADD_THINGS_TO_THING_GROUP action added and the logging options ENABLE_IOT_LOGGING replaced
are not recorded by AWS: they come from the journal, where the app kept what was there before it started
the task (aws/prior_state.py). A task started elsewhere (the console, the CLI) has no such record, and
its groups and logging are left alone, with why. What cannot be undone at all is said too: a message
published to SNS is out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import prior_state
from .client_mitigation import TASK_ENDED
from .errors import AwsError
from .models_params import AddThingsToThingGroupParams
from .safe_text import safe

if TYPE_CHECKING:
    from .client import DefenderClient
    from .models import Finding, MitigationAction, MitigationTask

DONE = "COMPLETED"  # an execution that did its change
AT_ONCE = 8  # findings looked up at the same time


@dataclass(frozen=True, slots=True)
class Undo:
    """One change that undoes one execution, or (operation None) why it cannot be undone."""

    finding_id: str
    action_name: str
    action_type: str
    what: str  # "re-activate certificate 3f2a… (the task deactivated it)"
    # UpdateCertificate, UpdateCACertificate, SetDefaultPolicyVersion, RemoveThingFromThingGroup,
    # SetV2LoggingOptions
    operation: str | None = None
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
    context = _Context(dd, await _prior(dd, task_id))

    async def for_finding(finding_id: str) -> list[Undo]:
        async with gate:
            executions = await dd.list_mitigation_executions(task_id, finding_id, status=DONE)
            if not executions:
                return []
            finding = await dd.describe_finding(finding_id)
            out = []
            for execution in executions:
                name = execution.action_name
                out.extend(await _undo(context, finding, name, actions.get(name)))
            return out

    ids = await _finding_ids(dd, task)
    found = await asyncio.gather(*(for_finding(i) for i in ids))
    return task, [undo for undos in found for undo in undos]


async def _prior(dd: DefenderClient, task_id: str) -> dict[str, Any] | None:
    """What the journal kept of the state before this app started the task; None: not started here."""
    journal = dd.journal
    if journal is None:
        return None
    entry = await asyncio.to_thread(journal.started, "StartAuditMitigationActionsTask", task_id)
    if entry is None:
        return None
    return entry.prior or {}


@dataclass
class _Context:
    dd: DefenderClient
    prior: dict[str, Any] | None  # None: the task was not started by this app (no journal entry)
    _members: dict[str, asyncio.Task[set[str]]] = field(default_factory=dict)

    def members_now(self, group: str) -> asyncio.Task[set[str]]:
        """A group's things now, asked for once per plan however many findings share the group."""
        if group not in self._members:
            self._members[group] = asyncio.ensure_future(self._list(group))
        return self._members[group]

    async def _list(self, group: str) -> set[str]:
        return set(await self.dd.list_things_in_thing_group(group))


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


async def _undo(
    context: _Context, finding: Finding, action: str, definition: MitigationAction | None
) -> list[Undo]:
    dd = context.dd
    action_type = (definition.action_type if definition else None) or "unknown"

    def said(what: str, why_not: str = "") -> list[Undo]:
        return [Undo(finding.finding_id, action, action_type, what, why_not=why_not)]

    ref = finding.resource
    if action_type == "UPDATE_DEVICE_CERTIFICATE":
        cert_id = ref.device_certificate_id
        if not cert_id:
            return said("certificate: the finding names none", "no certificate to re-activate")
        return [await _certificate(dd, finding, action, action_type, cert_id, ca=False)]
    if action_type == "UPDATE_CA_CERTIFICATE":
        ca_id = str(ref.identifier.get("caCertificateId") or "")
        if not ca_id:
            return said("CA certificate: the finding names none", "no CA certificate to re-activate")
        return [await _certificate(dd, finding, action, action_type, ca_id, ca=True)]
    if action_type == "REPLACE_DEFAULT_POLICY_VERSION":
        return [await _policy(dd, finding, action, action_type)]
    if action_type == "PUBLISH_FINDING_TO_SNS":
        return said("a message published to SNS", "a message sent cannot be unsent")
    if context.prior is None and action_type in (prior_state.ADD_TO_GROUPS, prior_state.ENABLE_LOGGING):
        return said(
            "things added to thing groups" if action_type == prior_state.ADD_TO_GROUPS else "logging enabled",
            "the task was not started by this app, so the state before it is not in the journal "
            "(AWS does not record it)",
        )
    if action_type == prior_state.ADD_TO_GROUPS:
        params = definition.params if definition else None
        groups = params.thing_group_names if isinstance(params, AddThingsToThingGroupParams) else ()
        return await _groups(context, finding, action, groups)
    if action_type == prior_state.ENABLE_LOGGING:
        return [await _logging(context, finding, action)]
    return said(f"{action_type} action", "the app does not know how to undo this action type")


async def _groups(context: _Context, finding: Finding, action: str, groups: Iterable[str]) -> list[Undo]:
    """Take out of each group the things of the finding's certificate that the task put there."""
    kind = prior_state.ADD_TO_GROUPS
    cert_id = finding.resource.device_certificate_id
    if not cert_id:
        return [Undo(finding.finding_id, action, kind, "things: the finding names no certificate",
                     why_not="no things to take out of groups")]  # fmt: skip
    arn = (await context.dd.describe_certificate(cert_id)).arn
    things = await context.dd.list_principal_things(arn)
    before: dict[str, Any] = (context.prior or {}).get("thingGroups") or {}
    out = []
    for group in groups:
        members_before = before.get(group)
        for thing in things:
            # Shown escaped; the names go back to AWS as it sent them.
            what = f"take thing {safe(thing)} out of group {safe(group)}"
            if members_before is None:
                why = f"{group} held more than {prior_state.GROUP_LIMIT:,} things: its members were not kept"
                out.append(Undo(finding.finding_id, action, kind, what, why_not=why))
            elif thing in members_before:
                out.append(Undo(finding.finding_id, action, kind, what, why_not="it was in the group before"))
            elif thing not in await context.members_now(group):
                out.append(Undo(finding.finding_id, action, kind, what, why_not="it is not in the group now"))
            else:
                out.append(Undo(finding.finding_id, action, kind, f"{what} (the task added it)",
                                "RemoveThingFromThingGroup", (group, thing)))  # fmt: skip
    return out


async def _logging(context: _Context, finding: Finding, action: str) -> Undo:
    """Put back the v2 logging options the task replaced (disable logging if there were none)."""
    kind = prior_state.ENABLE_LOGGING
    before: dict[str, Any] = (context.prior or {}).get("v2Logging") or {}
    now = await prior_state.v2_logging(context.dd)
    role, level = str(before.get("roleArn") or ""), str(before.get("defaultLogLevel") or "")
    if before:
        disabled = bool(before.get("disableAllLogs"))
        what = f"restore v2 logging: level {level or '-'}, role {_short(role) if role else '-'}"
        what += ", all logs disabled" if disabled else ""
    else:  # never configured before: AWS cannot unset v2 logging, so it is switched off again
        role, level = str(now.get("roleArn") or ""), str(now.get("defaultLogLevel") or "")
        disabled, what = True, "disable v2 logging again (it was not configured before the task)"
    if now == before or (not before and now.get("disableAllLogs")):
        return Undo(finding.finding_id, action, kind, what, why_not="it is as before now")
    args = (role, level, "true" if disabled else "false")
    return Undo(finding.finding_id, action, kind, what, "SetV2LoggingOptions", args)


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
            elif undo.operation == "RemoveThingFromThingGroup":
                await dd.remove_thing_from_thing_group(*undo.args)
            elif undo.operation == "SetV2LoggingOptions":
                role, level, disabled = undo.args
                await dd.set_v2_logging_options(
                    role_arn=role or None, default_level=level or None, disable_all=disabled == "true"
                )
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
