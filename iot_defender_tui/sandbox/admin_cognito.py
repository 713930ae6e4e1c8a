"""`POST /_sandbox/cognito-use?identityPoolId=ID[&secondsAgo=N]`: an identity of the pool connected to AWS
IoT N seconds ago on the sandbox clock (default: now).

AWS's Cognito checks look only at "Amazon Cognito identity pools that have been used to connect to the AWS
IoT message broker during the 31 days before the audit execution"
(https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-auth-cognito-role-permissive.html,
https://docs.aws.amazon.com/iot-device-defender/latest/devguide/audit-chk-unauth-cognito-role-permissive.html).
No identity connects offline, so only the generated fleet's pools were ever used: a pool created through
the Cognito API, on `--fleet empty` say, would never be audited. This records the connection by hand.

A pool's last use is its latest connection: recording an older one keeps the later one (so repeating a
request changes nothing), and a generated fleet's pool, whose identities connect every day, stays so.
To see a pool drop out of the audits, move the clock past the 31 days (`/_sandbox/advance`).
"""

from __future__ import annotations

import re
from typing import Any

from moto.cognitoidentity.models import cognitoidentity_backends
from moto.iot.models import iot_backends

from .admin_certs import AdminError, parameters
from .engine.roles import COGNITO_WINDOW
from .state import now, state_for

CHECKS = (
    "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
    "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
)
# IdentityPoolId as the Cognito API reference constrains it: 1 to 55 characters, region:GUID.
_POOL_ID = re.compile(r"[\w-]+:[0-9a-f-]+")
# A plain decimal, as a user types it (as /_sandbox/advance takes): float() would also take "nan", "inf"…
_SECONDS = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
_MAX_AGO = 10 * 365 * 86400.0  # as far back as /_sandbox/advance goes forward


def mark_used(query: str) -> dict[str, Any]:
    pool_id, ago = _query(query)
    holders = _holders(pool_id)
    when = now() - ago
    last: float | None = when
    for account, region in holders:
        state = state_for(iot_backends[account][region])
        with state.lock:
            use = state.identity_pool_iot_use
            if pool_id in use and (use[pool_id] is None or use[pool_id] >= when):
                last = use[pool_id]  # a later connection (or a daily one) is already the last
            else:
                use[pool_id] = when
    return {
        "identityPoolId": pool_id,
        "lastUsed": last,  # null: a generated fleet's pool, used every day
        "auditedUntil": None if last is None else last + COGNITO_WINDOW,
        "checks": list(CHECKS),
    }


def _query(text: str) -> tuple[str, float]:
    asked = parameters(text, {"identityPoolId", "secondsAgo"})
    pool_id = asked.get("identityPoolId", "")
    if not (len(pool_id) <= 55 and _POOL_ID.fullmatch(pool_id)):
        raise AdminError(
            400,
            "InvalidRequestException",
            f"identityPoolId must be an identity pool id (region:GUID), not {pool_id!r}",
        )
    ago = asked.get("secondsAgo", "0")
    if not _SECONDS.fullmatch(ago) or not float(ago) <= _MAX_AGO:
        raise AdminError(
            400,
            "InvalidRequestException",
            f"secondsAgo must be a number from 0 to {_MAX_AGO:.0f}, not {ago!r}",
        )
    return pool_id, float(ago)


def _holders(pool_id: str) -> list[tuple[str, str]]:
    """(account, region) of every Cognito backend that has the pool."""
    # dict's own views: moto's backend dicts create an account or region on a mere lookup.
    found = [
        (account, region)
        for account, regions in list(dict.items(cognitoidentity_backends))
        for region, cognito in list(dict.items(regions))
        if pool_id in cognito.identity_pools
    ]
    if not found:
        raise AdminError(404, "ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")
    return found
