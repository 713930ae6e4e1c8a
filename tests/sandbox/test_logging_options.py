"""Logging options v1 and v2, and v2 logging levels per target."""

from __future__ import annotations

from tests.support.factories import defender_state, error_of
from tests.support.mitigation import role_arn

LOGS = role_arn("iotLoggingRole")


def test_a_fresh_account_has_no_logging(iot):
    assert {k: v for k, v in iot.get_logging_options().items() if k != "ResponseMetadata"} == {}
    code, message = error_of(iot.get_v2_logging_options)
    assert code == "NotConfiguredException" and "SetV2LoggingOptions" in message
    assert error_of(iot.list_v2_logging_levels)[0] == "NotConfiguredException"
    target = {"targetType": "CLIENT_ID", "targetName": "SensorDevice01"}
    assert (
        error_of(iot.set_v2_logging_level, logTarget=target, logLevel="INFO")[0] == "NotConfiguredException"
    )


def test_v1_options_round_trip_and_validation(iot):
    iot.set_logging_options(loggingOptionsPayload={"roleArn": LOGS, "logLevel": "WARN"})
    reply = iot.get_logging_options()
    assert (reply["roleArn"], reply["logLevel"]) == (LOGS, "WARN")
    assert defender_state().logging_v1 == {"roleArn": LOGS, "logLevel": "WARN"}
    code, _ = error_of(iot.set_logging_options, loggingOptionsPayload={"roleArn": LOGS, "logLevel": "LOUD"})
    assert code == "InvalidRequestException"
    code, _ = error_of(iot.set_logging_options, loggingOptionsPayload={"roleArn": "arn:aws:s3:::bucket-name"})
    assert code == "InvalidRequestException"
    assert iot.get_logging_options()["logLevel"] == "WARN"


def test_v2_options_round_trip(iot):
    code, message = error_of(iot.set_v2_logging_options, defaultLogLevel="INFO")
    assert code == "InvalidRequestException" and "roleArn" in message
    iot.set_v2_logging_options(roleArn=LOGS, defaultLogLevel="WARN")
    reply = iot.get_v2_logging_options()
    assert (reply["roleArn"], reply["defaultLogLevel"], reply["disableAllLogs"]) == (LOGS, "WARN", False)
    # The audit engine's LOGGING_DISABLED_CHECK reads exactly this shape.
    assert defender_state().logging_v2 == {
        "roleArn": LOGS,
        "defaultLogLevel": "WARN",
        "disableAllLogs": False,
    }
    iot.set_v2_logging_options(disableAllLogs=True)
    reply = iot.get_v2_logging_options()
    assert (reply["roleArn"], reply["defaultLogLevel"], reply["disableAllLogs"]) == (LOGS, "WARN", True)
    assert error_of(iot.set_v2_logging_options, defaultLogLevel="LOUD")[0] == "InvalidRequestException"


def test_v2_event_configurations_are_shown_when_verbose(iot):
    events = [{"eventType": "Connect", "logLevel": "INFO"}]
    iot.set_v2_logging_options(roleArn=LOGS, defaultLogLevel="ERROR", eventConfigurations=events)
    assert "eventConfigurations" not in iot.get_v2_logging_options()
    assert iot.get_v2_logging_options(verbose=True)["eventConfigurations"] == events


def test_v2_levels_set_list_filter_page_and_delete(iot):
    iot.set_v2_logging_options(roleArn=LOGS, defaultLogLevel="ERROR")
    iot.create_thing_group(thingGroupName="LightBulbs")
    targets = [
        ({"targetType": "THING_GROUP", "targetName": "LightBulbs"}, "WARN"),
        ({"targetType": "CLIENT_ID", "targetName": "SensorDevice01"}, "DEBUG"),
        ({"targetType": "SOURCE_IP", "targetName": "10.0.0.7"}, "INFO"),
        ({"targetType": "PRINCIPAL_ID", "targetName": "a" * 64}, "ERROR"),
    ]
    for target, level in targets:
        iot.set_v2_logging_level(logTarget=target, logLevel=level)
    first = iot.list_v2_logging_levels(maxResults=3)
    second = iot.list_v2_logging_levels(maxResults=3, nextToken=first["nextToken"])
    rows = first["logTargetConfigurations"] + second["logTargetConfigurations"]
    assert rows[0] == {"logTarget": {"targetType": "DEFAULT"}, "logLevel": "ERROR"}
    assert sorted((r["logTarget"]["targetType"], r["logLevel"]) for r in rows[1:]) == sorted(
        (t["targetType"], level) for t, level in targets
    )
    groups = iot.list_v2_logging_levels(targetType="THING_GROUP")["logTargetConfigurations"]
    assert groups == [{"logTarget": targets[0][0], "logLevel": "WARN"}]

    iot.set_v2_logging_level(logTarget={"targetType": "DEFAULT"}, logLevel="INFO")
    assert iot.get_v2_logging_options()["defaultLogLevel"] == "INFO"
    iot.delete_v2_logging_level(targetType="THING_GROUP", targetName="LightBulbs")
    assert iot.list_v2_logging_levels(targetType="THING_GROUP")["logTargetConfigurations"] == []
    code, _ = error_of(iot.delete_v2_logging_level, targetType="DEFAULT", targetName="x")
    assert code == "InvalidRequestException"


def test_v2_level_targets_are_validated(iot):
    iot.set_v2_logging_options(roleArn=LOGS)
    assert iot.get_v2_logging_options()["defaultLogLevel"] == "ERROR"  # AWS's default level
    code, message = error_of(
        iot.set_v2_logging_level,
        logTarget={"targetType": "THING_GROUP", "targetName": "Nowhere"},
        logLevel="INFO",
    )
    assert code == "InvalidRequestException" and "Nowhere" in message
    code, _ = error_of(
        iot.set_v2_logging_level,
        logTarget={"targetType": "SOURCE_IP", "targetName": "not-an-ip"},
        logLevel="INFO",
    )
    assert code == "InvalidRequestException"
    code, _ = error_of(iot.set_v2_logging_level, logTarget={"targetType": "CLIENT_ID"}, logLevel="INFO")
    assert code == "InvalidRequestException"
    code, _ = error_of(
        iot.set_v2_logging_level, logTarget={"targetType": "CLIENT_ID", "targetName": "c"}, logLevel="LOUD"
    )
    assert code == "InvalidRequestException"
    assert iot.list_v2_logging_levels()["logTargetConfigurations"] == [
        {"logTarget": {"targetType": "DEFAULT"}, "logLevel": "ERROR"}
    ]
