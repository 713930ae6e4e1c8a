"""The 17 Device Defender audit checks as the sandbox knows them (severity, resource type, parameters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CERT_AGE = "CERT_AGE_THRESHOLD_IN_DAYS"
CERT_EXPIRY = "CERT_EXPIRATION_THRESHOLD_IN_DAYS"


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    severity: str
    resource_type: str
    # parameter name -> (default, minimum, maximum), all in days
    parameters: dict[str, tuple[int, int, int]] = field(default_factory=dict)


_SPECS = [
    CheckSpec("AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", "CRITICAL", "COGNITO_IDENTITY_POOL"),
    CheckSpec("CA_CERTIFICATE_EXPIRING_CHECK", "MEDIUM", "CA_CERTIFICATE"),
    CheckSpec("CA_CERTIFICATE_KEY_QUALITY_CHECK", "CRITICAL", "CA_CERTIFICATE"),
    CheckSpec("CONFLICTING_CLIENT_IDS_CHECK", "HIGH", "CLIENT_ID"),
    CheckSpec("DEVICE_CERTIFICATE_AGE_CHECK", "LOW", "DEVICE_CERTIFICATE", {CERT_AGE: (365, 30, 3652)}),
    CheckSpec(
        "DEVICE_CERTIFICATE_EXPIRING_CHECK",
        "MEDIUM",
        "DEVICE_CERTIFICATE",
        {CERT_EXPIRY: (30, 30, 3652)},
    ),
    CheckSpec("DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", "CRITICAL", "DEVICE_CERTIFICATE"),
    CheckSpec("DEVICE_CERTIFICATE_SHARED_CHECK", "CRITICAL", "DEVICE_CERTIFICATE"),
    CheckSpec(
        "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
        "CRITICAL",
        "ISSUER_CERTIFICATE",
    ),
    CheckSpec("IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "CRITICAL", "IOT_POLICY"),
    CheckSpec("IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK", "MEDIUM", "IOT_POLICY"),
    CheckSpec("IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", "MEDIUM", "ROLE_ALIAS"),
    CheckSpec("IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", "CRITICAL", "ROLE_ALIAS"),
    CheckSpec("LOGGING_DISABLED_CHECK", "LOW", "ACCOUNT_SETTINGS"),
    CheckSpec("REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK", "CRITICAL", "CA_CERTIFICATE"),
    CheckSpec("REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", "MEDIUM", "DEVICE_CERTIFICATE"),
    CheckSpec("UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", "CRITICAL", "COGNITO_IDENTITY_POOL"),
]

CHECKS: dict[str, CheckSpec] = {spec.name: spec for spec in _SPECS}


def check_threshold(config_checks: dict[str, Any], name: str, key: str) -> int:
    """The threshold configured for a check, or AWS's default."""
    entry = config_checks.get(name)
    value = entry.configuration.get(key) if entry is not None else None
    return int(value) if value is not None else CHECKS[name].parameters[key][0]


# Which mitigation action types may be mapped to which checks (AWS's check -> action table).
_DEVICE_CERT_ACTIONS = (
    "UPDATE_DEVICE_CERTIFICATE",
    "ADD_THINGS_TO_THING_GROUP",
    "PUBLISH_FINDING_TO_SNS",
)
_CA_ACTIONS = ("UPDATE_CA_CERTIFICATE", "PUBLISH_FINDING_TO_SNS")
_POLICY_ACTIONS = ("REPLACE_DEFAULT_POLICY_VERSION", "PUBLISH_FINDING_TO_SNS")


def allowed_action_types(check_name: str) -> tuple[str, ...]:
    resource_type = CHECKS[check_name].resource_type
    if resource_type == "DEVICE_CERTIFICATE" or check_name.startswith("INTERMEDIATE_CA_"):
        return _DEVICE_CERT_ACTIONS
    if resource_type == "CA_CERTIFICATE":
        return _CA_ACTIONS
    if resource_type == "IOT_POLICY":
        return _POLICY_ACTIONS
    if check_name == "LOGGING_DISABLED_CHECK":
        return ("ENABLE_IOT_LOGGING", "PUBLISH_FINDING_TO_SNS")
    return ("PUBLISH_FINDING_TO_SNS",)
