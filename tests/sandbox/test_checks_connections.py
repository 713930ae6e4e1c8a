"""Checks driven by the connection log: shared certificates and conflicting client ids."""

from __future__ import annotations

import time

from iot_defender_tui.sandbox import audits
from iot_defender_tui.sandbox.state import Connection
from tests.sandbox.test_checks_common import audit_check, run_audit
from tests.support.factories import configure_audit, defender_state

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


def test_on_demand_shared_check_reads_the_log_up_to_two_hours_before_the_check(iot) -> None:
    """AWS: "When performed as part of an on-demand audit, this check looks at the certificates and client
    IDs that were used by devices to connect during the 31 days before the start of the audit up to 2 hours
    before the check is run."
    https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-device-cert-shared.html
    """
    recent = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    earlier = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    now = time.time()
    defender_state().connections.extend(
        [
            # Shared within the last 2 hours only: not yet seen.
            Connection("sensor-a", recent, now - 90 * 60, None),
            Connection("sensor-b", recent, now - 60 * 60, None),
            # Shared since 2.5 hours ago: seen.
            Connection("sensor-c", earlier, now - 3 * HOUR, None),
            Connection("sensor-d", earlier, now - 2.5 * HOUR, None),
        ]
    )
    run, findings = audit_check(iot, SHARED)
    assert run.total_resources == 1
    (finding,) = findings
    assert finding["nonCompliantResource"]["resourceIdentifier"] == {"deviceCertificateId": earlier}


def test_on_demand_conflict_check_reads_the_31_days_before_the_audit_with_no_lag(iot) -> None:
    """AWS: "When performed as part of an on-demand audit, this check looks at how client IDs were used to
    connect during the 31 days prior to the start of the audit." No 2-hour lag, unlike the shared check.
    https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-conflicting-client-ids.html
    """
    first = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    second = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    now = time.time()
    defender_state().connections.extend(
        [
            Connection("pump-1", first, now - 3 * HOUR, now - HOUR),  # knocked off an hour ago
            Connection("pump-1", second, now - HOUR, None),
            Connection("pump-2", first, now - 40 * DAY, now - 33 * DAY),  # knocked off too long ago
            Connection("pump-2", second, now - 33 * DAY, now - 32 * DAY),
        ]
    )
    run, findings = audit_check(iot, CONFLICT)
    assert run.total_resources == 1
    (finding,) = findings
    assert finding["nonCompliantResource"]["resourceIdentifier"] == {"clientId": "pump-1"}


def scheduled_run(start: float) -> dict[str, set[str]]:
    """A run of the scheduled audit "daily" that started at `start`: the resources each check found."""
    state = defender_state()
    with state.lock:  # the ticker must not finish the checks at its own time
        task = audits.start_audit(state, [SHARED, CONFLICT], start, "SCHEDULED_AUDIT_TASK", "daily")
        audits.run_to_completion(state, task)
    found: dict[str, set[str]] = {SHARED: set(), CONFLICT: set()}
    for finding in (state.findings[f] for f in task.finding_ids):
        found[finding.check_name].add(next(iter(finding.resource_identifier.values())))
    return found


def test_scheduled_audits_read_the_log_since_their_last_run(iot) -> None:
    """AWS, shared certificates: "For scheduled audits, this check looks at data from 2 hours before the
    last time the audit was run to 2 hours before the time this instance of the audit started."
    https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-device-cert-shared.html
    Conflicting client ids: "For scheduled audits, this check looks at data from the last time the audit
    was run to the time this instance of the audit started."
    https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-conflicting-client-ids.html
    A schedule's first run has no last run: it reads the 31 days an on-demand audit does.
    """
    configure_audit(iot, SHARED, CONFLICT)
    old, edge, new, lent, own = (
        iot.create_keys_and_certificate(setAsActive=True)["certificateId"] for _ in range(5)
    )
    now = time.time()
    last = now - 3 * DAY  # the schedule's first run

    def shared(cert: str, at: float) -> list[Connection]:
        return [Connection("a", cert, at, at + HOUR), Connection("b", cert, at + 60, at + HOUR)]

    def conflict(client: str, at: float) -> list[Connection]:
        return [Connection(client, own, at - HOUR, at), Connection(client, lent, at, at + 600)]

    defender_state().connections.extend(
        [
            *shared(old, now - 5 * DAY),
            *shared(edge, last - 90 * 60),  # after 2 hours before the first run
            *shared(new, now - DAY),
            *conflict("pump-old", now - 5 * DAY),
            *conflict("pump-edge", last - 30 * 60),  # before the first run
            *conflict("pump-new", now - DAY),
        ]
    )
    assert scheduled_run(last) == {SHARED: {old}, CONFLICT: {"pump-old", "pump-edge"}}
    assert scheduled_run(now) == {SHARED: {edge, new}, CONFLICT: {"pump-new"}}
