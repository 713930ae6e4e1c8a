"""What a finding's resource looks like now: the one value a mitigation changes (a certificate's status,
a policy's default version), read live.

The finding shows the resource as it was at audit time; the detail screen and the task tracker (the
effect of a finished mitigation) show this next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import DefenderClient
    from .models import ResourceRef


@dataclass(frozen=True, slots=True)
class ResourceState:
    """One headline value of a resource (a status, a default version)."""

    kind: str  # "Certificate", "CA certificate", "Policy"
    resource_id: str
    label: str  # what `value` is: "status", "default version"
    value: str
    valid: tuple[datetime | None, datetime | None] | None = None


async def fetch_state(dd: DefenderClient, ref: ResourceRef) -> ResourceState | None:
    """The resource's live state, or None for a resource type that has none to show."""
    cert_id = ref.device_certificate_id
    if ref.resource_type in ("DEVICE_CERTIFICATE", "ISSUER_CERTIFICATE") and cert_id:
        cert = await dd.describe_certificate(cert_id)
        return ResourceState(
            "Certificate", cert.cert_id, "status", cert.status, (cert.not_before, cert.not_after)
        )
    if ref.resource_type == "CA_CERTIFICATE" and ref.identifier.get("caCertificateId"):
        ca = await dd.describe_ca_certificate(str(ref.identifier["caCertificateId"]))
        return ResourceState("CA certificate", ca.cert_id, "status", ca.status)
    if ref.resource_type == "IOT_POLICY":
        name = str((ref.identifier.get("policyVersionIdentifier") or {}).get("policyName", ""))
        policy = await dd.get_policy(name)
        return ResourceState("Policy", policy.name, "default version", policy.default_version_id or "-")
    return None
