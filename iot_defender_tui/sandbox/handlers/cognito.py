"""Cognito identity pool roles (Set/GetIdentityPoolRoles): moto 5.2 lacks them; Cognito checks need them.

The roles live in the Device Defender state of the same account and region, where the audit reads
them; role mappings (which the audit does not use) are kept on moto's pool object, so both go away
with moto's reset.
"""

from __future__ import annotations

import json
import re
from typing import Any

import moto.cognitoidentity.urls
from moto.cognitoidentity.exceptions import ResourceNotFoundError
from moto.cognitoidentity.responses import CognitoIdentityResponse
from moto.core.exceptions import JsonRESTError
from moto.iot.models import iot_backends

from ..state import DefenderState, state_for
from .routing import reroute

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}\Z")
ROLE_KINDS = ("authenticated", "unauthenticated")
_MAPPINGS = "_dd_role_mappings"


class InvalidParameter(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("InvalidParameterException", message)


class SandboxCognitoIdentityResponse(CognitoIdentityResponse):
    @property
    def defender_state(self) -> DefenderState:
        return state_for(iot_backends[self.current_account][self.region])

    def _pool(self) -> Any:
        pool_id = self._get_param("IdentityPoolId")
        pool = self.backend.identity_pools.get(pool_id) if pool_id else None
        if pool is None:
            raise ResourceNotFoundError(f"IdentityPool '{pool_id}' not found.")
        return pool

    def set_identity_pool_roles(self) -> str:
        pool = self._pool()
        roles = self._get_param("Roles")
        mappings = self._get_param("RoleMappings")
        if not isinstance(roles, dict):
            raise InvalidParameter(
                "Roles is required: a map of 'authenticated'/'unauthenticated' to role ARNs."
            )
        for kind, role_arn in roles.items():
            if kind not in ROLE_KINDS:
                raise InvalidParameter(
                    f"Invalid role type {kind!r}: use 'authenticated' or 'unauthenticated'."
                )
            if not isinstance(role_arn, str) or not ROLE_ARN.match(role_arn):
                raise InvalidParameter(f"Invalid role ARN for {kind}: {role_arn!r}")
        if mappings is not None and not isinstance(mappings, dict):
            raise InvalidParameter("RoleMappings must be a map of identity provider to role mapping.")
        state = self.defender_state
        with state.lock:
            state.identity_pool_roles[pool.identity_pool_id] = dict(roles)
        pool.__dict__[_MAPPINGS] = dict(mappings or {})
        return ""

    def get_identity_pool_roles(self) -> str:
        pool = self._pool()
        state = self.defender_state
        with state.lock:
            roles = dict(state.identity_pool_roles.get(pool.identity_pool_id, {}))
        body: dict[str, Any] = {"IdentityPoolId": pool.identity_pool_id, "Roles": roles}
        mappings = pool.__dict__.get(_MAPPINGS)
        if mappings:
            body["RoleMappings"] = mappings
        return json.dumps(body)

    def delete_identity_pool(self) -> str:
        pool_id = self._get_param("IdentityPoolId")
        reply = super().delete_identity_pool()
        state = self.defender_state
        with state.lock:
            state.identity_pool_roles.pop(pool_id, None)
            state.identity_pool_iot_use.pop(pool_id, None)
        return reply


def install_cognito() -> None:
    """Route moto's cognito-identity URLs to a response class serving the identity pool role operations."""
    reroute(
        moto.cognitoidentity.urls.url_paths,
        CognitoIdentityResponse,
        SandboxCognitoIdentityResponse,
        "cognito-identity",
    )
