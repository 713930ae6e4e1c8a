"""AssumeRole into an organization's member account checks the role's trust policy, as AWS does.

moto's AssumeRole hands out credentials for any role ARN, existing or not, whoever asks. Into an account
created in the sandbox's organization (organization.py) the role must exist and trust the caller's account,
or the answer is AccessDenied: so one member's broken role can be shown failing while the others work.
Other accounts keep moto's behaviour (tests and users assume made-up roles there).
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape

import moto.sts.urls
from moto.iam.models import iam_backends
from moto.sts.responses import TokenResponse

from ..iam_eval import trusts_account
from ..organization import management_of
from .routing import reroute

_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:.*/)?([^/]+)\Z")


def denied(caller_account: str, role_arn: str, caller_arn: str) -> str | None:
    """Why the caller may not assume `role_arn` (only checked into organization members), or None."""
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        return None
    account, name = match.groups()
    if account == caller_account or management_of(account) is None:
        return None
    iam = iam_backends[account]["global"]
    role = next((r for r in list(iam.roles.values()) if r.name == name), None)
    if role is not None and trusts_account(role, caller_account):
        return None
    return f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"


class SandboxTokenResponse(TokenResponse):
    def assume_role(self):  # type: ignore[no-untyped-def]
        caller_arn = self.backend.get_caller_identity(self.get_access_key(), self.region)[1]
        message = denied(self.current_account, self._get_param("RoleArn") or "", caller_arn)
        if message is None:
            return super().assume_role()
        # As AWS answers: 403, an AccessDenied the STS model has no shape for (moto's serializer would
        # answer 400 and warn).
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>AccessDenied</Code><Message>{escape(message)}</Message></Error>"
            "<RequestId>sandbox-access-denied</RequestId></ErrorResponse>"
        )
        return body, {"status": 403, "Content-Type": "text/xml"}


def install_sts() -> None:
    """Route moto's STS URLs to `SandboxTokenResponse`."""
    reroute(moto.sts.urls.url_paths, TokenResponse, SandboxTokenResponse, "STS")
