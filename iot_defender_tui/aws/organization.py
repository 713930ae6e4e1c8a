"""An AWS Organization's accounts as contexts: each ACTIVE account, in each region of `[organization]`.

The accounts come from organizations:ListAccounts, sent with the credentials of the table's profile (the
management account's, or a delegated administrator's; the app's profile when the table names none). A member
account is worked in through `role_name`, assumed with those credentials (aws/assume.py); the account the
credentials belong to (sts:GetCallerIdentity) is used as it is, without assuming anything.

A context's name is `ACCOUNT-NAME/REGION`: the account's name as AWS has it, made safe for the terminal
(safe_text), with spaces as `-` so `--context` takes it unquoted like a table's name, and with the account
id added (`NAME-123456789012/REGION`) when two accounts share a name.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from .contexts import Context
from .errors import ACCESS_DENIED_CODES, AccessDeniedError, AwsError, map_error
from .safe_text import safe
from .session import Tuning, create_session, fail_fast_on_refused

if TYPE_CHECKING:
    from ..config import OrganizationSettings
    from .session import ConnectionSettings

NOT_IN_USE = "AWSOrganizationsNotInUseException"
_SPACES = re.compile(r"\s+")


async def organization_contexts(base: ConnectionSettings, org: OrganizationSettings) -> list[Context]:
    """One Context per (ACTIVE account, region), accounts by name; AwsError when AWS refuses the list."""
    source = dataclasses.replace(base, profile=org.profile or base.profile, role_arn=None, context=None)
    operation = "ListAccounts"
    try:
        session = create_session(source)
        region = source.region or session.get_config_variable("region") or "us-east-1"
        async with AsyncExitStack() as stack:

            async def client(service: str) -> Any:
                endpoint = source.endpoint_for(service)
                plain = {"verify": False} if endpoint and endpoint.lower().startswith("http://") else {}
                made = await stack.enter_async_context(
                    session.create_client(
                        service,
                        region_name=region,
                        endpoint_url=endpoint,
                        config=Tuning().botocore_config(),
                        **plain,
                    )
                )
                fail_fast_on_refused(made)
                return made

            organizations = await client("organizations")
            accounts = [
                account
                async for page in organizations.get_paginator("list_accounts").paginate()
                for account in page.get("Accounts", [])
            ]
            operation = "GetCallerIdentity"
            me = await (await client("sts")).get_caller_identity()
    except ClientError as exc:
        raise _list_error(exc, operation, source.profile) from exc
    except BotoCoreError as exc:
        raise map_error(exc, operation, source.profile, service="organizations") from exc
    # The roles are in the caller's partition (arn:aws-us-gov:…, arn:aws-cn:…).
    partition = str(me.get("Arn", "arn:aws:")).split(":")[1] or "aws"
    return contexts_of(accounts, org, caller=str(me["Account"]), profile=source.profile, partition=partition)


def contexts_of(
    accounts: list[dict[str, Any]],
    org: OrganizationSettings,
    *,
    caller: str,
    profile: str | None,
    partition: str = "aws",
) -> list[Context]:
    """The contexts of ListAccounts' `accounts` as `org` selects them; `caller` is not assumed into."""
    kept = [
        (str(account["Id"]), _label(account), safe(str(account.get("Name") or "")) or None)
        for account in accounts
        # State is Status's successor in ListAccounts; either says whether the account can be used.
        if (account.get("State") or account.get("Status")) == "ACTIVE"
        and (not org.accounts or account["Id"] in org.accounts)
        and account["Id"] not in org.exclude
    ]
    shared = Counter(label for _, label, _ in kept)
    kept.sort(key=lambda item: (item[1].casefold(), item[0]))
    contexts = []
    for account_id, label, name in kept:
        prefix = f"{label}-{account_id}" if shared[label] > 1 else label
        role_arn = None if account_id == caller else f"arn:{partition}:iam::{account_id}:role/{org.role_name}"
        contexts.extend(
            Context(
                name=f"{prefix}/{region}",
                profile=profile,
                region=region,
                role_arn=role_arn,
                read_only=org.read_only,
                account_id=account_id,
                account_name=name,
            )
            for region in org.regions
        )
    return contexts


def _label(account: dict[str, Any]) -> str:
    name = _SPACES.sub("-", safe(str(account.get("Name") or "")).strip())
    return name or str(account["Id"])


def _list_error(exc: ClientError, operation: str, profile: str | None) -> AwsError:
    code = str(exc.response.get("Error", {}).get("Code") or "Unknown")
    said = str(exc.response.get("Error", {}).get("Message") or exc)
    who = f"the profile {profile}" if profile else "the default credentials"
    where = "Set profile in [organization] to the management account's (or a delegated administrator's)."
    if code == NOT_IN_USE:
        return AwsError(
            code,
            f"The account of {who} is not in an AWS Organization: there are no accounts to list.",
            operation,
            f"{where} Or remove [organization] from config.toml.",
        )
    if code in ACCESS_DENIED_CODES and operation == "ListAccounts":
        return AccessDeniedError(
            code,
            f"Cannot list the organization's accounts with {who}: access denied.",
            operation,
            f"Only the management account and a delegated administrator may list them, with "
            f"organizations:ListAccounts. {where} AWS said: {said}",
            "organizations:ListAccounts",
        )
    return map_error(
        exc, operation, profile, service="organizations" if operation == "ListAccounts" else "sts"
    )
