"""Certificate lifetime and revocation checks (device and CA certificates)."""

from __future__ import annotations

from typing import Any

from ..checks import CERT_AGE, CERT_EXPIRY, check_threshold
from .certinfo import active, info_of
from .context import AuditContext, CheckOutcome, FindingDraft

DAY = 86400.0
CA_EXPIRY_DAYS = 30  # fixed by AWS for CA certificates


def _threshold(ctx: AuditContext, name: str, key: str) -> int:
    return check_threshold(ctx.config.checks, name, key)


def active_device_certs(ctx: AuditContext) -> list[Any]:
    return [c for c in list(ctx.iot.certificates.values()) if active(c)]


def active_ca_certs(ctx: AuditContext) -> list[Any]:
    return [c for c in list(ctx.iot.ca_certificates.values()) if active(c)]


def _device(cert: Any) -> dict[str, Any]:
    return {"deviceCertificateId": cert.certificate_id}


def _ca(cert: Any) -> dict[str, Any]:
    return {"caCertificateId": cert.certificate_id}


def _expiring(certs: list[Any], now: float, days: int, resource_type: str, identify: Any) -> CheckOutcome:
    findings = []
    horizon = now + days * DAY
    for cert in certs:
        not_after = info_of(cert).not_after
        if not_after <= now:
            code, reason = "CERTIFICATE_PAST_EXPIRATION", "Certificate is past its expiration."
        elif not_after <= horizon:
            code, reason = "CERTIFICATE_APPROACHING_EXPIRATION", "Certificate is approaching its expiration."
        else:
            continue
        findings.append(FindingDraft(resource_type, identify(cert), code, reason))
    return CheckOutcome(len(certs), findings)


def device_expiring(ctx: AuditContext) -> CheckOutcome:
    days = _threshold(ctx, "DEVICE_CERTIFICATE_EXPIRING_CHECK", CERT_EXPIRY)
    return _expiring(active_device_certs(ctx), ctx.now, days, "DEVICE_CERTIFICATE", _device)


def ca_expiring(ctx: AuditContext) -> CheckOutcome:
    return _expiring(active_ca_certs(ctx), ctx.now, CA_EXPIRY_DAYS, "CA_CERTIFICATE", _ca)


def device_age(ctx: AuditContext) -> CheckOutcome:
    days = _threshold(ctx, "DEVICE_CERTIFICATE_AGE_CHECK", CERT_AGE)
    oldest_allowed = ctx.now - days * DAY
    certs = active_device_certs(ctx)
    findings = [
        FindingDraft(
            "DEVICE_CERTIFICATE",
            _device(cert),
            "CERTIFICATE_PAST_AGE_THRESHOLD",
            f"Certificate has been active for at least {days} days.",
        )
        for cert in certs
        if info_of(cert).not_before <= oldest_allowed
    ]
    return CheckOutcome(len(certs), findings)


def revoked_device(ctx: AuditContext) -> CheckOutcome:
    with ctx.state.lock:
        revoked = set(ctx.state.revoked_device_certs)
    certs = active_device_certs(ctx)
    findings = [
        FindingDraft(
            "DEVICE_CERTIFICATE",
            _device(cert),
            "CERTIFICATE_REVOKED_BY_ISSUER",
            "Certificate has been revoked by its issuer but is still active.",
        )
        for cert in certs
        if cert.certificate_id in revoked
    ]
    return CheckOutcome(len(certs), findings)


def revoked_ca(ctx: AuditContext) -> CheckOutcome:
    with ctx.state.lock:
        revoked = set(ctx.state.revoked_ca_certs)
    certs = active_ca_certs(ctx)
    findings = [
        FindingDraft(
            "CA_CERTIFICATE",
            _ca(cert),
            "CERTIFICATE_REVOKED_BY_ISSUER",
            "CA certificate has been revoked by its issuer but is still active.",
        )
        for cert in certs
        if cert.certificate_id in revoked
    ]
    return CheckOutcome(len(certs), findings)


def intermediate_revoked(ctx: AuditContext) -> CheckOutcome:
    with ctx.state.lock:
        revoked = {k: dict(v) for k, v in ctx.state.revoked_intermediates.items()}
        issuer_of = dict(ctx.state.cert_issuer) if revoked else {}
    certs = active_device_certs(ctx)
    if not revoked:
        return CheckOutcome(len(certs))
    # Certificates the sandbox did not issue name their issuer only in the PEM: match its subject.
    by_subject = {v.get("issuerCertificateSubject"): k for k, v in revoked.items()}
    findings = []
    for cert in certs:
        issuer_id = issuer_of.get(cert.certificate_id)
        if issuer_id is None:
            issuer_id = by_subject.get(info_of(cert).issuer)
        if issuer_id not in revoked:
            continue
        findings.append(
            FindingDraft(
                "ISSUER_CERTIFICATE",
                {
                    "issuerCertificateIdentifier": revoked[issuer_id],
                    "deviceCertificateArn": cert.arn,
                    "deviceCertificateId": cert.certificate_id,
                },
                "INTERMEDIATE_CA_REVOKED_BY_ISSUER",
                "Intermediate CA that issued the device certificate has been revoked by its issuer.",
            )
        )
    return CheckOutcome(len(certs), findings)
