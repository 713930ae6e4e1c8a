"""Read many contexts at once, bounded: the Fleet overview's fan-out (issue 17).

At most `concurrency` reads are in flight overall and `per_account` per account, so fifty regions of one
account do not spend that account's quotas (and its credential provider's) all at once while other
accounts wait. Results come as each read ends. One context failing is that context's row: its error,
never an exception that stops the others.

    async with contextlib.aclosing(survey(contexts, read)) as rows:
        async for context, result in rows:   # result: what `read` returned, or an AwsError
            ...

Leaving the loop early (or cancelling it) cancels the reads still running; use `aclosing` so that
happens at once rather than when the generator is collected.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TypeVar

from .contexts import Context
from .errors import AwsError, map_error

T = TypeVar("T")


def account_key(context: Context) -> str:
    """Which account a context reads: its account id when known, else the account in its role's ARN, else
    its profile (two profiles of one account count twice: nothing cheaper tells them apart)."""
    account = getattr(context, "account_id", None)  # contexts from organization discovery carry it
    if account:
        return f"account:{account}"
    role = context.role_arn or ""
    parts = role.split(":")
    if len(parts) > 4 and parts[4]:
        return f"account:{parts[4]}"
    return f"profile:{context.profile or ''}"


def as_error(exc: BaseException, context: Context) -> AwsError:
    """Any failure as an AwsError: botocore's mapped as everywhere, anything else with its own text."""
    return map_error(exc, None, context.profile)


async def survey(
    contexts: Iterable[Context],
    read: Callable[[Context], Awaitable[T]],
    *,
    concurrency: int = 16,
    per_account: int = 4,
) -> AsyncIterator[tuple[Context, T | AwsError]]:
    """(context, result or error) for every context, in the order the reads end."""
    if concurrency < 1 or per_account < 1:
        raise ValueError("concurrency and per_account must be at least 1")
    overall = asyncio.Semaphore(concurrency)
    accounts: dict[str, asyncio.Semaphore] = {}
    done: asyncio.Queue[tuple[Context, T | AwsError]] = asyncio.Queue()

    async def one(context: Context) -> None:
        result: T | AwsError = AwsError("Cancelled", "The read was cancelled.")
        # The account's gate first: a read waiting for its account holds none of the overall slots.
        gate = accounts.setdefault(account_key(context), asyncio.Semaphore(per_account))
        try:
            async with gate, overall:
                result = await read(context)
        except Exception as exc:
            result = as_error(exc, context)
        finally:
            # Even when cancelled from inside (a client closed under it): the loop below waits for one
            # result per context.
            done.put_nowait((context, result))

    tasks = [asyncio.create_task(one(context)) for context in contexts]
    try:
        for _ in tasks:
            yield await done.get()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
