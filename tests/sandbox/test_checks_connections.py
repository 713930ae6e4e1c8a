"""Checks driven by the connection log: shared certificates and conflicting client ids."""

from __future__ import annotations

import time

from iot_defender_tui.sandbox.state import Connection
from tests.sandbox.test_checks_common import audit_check
from tests.support.factories import defender_state

HOUR = 3600.0
DAY = 86400.0


def test_certificate_used_by_two_clients_at_once_is_shared(iot) -> None:
    shared = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    own = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    now = time.time()
    defender_state().connections.extend(
        [
            Connection("sensor-a", shared, now - 5 * HOUR, None),
            Connection("sensor-b", shared, now - 3 * HOUR, now - 2 * HOUR),
            # Same client reconnecting, and another certificate used by one client: both fine.
            Connection("sensor-c", own, now - 9 * HOUR, now - 8 * HOUR),
            Connection("sensor-c", own, now - 8 * HOUR, None),
        ]
    )
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_SHARED_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert run.total_resources == 2
    (finding,) = findings
    assert finding["nonCompliantResource"]["resourceIdentifier"] == {"deviceCertificateId": shared}
    assert finding["reasonForNonComplianceCode"] == "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"
    assert finding["reasonForNonCompliance"] == "Certificate shared by one or more devices."
    # Most recent connection first; connection times in epoch milliseconds, as strings.
    assert finding["relatedResources"] == [
        {
            "resourceType": "CLIENT_ID",
            "resourceIdentifier": {"clientId": "sensor-b"},
            "additionalInfo": {
                "CONNECTION_TIME": str(int((now - 3 * HOUR) * 1000)),
                "DISCONNECTION_TIME": str(int((now - 2 * HOUR) * 1000)),
            },
        },
        {
            "resourceType": "CLIENT_ID",
            "resourceIdentifier": {"clientId": "sensor-a"},
            "additionalInfo": {"CONNECTION_TIME": str(int((now - 5 * HOUR) * 1000))},
        },
    ]


def test_clients_taking_turns_on_a_certificate_or_long_ago_are_compliant(iot) -> None:
    cert = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    now = time.time()
    defender_state().connections.extend(
        [
            Connection("sensor-a", cert, now - 5 * HOUR, now - 4 * HOUR),
            Connection("sensor-b", cert, now - 4 * HOUR, now - 3 * HOUR),
            # Overlapping, but outside the 31 days an audit looks at.
            Connection("sensor-x", cert, now - 40 * DAY, now - 39 * DAY),
            Connection("sensor-y", cert, now - 40 * DAY, now - 39 * DAY),
        ]
    )
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_SHARED_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_deactivated_shared_certificate_is_compliant(iot) -> None:
    cert = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    now = time.time()
    defender_state().connections.extend(
        [Connection("a", cert, now - 5 * HOUR, None), Connection("b", cert, now - 4 * HOUR, None)]
    )
    iot.update_certificate(certificateId=cert, newStatus="INACTIVE")
    run, findings = audit_check(iot, "DEVICE_CERTIFICATE_SHARED_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_one_client_id_from_two_certificates_conflicts(iot) -> None:
    first = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    second = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    now = time.time()
    knocked_off = now - 2 * HOUR
    defender_state().connections.extend(
        [
            Connection("pump-7", first, now - 6 * HOUR, knocked_off),
            Connection("pump-7", second, knocked_off, None),
            Connection("pump-8", second, now - 6 * HOUR, None),
        ]
    )
    run, findings = audit_check(iot, "CONFLICTING_CLIENT_IDS_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert run.total_resources == 2
    (finding,) = findings
    assert finding["severity"] == "HIGH"
    assert finding["nonCompliantResource"] == {
        "resourceType": "CLIENT_ID",
        "resourceIdentifier": {"clientId": "pump-7"},
    }
    assert finding["reasonForNonComplianceCode"] == "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS"
    related = [r["resourceIdentifier"]["deviceCertificateId"] for r in finding["relatedResources"]]
    assert related == [second, first]


def test_client_reconnecting_with_its_own_certificate_is_compliant(iot) -> None:
    cert = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    other = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    now = time.time()
    defender_state().connections.extend(
        [
            Connection("pump-7", cert, now - 6 * HOUR, now - 2 * HOUR),
            Connection("pump-7", cert, now - 2 * HOUR, None),
            Connection("pump-7", other, now - 50 * DAY, now - 49 * DAY),  # outside the window
        ]
    )
    run, findings = audit_check(iot, "CONFLICTING_CLIENT_IDS_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])
