"""Each mitigation action type's real effect on the sandbox, and what happens when its role falls short."""

from __future__ import annotations

import json

import pytest

from tests.support.factories import defender_state
from tests.support.mitigation import (
    CA_CHECK,
    LOGGING_CHECK,
    NEEDS,
    POLICY_CHECK,
    SHARED,
    audit_task,
    ca_certificate,
    ca_finding,
    cert_finding,
    device_certificate,
    executions,
    logging_finding,
    make_role,
    policy_finding,
    role_arn,
    run_out,
    start,
)
from tests.support.sandbox import ACCOUNT, REGION, make_client

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}
PARAMS = {
    "UPDATE_DEVICE_CERTIFICATE": {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    "UPDATE_CA_CERTIFICATE": {"updateCACertificateParams": {"action": "DEACTIVATE"}},
    "ADD_THINGS_TO_THING_GROUP": {
        "addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine", "Review"]}
    },
    "REPLACE_DEFAULT_POLICY_VERSION": {"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}},
    "ENABLE_IOT_LOGGING": {
        "enableIoTLoggingParams": {
            "roleArnForLogging": f"arn:aws:iam::{ACCOUNT}:role/Logs",
            "logLevel": "INFO",
        }
    },
}


def action(iot, url, name, action_type, params=None, allowed=None):
    """A mitigation action whose role allows what its type needs (or only `allowed`)."""
    role = make_role(url, f"{name}-role", NEEDS[action_type] if allowed is None else allowed)
    iot.create_mitigation_action(actionName=name, roleArn=role, actionParams=params or PARAMS[action_type])


def topic(url, name="findings"):
    """An SNS topic with an SQS queue subscribed, and a function that receives what reached the queue."""
    sns, sqs = make_client(url, "sns"), make_client(url, "sqs")
    arn = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=f"{name}-queue")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)

    def received():
        reply = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(json.loads(m["Body"])["Message"]) for m in reply.get("Messages", [])]

    return arn, received


def publish_action(iot, url, name, topic_arn):
    action(iot, url, name, "PUBLISH_FINDING_TO_SNS", {"publishFindingToSnsParams": {"topicArn": topic_arn}})


def test_deactivate_device_certificate(iot, sandbox_url):
    cert_id, _ = device_certificate(iot, ("SensorDevice01", "SensorDevice02"))
    finding = cert_finding(audit_task(), cert_id)
    action(iot, sandbox_url, "Deactivate", "UPDATE_DEVICE_CERTIFICATE")
    assert start(iot, "lab-task", {SHARED: ["Deactivate"]}, findingIds=[finding.finding_id]) == "lab-task"
    described = run_out(iot, "lab-task")
    assert described["taskStatus"] == "COMPLETED"
    assert described["taskStatistics"][SHARED] == {
        "totalFindingsCount": 1, "failedFindingsCount": 0, "succeededFindingsCount": 1,
        "skippedFindingsCount": 0, "canceledFindingsCount": 0,
    }  # fmt: skip
    assert described["endTime"] >= described["startTime"]
    assert [a["name"] for a in described["actionsDefinition"]] == ["Deactivate"]
    assert iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"] == "INACTIVE"
    [execution] = executions(iot, "lab-task", finding.finding_id)
    assert execution["status"] == "COMPLETED" and execution["actionName"] == "Deactivate"
    assert "errorCode" not in execution


def test_deactivate_ca_certificate(iot, sandbox_url):
    ca_id = ca_certificate(iot)
    finding = ca_finding(audit_task(), ca_id)
    action(iot, sandbox_url, "DeactivateCA", "UPDATE_CA_CERTIFICATE")
    start(iot, "ca", {CA_CHECK: ["DeactivateCA"]}, findingIds=[finding.finding_id])
    assert run_out(iot, "ca")["taskStatus"] == "COMPLETED"
    assert iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]["status"] == "INACTIVE"


def test_add_things_to_thing_groups(iot, sandbox_url):
    cert_id, _ = device_certificate(iot, ("SensorDevice01", "SensorDevice02"))
    device_certificate(iot, ("Bystander",))
    for group in ("Quarantine", "Review"):
        iot.create_thing_group(thingGroupName=group)
    finding = cert_finding(audit_task(), cert_id)
    action(iot, sandbox_url, "Quarantine", "ADD_THINGS_TO_THING_GROUP")
    start(iot, "groups", {SHARED: ["Quarantine"]}, findingIds=[finding.finding_id])
    assert run_out(iot, "groups")["taskStatus"] == "COMPLETED"
    for group in ("Quarantine", "Review"):
        members = iot.list_things_in_thing_group(thingGroupName=group)["things"]
        assert sorted(members) == ["SensorDevice01", "SensorDevice02"]


def test_missing_thing_group_fails_the_execution(iot, sandbox_url):
    cert_id, _ = device_certificate(iot, ("SensorDevice01",))
    iot.create_thing_group(thingGroupName="Quarantine")  # "Review" is missing
    finding = cert_finding(audit_task(), cert_id)
    action(iot, sandbox_url, "Quarantine", "ADD_THINGS_TO_THING_GROUP")
    start(iot, "groups", {SHARED: ["Quarantine"]}, findingIds=[finding.finding_id])
    assert run_out(iot, "groups")["taskStatus"] == "FAILED"
    [execution] = executions(iot, "groups", finding.finding_id)
    assert execution["errorCode"] == "ResourceNotFound" and "Review" in execution["message"]
    assert iot.list_things_in_thing_group(thingGroupName="Quarantine")["things"] == []


def test_replace_default_policy_version(iot, sandbox_url):
    iot.create_policy(policyName="Broad", policyDocument=json.dumps(POLICY))
    finding = policy_finding(audit_task(), "Broad")
    action(iot, sandbox_url, "Blank", "REPLACE_DEFAULT_POLICY_VERSION")
    start(iot, "blank", {POLICY_CHECK: ["Blank"]}, findingIds=[finding.finding_id])
    assert run_out(iot, "blank")["taskStatus"] == "COMPLETED"
    policy = iot.get_policy(policyName="Broad")
    assert policy["defaultVersionId"] == "2"
    assert json.loads(policy["policyDocument"])["Statement"] == []
    versions = iot.list_policy_versions(policyName="Broad")["policyVersions"]
    assert {v["versionId"]: v["isDefaultVersion"] for v in versions} == {"1": False, "2": True}


def test_policy_with_five_versions_fails_like_aws(iot, sandbox_url):
    iot.create_policy(policyName="Full", policyDocument=json.dumps(POLICY))
    for _ in range(4):
        iot.create_policy_version(policyName="Full", policyDocument=json.dumps(POLICY))
    finding = policy_finding(audit_task(), "Full")
    action(iot, sandbox_url, "Blank", "REPLACE_DEFAULT_POLICY_VERSION")
    start(iot, "full", {POLICY_CHECK: ["Blank"]}, findingIds=[finding.finding_id])
    assert run_out(iot, "full")["taskStatus"] == "FAILED"
    assert executions(iot, "full", finding.finding_id)[0]["errorCode"] == "VersionsLimitExceeded"
    assert iot.get_policy(policyName="Full")["defaultVersionId"] == "1"


def test_enable_iot_logging(iot, sandbox_url):
    finding = logging_finding(audit_task())
    action(iot, sandbox_url, "EnableLogs", "ENABLE_IOT_LOGGING")
    start(iot, "logs", {LOGGING_CHECK: ["EnableLogs"]}, findingIds=[finding.finding_id])
    assert run_out(iot, "logs")["taskStatus"] == "COMPLETED"
    options = iot.get_v2_logging_options()
    assert options["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/Logs"
    assert options["defaultLogLevel"] == "INFO" and options["disableAllLogs"] is False


def test_publish_finding_to_sns_reaches_a_subscribed_queue(iot, sandbox_url):
    cert_id, _ = device_certificate(iot)
    finding = cert_finding(audit_task(), cert_id)
    topic_arn, received = topic(sandbox_url)
    publish_action(iot, sandbox_url, "Notify", topic_arn)
    start(iot, "notify", {SHARED: ["Notify"]}, findingIds=[finding.finding_id])
    assert run_out(iot, "notify")["taskStatus"] == "COMPLETED"
    [message] = received()
    assert message["findingId"] == finding.finding_id and message["checkName"] == SHARED
    assert message["nonCompliantResource"]["resourceIdentifier"] == {"deviceCertificateId": cert_id}
    assert message["reasonForNonCompliance"] == "Certificate shared by one or more devices."


def test_publish_to_a_missing_topic_fails(iot, sandbox_url):
    cert_id, _ = device_certificate(iot)
    finding = cert_finding(audit_task(), cert_id)
    publish_action(iot, sandbox_url, "Notify", f"arn:aws:sns:{REGION}:{ACCOUNT}:gone")
    start(iot, "notify", {SHARED: ["Notify"]}, findingIds=[finding.finding_id])
    assert run_out(iot, "notify")["taskStatus"] == "FAILED"
    assert executions(iot, "notify", finding.finding_id)[0]["errorCode"] == "ResourceNotFound"


def _finding_for(iot, action_type):
    """A finding of a check the action type applies to, and how to tell that nothing was changed."""
    task = audit_task()
    if action_type == "UPDATE_CA_CERTIFICATE":
        ca_id = ca_certificate(iot)
        return (
            ca_finding(task, ca_id),
            CA_CHECK,
            lambda: (
                iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]["status"]
                == "ACTIVE"
            ),
        )
    if action_type == "REPLACE_DEFAULT_POLICY_VERSION":
        iot.create_policy(policyName="Broad", policyDocument=json.dumps(POLICY))
        return (
            policy_finding(task, "Broad"),
            POLICY_CHECK,
            lambda: iot.get_policy(policyName="Broad")["defaultVersionId"] == "1",
        )
    if action_type == "ENABLE_IOT_LOGGING":
        return logging_finding(task), LOGGING_CHECK, lambda: defender_state().logging_v2 is None
    cert_id, _ = device_certificate(iot, ("SensorDevice01",))
    for group in ("Quarantine", "Review"):
        iot.create_thing_group(thingGroupName=group)

    def untouched():
        status = iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"]
        return (
            status == "ACTIVE" and iot.list_things_in_thing_group(thingGroupName="Quarantine")["things"] == []
        )

    return cert_finding(task, cert_id), SHARED, untouched


@pytest.mark.parametrize("action_type", sorted(NEEDS))
@pytest.mark.parametrize("role", ["missing-permission", "missing-role"])
def test_role_failure_fails_the_execution_and_skips_later_actions(iot, sandbox_url, action_type, role):
    finding, check, untouched = _finding_for(
        iot, "UPDATE_DEVICE_CERTIFICATE" if action_type == "PUBLISH_FINDING_TO_SNS" else action_type
    )
    topic_arn, received = topic(sandbox_url)
    params = (
        {"publishFindingToSnsParams": {"topicArn": topic_arn}}
        if action_type == "PUBLISH_FINDING_TO_SNS"
        else None
    )
    if role == "missing-role":
        iot.create_mitigation_action(
            actionName="First", roleArn=role_arn("Ghost"), actionParams=params or PARAMS[action_type]
        )
    else:
        # Every permission but the last one the type needs: a partial grant is not enough.
        action(iot, sandbox_url, "First", action_type, params, allowed=NEEDS[action_type][:-1])
    publish_action(iot, sandbox_url, "Then", topic_arn)
    start(iot, "t", {check: ["First", "Then"]}, findingIds=[finding.finding_id])
    described = run_out(iot, "t")
    assert described["taskStatus"] == "FAILED"
    assert described["taskStatistics"][check]["failedFindingsCount"] == 1
    first, then = executions(iot, "t", finding.finding_id)
    assert first["status"] == "FAILED"
    if role == "missing-role":
        assert first["errorCode"] == "RoleNotFound" and "Ghost" in first["message"]
    else:
        assert first["errorCode"] == "AccessDenied" and NEEDS[action_type][-1] in first["message"]
    assert then["status"] == "SKIPPED" and "First" in then["message"]
    assert untouched() and received() == []


@pytest.mark.parametrize(
    "trusted",
    [
        "lambda.amazonaws.com",  # a service role for another service
        "credentials.iot.amazonaws.com",  # the role-alias service, not AWS IoT itself
    ],
)
def test_role_that_iot_may_not_assume_fails_the_execution(iot, sandbox_url, trusted):
    """AWS IoT runs a mitigation action as its role, so the role's trust policy must let iot.amazonaws.com
    assume it (https://docs.aws.amazon.com/iot-device-defender/latest/devguide/dd-mitigation-actions.html,
    the role in https://docs.aws.amazon.com/iot/latest/apireference/API_CreateMitigationAction.html). A role
    that grants the permission but trusts another service fails the execution with errorCode and message
    (https://docs.aws.amazon.com/iot/latest/apireference/API_AuditMitigationActionExecutionMetadata.html);
    creating the action succeeds, as AWS documents no check of the role there."""
    cert_id, _ = device_certificate(iot, ("SensorDevice01",))
    finding = cert_finding(audit_task(), cert_id)
    iam = make_client(sandbox_url, "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": trusted}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName="Elsewhere", AssumeRolePolicyDocument=json.dumps(trust))
    grant = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}
    iam.put_role_policy(RoleName="Elsewhere", PolicyName="all", PolicyDocument=json.dumps(grant))
    iot.create_mitigation_action(
        actionName="Deactivate",
        roleArn=role_arn("Elsewhere"),
        actionParams=PARAMS["UPDATE_DEVICE_CERTIFICATE"],
    )
    start(iot, "t", {SHARED: ["Deactivate"]}, findingIds=[finding.finding_id])
    assert run_out(iot, "t")["taskStatus"] == "FAILED"
    [execution] = executions(iot, "t", finding.finding_id)
    assert execution["status"] == "FAILED" and execution["errorCode"] == "AccessDenied"
    assert "iot.amazonaws.com" in execution["message"] and role_arn("Elsewhere") in execution["message"]
    assert iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"] == "ACTIVE"
