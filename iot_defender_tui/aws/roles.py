"""The IAM role AWS IoT assumes to run a mitigation action, as the console's "Create role" makes it.

Pure data: who may assume the role (iot.amazonaws.com) and, per action type, the permissions the action
needs. They follow AWS's managed service-role policies (AWSIoTDeviceDefender*MitigationAction), scoped
to the one resource where the action's parameters name it (the SNS topic, the logging role), as the
console does. DefenderClient.create_mitigation_role sends them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .catalogue import ACTION_TYPES
from .models_params import ActionParams, EnableIotLoggingParams, PublishFindingToSnsParams

TRUSTED_SERVICE = "iot.amazonaws.com"
POLICY_NAME = "DeviceDefenderMitigationAction"  # the inline policy's name
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
DEFAULT_PREFIX = "IoTMitigation-"

# IAM actions per mitigation action type. ListPrincipalThings has no IAM resource type, so "*" only.
ACTIONS: dict[str, tuple[str, ...]] = {
    "UPDATE_DEVICE_CERTIFICATE": ("iot:UpdateCertificate",),
    "UPDATE_CA_CERTIFICATE": ("iot:UpdateCACertificate",),
    "ADD_THINGS_TO_THING_GROUP": ("iot:ListPrincipalThings", "iot:AddThingToThingGroup"),
    "REPLACE_DEFAULT_POLICY_VERSION": ("iot:CreatePolicyVersion",),
    "ENABLE_IOT_LOGGING": ("iot:SetV2LoggingOptions", "iam:PassRole"),
    "PUBLISH_FINDING_TO_SNS": ("sns:Publish",),
}
# Passing the logging role is allowed only towards AWS IoT, as in AWS's managed policy.
_PASS_TO_IOT = {"StringEquals": {"iam:PassedToService": TRUSTED_SERVICE}}


@dataclass(frozen=True, slots=True)
class Permission:
    action: str
    resource: str = "*"
    condition: dict[str, Any] | None = None

    @property
    def line(self) -> str:
        """One line of the preview."""
        where = "any resource" if self.resource == "*" else self.resource
        only = f" (only to {TRUSTED_SERVICE})" if self.condition else ""
        return f"{self.action} on {where}{only}"


def permissions(action_type: str, params: ActionParams | None = None) -> tuple[Permission, ...]:
    """What the role of an action of this type must allow; raises KeyError for an unknown type."""
    actions = ACTIONS[action_type]
    if action_type == "PUBLISH_FINDING_TO_SNS":
        topic = params.topic_arn if isinstance(params, PublishFindingToSnsParams) else ""
        return (Permission("sns:Publish", topic or "*"),)
    if action_type == "ENABLE_IOT_LOGGING":
        log_role = params.role_arn_for_logging if isinstance(params, EnableIotLoggingParams) else ""
        log_role = log_role or "*"
        return (Permission("iot:SetV2LoggingOptions"), Permission("iam:PassRole", log_role, _PASS_TO_IOT))
    return tuple(Permission(a) for a in actions)


def trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": TRUSTED_SERVICE}, "Action": "sts:AssumeRole"}
        ],
    }


def permission_policy(action_type: str, params: ActionParams | None = None) -> dict[str, Any]:
    statements = []
    for p in permissions(action_type, params):
        statement: dict[str, Any] = {"Effect": "Allow", "Action": p.action, "Resource": p.resource}
        if p.condition:
            statement["Condition"] = p.condition
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def description(action_type: str) -> str:
    return f"Lets AWS IoT Device Defender run {action_type} mitigation actions (made by iot-defender-tui)."


def role_name_problem(name: str) -> str | None:
    """Why IAM would refuse this role name, worded for the user; None if it is valid."""
    if ROLE_NAME.match(name):
        return None
    return "Role name: 1 to 64 characters, only letters, digits and + = , . @ _ -"


def default_role_name(action_name: str, action_type: str) -> str:
    """IoTMitigation-<action name>, or -<type in words> while the action has no valid name yet."""
    base = action_name.strip()
    if not base or not ROLE_NAME.match(base[:64]):
        words = ACTION_TYPES.get(action_type, action_type).split()
        base = "".join(w[:1].upper() + w[1:] for w in words)
    return (DEFAULT_PREFIX + base)[:64]


def preview(name: str, action_type: str, params: ActionParams | None = None) -> str:
    """Plain text of exactly what create_mitigation_role(name, action_type, params) creates."""
    lines = [
        f"IAM role: {name}",
        f"Trusted service (may assume it): {TRUSTED_SERVICE}",
        f"Inline policy {POLICY_NAME}, for {action_type}, allows:",
        *(f"  {p.line}" for p in permissions(action_type, params)),
    ]
    if action_type == "PUBLISH_FINDING_TO_SNS" and not isinstance(params, PublishFindingToSnsParams):
        lines.append("Pick the SNS topic first to limit sns:Publish to that topic.")
    if action_type == "ENABLE_IOT_LOGGING" and not isinstance(params, EnableIotLoggingParams):
        lines.append("Pick the role for logging first to limit iam:PassRole to that role.")
    return "\n".join(lines)
