"""Mitigation actions: the six types and their parameter rules, describe, update, delete, list."""

from __future__ import annotations

import pytest

from tests.support.factories import error_of
from tests.support.mitigation import role_arn
from tests.support.sandbox import ACCOUNT, REGION, make_client

ROLE = role_arn("MitigationRole")
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:findings"
VALID = {
    "UPDATE_DEVICE_CERTIFICATE": {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    "UPDATE_CA_CERTIFICATE": {"updateCACertificateParams": {"action": "DEACTIVATE"}},
    "ADD_THINGS_TO_THING_GROUP": {
        "addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine"], "overrideDynamicGroups": True}
    },
    "REPLACE_DEFAULT_POLICY_VERSION": {"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}},
    "ENABLE_IOT_LOGGING": {
        "enableIoTLoggingParams": {"roleArnForLogging": role_arn("Logs"), "logLevel": "ERROR"}
    },
    "PUBLISH_FINDING_TO_SNS": {"publishFindingToSnsParams": {"topicArn": TOPIC}},
}


@pytest.mark.parametrize("action_type", sorted(VALID))
def test_each_type_is_created_and_described(iot, action_type):
    created = iot.create_mitigation_action(
        actionName=f"a-{action_type}", roleArn=ROLE, actionParams=VALID[action_type]
    )
    assert created["actionArn"] == f"arn:aws:iot:{REGION}:{ACCOUNT}:mitigationaction/a-{action_type}"
    described = iot.describe_mitigation_action(actionName=f"a-{action_type}")
    assert described["actionType"] == action_type
    assert described["actionId"] == created["actionId"]
    assert described["roleArn"] == ROLE
    assert described["actionParams"] == VALID[action_type]
    assert described["creationDate"] == described["lastModifiedDate"]


INVALID = [
    ({}, "exactly one"),
    ({**VALID["UPDATE_DEVICE_CERTIFICATE"], **VALID["UPDATE_CA_CERTIFICATE"]}, "exactly one"),
    ({"addThingsToThingGroupParams": {"thingGroupNames": []}}, "1 to 10"),
    ({"addThingsToThingGroupParams": {"thingGroupNames": [f"g{i}" for i in range(11)]}}, "1 to 10"),
    ({"addThingsToThingGroupParams": {"thingGroupNames": ["bad name!"]}}, "Invalid thing group name"),
    (
        {"enableIoTLoggingParams": {"roleArnForLogging": role_arn("Logs"), "logLevel": "DISABLED"}},
        "cannot be DISABLED",
    ),
    (
        {"enableIoTLoggingParams": {"roleArnForLogging": "not-a-role-arn", "logLevel": "INFO"}},
        "Invalid role ARN",
    ),
    ({"publishFindingToSnsParams": {"topicArn": "arn:aws:sqs:us-east-1:123456789012:q"}}, "SNS topic ARN"),
]


@pytest.fixture
def unchecked(sandbox_url):
    """A client that leaves validation to the sandbox, as the AWS CLI's raw requests might."""
    return make_client(sandbox_url, parameter_validation=False)


@pytest.mark.parametrize(("params", "words"), INVALID)
def test_parameter_rules(iot, unchecked, params, words):
    code, message = error_of(
        unchecked.create_mitigation_action, actionName="bad", roleArn=ROLE, actionParams=params
    )
    assert code == "InvalidRequestException"
    assert words in message
    assert iot.list_mitigation_actions()["actionIdentifiers"] == []


def test_name_role_duplicate_and_limit(iot, unchecked):
    params = VALID["PUBLISH_FINDING_TO_SNS"]
    code, _ = error_of(
        iot.create_mitigation_action, actionName="x", roleArn="arn:aws:iam::1:user/u", actionParams=params
    )
    assert code == "InvalidRequestException"
    code, _ = error_of(
        unchecked.create_mitigation_action, actionName="a" * 129, roleArn=ROLE, actionParams=params
    )
    assert code == "InvalidRequestException"
    for i in range(100):
        iot.create_mitigation_action(actionName=f"n{i}", roleArn=ROLE, actionParams=params)
    code, _ = error_of(iot.create_mitigation_action, actionName="n0", roleArn=ROLE, actionParams=params)
    assert code == "ResourceAlreadyExistsException"
    code, message = error_of(
        iot.create_mitigation_action, actionName="n100", roleArn=ROLE, actionParams=params
    )
    assert code == "LimitExceededException" and "100" in message


def test_update_changes_role_and_params_but_not_type(iot):
    iot.create_mitigation_action(
        actionName="groups", roleArn=ROLE, actionParams=VALID["ADD_THINGS_TO_THING_GROUP"]
    )
    before = iot.describe_mitigation_action(actionName="groups")
    new_params = {
        "addThingsToThingGroupParams": {"thingGroupNames": ["Q2", "Q3"], "overrideDynamicGroups": False}
    }
    reply = iot.update_mitigation_action(
        actionName="groups", roleArn=role_arn("Other"), actionParams=new_params
    )
    assert reply["actionId"] == before["actionId"]
    after = iot.describe_mitigation_action(actionName="groups")
    assert after["roleArn"] == role_arn("Other")
    assert after["actionParams"] == new_params
    assert after["lastModifiedDate"] >= before["lastModifiedDate"]
    code, message = error_of(
        iot.update_mitigation_action, actionName="groups", actionParams=VALID["UPDATE_DEVICE_CERTIFICATE"]
    )
    assert code == "InvalidRequestException" and "cannot be changed" in message
    assert (
        error_of(iot.update_mitigation_action, actionName="nope", roleArn=ROLE)[0]
        == "ResourceNotFoundException"
    )


def test_delete_and_list_with_type_filter_and_pages(iot):
    for i in range(5):
        iot.create_mitigation_action(
            actionName=f"sns{i}", roleArn=ROLE, actionParams=VALID["PUBLISH_FINDING_TO_SNS"]
        )
    iot.create_mitigation_action(
        actionName="cert", roleArn=ROLE, actionParams=VALID["UPDATE_DEVICE_CERTIFICATE"]
    )
    first = iot.list_mitigation_actions(actionType="PUBLISH_FINDING_TO_SNS", maxResults=3)
    second = iot.list_mitigation_actions(actionType="PUBLISH_FINDING_TO_SNS", nextToken=first["nextToken"])
    names = [a["actionName"] for a in first["actionIdentifiers"] + second["actionIdentifiers"]]
    assert sorted(names) == [f"sns{i}" for i in range(5)] and "nextToken" not in second
    assert names[0] == "sns4"  # newest first
    iot.delete_mitigation_action(actionName="sns0")
    iot.delete_mitigation_action(actionName="never-existed")  # AWS answers success
    everything = [a["actionName"] for a in iot.list_mitigation_actions()["actionIdentifiers"]]
    assert sorted(everything) == ["cert", "sns1", "sns2", "sns3", "sns4"]
    assert error_of(iot.describe_mitigation_action, actionName="sns0")[0] == "ResourceNotFoundException"
