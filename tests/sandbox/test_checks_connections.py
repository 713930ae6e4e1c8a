"""Checks driven by the connection log: shared certificates and conflicting client ids."""

from __future__ import annotations

import time

from iot_defender_tui.sandbox.state import Connection
from tests.sandbox.test_checks_common import audit_check, run_audit
from tests.support.factories import defender_state

HOUR = 3600.0
DAY = 86400.0
SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
CONFLICT = "CONFLICTING_CLIENT_IDS_CHECK"


def ms(when: float) -> str:
    return str(int(when * 1000))


def test_certificate_used_by_two_clients_at_once_is_shared(iot) -> None:
    shared = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    own = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    now = time.time()
    defender_state().connections.extend(
        [
            Connection("sensor-a", shared, now - 5 * HOUR, None),
            Connection("sensor-b", shared, now - 3 * HOUR, now - 2 * HOUR),
            # Another certificate used by one client, reconnecting after a pause: fine.
            Connection("sensor-c", own, now - 9 * HOUR, now - 8 * HOUR),
            Connection("sensor-c", own, now - 8 * HOUR + 300, None),
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
            # Back a few minutes after it lost its connection: nobody knocked it off.
            Connection("pump-7", cert, now - 6 * HOUR, now - 3 * HOUR),
            Connection("pump-7", cert, now - 3 * HOUR + 300, None),
            Connection("pump-7", other, now - 50 * DAY, now - 49 * DAY),  # outside the window
        ]
    )
    run, findings = audit_check(iot, "CONFLICTING_CLIENT_IDS_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_clones_with_one_certificate_and_one_client_id_are_shared_and_conflicting(iot) -> None:
    """Two devices with the same certificate and the same client id knock each other off, over and over:
    both findings. A certificate is shared when "Multiple, concurrent connections use the same X.509
    certificate to authenticate with AWS IoT":
    https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-device-cert-shared.html
    and a client id conflicts when "Multiple connections were made using the same client ID, causing an
    already connected device to be disconnected":
    https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-conflicting-client-ids.html
    """
    cert = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    now = time.time()
    first, second = now - 6 * HOUR, now - 4 * HOUR  # each arrival knocks the other off
    defender_state().connections.extend(
        [
            Connection("pump-7", cert, now - 10 * HOUR, first),
            Connection("pump-7", cert, first, second),
            Connection("pump-7", cert, second, None),
        ]
    )
    runs, findings = run_audit(iot, SHARED, CONFLICT)
    assert {name: run.status for name, run in runs.items()} == {
        SHARED: "COMPLETED_NON_COMPLIANT",
        CONFLICT: "COMPLETED_NON_COMPLIANT",
    }
    by_check = {f["checkName"]: f for f in findings}
    assert len(findings) == len(by_check) == 2
    shared, conflict = by_check[SHARED], by_check[CONFLICT]
    assert shared["nonCompliantResource"]["resourceIdentifier"] == {"deviceCertificateId": cert}
    assert [r["resourceIdentifier"] for r in shared["relatedResources"]] == [{"clientId": "pump-7"}] * 3
    assert conflict["nonCompliantResource"]["resourceIdentifier"] == {"clientId": "pump-7"}
    assert [r["resourceIdentifier"] for r in conflict["relatedResources"]] == [
        {"deviceCertificateId": cert}
    ] * 3
    assert [r["additionalInfo"] for r in conflict["relatedResources"]] == [
        {"CONNECTION_TIME": ms(second)},
        {"CONNECTION_TIME": ms(first), "DISCONNECTION_TIME": ms(second)},
        {"CONNECTION_TIME": ms(now - 10 * HOUR), "DISCONNECTION_TIME": ms(first)},
    ]


def test_aws_example_of_a_shared_certificate_is_found(iot) -> None:
    """AWS's own example of a DEVICE_CERTIFICATE_SHARED_CHECK finding (aws-cli
    examples/iot/list-audit-findings.rst, "Example 2"): one client id, ZipxgAIl, in back-to-back sessions,
    each next one beginning seconds after the last ended. Its times here are moved to end at this audit, the
    same distances apart. The check's page:
    https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-device-cert-shared.html
    """
    cert = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    aws_task_start = 1560161017.172
    shift = time.time() - aws_task_start
    sessions = [(1559289863.631, 1560081532.716), (1560081552.187, 1560086371.552), (1560086374.068, None)]
    log = [Connection("ZipxgAIl", cert, a + shift, b and b + shift) for a, b in sessions]
    defender_state().connections.extend(log)
    run, findings = audit_check(iot, SHARED)
    assert run.status == "COMPLETED_NON_COMPLIANT"
    (finding,) = findings
    assert finding["reasonForNonComplianceCode"] == "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"
    newest, middle, oldest = log[2], log[1], log[0]
    assert finding["relatedResources"] == [
        {
            "resourceType": "CLIENT_ID",
            "resourceIdentifier": {"clientId": "ZipxgAIl"},
            "additionalInfo": {"CONNECTION_TIME": ms(newest.connected)},
        },
        {
            "resourceType": "CLIENT_ID",
            "resourceIdentifier": {"clientId": "ZipxgAIl"},
            "additionalInfo": {
                "CONNECTION_TIME": ms(middle.connected),
                "DISCONNECTION_TIME": ms(middle.disconnected or 0),
            },
        },
        {
            "resourceType": "CLIENT_ID",
            "resourceIdentifier": {"clientId": "ZipxgAIl"},
            "additionalInfo": {
                "CONNECTION_TIME": ms(oldest.connected),
                "DISCONNECTION_TIME": ms(oldest.disconnected or 0),
            },
        },
    ]
