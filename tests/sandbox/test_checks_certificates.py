"""Certificate lifetime and revocation checks, on real certificates registered over HTTP."""

from __future__ import annotations

import time

from iot_defender_tui.sandbox import pki
from tests.sandbox.test_checks_common import audit_check, ids
from tests.support.factories import defender_state

DAY = 86400.0


def register(
    iot, not_before: float, not_after: float, ca: pki.Authority | None = None, status="ACTIVE"
) -> str:
    pem, _ = pki.issue(ca or pki.default_ca(), f"device-{time.time_ns()}", not_before, not_after)
    return iot.register_certificate_without_ca(certificatePem=pem, status=status)["certificateId"]


def register_ca(iot, not_before: float, not_after: float, name: str = "Test CA") -> tuple[str, pki.Authority]:
    ca = pki.make_ca(f"{name} {time.time_ns()}", not_before, not_after)
    return iot.register_ca_certificate(caCertificate=ca.pem, setAsActive=True)["certificateId"], ca


def test_device_certificate_expiring_uses_the_pem_dates_and_threshold(iot) -> None:
    now = time.time()
    soon = register(iot, now - 300 * DAY, now + 10 * DAY)
    past = register(iot, now - 400 * DAY, now - 2 * DAY)
    fine = register(iot, now - DAY, now + 200 * DAY)
    register(iot, now - 400 * DAY, now - 2 * DAY, status="INACTIVE")  # not in use: compliant
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert run.total_resources == 3
    codes = {f["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]: f for f in findings}
    assert set(codes) == {soon, past}
    assert codes[soon]["reasonForNonComplianceCode"] == "CERTIFICATE_APPROACHING_EXPIRATION"
    assert codes[past]["reasonForNonComplianceCode"] == "CERTIFICATE_PAST_EXPIRATION"
    assert codes[soon]["severity"] == "MEDIUM"

    # A longer threshold makes the 200-day certificate "approaching" too.
    iot.update_account_audit_configuration(
        auditCheckConfigurations={
            "DEVICE_CERTIFICATE_EXPIRING_CHECK": {
                "enabled": True,
                "configuration": {"CERT_EXPIRATION_THRESHOLD_IN_DAYS": "365"},
            }
        }
    )
    _, findings = audit_check(iot, "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    assert fine in ids(findings, "deviceCertificateId")


def test_device_certificates_valid_for_long_are_compliant(iot) -> None:
    now = time.time()
    register(iot, now - DAY, now + 400 * DAY)
    iot.create_keys_and_certificate(setAsActive=True)  # moto's own: valid for a year
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    assert (run.status, run.total_resources, findings) == ("COMPLETED_COMPLIANT", 2, [])


def test_ca_certificate_expiring_within_30_days(iot) -> None:
    now = time.time()
    expiring, _ = register_ca(iot, now - 900 * DAY, now + 20 * DAY)
    register_ca(iot, now - DAY, now + 60 * DAY)
    run, findings = audit_check(iot, "CA_CERTIFICATE_EXPIRING_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert run.total_resources == 2
    (finding,) = findings
    assert finding["nonCompliantResource"] == {
        "resourceType": "CA_CERTIFICATE",
        "resourceIdentifier": {"caCertificateId": expiring},
    }
    assert finding["reasonForNonComplianceCode"] == "CERTIFICATE_APPROACHING_EXPIRATION"


def test_ca_certificates_far_from_expiry_are_compliant(iot) -> None:
    now = time.time()
    register_ca(iot, now - DAY, now + 31 * DAY)
    run, findings = audit_check(iot, "CA_CERTIFICATE_EXPIRING_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_device_certificate_age(iot) -> None:
    now = time.time()
    old = register(iot, now - 400 * DAY, now + 3000 * DAY)
    register(iot, now - 100 * DAY, now + 3000 * DAY)
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_AGE_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert ids(findings, "deviceCertificateId") == {old}
    assert findings[0]["reasonForNonComplianceCode"] == "CERTIFICATE_PAST_AGE_THRESHOLD"
    assert findings[0]["severity"] == "LOW"

    iot.update_account_audit_configuration(
        auditCheckConfigurations={
            "DEVICE_CERTIFICATE_AGE_CHECK": {
                "enabled": True,
                "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "500"},
            }
        }
    )
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_AGE_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_revoked_device_certificate_still_active(iot) -> None:
    now = time.time()
    revoked = register(iot, now - DAY, now + 300 * DAY)
    handled = register(iot, now - DAY, now + 300 * DAY)
    register(iot, now - DAY, now + 300 * DAY)
    iot.update_certificate(certificateId=handled, newStatus="REVOKED")
    defender_state().revoked_device_certs.update({revoked, handled})
    run, findings = audit_check(iot, "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert ids(findings, "deviceCertificateId") == {revoked}
    assert findings[0]["reasonForNonComplianceCode"] == "CERTIFICATE_REVOKED_BY_ISSUER"

    iot.update_certificate(certificateId=revoked, newStatus="INACTIVE")
    run, findings = audit_check(iot, "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_revoked_ca_certificate_still_active(iot) -> None:
    now = time.time()
    revoked, _ = register_ca(iot, now - DAY, now + 900 * DAY)
    register_ca(iot, now - DAY, now + 900 * DAY)
    defender_state().revoked_ca_certs.add(revoked)
    run, findings = audit_check(iot, "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert ids(findings, "caCertificateId") == {revoked}
    assert findings[0]["severity"] == "CRITICAL"

    iot.update_ca_certificate(certificateId=revoked, newStatus="INACTIVE")
    run, findings = audit_check(iot, "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_intermediate_ca_revoked_for_active_device_certificates(iot) -> None:
    now = time.time()
    root = pki.make_ca("Test Root", now - DAY, now + 900 * DAY)
    revoked_ca = pki.make_ca("Revoked Intermediate", now - DAY, now + 900 * DAY, root)
    good_ca = pki.make_ca("Good Intermediate", now - DAY, now + 900 * DAY, root)
    affected = register(iot, now - DAY, now + 300 * DAY, revoked_ca)
    register(iot, now - DAY, now + 300 * DAY, good_ca)
    issuer = {
        "issuerCertificateSubject": revoked_ca.subject,
        "issuerId": "intermediate-1",
        "issuerCertificateSerialNumber": revoked_ca.serial_hex,
    }
    defender_state().revoked_intermediates["intermediate-1"] = issuer
    run, findings = audit_check(iot, "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    (finding,) = findings
    resource = finding["nonCompliantResource"]
    assert resource["resourceType"] == "ISSUER_CERTIFICATE"
    assert resource["resourceIdentifier"]["issuerCertificateIdentifier"] == issuer
    assert resource["resourceIdentifier"]["deviceCertificateId"] == affected
    assert resource["resourceIdentifier"]["deviceCertificateArn"].endswith(f":cert/{affected}")
    assert finding["reasonForNonComplianceCode"] == "INTERMEDIATE_CA_REVOKED_BY_ISSUER"

    iot.update_certificate(certificateId=affected, newStatus="INACTIVE")
    run, findings = audit_check(iot, "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])
