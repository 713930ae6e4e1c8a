"""`POST /_sandbox/role-trust?accountId=ID&trusted=false|true`: break or repair a member account's
OrganizationAccountAccessRole while the sandbox runs (what `--broken-role-accounts` does at start).

`trusted=false` leaves the role trusting only the member's own account, so AssumeRole from the management
account answers AccessDenied; `trusted=true` trusts the management account again. Only accounts of the
sandbox's organization (`--accounts`): another account answers 404.
"""

from __future__ import annotations

import re
from typing import Any

from .admin_certs import AdminError, parameters
from .organization import management_of, set_trust

_ACCOUNT = re.compile(r"[0-9]{12}")
_FLAGS = {"true": True, "false": False}


def role_trust(query: str) -> dict[str, Any]:
    asked = parameters(query, {"accountId", "trusted"})
    account = asked.get("accountId", "")
    if not _ACCOUNT.fullmatch(account):
        raise AdminError(400, "InvalidRequestException", f"accountId must be 12 digits, not {account!r}")
    trusted = _FLAGS.get(asked.get("trusted", "").lower())
    if trusted is None:
        raise AdminError(
            400, "InvalidRequestException", f"trusted must be true or false, not {asked.get('trusted')!r}"
        )
    management = management_of(account)
    if management is None:
        raise AdminError(
            404,
            "ResourceNotFoundException",
            f"{account} is not a member of the sandbox's organization",
        )
    try:
        role_arn = set_trust(account, management, trusted)
    except KeyError:
        raise AdminError(404, "ResourceNotFoundException", f"{account} has no role to trust") from None
    return {"accountId": account, "roleArn": role_arn, "trusted": trusted, "managementAccountId": management}
