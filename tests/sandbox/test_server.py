import pytest
from botocore.exceptions import ClientError

from iot_defender_tui.sandbox.checks import CHECKS


def test_fresh_account_has_every_check_disabled(iot):
    config = iot.describe_account_audit_configuration()
    assert set(config["auditCheckConfigurations"]) == set(CHECKS)
    assert not any(c["enabled"] for c in config["auditCheckConfigurations"].values())
    assert "roleArn" not in config


def test_moto_iot_still_works(iot):
    iot.create_thing(thingName="t1")
    assert [t["thingName"] for t in iot.list_things()["things"]] == ["t1"]


def test_unserved_operation_answers_at_once_with_a_clear_error(iot):
    with pytest.raises(ClientError) as err:
        iot.list_security_profiles()
    assert err.value.response["Error"]["Code"] == "NotImplementedException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_update_configuration_round_trip_and_validation(iot):
    role = "arn:aws:iam::123456789012:role/AuditRole"
    with pytest.raises(ClientError) as err:
        iot.update_account_audit_configuration(
            auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}}
        )
    assert err.value.response["Error"]["Code"] == "InvalidRequestException"
    iot.update_account_audit_configuration(
        roleArn=role,
        auditCheckConfigurations={
            "LOGGING_DISABLED_CHECK": {"enabled": True},
            "DEVICE_CERTIFICATE_AGE_CHECK": {
                "enabled": True,
                "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "400"},
            },
        },
    )
    config = iot.describe_account_audit_configuration()
    assert config["roleArn"] == role
    checks = config["auditCheckConfigurations"]
    assert checks["LOGGING_DISABLED_CHECK"]["enabled"] is True
    assert checks["DEVICE_CERTIFICATE_AGE_CHECK"]["configuration"] == {"CERT_AGE_THRESHOLD_IN_DAYS": "400"}
    with pytest.raises(ClientError) as err:
        iot.update_account_audit_configuration(
            auditCheckConfigurations={
                "DEVICE_CERTIFICATE_AGE_CHECK": {
                    "enabled": True,
                    "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "10"},
                }
            }
        )
    assert "between 30 and 3652" in err.value.response["Error"]["Message"]


def test_a_request_matching_no_operation_gets_a_clear_error(sandbox_url):
    import json
    import urllib.error
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    # ListAuditMitigationActionsExecutions without its required findingId query member.
    url = f"{sandbox_url}/audit/mitigationactions/executions?taskId=t1"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials("testing", "testing"), "iot", "us-east-1").add_auth(request)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(urllib.request.Request(url, headers=dict(request.headers)))
    assert err.value.code == 404
    assert err.value.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert "required member" in json.loads(err.value.read())["message"]


def test_every_audit_mitigation_and_logging_operation_is_served():
    """Rules Detect's mitigation tasks (…DetectMitigationActions…) are not Audit and stay unserved."""
    import re

    import botocore.session
    from moto.core.utils import camelcase_to_underscores

    from iot_defender_tui.sandbox.handlers import SandboxIoTResponse
    from iot_defender_tui.sandbox.handlers.base import DefenderResponse

    model = botocore.session.get_session().get_service_model("iot")
    wanted = [
        op
        for op in model.operation_names
        if re.search(r"Audit|Mitigation|Logging", op) and "Detect" not in op
    ]
    assert len(wanted) == 37
    missing = [
        op
        for op in wanted
        if not any(
            camelcase_to_underscores(op) in cls.__dict__
            for cls in SandboxIoTResponse.__mro__
            if issubclass(cls, DefenderResponse)
        )
    ]
    assert missing == []
