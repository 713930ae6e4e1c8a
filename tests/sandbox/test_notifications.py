"""Audit notifications: the summary an audit publishes to the SNS target of the audit configuration.

AWS's payload and its JSON schema:
https://docs.aws.amazon.com/iot-device-defender/latest/devguide/device-defender-audit.html#device-defender-audit-notifications
and the role it needs (sns:Publish on the topic, trusting iot.amazonaws.com):
https://docs.aws.amazon.com/iot-device-defender/latest/devguide/device-defender-audit.html#device-defender-audit-permissions-publish
"""

from __future__ import annotations

import json

import pytest

from iot_defender_tui.sandbox import audits
from iot_defender_tui.sandbox.runtime import runtime
from tests.support.factories import configure_audit, defender_state
from tests.support.mitigation import make_role
from tests.support.sandbox import ACCOUNT, make_client

LOGGING = "LOGGING_DISABLED_CHECK"
POLICY = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
# The schema's required members; scheduledAuditName is the one optional member.
REQUIRED = {
    "accountId",
    "taskId",
    "taskStatus",
    "taskType",
    "failedChecksCount",
    "canceledChecksCount",
    "nonCompliantChecksCount",
    "compliantChecksCount",
    "totalChecksCount",
    "taskStartTime",
    "auditDetails",
}


def subscribed_queue(url: str):
    """An SNS topic with an SQS queue subscribed, and a function that reads what reached the queue."""
    sns, sqs = make_client(url, "sns"), make_client(url, "sqs")
    topic_arn = sns.create_topic(Name="audits")["TopicArn"]
    queue = sqs.create_queue(QueueName="audits-queue")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=attributes["QueueArn"])

    def received() -> list[dict]:
        reply = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(json.loads(m["Body"])["Message"]) for m in reply.get("Messages", [])]

    return topic_arn, received


def notify_to(iot, topic_arn: str, role_arn: str, enabled: bool = True) -> None:
    iot.update_account_audit_configuration(
        auditNotificationTargetConfigurations={
            "SNS": {"targetArn": topic_arn, "roleArn": role_arn, "enabled": enabled}
        }
    )


def finished_audit(iot, *checks: str) -> str:
    task_id = iot.start_on_demand_audit_task(targetCheckNames=list(checks))["taskId"]
    state = defender_state()
    audits.run_to_completion(state, state.tasks[task_id])
    return task_id


@pytest.fixture
def target(iot, sandbox_url):
    """An audit configuration whose SNS target may publish, and the reader of the topic's queue."""
    configure_audit(iot, LOGGING, POLICY)
    topic_arn, received = subscribed_queue(sandbox_url)
    notify_to(iot, topic_arn, make_role(sandbox_url, "AuditNotify", ["sns:Publish"]))
    return topic_arn, received


def test_a_finished_audit_publishes_its_summary(iot, target):
    """On a fresh account logging is disabled (one non-compliant resource) and there is no policy."""
    _, received = target
    task_id = finished_audit(iot, LOGGING, POLICY)
    [message] = received()
    assert set(message) == REQUIRED  # on demand: no scheduledAuditName
    started = iot.describe_audit_task(taskId=task_id)["taskStartTime"].timestamp()
    assert message == {
        "accountId": ACCOUNT,
        "taskId": task_id,
        "taskStatus": "COMPLETED",
        "taskType": "ON_DEMAND_AUDIT_TASK",
        "failedChecksCount": 0,
        "canceledChecksCount": 0,
        "nonCompliantChecksCount": 1,
        "compliantChecksCount": 1,
        "totalChecksCount": 2,
        "taskStartTime": round(started * 1000),  # an integer, in milliseconds as in AWS's example
        "auditDetails": [
            {
                "checkName": POLICY,
                "checkRunStatus": "COMPLETED_COMPLIANT",
                "nonCompliantResourcesCount": 0,
                "totalResourcesCount": 0,
                "suppressedNonCompliantResourcesCount": 0,
            },
            {
                "checkName": LOGGING,
                "checkRunStatus": "COMPLETED_NON_COMPLIANT",
                "nonCompliantResourcesCount": 1,
                "totalResourcesCount": 1,
                "suppressedNonCompliantResourcesCount": 0,
            },
        ],
    }
    assert received() == []  # one message per audit


def test_a_suppressed_finding_is_counted_and_leaves_its_check_compliant(iot, target):
    """ "A suppressed resource count is also included in each audit check notification"
    (https://docs.aws.amazon.com/iot/latest/developerguide/audit-finding-suppressions.html)."""
    _, received = target
    iot.create_audit_suppression(
        checkName=LOGGING, resourceIdentifier={"account": ACCOUNT}, suppressIndefinitely=True
    )
    finished_audit(iot, LOGGING)
    [message] = received()
    assert (message["compliantChecksCount"], message["nonCompliantChecksCount"]) == (1, 0)
    [detail] = message["auditDetails"]
    assert detail["checkRunStatus"] == "COMPLETED_COMPLIANT"
    assert detail["nonCompliantResourcesCount"] == detail["suppressedNonCompliantResourcesCount"] == 1


def test_a_scheduled_audit_names_itself_and_a_canceled_one_says_so(iot, target):
    _, received = target
    state = defender_state()
    with state.lock:
        task = audits.start_audit(
            state,
            [LOGGING, POLICY],
            runtime().clock.now(),
            task_type="SCHEDULED_AUDIT_TASK",
            scheduled_audit_name="weekly",
        )
    audits.run_to_completion(state, task)
    [message] = received()
    assert message["taskType"] == "SCHEDULED_AUDIT_TASK" and message["scheduledAuditName"] == "weekly"

    task_id = iot.start_on_demand_audit_task(targetCheckNames=[LOGGING, POLICY])["taskId"]
    iot.cancel_audit_task(taskId=task_id)
    [message] = received()
    assert message["taskId"] == task_id and message["taskStatus"] == "CANCELED"
    assert (message["canceledChecksCount"], message["totalChecksCount"]) == (2, 2)
    assert {d["checkRunStatus"] for d in message["auditDetails"]} == {"CANCELED"}


@pytest.mark.parametrize(
    "change",
    ["disabled", "no such role", "role without sns:Publish", "role not trusting IoT", "no such topic"],
)
def test_nothing_is_published_when_the_target_cannot_be_used(iot, sandbox_url, target, change):
    """`enabled` false sends nothing; and AWS publishes with the target's role, which must exist, trust
    iot.amazonaws.com and allow sns:Publish on the topic (device-defender-audit-permissions-publish)."""
    topic_arn, received = target
    iam = make_client(sandbox_url, "iam")
    if change == "disabled":
        notify_to(iot, topic_arn, make_role(sandbox_url, "Disabled", ["sns:Publish"]), enabled=False)
    elif change == "no such role":
        notify_to(iot, topic_arn, f"arn:aws:iam::{ACCOUNT}:role/Nobody")
    elif change == "role without sns:Publish":
        notify_to(iot, topic_arn, make_role(sandbox_url, "Mute", ["sns:ListTopics"]))
    elif change == "role not trusting IoT":
        trust = {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
        document = json.dumps({"Version": "2012-10-17", "Statement": [trust]})
        iam.update_assume_role_policy(RoleName="AuditNotify", PolicyDocument=document)
    else:
        make_client(sandbox_url, "sns").delete_topic(TopicArn=topic_arn)
    task_id = finished_audit(iot, LOGGING)
    assert received() == []
    assert iot.describe_audit_task(taskId=task_id)["taskStatus"] == "COMPLETED"  # the audit is unaffected
