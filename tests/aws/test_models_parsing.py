"""Model parsing without a server: readable resource strings, missing members, timestamps, typed params."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator
from dateutil.tz import tzlocal

from iot_defender_tui.aws import models as m

IOT_MODEL = get_session().get_service_model("iot")
CERT = "2b1c16825f670c534458cc6ef01a47eec31b4bc057f230bbef572cff0901e223"
CA = "5ab8f8ccbab382c14ef5f052d9b62bb5c4c0a00e2a847682616ee79b01cb1978"
ISSUER = {
    "issuerCertificateSubject": "CN=Factory B Issuing CA,O=IoT Defender Sandbox",
    "issuerId": CA,
    "issuerCertificateSerialNumber": "52e979a6baa9456",
}

READABLE = [
    ("DEVICE_CERTIFICATE", {"deviceCertificateId": CERT}, "cert 2b1c16825f67…", CERT),
    (
        "DEVICE_CERTIFICATE",
        {"deviceCertificateArn": f"arn:aws:iot:us-east-1:123456789012:cert/{CERT}"},
        "cert 2b1c16825f67…",
        CERT,
    ),
    ("CA_CERTIFICATE", {"caCertificateId": CA}, "CA cert 5ab8f8ccbab3…", CA),
    (
        "IOT_POLICY",
        {"policyVersionIdentifier": {"policyName": "SensorDevicePolicy", "policyVersionId": "3"}},
        "SensorDevicePolicy v3",
        "SensorDevicePolicy",
    ),
    ("CLIENT_ID", {"clientId": "SensorDevice01"}, "client SensorDevice01", "SensorDevice01"),
    (
        "COGNITO_IDENTITY_POOL",
        {"cognitoIdentityPoolId": "us-east-1:af565c46-d513-4b48-8e25-78c8299ab2d3"},
        "identity pool us-east-1:af565c46-d513-4b48-8e25-78c8299ab2d3",
        "us-east-1:af565c46-d513-4b48-8e25-78c8299ab2d3",
    ),
    (
        "ROLE_ALIAS",
        {"roleAliasArn": "arn:aws:iot:us-east-1:123456789012:rolealias/fleet-gateway"},
        "role alias fleet-gateway",
        "arn:aws:iot:us-east-1:123456789012:rolealias/fleet-gateway",
    ),
    ("ACCOUNT_SETTINGS", {"account": "123456789012"}, "account 123456789012", "123456789012"),
    (
        "ISSUER_CERTIFICATE",
        {"issuerCertificateIdentifier": ISSUER, "deviceCertificateId": CERT},
        "issuer CN=Factory B Issuing CA,O=IoT Defender Sandbox serial 52e979a6baa9456 (cert 2b1c16825f67…)",
        CA,
    ),
    (
        "IAM_ROLE",
        {"iamRoleArn": "arn:aws:iam::123456789012:role/service/FleetRole"},
        "IAM role FleetRole",
        "arn:aws:iam::123456789012:role/service/FleetRole",
    ),
    (
        "THING_SHADOW",
        {"thingName": "pump-7", "shadow": {"name": "config"}},
        "THING_SHADOW shadow.name=config thingName=pump-7",
        "shadow.name=config thingName=pump-7",
    ),
]


@pytest.mark.parametrize(
    ("kind", "identifier", "readable", "full_id"), READABLE, ids=[r[0] for r in READABLE]
)
def test_readable_string_per_resource_type(kind, identifier, readable, full_id):
    ref = m.ResourceRef.from_api({"resourceType": kind, "resourceIdentifier": identifier})
    assert (ref.readable, ref.full_id) == (readable, full_id)
    assert ref.identifier == identifier  # kept verbatim, to be sent back
    if kind != "THING_SHADOW":
        assert m.infer_resource_type(identifier) == kind


def test_readable_strings_are_plain_text():
    brackets = m.ResourceRef("CLIENT_ID", {"clientId": "[bold]dev[/] [TODO]"})
    assert brackets.readable == "client [bold]dev[/] [TODO]"
    escape = m.ResourceRef("CLIENT_ID", {"clientId": "dev\x1b[2J\nnext"})
    assert escape.readable == "client dev\\x1b[2J\\x0anext"
    assert "\n" not in escape.full_id and "\x1b" not in escape.full_id


def test_policy_without_version_and_short_ids():
    assert m.ResourceRef("IOT_POLICY", {"policyVersionIdentifier": {"policyName": "p"}}).readable == "p"
    assert m.ResourceRef("DEVICE_CERTIFICATE", {"deviceCertificateId": "abc"}).readable == "cert abc"
    # A known type missing its member falls back to showing what there is.
    assert m.ResourceRef("CLIENT_ID", {"account": "1"}).readable == "CLIENT_ID account=1"


def test_connection_times_of_related_resources():
    ref = m.ResourceRef.from_api(
        {
            "resourceType": "CLIENT_ID",
            "resourceIdentifier": {"clientId": "c"},
            "additionalInfo": {"CONNECTION_TIME": "1560161017592", "DISCONNECTION_TIME": "garbage"},
        }
    )
    assert ref.connected_at == datetime(2019, 6, 10, 10, 3, 37, 592000, tzinfo=UTC)
    assert ref.disconnected_at is None


@pytest.mark.parametrize(
    "value",
    [
        1560161017.592,
        "1560161017.592",
        "2019-06-10T10:03:37.592Z",
        datetime(2019, 6, 10, 10, 3, 37, 592000),
        datetime(2019, 6, 10, 12, 3, 37, 592000, tzinfo=timezone(timedelta(hours=2))),
        datetime(2019, 6, 10, 10, 3, 37, 592000, tzinfo=UTC).astimezone(tzlocal()),
    ],
)
def test_timestamps_become_aware_utc(value):
    parsed = m.timestamp(value)
    assert parsed == datetime(2019, 6, 10, 10, 3, 37, 592000, tzinfo=UTC)
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize("value", [None, "", "soon", True, [1]])
def test_unusable_timestamps_are_none(value):
    assert m.timestamp(value) is None


EMPTY = [
    m.Identity,
    m.Role,
    m.Topic,
    m.Certificate,
    m.Policy,
    m.CheckConfiguration,
    m.SnsTarget,
    m.AuditConfiguration,
    m.ScheduledAudit,
    m.TaskStatistics,
    m.CheckResult,
    m.AuditTask,
    m.ResourceRef,
    m.Finding,
    m.Suppression,
    m.MitigationAction,
    m.CheckMitigationStats,
    m.MitigationTask,
    m.MitigationExecution,
    m.LoggingOptions,
    m.LogLevelTarget,
]


@pytest.mark.parametrize("model", EMPTY, ids=[c.__name__ for c in EMPTY])
def test_every_model_parses_a_reply_without_optional_members(model):
    parsed = model.from_api({})
    assert parsed == model.from_api({"someMemberFrom2030": {"x": 1}})


def test_missing_members_get_sensible_values():
    finding = m.Finding.from_api({"findingId": "f1", "checkName": "DEVICE_CERTIFICATE_SHARED_CHECK"})
    assert (finding.severity, finding.resource.resource_type, finding.related) == (
        "CRITICAL",
        "DEVICE_CERTIFICATE",
        (),
    )
    assert finding.finding_time is None and finding.is_suppressed is False
    task = m.AuditTask.from_describe("t1", {"taskStatus": "IN_PROGRESS"})
    assert (task.task_id, task.statistics, task.checks, task.start_time) == ("t1", None, (), None)
    assert m.TaskStatistics.from_api({"totalChecks": 4, "compliantChecks": 1}).fraction == 0.25
    assert m.TaskStatistics.from_api({}).fraction == 0.0
    config = m.AuditConfiguration.from_api({"auditCheckConfigurations": {"LOGGING_DISABLED_CHECK": {}}})
    assert (config.role_arn, config.sns_target, config.checks[0].enabled) == (None, None, False)
    suppression = m.Suppression.from_api({"checkName": "CONFLICTING_CLIENT_IDS_CHECK"})
    assert (suppression.resource.resource_type, suppression.expiration, suppression.indefinitely) == (
        "CLIENT_ID",
        None,
        False,
    )


TYPED = [
    m.UpdateDeviceCertificateParams(),
    m.UpdateCaCertificateParams(),
    m.AddThingsToThingGroupParams(("Quarantine",), override_dynamic_groups=True),
    m.ReplaceDefaultPolicyVersionParams(),
    m.EnableIotLoggingParams("arn:aws:iam::123456789012:role/Logs", "ERROR"),
    m.PublishFindingToSnsParams("arn:aws:sns:us-east-1:123456789012:findings"),
]


@pytest.mark.parametrize("params", TYPED, ids=[p.ACTION_TYPE for p in TYPED])
def test_typed_params_round_trip_and_are_valid_requests(params):
    body = params.to_api()
    assert type(params).from_api(body) == params
    assert type(params).from_api(body[params.API_KEY]) == params  # the inner structure alone
    assert m.action_type_of(body) == params.ACTION_TYPE
    shape = IOT_MODEL.shape_for("MitigationActionParams")
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()
    assert params.summary and "\n" not in params.summary


def test_params_cover_every_action_type_of_the_model():
    assert set(m.PARAMS_BY_TYPE) == set(IOT_MODEL.shape_for("MitigationActionType").enum)
    assert {c.API_KEY for c in m.PARAMS_BY_TYPE.values()} == set(
        IOT_MODEL.shape_for("MitigationActionParams").members
    )


def test_unknown_action_type_keeps_the_raw_parameters():
    raw = {"quarantineDeviceParams": {"vlan": "quarantine", "minutes": 30}}
    action = m.MitigationAction.from_api(
        {"actionName": "q", "actionType": "QUARANTINE_DEVICE", "actionParams": raw}
    )
    assert (action.action_type, action.params) == ("QUARANTINE_DEVICE", raw)
    defined = m.MitigationAction.from_api(
        {"name": "n", "id": "i", "actionParams": {"publishFindingToSnsParams": {"topicArn": "arn:t"}}}
    )
    assert (defined.name, defined.action_id, defined.action_type) == ("n", "i", "PUBLISH_FINDING_TO_SNS")
    assert defined.params == m.PublishFindingToSnsParams("arn:t")
    missing = m.AddThingsToThingGroupParams.from_api({"addThingsToThingGroupParams": {}})
    assert missing == m.AddThingsToThingGroupParams((), False)


def test_terminal_control_sequences_in_aws_text_are_escaped_not_passed_through():
    from iot_defender_tui.aws.models import Finding

    finding = Finding.from_api(
        {"findingId": "f1", "reasonForNonCompliance": "bad\x1b[2Jcleared\nnext line [bold]x[/]"}
    )
    assert "\x1b" not in finding.reason
    assert finding.reason == "bad\\x1b[2Jcleared\nnext line [bold]x[/]"


def test_aws_error_messages_lose_terminal_control_sequences_too():
    from iot_defender_tui.aws.errors import AwsError

    err = AwsError("Bad\x1b]0;x\x07", "no\x1b[2J way", "DescribeAuditTask")
    assert "\x1b" not in err.text and "\x07" not in err.text
    assert err.message == "no\\x1b[2J way"
