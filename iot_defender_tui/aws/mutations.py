"""After a write failed in a way AWS may have acted on: send it again, or check what AWS did.

Writes go out without botocore's retries (client_core): botocore resends any request after a 500 or a
timeout, and a resent StartOnDemandAuditTask is a second audit, a resent CreateRole a false "already
exists" that leaves the role without its policy. Here, per operation, is what is safe instead:

- throttled, or never connected: AWS did nothing, so the request is sent again;
- a 5xx, a read timeout or a connection dropped after sending is ambiguous. An operation in VERIFIERS is
  then checked (describe/list what it makes); one in RESENDABLE, whose effect is the same however often it
  is sent, is sent again (after the check, when it has one and found it not done). Anything else is
  "outcome unknown": said so, and left open in the journal.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
)
from botocore.parsers import ResponseParserError

from . import pagination
from .errors import THROTTLING_CODES, AwsError, NotFoundError

# Clocks differ and AWS stamps what it made when it made it: how far before our request a thing may be
# dated and still be ours.
CLOCK_SLACK_SECONDS = 120.0
RESEND_LIMIT = 3  # resends of a converging write after ambiguous failures before giving up

# Sending these twice leaves the account as sending them once.
RESENDABLE: frozenset[str] = frozenset(
    {
        "UpdateAccountAuditConfiguration",
        "DeleteAccountAuditConfiguration",
        "UpdateScheduledAudit",
        "DeleteScheduledAudit",
        "UpdateAuditSuppression",
        "DeleteAuditSuppression",
        "UpdateMitigationAction",
        "DeleteMitigationAction",
        "StartAuditMitigationActionsTask",  # a derived taskId and clientRequestToken: AWS deduplicates
        "CancelAuditTask",
        "CancelAuditMitigationActionsTask",
        "SetLoggingOptions",
        "SetV2LoggingOptions",
        "SetV2LoggingLevel",
        "DeleteV2LoggingLevel",
        "UpdateCertificate",
        "UpdateCACertificate",
        "SetDefaultPolicyVersion",
        "DeletePolicyVersion",
        "AddThingToThingGroup",
        "RemoveThingFromThingGroup",
        "PutRolePolicy",
        "AttachRolePolicy",
        "CreateTopic",  # SNS answers an existing topic of that name with its ARN
    }
)

Failure = Literal["not sent", "ambiguous", "failed"]
# What sending a write may raise (ResponseParserError, an answer that cannot be read, is no BotoCoreError).
SEND_ERRORS = (BotoCoreError, ClientError, ResponseParserError)


def failure_kind(exc: BaseException) -> Failure:
    """ "not sent": AWS did not act (throttled, no connection); "ambiguous": it may have; "failed": it
    answered that it did not."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if exc.response.get("Error", {}).get("Code") in THROTTLING_CODES or status == 429:
            return "not sent"
        return "ambiguous" if status >= 500 else "failed"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        return "not sent"
    if isinstance(exc, HTTPClientError | ResponseParserError):  # sent, but no answer that can be read
        return "ambiguous"
    return "failed"  # e.g. invalid parameters, no credentials: nothing was sent


def what_aws_answered(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = exc.response.get("Error", {}).get("Code") or "an error"
        return f"AWS answered {status} {code}" if status else f"AWS answered {code}"
    return f"no answer came ({type(exc).__name__})" if isinstance(exc, BotoCoreError) else str(exc)


@dataclass(frozen=True, slots=True)
class Verdict:
    done: bool | None  # None: cannot tell
    note: str  # what was checked and found, for the user and the journal
    response: dict[str, Any] = field(default_factory=dict)  # when done: what the write would have answered


class NotCarriedOutError(AwsError):
    """A write failed ambiguously and checking AWS showed it was not carried out: safe to try again."""


class OutcomeUnknownError(AwsError):
    """A write failed ambiguously and whether AWS carried it out cannot be told: the journal keeps it open."""


class Reads(Protocol):
    async def _read(self, service: str, operation: str, params: Mapping[str, Any] | None = None) -> dict: ...

    async def _all(
        self, service: str, operation: str, params: Mapping[str, Any], spec: pagination.PageSpec
    ) -> list: ...


Verifier = Callable[..., Awaitable[Verdict]]  # (core, params, sent_at[, before])


def _epoch(value: Any) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value) if isinstance(value, int | float) else None


def _recent(value: Any, sent_at: float) -> bool:
    made = _epoch(value)
    return made is None or made >= sent_at - CLOCK_SLACK_SECONDS


def _document(value: Any) -> Any:
    """A policy document as sent (JSON text) or as IAM returns it (URL-encoded text, or decoded)."""
    if isinstance(value, str):
        try:
            return json.loads(urllib.parse.unquote(value))
        except ValueError:
            return value
    return value


async def _describe(core: Reads, service: str, operation: str, params: Mapping[str, Any]) -> dict | None:
    try:
        reply = await core._read(service, operation, params)
    except NotFoundError:
        return None
    return {k: v for k, v in reply.items() if k != "ResponseMetadata"}


async def _on_demand_audits(core: Reads, params: dict[str, Any]) -> frozenset[str]:
    """The on-demand audits already there when the start is sent: an audit has no request token, so what
    tells ours apart afterwards is that it was not there before."""
    now = time.time()
    window = {
        "startTime": datetime.fromtimestamp(now - CLOCK_SLACK_SECONDS, UTC),
        "endTime": datetime.fromtimestamp(now + CLOCK_SLACK_SECONDS, UTC),
        "taskType": "ON_DEMAND_AUDIT_TASK",
    }
    listed = await core._all("iot", "ListAuditTasks", window, pagination.iot("tasks"))
    return frozenset(str(item.get("taskId", "")) for item in listed)


async def _start_on_demand_audit(
    core: Reads, params: dict[str, Any], sent_at: float, before: frozenset[str] | None = None
) -> Verdict:
    checks = sorted(params.get("targetCheckNames") or ())
    since = datetime.fromtimestamp(sent_at - CLOCK_SLACK_SECONDS, UTC)
    until = datetime.fromtimestamp(time.time() + CLOCK_SLACK_SECONDS, UTC)
    window = {"startTime": since, "endTime": until, "taskType": "ON_DEMAND_AUDIT_TASK"}
    listed = await core._all("iot", "ListAuditTasks", window, pagination.iot("tasks"))
    same: list[str] = []
    for item in listed:
        task_id = str(item.get("taskId", ""))
        if before is not None and task_id in before:
            continue  # there before the start was sent: not ours
        described = await _describe(core, "iot", "DescribeAuditTask", {"taskId": task_id}) or {}
        if sorted(described.get("auditDetails") or ()) == checks:
            same.append(task_id)
    when = since.strftime("%H:%M:%S UTC")
    besides = "" if before is None else " besides those there before the start was sent"
    if len(same) == 1:
        return Verdict(
            True, f"on-demand audit {same[0]} of these checks exists{besides}", {"taskId": same[0]}
        )
    if not same:
        return Verdict(False, f"no on-demand audit of these checks was started since {when}{besides}")
    return Verdict(
        None, f"{len(same)} on-demand audits of these checks started since {when}{besides}: {', '.join(same)}"
    )


async def _create_role(core: Reads, params: dict[str, Any], sent_at: float) -> Verdict:
    name = params.get("RoleName", "")
    found = await _describe(core, "iam", "GetRole", {"RoleName": name})
    if found is None:
        return Verdict(False, f"the role {name} was not created")
    role = found.get("Role") or {}
    if _recent(role.get("CreateDate"), sent_at) and role.get("Description") == params.get("Description"):
        return Verdict(True, f"the role {name} exists, created just now", found)
    return Verdict(False, f"a role named {name} already existed before this request")


async def _put_role_policy(core: Reads, params: dict[str, Any], sent_at: float) -> Verdict:
    what = f"inline policy {params.get('PolicyName')} of the role {params.get('RoleName')}"
    found = await _describe(
        core,
        "iam",
        "GetRolePolicy",
        {"RoleName": params.get("RoleName"), "PolicyName": params.get("PolicyName")},
    )
    if found is not None and _document(found.get("PolicyDocument")) == _document(
        params.get("PolicyDocument")
    ):
        return Verdict(True, f"the {what} is as sent")
    return Verdict(False, f"the {what} was not set")


async def _create_mitigation_action(core: Reads, params: dict[str, Any], sent_at: float) -> Verdict:
    name = params.get("actionName", "")
    found = await _describe(core, "iot", "DescribeMitigationAction", {"actionName": name})
    if found is None:
        return Verdict(False, f"the mitigation action {name} was not created")
    if found.get("roleArn") == params.get("roleArn") and _recent(found.get("creationDate"), sent_at):
        response = {"actionArn": found.get("actionArn"), "actionId": found.get("actionId")}
        return Verdict(True, f"the mitigation action {name} exists, created just now", response)
    return Verdict(False, f"a mitigation action named {name} already existed before this request")


async def _create_scheduled_audit(core: Reads, params: dict[str, Any], sent_at: float) -> Verdict:
    name = params.get("scheduledAuditName", "")
    found = await _describe(core, "iot", "DescribeScheduledAudit", {"scheduledAuditName": name})
    if found is None:
        return Verdict(False, f"the scheduled audit {name} was not created")
    same = found.get("frequency") == params.get("frequency") and sorted(
        found.get("targetCheckNames") or ()
    ) == sorted(params.get("targetCheckNames") or ())
    if same:
        response = {"scheduledAuditArn": found.get("scheduledAuditArn")}
        return Verdict(True, f"the scheduled audit {name} exists as asked", response)
    return Verdict(False, f"another scheduled audit named {name} exists")


async def _create_suppression(core: Reads, params: dict[str, Any], sent_at: float) -> Verdict:
    check = params.get("checkName", "")
    key = {"checkName": check, "resourceIdentifier": params.get("resourceIdentifier")}
    found = await _describe(core, "iot", "DescribeAuditSuppression", key)
    if found is None:
        return Verdict(False, f"no suppression of {check} on this resource was created")
    if found.get("description") == params.get("description"):
        return Verdict(True, f"the suppression of {check} on this resource exists")
    return Verdict(False, f"another suppression of {check} on this resource already existed")


def _task_state(operation: str, label: str, wanted: str | None) -> Verifier:
    """The task exists (StartAuditMitigationActionsTask), or has the `wanted` status (Cancel…)."""

    async def verify(core: Reads, params: dict[str, Any], sent_at: float) -> Verdict:
        task_id = params.get("taskId", "")
        found = await _describe(core, "iot", operation, {"taskId": task_id})
        if found is None:
            return Verdict(False, f"{label} {task_id} does not exist")
        status = found.get("taskStatus")
        if wanted is None or status == wanted:
            return Verdict(True, f"{label} {task_id} is {status}", {"taskId": task_id})
        return Verdict(False, f"{label} {task_id} is {status}")

    return verify


# What each write makes or changes, read back. One table: `_mutate` uses nothing else to check.
VERIFIERS: dict[str, Verifier] = {
    "StartOnDemandAuditTask": _start_on_demand_audit,
    "CreateRole": _create_role,
    "PutRolePolicy": _put_role_policy,
    "CreateMitigationAction": _create_mitigation_action,
    "CreateScheduledAudit": _create_scheduled_audit,
    "CreateAuditSuppression": _create_suppression,
    "StartAuditMitigationActionsTask": _task_state(
        "DescribeAuditMitigationActionsTask", "mitigation task", None
    ),
    "CancelAuditTask": _task_state("DescribeAuditTask", "audit", "CANCELED"),
    "CancelAuditMitigationActionsTask": _task_state(
        "DescribeAuditMitigationActionsTask", "mitigation task", "CANCELED"
    ),
}


# What a write's check needs read before the write is sent (handed to its verifier as `before`).
BEFORE: dict[str, Callable[[Reads, dict[str, Any]], Awaitable[Any]]] = {
    "StartOnDemandAuditTask": _on_demand_audits,
}


async def before(core: Reads, operation: str, params: dict[str, Any]) -> Any:
    """What `operation`'s check needs to know from before it is sent; None when it needs nothing or the
    read failed (the check then tells what it can without it)."""
    reader = BEFORE.get(operation)
    if reader is None:
        return None
    try:
        return await reader(core, params)
    except AwsError:
        return None


async def verify(
    core: Reads, operation: str, params: dict[str, Any], sent_at: float, before: Any = None
) -> Verdict:
    """What AWS did with `operation`; Verdict(None, …) when it has no verifier or checking failed."""
    verifier = VERIFIERS.get(operation)
    if verifier is None:
        return Verdict(None, "AWS keeps no record of this request that the app can read")
    try:
        if operation in BEFORE:
            return await verifier(core, params, sent_at, before)
        return await verifier(core, params, sent_at)
    except AwsError as err:
        return Verdict(None, f"checking failed: {err}")
