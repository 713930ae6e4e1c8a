"""The sandbox answers bad requests as AWS IoT does: JSON, `application/json`, `x-amzn-ErrorType`.

Raw HTTP, because an SDK hides exactly what is under test here (status, content type, body).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from iot_defender_tui.sandbox.handlers.base import DefenderResponse
from tests.support.sandbox import make_client


def _raw(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _aws_error(reply: tuple[int, dict[str, str], bytes], status: int, code: str) -> str:
    got_status, headers, body = reply
    assert got_status == status, body[:200]
    assert headers["Content-Type"] == "application/json"
    assert headers["x-amzn-ErrorType"] == code
    return json.loads(body)["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/audit/configuration"),
        ("POST", "/audit/findings"),  # moto's S3 fallback answered an HTML 500 here
        ("GET", "/audit/scheduledaudits/daily"),
        ("PUT", "/mitigationactions/actions/quarantine"),
        ("GET", "/things"),
    ],
)
def test_an_unsigned_iot_request_gets_missing_authentication_token(sandbox_url, method, path):
    reply = _raw(sandbox_url + path, method, b"{}" if method in ("POST", "PUT") else None)
    assert _aws_error(reply, 403, "MissingAuthenticationTokenException") == "Missing Authentication Token"


def test_a_garbled_signature_on_an_iot_path_is_an_incomplete_signature(sandbox_url):
    request = urllib.request.Request(
        sandbox_url + "/audit/configuration", headers={"Authorization": "Bearer x"}
    )
    try:
        urllib.request.urlopen(request)
    except urllib.error.HTTPError as err:
        reply = (err.code, dict(err.headers), err.read())
    else:
        pytest.fail("a request moto cannot attribute to a service was answered")
    assert "Credential" in _aws_error(reply, 403, "IncompleteSignatureException")


def test_unsigned_requests_outside_iot_are_left_to_moto(sandbox_url):
    # moto's S3 serves anonymous requests (its default service); only IoT's paths are answered as IoT.
    status, headers, _ = _raw(sandbox_url + "/")
    assert status == 200 and "xml" in headers["Content-Type"]


def _replies(client) -> list[tuple[str, int, str]]:
    seen: list[tuple[str, int, str]] = []

    def record(http_response, model, **_):
        seen.append((model.name, http_response.status_code, http_response.headers.get("Content-Type")))

    client.meta.events.register("after-call.iot.*", record)
    return seen


def test_every_json_reply_says_application_json(sandbox_url):
    iot = make_client(sandbox_url)
    seen = _replies(iot)
    iot.describe_account_audit_configuration()
    iot.list_scheduled_audits()
    iot.list_audit_findings(taskId="a" * 32)  # ListAuditFindings answered text/html
    iot.list_mitigation_actions()
    iot.list_audit_suppressions()
    iot.list_things()  # moto's own handler
    assert seen and all(ctype == "application/json" for _, _, ctype in seen), seen


def test_a_bad_timestamp_is_a_400_not_an_internal_failure(sandbox_url):
    iot = make_client(sandbox_url)
    seen = _replies(iot)
    # botocore would refuse "yesterday" itself; the raw query member reaches the sandbox as sent.
    iot.meta.events.register(
        "before-send.iot.ListAuditTasks",
        lambda request, **_: setattr(request, "url", request.url.replace("startTime=", "startTime=x")),
    )
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_audit_tasks(startTime=1, endTime=2)
    assert seen == [("ListAuditTasks", 400, "application/json")]


def test_an_unexpected_handler_failure_is_a_json_internal_failure(sandbox_url, monkeypatch):
    def explode(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(DefenderResponse, "list_scheduled_audits", explode, raising=False)
    # moto's IoT handler is looked up on the served class, so patch where the sandbox finds it.
    from iot_defender_tui.sandbox.handlers import SandboxIoTResponse

    monkeypatch.setattr(SandboxIoTResponse, "list_scheduled_audits", explode)
    iot = make_client(sandbox_url)
    seen = _replies(iot)
    with pytest.raises(iot.exceptions.InternalFailureException):
        iot.list_scheduled_audits()
    assert seen == [("ListScheduledAudits", 500, "application/json")]


def test_a_failure_outside_every_handler_is_a_json_internal_failure(sandbox_url, monkeypatch):
    from moto.moto_server import werkzeug_app

    def explode(self, environ):
        raise RuntimeError("boom")

    monkeypatch.setattr(werkzeug_app.DomainDispatcherApplication, "get_application", explode)
    iot = make_client(sandbox_url)
    seen = _replies(iot)
    with pytest.raises(iot.exceptions.InternalFailureException):
        iot.list_scheduled_audits()
    assert seen == [("ListScheduledAudits", 500, "application/json")]


@pytest.mark.parametrize("seconds", ["nan", "inf", "-inf", "-5", "soon", "", "1e400", "\u0661\u0665"])
def test_advance_refuses_what_is_not_a_finite_non_negative_number(sandbox_url, seconds):
    before = json.loads(_raw(sandbox_url + "/_sandbox/advance?seconds=0", "POST", b"")[2])["now"]
    reply = _raw(f"{sandbox_url}/_sandbox/advance?seconds={urllib.request.quote(seconds)}", "POST", b"")
    assert "seconds" in _aws_error(reply, 400, "InvalidRequestException")
    after = json.loads(_raw(sandbox_url + "/_sandbox/advance?seconds=0", "POST", b"")[2])["now"]
    assert after == pytest.approx(before, abs=5), "the clock must not have moved"


def test_advance_moves_the_clock(sandbox_url):
    before = json.loads(_raw(sandbox_url + "/_sandbox/advance?seconds=0", "POST", b"")[2])["now"]
    status, headers, body = _raw(sandbox_url + "/_sandbox/advance?seconds=3600", "POST", b"")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["now"] >= before + 3600


def test_an_unknown_admin_path_is_an_aws_shaped_404(sandbox_url):
    assert "sandbox" in _aws_error(_raw(sandbox_url + "/_sandbox/nope"), 404, "ResourceNotFoundException")


ARABIC_ACCOUNT = "\u0661" * 12


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("create_scheduled_audit", {"scheduledAuditName": "daily\n", "frequency": "DAILY"}),
        ("create_mitigation_action", {"actionName": "a\n", "roleArn": "arn:aws:iam::123456789012:role/r"}),
        ("create_mitigation_action", {"actionName": "a", "roleArn": f"arn:aws:iam::{ARABIC_ACCOUNT}:role/r"}),
        (
            "create_mitigation_action",
            {"actionName": "a", "roleArn": "arn:aws:iam::123456789012:role/caf\u00e9"},
        ),
        (
            "create_mitigation_action",
            {
                "actionName": "a",
                "roleArn": "arn:aws:iam::123456789012:role/r",
                "actionParams": {
                    "publishFindingToSnsParams": {"topicArn": f"arn:aws:sns:us-east-1:{ARABIC_ACCOUNT}:t"}
                },
            },
        ),
        (
            "create_mitigation_action",
            {
                "actionName": "a",
                "roleArn": "arn:aws:iam::123456789012:role/r",
                "actionParams": {"addThingsToThingGroupParams": {"thingGroupNames": ["g\n"]}},
            },
        ),
        (
            "update_account_audit_configuration",
            {
                "auditCheckConfigurations": {
                    "DEVICE_CERTIFICATE_AGE_CHECK": {
                        "enabled": True,
                        "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "\u0664\u0660\u0660"},
                    }
                }
            },
        ),
    ],
)
def test_the_sandbox_refuses_what_aws_patterns_refuse(sandbox_url, operation, kwargs):
    # Python's `$` also matches before a final newline, and `\d`/`\w` take every script's digits and letters.
    iot = make_client(sandbox_url)
    iot.update_account_audit_configuration(
        roleArn="arn:aws:iam::123456789012:role/AuditRole",
        auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}},
    )
    kwargs.setdefault("actionParams", {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
    if operation != "create_mitigation_action":
        kwargs.pop("actionParams")
    if operation == "create_scheduled_audit":
        kwargs["targetCheckNames"] = ["LOGGING_DISABLED_CHECK"]
    with pytest.raises(ClientError) as err:
        getattr(iot, operation)(**kwargs)
    # A name in the path with a newline matches no route (AWS's router would not either): JSON all the same.
    code = err.value.response["Error"]["Code"]
    assert code in ("InvalidRequestException", "UnknownOperationException"), err.value.response
    assert err.value.response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"
