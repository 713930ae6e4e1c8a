"""Every AWS operation the client can send, per service, and the IAM policies that allow exactly those.

`iot-defender-tui iam-policy` prints them; tests/cli/test_iam_policy.py walks the code in aws/ for the calls
it sends and fails when this list misses one, holds one no code sends, or files a call under the wrong kind
(a change is what guard.is_mutating refuses in read-only mode). README's "Least privilege" blocks are the
command's output, and a test holds them to it.
"""

from __future__ import annotations

from typing import Any

# Reads: all that `--read-only` (and `journal --reconcile`) sends.
READ_OPERATIONS: dict[str, tuple[str, ...]] = {
    "iot": (
        "DescribeAccountAuditConfiguration",
        "DescribeAuditFinding",
        "DescribeAuditMitigationActionsTask",
        "DescribeAuditSuppression",
        "DescribeAuditTask",
        "DescribeCACertificate",
        "DescribeCertificate",
        "DescribeMitigationAction",
        "DescribeScheduledAudit",
        "GetLoggingOptions",
        "GetPolicy",
        "GetPolicyVersion",
        "GetV2LoggingOptions",
        "ListAuditFindings",
        "ListAuditMitigationActionsExecutions",
        "ListAuditMitigationActionsTasks",
        "ListAuditSuppressions",
        "ListAuditTasks",
        "ListMitigationActions",
        "ListPolicyVersions",
        "ListPrincipalThings",
        "ListRelatedResourcesForAuditFinding",
        "ListScheduledAudits",
        "ListThingGroups",
        "ListThingPrincipals",
        "ListThingsInThingGroup",  # before a mitigation that adds things to groups: what revert keeps
        "ListV2LoggingLevels",
    ),
    "iam": ("GetRole", "GetRolePolicy", "ListRoles"),  # the role pickers and "Create role"'s check
    "sns": ("ListTopics",),  # the topic pickers
}

# Changes: the subset of guard.MUTATING_OPERATIONS the client sends (the guard also lists what mitigations
# do under their role, which the app never sends itself).
CHANGE_OPERATIONS: dict[str, tuple[str, ...]] = {
    "iot": (
        "CancelAuditMitigationActionsTask",
        "CancelAuditTask",
        "CreateAuditSuppression",
        "CreateMitigationAction",
        "CreateScheduledAudit",
        "DeleteAccountAuditConfiguration",
        "DeleteAuditSuppression",
        "DeleteMitigationAction",
        "DeleteScheduledAudit",
        "DeleteV2LoggingLevel",
        "RemoveThingFromThingGroup",  # revert: a thing a mitigation added to a group taken out again
        "SetDefaultPolicyVersion",  # revert: a replaced policy version made the default again
        "SetLoggingOptions",
        "SetV2LoggingLevel",
        "SetV2LoggingOptions",
        "StartAuditMitigationActionsTask",
        "StartOnDemandAuditTask",
        "UpdateAccountAuditConfiguration",
        "UpdateAuditSuppression",
        "UpdateCACertificate",  # revert: a deactivated CA certificate re-activated
        "UpdateCertificate",  # revert: a deactivated device certificate re-activated
        "UpdateMitigationAction",
        "UpdateScheduledAudit",
    ),
    "iam": ("CreateRole", "PutRolePolicy"),  # "Create role" (F3 in an action form)
}

# Sent, but allowed to every caller: no IAM policy can deny "who am I".
NEEDS_NO_PERMISSION: dict[str, tuple[str, ...]] = {"sts": ("GetCallerIdentity",)}

# Not an operation the client sends: AWS checks it when a request hands IoT a role (roleArn in the audit
# configuration, a mitigation action, the logging options), and only IoT is handed roles.
PASS_ROLE = "iam:PassRole"
PASSED_TO = "iot.amazonaws.com"

POLICY_VERSION = "2012-10-17"

# Not the client's either: what the identity behind an `[organization]` table (or a context's role_arn)
# needs in its own account, to list the accounts (aws/organization.py) and assume the contexts' roles
# (aws/assume.py, through botocore). GetCallerIdentity, which tells its own account apart, needs nothing.
ORGANIZATION_OPERATIONS: dict[str, tuple[str, ...]] = {"organizations": ("ListAccounts",)}
ASSUME_ROLE = "sts:AssumeRole"


def actions(operations: dict[str, tuple[str, ...]]) -> list[str]:
    """'service:Operation' for each operation, in the order listed."""
    return [f"{service}:{op}" for service, ops in operations.items() for op in ops]


def sent_operations() -> dict[str, str]:
    """'service:Operation' → "read" or "change", for every operation the client can send."""
    kinds = {name: "read" for name in actions(READ_OPERATIONS) + actions(NEEDS_NO_PERMISSION)}
    kinds.update((name, "change") for name in actions(CHANGE_OPERATIONS))
    return kinds


def _allow(sid: str, operations: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions(operations), "Resource": "*"}


def read_statements() -> list[dict[str, Any]]:
    return [_allow("DeviceDefenderTriage", READ_OPERATIONS)]


def change_statements() -> list[dict[str, Any]]:
    pass_role = {
        "Sid": "PassRolesToIoT",
        "Effect": "Allow",
        "Action": [PASS_ROLE],
        "Resource": "*",
        "Condition": {"StringEquals": {"iam:PassedToService": PASSED_TO}},
    }
    return [_allow("DeviceDefenderChanges", CHANGE_OPERATIONS), pass_role]


def policy(*, read: bool = True, change: bool = True) -> dict[str, Any]:
    """The policy document: read statement, change statements (with iam:PassRole), or both."""
    statements = (read_statements() if read else []) + (change_statements() if change else [])
    return {"Version": POLICY_VERSION, "Statement": statements}


def organization_policy(role_name: str = "OrganizationAccountAccessRole") -> dict[str, Any]:
    """The source identity's policy for `[organization]`: list the accounts, assume `role_name` in each.

    Each member role must also trust that identity (OrganizationAccountAccessRole trusts the management
    account's root, which delegates to this policy).
    """
    assume = {
        "Sid": "AssumeContextRoles",
        "Effect": "Allow",
        "Action": [ASSUME_ROLE],
        "Resource": f"arn:aws:iam::*:role/{role_name}",
    }
    statements = [_allow("ListOrganizationAccounts", ORGANIZATION_OPERATIONS), assume]
    return {"Version": POLICY_VERSION, "Statement": statements}
