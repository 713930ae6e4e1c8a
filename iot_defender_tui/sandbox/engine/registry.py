"""The audit checks the sandbox evaluates, by name, and `evaluate_check` that runs one.

A check with no evaluator FAILS with a message rather than ever reporting compliant, and so does one the
audit role may not run (INSUFFICIENT_PERMISSIONS, see audit_role.py).
"""

from __future__ import annotations

from . import audit_role, certificates, connections, keys, logging_check, policies, roles
from .context import AuditContext, CheckOutcome, Evaluator

EVALUATORS: dict[str, Evaluator] = {
    "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK": roles.cognito_authenticated,
    "CA_CERTIFICATE_EXPIRING_CHECK": certificates.ca_expiring,
    "CA_CERTIFICATE_KEY_QUALITY_CHECK": keys.ca_key_quality,
    "CONFLICTING_CLIENT_IDS_CHECK": connections.conflicting_client_ids,
    "DEVICE_CERTIFICATE_AGE_CHECK": certificates.device_age,
    "DEVICE_CERTIFICATE_EXPIRING_CHECK": certificates.device_expiring,
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK": keys.device_key_quality,
    "DEVICE_CERTIFICATE_SHARED_CHECK": connections.shared_certificates,
    "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK": certificates.intermediate_revoked,
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK": policies.overly_permissive,
    "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK": policies.potential_misconfiguration,
    "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK": roles.role_alias_unused_services,
    "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK": roles.role_alias_overly_permissive,
    "LOGGING_DISABLED_CHECK": logging_check.logging_disabled,
    "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK": certificates.revoked_ca,
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK": certificates.revoked_device,
    "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK": roles.cognito_unauthenticated,
}


def evaluate_check(name: str, ctx: AuditContext) -> CheckOutcome:
    evaluator = EVALUATORS.get(name)
    if evaluator is None:
        return CheckOutcome(0, error=f"The sandbox cannot evaluate {name}.")
    denied = audit_role.problem(ctx, name)
    if denied is not None:
        return CheckOutcome(0, error=denied, error_code=audit_role.ERROR_CODE)
    try:
        return evaluator(ctx)
    except Exception as err:  # a check that breaks says so instead of passing
        return CheckOutcome(0, error=f"The sandbox failed to evaluate {name}: {err}")
