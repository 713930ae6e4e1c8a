"""What each mitigation action type needs from its role, and what it does to the sandbox's moto state.

An execution that cannot do its work raises `ExecutionFailed` with one of these error codes:
  RoleNotFound           the action's role does not exist in the sandbox's IAM
  AccessDenied           AWS IoT may not assume the role (its trust policy does not name iot.amazonaws.com:
                         STS refuses AssumeRole with AccessDenied), or the role does not allow every IAM
                         action the mitigation needs
  ResourceNotFound       the certificate, CA, policy, thing group or SNS topic no longer exists
  CertificateStateException  a REVOKED certificate cannot be deactivated (AWS refuses that transition)
  VersionsLimitExceeded  the policy already has AWS's maximum of 5 versions
  InvalidFinding         the finding does not name the resource the action works on
Callers hold `state.lock` for the whole finding: moto's backends are not thread-safe.

The role is read when the action runs, not when it is created: AWS's CreateMitigationAction reference
describes roleArn only as "The ARN of the IAM role that is used to apply the mitigation action" and lists no
check of it (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateMitigationAction.html); a role
AWS IoT cannot assume, or that lacks a permission, fails that execution (FAILED, errorCode and message, as
ListAuditMitigationActionsExecutions reports them:
https://docs.aws.amazon.com/iot/latest/apireference/API_AuditMitigationActionExecutionMetadata.html).
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import iam_backends
from moto.iot.exceptions import VersionsLimitExceededException
from moto.iot.models import iot_backends
from moto.sns.models import sns_backends

from .iam_eval import allows, find_role, role_documents, trusts_service
from .state import DefenderState, Finding, MitigationAction

IOT_SERVICE = "iot.amazonaws.com"  # the principal that runs mitigation actions
# AWS's BLANK_POLICY template: a version that grants nothing.
BLANK_POLICY_DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": []})


class ExecutionFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class FindingWork:
    """The moto backends and resource names one finding's executions share.

    moto's list_principal_things scans every principal, so the certificate's things are looked up at
    most once per finding, however many actions need them.
    """

    def __init__(self, state: DefenderState, finding: Finding, publish: Any):
        self.state = state
        self.finding = finding
        self.iot = iot_backends[state.account_id][state.region]
        self.iam = iam_backends[state.account_id]["global"]
        self.publish = publish  # finding -> message text, for PUBLISH_FINDING_TO_SNS
        self._things: list[str] | None = None

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:iot:{self.state.region}:{self.state.account_id}:{kind}/{name}"

    def device_certificate_id(self) -> str:
        ident = self.finding.resource_identifier
        cert_id = ident.get("deviceCertificateId")
        if not cert_id and ident.get("deviceCertificateArn"):
            cert_id = str(ident["deviceCertificateArn"]).rpartition("/")[2]
        if not cert_id:
            raise ExecutionFailed("InvalidFinding", "The finding does not name a device certificate.")
        return str(cert_id)

    def ca_certificate_id(self) -> str:
        cert_id = self.finding.resource_identifier.get("caCertificateId")
        if not cert_id:
            raise ExecutionFailed("InvalidFinding", "The finding does not name a CA certificate.")
        return str(cert_id)

    def policy_name(self) -> str:
        name = (self.finding.resource_identifier.get("policyVersionIdentifier") or {}).get("policyName")
        if not name:
            raise ExecutionFailed("InvalidFinding", "The finding does not name an IoT policy.")
        return str(name)

    def certificate_things(self, cert_arn: str) -> list[str]:
        if self._things is None:
            self._things = list(self.iot.list_principal_things(cert_arn))
        return self._things


def required_permissions(work: FindingWork, action: MitigationAction) -> list[tuple[str, str]]:
    """(IAM action, resource ARN) pairs the action's role must allow."""
    params = next(iter(action.params.values()))
    kind = action.action_type
    if kind == "UPDATE_DEVICE_CERTIFICATE":
        return [("iot:UpdateCertificate", work.arn("cert", work.device_certificate_id()))]
    if kind == "UPDATE_CA_CERTIFICATE":
        return [("iot:UpdateCACertificate", work.arn("cacert", work.ca_certificate_id()))]
    if kind == "ADD_THINGS_TO_THING_GROUP":
        # ListPrincipalThings has no resource type in IAM: only "*" grants it.
        groups = [("iot:AddThingToThingGroup", work.arn("thinggroup", g)) for g in params["thingGroupNames"]]
        return [("iot:ListPrincipalThings", "*"), *groups]
    if kind == "REPLACE_DEFAULT_POLICY_VERSION":
        return [("iot:CreatePolicyVersion", work.arn("policy", work.policy_name()))]
    if kind == "ENABLE_IOT_LOGGING":
        return [("iot:SetV2LoggingOptions", "*"), ("iam:PassRole", params["roleArnForLogging"])]
    return [("sns:Publish", params["topicArn"])]


def check_role(work: FindingWork, action: MitigationAction) -> None:
    role = find_role(work.iam, action.role_arn)
    if role is None:
        raise ExecutionFailed(
            "RoleNotFound", f"The role {action.role_arn} of mitigation action {action.name} does not exist."
        )
    if not trusts_service(role, IOT_SERVICE):
        # AWS IoT's own wording when it cannot assume a role.
        raise ExecutionFailed(
            "AccessDenied",
            f"AWS IoT ({IOT_SERVICE}) is unable to assume role (sts:AssumeRole) on resource: "
            f"{action.role_arn}. Its trust policy must allow {IOT_SERVICE} to assume it.",
        )
    documents = role_documents(role)
    missing = [f"{a} on {r}" for a, r in required_permissions(work, action) if not allows(documents, a, r)]
    if missing:
        raise ExecutionFailed(
            "AccessDenied",
            f"The role {action.role_arn} of mitigation action {action.name} does not allow "
            f"{'; '.join(missing)}.",
        )


def apply(work: FindingWork, action: MitigationAction) -> None:
    """Run one action against the finding's resource (raises ExecutionFailed)."""
    check_role(work, action)
    params = next(iter(action.params.values()))
    EFFECTS[action.action_type](work, params)


def _deactivate_device_certificate(work: FindingWork, _: dict[str, Any]) -> None:
    cert_id = work.device_certificate_id()
    cert = work.iot.certificates.get(cert_id)
    if cert is None:
        raise ExecutionFailed("ResourceNotFound", f"Device certificate {cert_id} no longer exists.")
    if cert.status == "REVOKED":
        raise ExecutionFailed(
            "CertificateStateException", f"Device certificate {cert_id} is REVOKED and cannot be deactivated."
        )
    work.iot.update_certificate(cert_id, "INACTIVE")


def _deactivate_ca_certificate(work: FindingWork, _: dict[str, Any]) -> None:
    cert_id = work.ca_certificate_id()
    if cert_id not in work.iot.ca_certificates:
        raise ExecutionFailed("ResourceNotFound", f"CA certificate {cert_id} no longer exists.")
    work.iot.update_ca_certificate(cert_id, "INACTIVE", None)


def _add_things_to_groups(work: FindingWork, params: dict[str, Any]) -> None:
    # moto has no dynamic thing groups, so overrideDynamicGroups never changes the outcome here.
    cert_id = work.device_certificate_id()
    cert = work.iot.certificates.get(cert_id)
    if cert is None:
        raise ExecutionFailed("ResourceNotFound", f"Device certificate {cert_id} no longer exists.")
    existing = {g.thing_group_name for g in list(work.iot.thing_groups.values())}
    missing = [g for g in params["thingGroupNames"] if g not in existing]
    if missing:
        raise ExecutionFailed("ResourceNotFound", f"Thing group(s) {', '.join(missing)} do not exist.")
    for thing in work.certificate_things(cert.arn):
        for group in params["thingGroupNames"]:
            work.iot.add_thing_to_thing_group(group, None, thing, None)


def _replace_default_policy_version(work: FindingWork, _: dict[str, Any]) -> None:
    name = work.policy_name()
    if name not in work.iot.policies:
        raise ExecutionFailed("ResourceNotFound", f"IoT policy {name} no longer exists.")
    try:
        work.iot.create_policy_version(name, BLANK_POLICY_DOCUMENT, True)
    except VersionsLimitExceededException as err:
        raise ExecutionFailed(
            "VersionsLimitExceeded",
            f"IoT policy {name} already has the maximum of 5 versions: delete one to add the blank version.",
        ) from err


def _enable_logging(work: FindingWork, params: dict[str, Any]) -> None:
    previous = work.state.logging_v2 or {}
    work.state.logging_v2 = {
        **{k: v for k, v in previous.items() if k == "eventConfigurations"},
        "roleArn": params["roleArnForLogging"],
        "defaultLogLevel": params["logLevel"],
        "disableAllLogs": False,
    }


def publish_to_topic(topic_arn: str, message: str) -> None:
    """Publish through moto's SNS, which delivers to the topic's subscribers (audit notifications too)."""
    parts = topic_arn.split(":", 5)  # arn:aws:sns:region:account:name
    try:
        sns = sns_backends[parts[4]][parts[3]] if len(parts) == 6 and parts[2] == "sns" else None
    except KeyError:  # a region moto does not know
        sns = None
    if sns is None or topic_arn not in sns.topics:
        raise ExecutionFailed("ResourceNotFound", f"SNS topic {topic_arn} does not exist.")
    sns.publish(message, arn=topic_arn)


def _publish_to_sns(work: FindingWork, params: dict[str, Any]) -> None:
    publish_to_topic(params["topicArn"], work.publish(work.finding))


EFFECTS = {
    "UPDATE_DEVICE_CERTIFICATE": _deactivate_device_certificate,
    "UPDATE_CA_CERTIFICATE": _deactivate_ca_certificate,
    "ADD_THINGS_TO_THING_GROUP": _add_things_to_groups,
    "REPLACE_DEFAULT_POLICY_VERSION": _replace_default_policy_version,
    "ENABLE_IOT_LOGGING": _enable_logging,
    "PUBLISH_FINDING_TO_SNS": _publish_to_sns,
}
