"""The moto internals the sandbox reads or patches: a moto upgrade that changes them fails here first.

moto is pinned (pyproject.toml) because the sandbox routes IoT requests through moto's URL table,
keeps its Device Defender state on moto's IoTBackend instance and reads moto's certificates, policies,
things and IAM roles directly. Each test names what breaks if it fails.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import moto.cognitoidentity.urls
import moto.iot.urls
from moto.cognitoidentity.responses import CognitoIdentityResponse
from moto.iam.models import iam_backends
from moto.iot.models import FakeCertificate, IoTBackend, iot_backends
from moto.iot.responses import IoTResponse

from iot_defender_tui.sandbox.handlers import SandboxIoTResponse
from iot_defender_tui.sandbox.state import state_for
from tests.support.sandbox import ACCOUNT, REGION, make_client


def _iot_backend() -> IoTBackend:
    return iot_backends[ACCOUNT][REGION]


def test_iot_urls_dispatch_through_an_iot_response_class(sandbox_url):
    # handlers.install() replaces every IoTResponse-bound entry; none left means routing changed.
    handlers = list(moto.iot.urls.url_paths.values())
    assert handlers, "moto.iot.urls.url_paths is empty"
    for handler in handlers:
        owner = handler.__self__
        assert isinstance(owner, type) and issubclass(owner, IoTResponse)
        assert handler.__func__ is IoTResponse.dispatch.__func__
    # The session server has installed the sandbox's class, which must still be an IoTResponse.
    assert all(h.__self__ is SandboxIoTResponse for h in handlers)


def test_certificates_carry_the_attributes_the_checks_read(iot):
    created = iot.create_keys_and_certificate(setAsActive=True)
    cert = _iot_backend().certificates[created["certificateId"]]
    assert isinstance(cert, FakeCertificate)
    assert cert.certificate_id == created["certificateId"]
    assert cert.arn == created["certificateArn"]
    assert cert.status == "ACTIVE"
    assert cert.ca_certificate_id is None
    assert isinstance(cert.validity_not_before, dt.datetime)
    assert isinstance(cert.validity_not_after, dt.datetime)
    assert cert.validity_not_before < cert.validity_not_after


def test_backend_collections_the_sandbox_reads(iot):
    iot.create_thing(thingName="dev1")
    iot.create_thing_group(thingGroupName="quarantine")
    cert = iot.create_keys_and_certificate(setAsActive=True)
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}
    iot.create_policy(policyName="p1", policyDocument=json.dumps(doc))
    iot.attach_thing_principal(thingName="dev1", principal=cert["certificateArn"])
    iot.attach_policy(policyName="p1", target=cert["certificateArn"])
    iot.create_role_alias(roleAlias="alias1", roleArn=f"arn:aws:iam::{ACCOUNT}:role/r1")

    backend = _iot_backend()
    for name in ("certificates", "ca_certificates", "policies", "principal_things", "principal_policies"):
        assert isinstance(getattr(backend, name), dict), name
    assert isinstance(backend.role_aliases, dict) and isinstance(backend.thing_groups, dict)
    assert (cert["certificateArn"], "dev1") in backend.principal_things
    assert (cert["certificateArn"], "p1") in backend.principal_policies
    policy = backend.policies["p1"]
    assert policy.default_version_id == "1"
    default = next(v for v in policy.versions if v.is_default)
    assert json.loads(default.document) == doc  # the policy checks parse the default version's text
    assert default.version_id == "1"
    assert backend.role_aliases["alias1"].role_arn == f"arn:aws:iam::{ACCOUNT}:role/r1"
    assert any(g.thing_group_name == "quarantine" for g in backend.thing_groups.values())


def test_moto_reset_clears_device_defender_state(iot, sandbox_url):
    iot.update_account_audit_configuration(
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/AuditRole",
        auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}},
    )
    backend = _iot_backend()
    assert "_defender" in backend.__dict__, "state must live in the backend's __dict__"
    assert state_for(backend).audit_config is not None
    urllib.request.urlopen(urllib.request.Request(f"{sandbox_url}/moto-api/reset", method="POST"))
    assert "_defender" not in _iot_backend().__dict__
    config = iot.describe_account_audit_configuration()
    assert "roleArn" not in config
    assert not config["auditCheckConfigurations"]["LOGGING_DISABLED_CHECK"]["enabled"]


def test_iam_roles_expose_inline_and_managed_policies(sandbox_url):
    iam = make_client(sandbox_url, "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(RoleName="Mitigate", AssumeRolePolicyDocument=json.dumps(trust))
    inline = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iot:UpdateCertificate", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName="Mitigate", PolicyName="inline", PolicyDocument=json.dumps(inline))
    managed = iam.create_policy(PolicyName="m1", PolicyDocument=json.dumps(inline))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="Mitigate", PolicyArn=managed)

    role = iam_backends[ACCOUNT]["global"].roles
    role = next(r for r in role.values() if r.name == "Mitigate")
    assert role.arn == f"arn:aws:iam::{ACCOUNT}:role/Mitigate"
    assert set(role.policies) == {"inline"}
    assert managed in role.managed_policies
    versions = role.managed_policies[managed].versions
    assert any(v.is_default and v.document for v in versions)


def test_cognito_identity_routing_goes_through_its_response_class():
    handlers = list(moto.cognitoidentity.urls.url_paths.values())
    assert handlers
    assert all(issubclass(h.__self__, CognitoIdentityResponse) for h in handlers)
