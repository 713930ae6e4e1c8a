"""Page through any list operation one request at a time, so callers can show a page as soon as it lands.

botocore's paginators would bypass our rate limiter and retry wrapper (they call the client directly),
and IoT, IAM and SNS spell their paging members differently, hence this small spec-driven loop.
"""

from __future__ import annotations

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


async def pages(fetch: Fetch, params: Mapping[str, Any], spec: PageSpec) -> AsyncIterator[list[Any]]:
    """Yield each page's items (possibly an empty first page) until AWS stops returning a token."""
    request = {k: v for k, v in params.items() if v is not None}
    if spec.limit:
        request[spec.limit] = spec.page_size
    seen: set[str] = set()
    while True:
        response = await fetch(dict(request))
        yield list(response.get(spec.items) or [])
        token = response.get(spec.token_out)
        if spec.truncated is not None and not response.get(spec.truncated):
            return
        if not token:
            return
        if token in seen:
            # A server that hands back a token it already gave would loop forever.
            raise RuntimeError(f"the service repeated the page token {token!r}")
        seen.add(token)
        request[spec.token_in] = token


async def collect(fetch: Fetch, params: Mapping[str, Any], spec: PageSpec) -> list[Any]:
    """Every item of every page."""
    items: list[Any] = []
    async for page in pages(fetch, params, spec):
        items.extend(page)
    return items
