"""May the audit read what a check needs? The audit role's part in every check.

The roleArn of UpdateAccountAuditConfiguration is "the role that grants permission to IoT to access
information about your devices, policies, certificates, and other items as required when performing an
audit" (https://docs.aws.amazon.com/iot/latest/apireference/API_UpdateAccountAuditConfiguration.html). A
check the role does not let AWS IoT read fails: AuditCheckDetails' checkRunStatus FAILED with errorCode
"INSUFFICIENT_PERMISSIONS" and a message
(https://docs.aws.amazon.com/iot/latest/apireference/API_AuditCheckDetails.html).

What each check reads follows the AWS managed policy made for this role, AWSIoTDeviceDefenderAudit v3
(https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSIoTDeviceDefenderAudit.html): a role
allowing every action it lists passes every check. AWS does not publish which check needs which of those
actions; the split below is ours, read from what each check looks at. The connection checks read AWS IoT's
own connection records, which no listed action covers: they need only a role AWS IoT can assume.
"""

from __future__ import annotations

from ..iam_eval import allows, find_role, role_documents, trusts_service
from .context import AuditContext

IOT_SERVICE = "iot.amazonaws.com"
ERROR_CODE = "INSUFFICIENT_PERMISSIONS"

# The Action list of AWSIoTDeviceDefenderAudit's default version (v3), in its order.
MANAGED_POLICY_ACTIONS = (
    "iot:GetLoggingOptions",
    "iot:GetV2LoggingOptions",
    "iot:ListCACertificates",
    "iot:ListCertificates",
    "iot:DescribeCACertificate",
    "iot:DescribeCertificate",
    "iot:ListPolicies",
    "iot:GetPolicy",
    "iot:GetEffectivePolicies",
    "iot:ListRoleAliases",
    "iot:DescribeRoleAlias",
    "cognito-identity:GetIdentityPoolRoles",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:GetRole",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetRolePolicy",
    "iam:GenerateServiceLastAccessedDetails",
    "iam:GetServiceLastAccessedDetails",
)

_DEVICE_CERTS = ("iot:ListCertificates", "iot:DescribeCertificate")
_CA_CERTS = ("iot:ListCACertificates", "iot:DescribeCACertificate")
_POLICIES = ("iot:ListPolicies", "iot:GetPolicy")
_ROLE_POLICIES = (
    "iam:GetRole",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
)
_ROLE_ALIASES = (
    "iot:ListRoleAliases",
    "iot:DescribeRoleAlias",
    *_ROLE_POLICIES,
    "iam:GenerateServiceLastAccessedDetails",
    "iam:GetServiceLastAccessedDetails",
)
_COGNITO = ("cognito-identity:GetIdentityPoolRoles", *_ROLE_POLICIES)

CHECK_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK": _COGNITO,
    "CA_CERTIFICATE_EXPIRING_CHECK": _CA_CERTS,
    "CA_CERTIFICATE_KEY_QUALITY_CHECK": _CA_CERTS,
    "CONFLICTING_CLIENT_IDS_CHECK": (),
    "DEVICE_CERTIFICATE_AGE_CHECK": _DEVICE_CERTS,
    "DEVICE_CERTIFICATE_EXPIRING_CHECK": _DEVICE_CERTS,
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK": _DEVICE_CERTS,
    "DEVICE_CERTIFICATE_SHARED_CHECK": (),
    "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK": _DEVICE_CERTS,
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK": _POLICIES,
    "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK": _POLICIES,
    "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK": _ROLE_ALIASES,
    "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK": _ROLE_ALIASES,
    "LOGGING_DISABLED_CHECK": ("iot:GetLoggingOptions", "iot:GetV2LoggingOptions"),
    "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK": _CA_CERTS,
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK": _DEVICE_CERTS,
    "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK": _COGNITO,
}


def problem(ctx: AuditContext, check: str) -> str | None:
    """Why the audit role cannot run `check` (the FAILED check's message); None when it can."""
    role_arn = ctx.config.role_arn
    if not role_arn:
        return "The account's audit configuration names no audit role."
    role = find_role(ctx.iam, role_arn)
    if role is None:
        return f"The audit role {role_arn} does not exist."
    if not trusts_service(role, IOT_SERVICE):
        return (
            f"AWS IoT ({IOT_SERVICE}) is unable to assume the audit role (sts:AssumeRole) on resource: "
            f"{role_arn}. Its trust policy must allow {IOT_SERVICE} to assume it."
        )
    documents = role_documents(role)
    missing = [a for a in CHECK_PERMISSIONS.get(check, ()) if not allows(documents, a)]
    if missing:
        return f"The audit role {role_arn} does not allow {', '.join(missing)}, which {check} needs."
    return None
