"""The contexts a command runs in (`--context NAME`, `--all-contexts`), and running a job in many at once.

The static contexts (`[[contexts]]` tables, `--region a,b`) cost nothing to know; an `[organization]`'s are
listed from AWS (aws/organization.py), so `--context NAME` asks AWS only for a name that is not a static one.
Many contexts run side by side, but not too many at once, and few in one account: AWS's quotas are per
account and region, and each context's own reads already overlap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from .contexts import Context, ContextError, build_contexts, select
from .errors import AwsError

if TYPE_CHECKING:
    from ..config import Settings
    from .session import ConnectionSettings

T = TypeVar("T")
AT_ONCE = 8  # contexts worked in at the same time
PER_ACCOUNT = 2  # of those, at most this many in one account


async def find_context(
    base: ConnectionSettings, settings: Settings, name: str, *, profile: str | None, regions: Sequence[str]
) -> Context:
    """The context called `name`: a static one, else one of the organization's (listed only then).

    ContextError naming the known contexts when there is none; AwsError when the organization's accounts
    cannot be listed."""
    static = build_contexts(settings, profile=profile, regions=regions)
    try:
        found = select(static, name)
    except ContextError:
        if settings.organization is None:
            raise
        from .organization import organization_contexts

        members = await organization_contexts(base, settings.organization)
        found = select(merged(static, members), name)
    assert found is not None
    return found


async def every_context(
    base: ConnectionSettings, settings: Settings, *, profile: str | None, regions: Sequence[str]
) -> tuple[list[Context], AwsError | None]:
    """Every context: the static ones, then the organization's; with the error that kept the organization's
    from being listed (the static ones are still worth running)."""
    static = build_contexts(settings, profile=profile, regions=regions)
    if settings.organization is None:
        return static, None
    from .organization import organization_contexts

    try:
        members = await organization_contexts(base, settings.organization)
    except AwsError as err:
        return static, err
    return merged(static, members), None


def merged(static: Sequence[Context], members: Sequence[Context]) -> list[Context]:
    """`static` then the members, a member whose name a static context has left out (the table wins,
    as it is what the user wrote)."""
    names = {c.name for c in static}
    return [*static, *(c for c in members if c.name not in names)]


def known_account(context: Context) -> str | None:
    """The context's account when it is known without asking AWS: given, or the account of its role."""
    if context.account_id:
        return context.account_id
    if context.role_arn:
        parts = context.role_arn.split(":")
        if len(parts) > 4 and parts[4].isdigit():
            return parts[4]
    return None


def partition_of(context: Context | None) -> str:
    parts = (context.role_arn or "").split(":") if context else []
    return parts[1] if len(parts) > 1 and parts[1] else "aws"


def account_key(context: Context) -> str:
    """Which contexts share an account: by its id when known, else by the credentials that reach it."""
    return known_account(context) or f"profile {context.profile or ''}"


async def run_each(
    contexts: Sequence[Context],
    job: Callable[[Context], Awaitable[T]],
    *,
    at_once: int = AT_ONCE,
    per_account: int = PER_ACCOUNT,
) -> list[T]:
    """`job(context)` for every context, `at_once` at a time and `per_account` in one account, in the
    contexts' order as far as the bounds allow; the results in the contexts' order. A job's exception
    cancels the others and is raised (jobs catch what one context may fail with)."""
    everywhere = asyncio.Semaphore(at_once)
    accounts: dict[str, asyncio.Semaphore] = {}

    async def bounded(context: Context) -> T:
        account = accounts.setdefault(account_key(context), asyncio.Semaphore(per_account))
        async with account, everywhere:  # always in this order: no two jobs wait on each other
            return await job(context)

    tasks = [asyncio.ensure_future(bounded(c)) for c in contexts]
    try:
        return list(await asyncio.gather(*tasks))
    finally:  # after a job's exception (or ^C) the others are not left running
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
