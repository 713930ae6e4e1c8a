"""SetIdentityPoolRoles / GetIdentityPoolRoles, which moto lacks, served by the sandbox."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.support.sandbox import make_client

AUTH = "arn:aws:iam::123456789012:role/CognitoAuth"
UNAUTH = "arn:aws:iam::123456789012:role/CognitoUnauth"


@pytest.fixture
def cognito(sandbox_url):
    return make_client(sandbox_url, "cognito-identity")


@pytest.fixture
def pool_id(cognito) -> str:
    return cognito.create_identity_pool(IdentityPoolName="Fleet", AllowUnauthenticatedIdentities=True)[
        "IdentityPoolId"
    ]


def test_set_then_get_roles(cognito, pool_id) -> None:
    assert cognito.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"] == {}
    cognito.set_identity_pool_roles(
        IdentityPoolId=pool_id, Roles={"authenticated": AUTH, "unauthenticated": UNAUTH}
    )
    reply = cognito.get_identity_pool_roles(IdentityPoolId=pool_id)
    assert reply["IdentityPoolId"] == pool_id
    assert reply["Roles"] == {"authenticated": AUTH, "unauthenticated": UNAUTH}
    assert "RoleMappings" not in reply

    # Setting replaces the whole map, as AWS does.
    mappings = {"graph.facebook.com": {"Type": "Token", "AmbiguousRoleResolution": "Deny"}}
    cognito.set_identity_pool_roles(
        IdentityPoolId=pool_id, Roles={"authenticated": AUTH}, RoleMappings=mappings
    )
    reply = cognito.get_identity_pool_roles(IdentityPoolId=pool_id)
    assert reply["Roles"] == {"authenticated": AUTH}
    assert reply["RoleMappings"] == mappings


def test_unknown_pool_is_not_found(cognito) -> None:
    missing = "us-east-1:00000000-0000-0000-0000-000000000000"
    for call in (
        lambda: cognito.get_identity_pool_roles(IdentityPoolId=missing),
        lambda: cognito.set_identity_pool_roles(IdentityPoolId=missing, Roles={"authenticated": AUTH}),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "roles",
    [
        {"admin": AUTH},
        {"authenticated": "not-an-arn-but-long-enough"},
        {"authenticated": "arn:aws:iam::123456789012:user/bob"},
    ],
)
def test_invalid_roles_are_rejected(cognito, pool_id, roles) -> None:
    with pytest.raises(ClientError) as err:
        cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles=roles)
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert cognito.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"] == {}


def test_deleting_a_pool_forgets_its_roles(cognito, pool_id) -> None:
    from tests.support.factories import defender_state

    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": AUTH})
    defender_state().identity_pool_iot_use[pool_id] = None  # and its use with AWS IoT
    assert pool_id in defender_state().identity_pool_roles
    cognito.delete_identity_pool(IdentityPoolId=pool_id)
    assert pool_id not in defender_state().identity_pool_roles
    assert pool_id not in defender_state().identity_pool_iot_use
