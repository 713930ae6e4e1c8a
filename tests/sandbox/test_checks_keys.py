"""Key quality checks: Debian's weak keys by lookup, ROCA keys by their modulus."""

from __future__ import annotations

import time

from iot_defender_tui.sandbox import pki
from iot_defender_tui.sandbox.engine.keys import roca_vulnerable
from tests.sandbox.test_checks_common import audit_check, ids
from tests.support.factories import defender_state

DAY = 86400.0


def test_roca_fingerprint_tells_infineon_keys_from_random_ones() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    assert roca_vulnerable(pki.roca_public_key().public_numbers().n)
    random_key = rsa.generate_private_key(65537, 2048).public_key()
    assert not roca_vulnerable(random_key.public_numbers().n)


def test_device_certificate_with_roca_key_is_non_compliant(iot) -> None:
    now = time.time()
    pem, _ = pki.issue(pki.default_ca(), "roca-device", now - DAY, now + 300 * DAY, pki.roca_public_key())
    roca = iot.register_certificate_without_ca(certificatePem=pem, status="ACTIVE")["certificateId"]
    iot.create_keys_and_certificate(setAsActive=True)  # a random RSA key: fine
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert run.total_resources == 2
    (finding,) = findings
    assert finding["nonCompliantResource"]["resourceIdentifier"] == {"deviceCertificateId": roca}
    assert finding["reasonForNonComplianceCode"] == "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361"
    assert finding["severity"] == "CRITICAL"


def test_debian_weak_key_registry_applies_to_active_certificates_only(iot) -> None:
    weak = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    retired = iot.create_keys_and_certificate(setAsActive=False)["certificateId"]
    defender_state().weak_keys.update({weak: "CVE-2008-0166", retired: "CVE-2008-0166"})
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK")
    assert ids(findings, "deviceCertificateId") == {weak}
    assert findings[0]["reasonForNonComplianceCode"] == "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166"

    iot.update_certificate(certificateId=weak, newStatus="INACTIVE")
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_ca_certificate_key_quality(iot) -> None:
    now = time.time()
    weak_ca = pki.make_ca("Weak CA", now - DAY, now + 900 * DAY)
    good_ca = pki.make_ca("Good CA", now - DAY, now + 900 * DAY)
    weak = iot.register_ca_certificate(caCertificate=weak_ca.pem, setAsActive=True)["certificateId"]
    iot.register_ca_certificate(caCertificate=good_ca.pem, setAsActive=True)
    run, findings = audit_check(iot, "CA_CERTIFICATE_KEY_QUALITY_CHECK")
    assert (run.status, run.total_resources, findings) == ("COMPLETED_COMPLIANT", 2, [])

    defender_state().weak_keys[weak] = "CVE-2008-0166"
    run, findings = audit_check(iot, "CA_CERTIFICATE_KEY_QUALITY_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert findings[0]["nonCompliantResource"] == {
        "resourceType": "CA_CERTIFICATE",
        "resourceIdentifier": {"caCertificateId": weak},
    }
