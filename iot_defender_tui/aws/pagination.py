"""Page through any list operation one request at a time, so callers can show a page as soon as it lands.

botocore's paginators would bypass our rate limiter and retry wrapper (they call the client directly),
and IoT, IAM and SNS spell their paging members differently, hence this small spec-driven loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_RESULTS = 250


@dataclass(frozen=True, slots=True)
class PageSpec:
    items: str  # the response member holding the page's items
    token_in: str = "nextToken"
    token_out: str = "nextToken"
    limit: str | None = "maxResults"  # None: the operation takes no page size
    page_size: int = MAX_RESULTS
    truncated: str | None = None  # IAM answers IsTruncated next to its Marker


IAM_ROLES = PageSpec(
    "Roles", token_in="Marker", token_out="Marker", limit="MaxItems", truncated="IsTruncated"
)
SNS_TOPICS = PageSpec("Topics", token_in="NextToken", token_out="NextToken", limit=None)


def iot(items: str, page_size: int = MAX_RESULTS) -> PageSpec:
    return PageSpec(items, page_size=page_size)


Fetch = Callable[[dict[str, Any]], Awaitable[Mapping[str, Any]]]


async def pages(
    fetch: Fetch, params: Mapping[str, Any], spec: PageSpec, *, prefetch: bool = False
) -> AsyncIterator[list[Any]]:
    """Yield each page's items (possibly an empty first page) until AWS stops returning a token.

    `prefetch`: ask for the next page before yielding this one, so AWS works on it while the caller
    handles this page (a caller that reads every page anyway; one that may stop early would waste a call).
    """
    request = {k: v for k, v in params.items() if v is not None}
    if spec.limit:
        request[spec.limit] = spec.page_size
    seen: set[str] = set()
    pending: asyncio.Task[Mapping[str, Any]] | None = None
    try:
        response = await fetch(dict(request))
        while True:
            token = response.get(spec.token_out)
            last = not token or (spec.truncated is not None and not response.get(spec.truncated))
            repeated = not last and token in seen
            if prefetch and not last and not repeated:
                pending = asyncio.ensure_future(fetch({**request, spec.token_in: token}))
            yield list(response.get(spec.items) or [])
            if last:
                return
            if repeated:
                # A server that hands back a token it already gave would loop forever.
                raise RuntimeError(f"the service repeated the page token {token!r}")
            seen.add(token)
            request[spec.token_in] = token
            if pending is None:
                response = await fetch(dict(request))
            else:
                response, pending = await pending, None
    finally:
        if pending is not None:  # the caller stopped early: the page asked for ahead is not wanted
            pending.cancel()
            pending.add_done_callback(_retrieved)


def _retrieved(task: asyncio.Task[Any]) -> None:
    """Read a dropped prefetch's outcome, so asyncio does not log an error nobody was waiting for."""
    if not task.cancelled():
        task.exception()


async def collect(fetch: Fetch, params: Mapping[str, Any], spec: PageSpec) -> list[Any]:
    """Every item of every page."""
    items: list[Any] = []
    async for page in pages(fetch, params, spec):
        items.extend(page)
    return items
