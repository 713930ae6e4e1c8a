"""IoT policy checks on policies created and attached over HTTP."""

from __future__ import annotations

import json

from tests.sandbox.test_checks_common import audit_check

BASE = "arn:aws:iot:us-east-1:123456789012"
THING = "${iot:Connection.Thing.ThingName}"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def attached_policy(iot, name: str, document: str) -> str:
    cert_arn = iot.create_keys_and_certificate(setAsActive=True)["certificateArn"]
    iot.create_policy(policyName=name, policyDocument=document)
    iot.attach_policy(policyName=name, target=cert_arn)
    return cert_arn


SCOPED = doc(
    {
        "Effect": "Allow",
        "Action": "iot:Connect",
        "Resource": f"{BASE}:client/{THING}",
        "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}},
    },
    {
        "Effect": "Allow",
        "Action": ["iot:Publish", "iot:Receive"],
        "Resource": f"{BASE}:topic/$aws/things/{THING}/*",
    },
    {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{BASE}:topicfilter/$aws/things/{THING}/*"},
    {"Effect": "Allow", "Action": "iot:*Shadow", "Resource": f"{BASE}:thing/{THING}"},
    {"Effect": "Allow", "Action": "iot:Receive", "Resource": "*"},
)


def test_iot_star_policy_in_use_is_overly_permissive(iot) -> None:
    attached_policy(iot, "Wide", doc({"Effect": "Allow", "Action": "iot:*", "Resource": "*"}))
    iot.create_policy(
        policyName="Unused", policyDocument=doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    )
    run, findings = audit_check(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert run.total_resources == 1  # only attached policies are audited
    (finding,) = findings
    assert finding["nonCompliantResource"] == {
        "resourceType": "IOT_POLICY",
        "resourceIdentifier": {"policyVersionIdentifier": {"policyName": "Wide", "policyVersionId": "1"}},
    }
    assert finding["reasonForNonComplianceCode"] == "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"
    assert finding["reasonForNonCompliance"].startswith(
        "Policy allows broad access to IoT data plane actions: [iot:Subscribe, iot:Connect, "
        "iot:GetThingShadow, iot:DeleteThingShadow, iot:UpdateThingShadow, iot:Publish"
    )
    assert finding["reasonForNonCompliance"].endswith("].")


def test_thing_scoped_policy_is_compliant(iot) -> None:
    attached_policy(iot, "Scoped", SCOPED)
    run, findings = audit_check(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    assert (run.status, run.total_resources, findings) == ("COMPLETED_COMPLIANT", 1, [])


def test_client_id_variable_needs_the_thing_attached_condition(iot) -> None:
    connect = {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{BASE}:client/${{iot:ClientId}}"}
    attached_policy(iot, "ByClientId", doc(connect))
    _, findings = audit_check(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    assert findings[0]["reasonForNonCompliance"] == (
        "Policy allows broad access to IoT data plane actions: [iot:Connect]."
    )
    connect["Condition"] = {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}
    iot.create_policy_version(policyName="ByClientId", policyDocument=doc(connect), setAsDefault=True)
    run, findings = audit_check(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_only_the_default_version_counts_and_deny_narrows(iot) -> None:
    attached_policy(iot, "Fixed", doc({"Effect": "Allow", "Action": "iot:*", "Resource": "*"}))
    fixed = doc(
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{BASE}:topicfilter/*"},
        {"Effect": "Deny", "Action": "iot:Subscribe", "Resource": f"{BASE}:topicfilter/$aws/*"},
    )
    iot.create_policy_version(policyName="Fixed", policyDocument=fixed, setAsDefault=True)
    run, findings = audit_check(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_wildcard_subscribe_to_reserved_topics_is_overly_permissive(iot) -> None:
    attached_policy(
        iot,
        "Listener",
        doc({"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{BASE}:topicfilter/$aws/things/#"}),
    )
    _, findings = audit_check(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    assert findings[0]["reasonForNonCompliance"].endswith("[iot:Subscribe].")


def test_mqtt_wildcards_in_deny_statement(iot) -> None:
    attached_policy(
        iot,
        "DenyHash",
        doc(
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{BASE}:topicfilter/building/*"},
            {
                "Effect": "Deny",
                "Action": "iot:Subscribe",
                "Resource": f"{BASE}:topicfilter/building/control_room/#",
            },
            {"Effect": "Allow", "Action": "iot:Receive", "Resource": f"{BASE}:topic/building/*"},
        ),
    )
    run, findings = audit_check(iot, "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    (finding,) = findings
    assert finding["severity"] == "MEDIUM"
    assert finding["reasonForNonComplianceCode"] == "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT"


def test_deny_bypassed_by_subscribing_to_a_parent_wildcard(iot) -> None:
    statements = [
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{BASE}:topicfilter/building/*"},
        {
            "Effect": "Deny",
            "Action": "iot:Subscribe",
            "Resource": f"{BASE}:topicfilter/building/control_room/*",
        },
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": f"{BASE}:topic/building/*"},
    ]
    attached_policy(iot, "Bypass", doc(*statements))
    _, findings = audit_check(iot, "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK")
    assert (
        findings[0]["reasonForNonComplianceCode"] == "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS"
    )

    # AWS's corrected policy also denies receiving the control room's messages.
    statements.append(
        {"Effect": "Deny", "Action": "iot:Receive", "Resource": f"{BASE}:topic/building/control_room/*"}
    )
    iot.create_policy_version(policyName="Bypass", policyDocument=doc(*statements), setAsDefault=True)
    run, findings = audit_check(iot, "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_policy_without_deny_statements_is_not_misconfigured(iot) -> None:
    attached_policy(iot, "Scoped", SCOPED)
    run, findings = audit_check(iot, "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK")
    assert (run.status, run.total_resources, findings) == ("COMPLETED_COMPLIANT", 1, [])
