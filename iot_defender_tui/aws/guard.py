"""Safety rails: the one place `--read-only` is enforced, and idempotent mitigation task identities."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

# Every operation that changes an AWS account and that the app may send (botocore operation names).
# tests/aws/test_guard.py holds this against botocore's IoT model so a new mutating operation cannot slip by.
MUTATING_OPERATIONS: frozenset[str] = frozenset(
    {
        # Audit configuration and audits
        "UpdateAccountAuditConfiguration",
        "DeleteAccountAuditConfiguration",
        "StartOnDemandAuditTask",
        "CancelAuditTask",
        # Scheduled audits
        "CreateScheduledAudit",
        "UpdateScheduledAudit",
        "DeleteScheduledAudit",
        # Suppressions
        "CreateAuditSuppression",
        "UpdateAuditSuppression",
        "DeleteAuditSuppression",
        # Mitigation actions and tasks
        "CreateMitigationAction",
        "UpdateMitigationAction",
        "DeleteMitigationAction",
        "StartAuditMitigationActionsTask",
        "CancelAuditMitigationActionsTask",
        # Logging
        "SetLoggingOptions",
        "SetV2LoggingOptions",
        "SetV2LoggingLevel",
        "DeleteV2LoggingLevel",
        # What mitigations do, and what undoing them by hand takes
        "UpdateCertificate",
        "UpdateCACertificate",
        "CreatePolicyVersion",
        "SetDefaultPolicyVersion",
        "DeletePolicyVersion",
        "AddThingToThingGroup",
        "RemoveThingFromThingGroup",
        # IAM: roles for audits, logging and mitigation actions
        "CreateRole",
        "PutRolePolicy",
        "AttachRolePolicy",
        # SNS: audit notifications and PUBLISH_FINDING_TO_SNS
        "CreateTopic",
        "Publish",
    }
)

# Verbs that change state in AWS APIs. An operation named like this is refused in read-only mode even if
# it is missing from MUTATING_OPERATIONS: forgetting to list a call must not make it writable.
MUTATING_VERBS: tuple[str, ...] = (
    "Create", "Update", "Delete", "Start", "Cancel", "Set", "Add", "Remove", "Attach", "Detach", "Register",
    "Replace", "Transfer", "Accept", "Reject", "Put", "Publish", "Tag", "Untag", "Associate", "Disassociate",
    "Enable", "Disable", "Clear", "Confirm", "Deprecate", "Stop", "Subscribe", "Unsubscribe",
)  # fmt: skip


class ReadOnlyError(Exception):
    """A mutating operation was refused because the app runs read-only; nothing was sent."""

    def __init__(self, operation: str):
        self.operation = operation
        super().__init__(
            f"{operation} was not sent: the app is in read-only mode, which sends no request that changes "
            "your account. Restart without --read-only (and set read_only = false in the config file) "
            "to make changes."
        )


class JournalUnavailableError(ReadOnlyError):
    """A mutating operation was refused because no journal could record it; nothing was sent.

    A ReadOnlyError: without a journal the app is read-only, and whatever handles the one handles the other.
    """

    def __init__(self, operation: str, reason: str):
        self.operation = operation
        self.reason = reason
        Exception.__init__(
            self,
            f"{operation} was not sent: the journal is unavailable ({reason}), so changes are refused until "
            "it is fixed. Every change is recorded there first, to be checked with AWS after a crash.",
        )


def is_mutating(operation: str) -> bool:
    return operation in MUTATING_OPERATIONS or operation.startswith(MUTATING_VERBS)


def ensure_writable(operation: str, read_only: bool, journal_problem: str | None = None) -> None:
    """Raise before `operation` is sent if it would change the account in read-only mode (ReadOnlyError)
    or while there is no journal to record it (JournalUnavailableError, `journal_problem` says why)."""
    if not is_mutating(operation):
        return
    if read_only:
        raise ReadOnlyError(operation)
    if journal_problem is not None:
        raise JournalUnavailableError(operation, journal_problem)


TASK_ID_PREFIX = "idt-"


def mitigation_request_identity(target: Mapping, mapping: Mapping, *, attempt: int = 0) -> tuple[str, str]:
    """(taskId, clientRequestToken) for StartAuditMitigationActionsTask, derived from the request itself.

    The same findings with the same actions and `attempt` always give the same pair, so a repeated key
    press or a retry after a timeout lands on the task already started instead of starting a second one.
    Finding ids and reason codes are sets (their order is not part of the request); the order of a check's
    actions is kept, because AWS applies them in that order. `attempt` counts the runs of the very same
    mitigation: start_mitigation_task moves to the next one once the task of the previous has ended (a
    certificate re-activated since must be deactivated again, not answered with the old outcome).
    """
    canonical = {
        "target": _canonical_target(target),
        "mapping": {str(check): [str(a) for a in actions] for check, actions in mapping.items()},
    }
    if attempt:
        canonical["attempt"] = attempt
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()
    # taskId: [a-zA-Z0-9_-]+, at most 128; clientRequestToken: [a-zA-Z0-9-_]+, at most 64.
    return f"{TASK_ID_PREFIX}{digest[:24]}", digest


def _canonical_target(target: Mapping) -> dict:
    canonical: dict = {}
    for key, value in target.items():
        if value is None:  # botocore sends no member for None: same request as without the key
            continue
        if key == "findingIds":
            canonical[key] = sorted(str(v) for v in value)
        elif key == "auditCheckToReasonCodeFilter":
            canonical[key] = {str(check): sorted(str(c) for c in codes) for check, codes in value.items()}
        else:
            canonical[key] = value
    return canonical
