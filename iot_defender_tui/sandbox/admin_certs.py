"""Admin paths that stand in for what the sandbox cannot look up offline, so every certificate check can
be rehearsed on any fleet, `--fleet empty` included:

- `POST /_sandbox/weak-key?certificateId=ID`: the certificate's key is on the Debian weak-key list
  (CVE-2008-0166, what openssl-blacklist holds), as DEVICE_CERTIFICATE_KEY_QUALITY_CHECK and
  CA_CERTIFICATE_KEY_QUALITY_CHECK look it up. The list names keys: any certificate of that key is flagged,
  a certificate re-issued for the same key too. ROCA (CVE-2017-15361) needs no mark: it is read from the
  RSA modulus.
- `POST /_sandbox/revoke?certificateId=ID[&reason=R]`: the certificate's issuer revoked it (its CRL or
  OCSP answer says so), as REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK and
  REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK read it; a revoked CA certificate that is not self-signed is
  an intermediate, which INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK reads too.

Both mark a fact about the certificate, not about an account: every account and region that has the
certificate sees it. Marking twice is marking once. The checks still flag only ACTIVE and
PENDING_TRANSFER certificates, as AWS's do.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from cryptography import x509
from moto.iot.models import iot_backends

from .engine.certinfo import info_of
from .state import state_for

DEBIAN = "CVE-2008-0166"
KEY_QUALITY = {"DEVICE": "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", "CA": "CA_CERTIFICATE_KEY_QUALITY_CHECK"}
_CERTIFICATE_ID = re.compile(r"[0-9a-f]{64}")
# RFC 5280 5.3.1 CRLReason names (removeFromCRL is left out: it takes a revocation back).
CRL_REASONS = (
    "unspecified",
    "keyCompromise",
    "cACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "privilegeWithdrawn",
    "aACompromise",
)


class AdminError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def parameters(text: str, allowed: set[str]) -> dict[str, str]:
    """An admin path's query string (the last of a repeated name), refusing names it does not take."""
    asked = {k: v[-1].strip() for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items()}
    unknown = set(asked) - allowed
    if unknown:
        raise AdminError(
            400,
            "InvalidRequestException",
            f"unknown parameter(s) {', '.join(sorted(unknown))}: expected {', '.join(sorted(allowed))}",
        )
    return asked


def _query(text: str, allowed: set[str]) -> dict[str, str]:
    asked = parameters(text, allowed)
    certificate_id = asked.get("certificateId", "").lower()  # ids are lowercase; a pasted one may not be
    if not _CERTIFICATE_ID.fullmatch(certificate_id):
        raise AdminError(
            400,
            "InvalidRequestException",
            f"certificateId must be a certificate id (64 hex digits), not {certificate_id!r}",
        )
    asked["certificateId"] = certificate_id
    return asked


def _holders(certificate_id: str) -> list[tuple[Any, Any, str]]:
    """(moto IoT backend, certificate, "DEVICE" | "CA") wherever the certificate is registered."""
    found = []
    # dict's own views: moto's backend dicts create an account or region on a mere lookup.
    for _account, regions in list(dict.items(iot_backends)):
        for _region, iot in list(dict.items(regions)):
            cert = iot.certificates.get(certificate_id)
            if cert is not None:
                found.append((iot, cert, "DEVICE"))
            ca = iot.ca_certificates.get(certificate_id)
            if ca is not None:
                found.append((iot, ca, "CA"))
    if not found:
        raise AdminError(
            404, "ResourceNotFoundException", f"No certificate or CA certificate has the id {certificate_id}."
        )
    return found


def mark_weak_key(query: str) -> dict[str, Any]:
    certificate_id = _query(query, {"certificateId"})["certificateId"]
    holders = _holders(certificate_id)
    checks = set()
    key = None
    for iot, cert, kind in holders:
        key = info_of(cert).key_sha256
        state = state_for(iot)
        with state.lock:
            if key is None:  # a fleet certificate (its key is shared by the fleet) or an unreadable PEM
                state.weak_keys[certificate_id] = DEBIAN
            else:
                state.weak_public_keys[key] = DEBIAN
        checks.add(KEY_QUALITY[kind])
    return {"certificateId": certificate_id, "cve": DEBIAN, "publicKeySha256": key, "checks": sorted(checks)}


def revoke(query: str) -> dict[str, Any]:
    asked = _query(query, {"certificateId", "reason"})
    certificate_id = asked["certificateId"]
    reason = asked.get("reason", "unspecified")
    if reason not in CRL_REASONS:
        raise AdminError(
            400, "InvalidRequestException", f"reason must be one of {', '.join(CRL_REASONS)}, not {reason!r}"
        )
    holders = _holders(certificate_id)
    checks = set()
    for iot, cert, kind in holders:
        state = state_for(iot)
        if kind == "DEVICE":
            with state.lock:
                state.revoked_device_certs.add(certificate_id)
            checks.add("REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK")
            continue
        intermediate = _intermediate(cert)
        with state.lock:
            state.revoked_ca_certs.add(certificate_id)
            if intermediate is not None:
                state.revoked_intermediates[certificate_id] = intermediate
        checks.add("REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK")
        if intermediate is not None:
            checks.add("INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK")
    return {"certificateId": certificate_id, "reason": reason, "checks": sorted(checks)}


def _intermediate(ca: Any) -> dict[str, str] | None:
    """What the intermediate-CA check reports of a revoked CA certificate, or None for a root (self-signed:
    no issuer above it to keep a CRL naming it)."""
    try:
        parsed = x509.load_pem_x509_certificate(ca.certificate_pem.encode())
    except ValueError:
        return None
    if parsed.issuer == parsed.subject:
        return None
    return {
        "issuerCertificateSubject": parsed.subject.rfc4514_string(),
        "issuerId": ca.certificate_id,
        "issuerCertificateSerialNumber": format(parsed.serial_number, "x"),
    }
