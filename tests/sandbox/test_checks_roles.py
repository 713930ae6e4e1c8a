"""Role alias and Cognito identity pool role checks, with roles created in the sandbox's IAM over HTTP."""

from __future__ import annotations

import json
import time

import pytest

from tests.sandbox.test_checks_common import audit_check, ids
from tests.support.factories import defender_state
from tests.support.sandbox import make_client

BASE = "arn:aws:iot:us-east-1:123456789012"
DAY = 86400.0


@pytest.fixture
def iam(sandbox_url):
    return make_client(sandbox_url, "iam")


@pytest.fixture
def cognito(sandbox_url):
    return make_client(sandbox_url, "cognito-identity")


def role(iam, name: str, *statements: dict) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "credentials.iot.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
    return arn


def alias(iot, iam, name: str, used: dict[str, float], *statements: dict) -> str:
    role_arn = role(iam, f"{name}Role", *statements)
    defender_state().service_last_accessed[role_arn] = used
    return iot.create_role_alias(roleAlias=name, roleArn=role_arn)["roleAliasArn"]


def test_role_alias_admin_on_used_service_and_security_services(iot, iam) -> None:
    now = time.time()
    s3_admin = alias(
        iot, iam, "OtaAdmin", {"s3": now - 5 * DAY}, {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    auditing = alias(
        iot,
        iam,
        "Auditing",
        {"iot": now - DAY},
        {"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"},
    )
    data_plane = alias(
        iot, iam, "Gateway", {"iot": now}, {"Effect": "Allow", "Action": "iot:Publish", "Resource": "*"}
    )
    alias(
        iot,
        iam,
        "Uploader",
        {"s3": now - DAY},
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::telemetry/${credentials-iot:ThingName}/*",
        },
    )
    run, findings = audit_check(iot, "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert run.total_resources == 4
    codes = {f["nonCompliantResource"]["resourceIdentifier"]["roleAliasArn"]: f for f in findings}
    assert {k: f["reasonForNonComplianceCode"] for k, f in codes.items()} == {
        s3_admin: "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES",
        auditing: "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES",
        data_plane: "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
    }
    assert codes[s3_admin]["nonCompliantResource"]["resourceType"] == "ROLE_ALIAS"
    assert codes[s3_admin]["severity"] == "CRITICAL"


def test_admin_on_a_service_unused_for_a_year_is_not_broad_access_to_used_services(iot, iam) -> None:
    alias(
        iot,
        iam,
        "Stale",
        {"s3": time.time() - 400 * DAY},
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    )
    run, findings = audit_check(iot, "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK")
    assert (run.status, findings) == ("COMPLETED_COMPLIANT", [])


def test_role_alias_allowing_unused_services(iot, iam) -> None:
    now = time.time()
    unused = alias(
        iot,
        iam,
        "Diagnostics",
        {"iot": now - DAY, "dynamodb": now - 500 * DAY},
        {"Effect": "Allow", "Action": "iot:GetThingShadow", "Resource": f"{BASE}:thing/x"},
        {"Effect": "Allow", "Action": ["iam:GetRole", "dynamodb:PutItem"], "Resource": "*"},
    )
    alias(
        iot,
        iam,
        "Lean",
        {"iot": now - DAY},
        {"Effect": "Allow", "Action": "iot:GetThingShadow", "Resource": f"{BASE}:thing/x"},
    )
    run, findings = audit_check(iot, "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    (finding,) = findings
    assert finding["nonCompliantResource"]["resourceIdentifier"] == {"roleAliasArn": unused}
    assert finding["reasonForNonComplianceCode"] == "ALLOWS_ACCESS_TO_UNUSED_SERVICES"
    assert finding["reasonForNonCompliance"].endswith("[dynamodb, iam].")


def test_role_alias_using_everything_it_may_is_compliant(iot, iam) -> None:
    alias(
        iot,
        iam,
        "Lean",
        {"iot": time.time() - DAY},
        {"Effect": "Allow", "Action": "iot:GetThingShadow", "Resource": "*"},
    )
    run, findings = audit_check(iot, "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK")
    assert (run.status, run.total_resources, findings) == ("COMPLETED_COMPLIANT", 1, [])


def pool(cognito, iam, name: str, used: float | None = None, **roles: list[dict]) -> str:
    """An identity pool with these roles whose identities connected to AWS IoT at `used` (None: an hour
    ago); the Cognito checks audit only such pools."""
    pool_id = cognito.create_identity_pool(IdentityPoolName=name, AllowUnauthenticatedIdentities=True)[
        "IdentityPoolId"
    ]
    arns = {kind: role(iam, f"{name}{kind}", *statements) for kind, statements in roles.items()}
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles=arns)
    defender_state().identity_pool_iot_use[pool_id] = time.time() - 3600 if used is None else used
    return pool_id


SCOPED = [
    {
        "Effect": "Allow",
        "Action": "iot:Connect",
        "Resource": f"{BASE}:client/${{cognito-identity.amazonaws.com:sub}}",
    },
    {"Effect": "Allow", "Action": "iot:DescribeThing", "Resource": f"{BASE}:thing/kiosk-7"},
]


def test_authenticated_cognito_role(iot, iam, cognito) -> None:
    writer = pool(
        cognito,
        iam,
        "Writers",
        authenticated=[{"Effect": "Allow", "Action": "iot:CreateThing", "Resource": "*"}],
    )
    reader = pool(
        cognito,
        iam,
        "Readers",
        authenticated=[{"Effect": "Allow", "Action": "iot:DescribeThing", "Resource": f"{BASE}:thing/*"}],
    )
    admin = pool(
        cognito,
        iam,
        "Admins",
        authenticated=[{"Effect": "Allow", "Action": "iot:UpdateCertificate", "Resource": "*"}],
    )
    pool(cognito, iam, "Scoped", authenticated=SCOPED)
    run, findings = audit_check(iot, "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK")
    assert run.status == "COMPLETED_NON_COMPLIANT"
    assert run.total_resources == 4
    codes = {
        f["nonCompliantResource"]["resourceIdentifier"]["cognitoIdentityPoolId"]: f[
            "reasonForNonComplianceCode"
        ]
        for f in findings
    }
    assert codes == {
        writer: "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS",
        reader: "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS",
        admin: "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
    }
    assert findings[0]["nonCompliantResource"]["resourceType"] == "COGNITO_IDENTITY_POOL"


def test_unauthenticated_cognito_role(iot, iam, cognito) -> None:
    admin = pool(
        cognito,
        iam,
        "Guests",
        unauthenticated=[
            {"Effect": "Allow", "Action": "iot:DescribeThing", "Resource": f"{BASE}:thing/kiosk-7"}
        ],
    )
    listener = pool(
        cognito,
        iam,
        "Listeners",
        unauthenticated=[
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{BASE}:topicfilter/$aws/things/#"}
        ],
    )
    # Authenticated roles are another check's business.
    pool(
        cognito,
        iam,
        "Members",
        authenticated=[{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}],
        unauthenticated=SCOPED[:1],
    )
    _, findings = audit_check(iot, "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK")
    codes = {
        f["nonCompliantResource"]["resourceIdentifier"]["cognitoIdentityPoolId"]: f[
            "reasonForNonComplianceCode"
        ]
        for f in findings
    }
    assert codes == {
        admin: "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS",
        listener: "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
    }


def test_cognito_roles_scoped_to_the_identity_are_compliant(iot, iam, cognito) -> None:
    pool(cognito, iam, "Scoped", authenticated=SCOPED, unauthenticated=SCOPED[:1])
    for check in (
        "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
        "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
    ):
        run, findings = audit_check(iot, check)
        assert (run.status, run.total_resources, findings) == ("COMPLETED_COMPLIANT", 1, [])


@pytest.mark.parametrize("kind", ["AUTHENTICATED", "UNAUTHENTICATED"])
def test_cognito_checks_audit_only_pools_used_with_iot_in_the_last_31_days(iot, iam, cognito, kind) -> None:
    """ "AWS IoT Device Defender audits all Amazon Cognito identity pools that have been used to connect to
    the AWS IoT message broker during the 31 days before the audit execution"
    (https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-auth-cognito-role-permissive.html,
    https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-unauth-cognito-role-permissive.html):
    a pool never used with AWS IoT, or last used 40 days ago, is neither a finding nor a resource audited."""
    everything = [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]
    roles = {"authenticated": everything, "unauthenticated": everything}
    recent = pool(cognito, iam, "Recent", time.time() - 10 * DAY, **roles)
    pool(cognito, iam, "Stale", time.time() - 40 * DAY, **roles)
    never = pool(cognito, iam, "Never", **roles)
    del defender_state().identity_pool_iot_use[never]
    run, findings = audit_check(iot, f"{kind}_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK")
    assert (run.status, run.total_resources) == ("COMPLETED_NON_COMPLIANT", 1)
    assert ids(findings, "cognitoIdentityPoolId") == {recent}
