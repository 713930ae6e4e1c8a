"""The role-permission reading that decides whether a mitigation may run."""

import json

from moto.iam.models import iam_backends

from iot_defender_tui.sandbox.iam_eval import missing_permissions
from tests.support.sandbox import make_client

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def _role(iam, name, *statements):
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    if statements:
        doc = {"Version": "2012-10-17", "Statement": list(statements)}
        iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(doc))
    return arn


def test_inline_managed_wildcards_and_deny(sandbox_url):
    iam = make_client(sandbox_url, "iam")
    backend = iam_backends["123456789012"]["global"]
    allow = _role(iam, "Allow", {"Effect": "Allow", "Action": "iot:Update*", "Resource": "*"})
    assert missing_permissions(backend, allow, ["iot:UpdateCertificate", "iot:ListPrincipalThings"]) == [
        "iot:ListPrincipalThings"
    ]
    denied = _role(
        iam,
        "Denied",
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "iot:UpdateCertificate", "Resource": "*"},
    )
    assert missing_permissions(backend, denied, ["iot:UpdateCertificate"]) == ["iot:UpdateCertificate"]
    managed = iam.create_policy(
        PolicyName="m",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["sns:Publish"], "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    bare = _role(iam, "Bare")
    assert missing_permissions(backend, bare, ["sns:Publish"]) == ["sns:Publish"]
    iam.attach_role_policy(RoleName="Bare", PolicyArn=managed)
    assert missing_permissions(backend, bare, ["sns:Publish"]) == []
    assert missing_permissions(backend, "arn:aws:iam::123456789012:role/Nope", ["sns:Publish"]) is None
