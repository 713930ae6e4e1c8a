"""A context's assumed role: its session's credentials come from sts:AssumeRole, renewed before they expire.

The role is assumed with the credentials of the connection's profile (the standard chain when there is
none), at the connection's STS endpoint (so the sandbox's works). botocore's own fetcher does the call and
keeps the answer; aiobotocore's deferred refreshable credentials call it at the first request, and again
within 15 minutes of the expiry (the default hour), so a long session never sends expired keys.
"""

from __future__ import annotations

import logging
from typing import Any

from aiobotocore.credentials import (
    AioAssumeRoleCredentialFetcher,
    AioCredentialResolver,
    AioDeferredRefreshableCredentials,
)
from aiobotocore.session import AioSession
from botocore.config import Config
from botocore.credentials import CredentialProvider
from botocore.exceptions import ClientError
from botocore.exceptions import NoCredentialsError as BotoNoCredentialsError

from .errors import (
    ACCESS_DENIED_CODES,
    BAD_CREDENTIAL_CODES,
    THROTTLING_CODES,
    AccessDeniedError,
    AwsError,
    NoCredentialsError,
    profile_flag,
)

ROLE_SESSION_NAME = "iot-defender-tui"  # what CloudTrail shows as the session of the assumed role
# A failed refresh is raised to the request (and shown as an AwsError); aiobotocore also logs it with its
# traceback, which Python's last-resort handler would write over the TUI.
logging.getLogger("aiobotocore.credentials").addHandler(logging.NullHandler())


class _SourceCredentials:
    """The profile's credentials, resolved at the first AssumeRole (not when the session is made)."""

    def __init__(self, session: AioSession):
        self._session = session

    async def get_frozen_credentials(self) -> Any:
        credentials = await self._session.get_credentials()
        if credentials is None:
            raise BotoNoCredentialsError()
        return await credentials.get_frozen_credentials()


class _AssumedRoleProvider(CredentialProvider):
    METHOD = "assume-role"

    def __init__(self, refresh: Any):
        self._refresh = refresh

    async def load(self) -> AioDeferredRefreshableCredentials:
        # Empty and already expired: the first request that signs with them assumes the role.
        return AioDeferredRefreshableCredentials(refresh_using=self._refresh, method=self.METHOD)


def use_assumed_role(
    session: AioSession,
    source: AioSession,
    role_arn: str,
    *,
    profile: str | None,
    region: str | None,
    endpoint: str | None,
    config: Config | None = None,
) -> None:
    """Make `session` sign with `role_arn` assumed by `source` (the profile's own session), with STS at
    `endpoint` (None: botocore's) in `region` (None: the profile's)."""
    plain = {"verify": False} if endpoint and endpoint.lower().startswith("http://") else {}

    def sts_client(service: str, **kwargs: Any) -> Any:
        region_name = region or source.get_config_variable("region") or "us-east-1"
        return source.create_client(
            service, region_name=region_name, endpoint_url=endpoint, config=config, **plain, **kwargs
        )

    fetcher = AioAssumeRoleCredentialFetcher(
        client_creator=sts_client,
        source_credentials=_SourceCredentials(source),
        role_arn=role_arn,
        extra_args={"RoleSessionName": ROLE_SESSION_NAME},
    )

    async def refresh() -> dict[str, Any]:
        try:
            return await fetcher.fetch_credentials()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in THROTTLING_CODES:
                raise  # the client's own throttling retries apply
            raise assume_role_error(exc, role_arn, profile) from exc

    session.register_component("credential_provider", AioCredentialResolver([_AssumedRoleProvider(refresh)]))


def assume_role_error(exc: ClientError, role_arn: str, profile: str | None) -> AwsError:
    """AWS's refusal of AssumeRole, naming the role: the request it was made for is not what failed."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "Unknown")
    said = str(error.get("Message") or exc)
    who = f"the profile {profile}" if profile else "the default credentials"
    if code in ACCESS_DENIED_CODES or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 403:
        return AccessDeniedError(
            code,
            f"Cannot assume the role {role_arn}: access denied.",
            "AssumeRole",
            f"The role must exist and its trust policy allow the identity of {who}, which needs "
            f"sts:AssumeRole on it. AWS said: {said}",
            "sts:AssumeRole",
        )
    if code in BAD_CREDENTIAL_CODES:
        return NoCredentialsError(
            code,
            f"Cannot assume the role {role_arn}: AWS rejected the credentials of {who}: {said}",
            "AssumeRole",
            f"Renew them (`aws sso login {profile_flag(profile)}`, `aws configure`) or change the profile.",
        )
    return AwsError(code, f"Cannot assume the role {role_arn}: {said}", "AssumeRole")
