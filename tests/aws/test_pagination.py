"""pagination.pages: the next page is already on its way while the caller writes this one (issue 15's
`findings --format jsonl` speed), and a caller that stops early leaves nothing running."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from iot_defender_tui.aws import pagination

SPEC = pagination.iot("findings", page_size=2)


class Service:
    """Three pages; records which were asked for, and when each answer is let through."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []
        self.answer: dict[str | None, asyncio.Event] = {}

    async def fetch(self, request: dict[str, Any]) -> dict[str, Any]:
        token = request.get("nextToken")
        self.asked.append(token)
        gate = self.answer.setdefault(token, asyncio.Event())
        if token is not None:
            await gate.wait()
        following = {None: "p2", "p2": "p3", "p3": None}[token]
        return {"findings": [f"{token or 'p1'}-a", f"{token or 'p1'}-b"], "nextToken": following}


async def test_the_next_page_is_asked_for_before_this_one_is_handled():
    service = Service()
    pages = pagination.pages(service.fetch, {"taskId": "t"}, SPEC, prefetch=True)
    assert await anext(pages) == ["p1-a", "p1-b"]
    await asyncio.sleep(0)
    assert service.asked == [None, "p2"]  # on its way while the caller holds page 1
    service.answer["p2"].set()
    assert await anext(pages) == ["p2-a", "p2-b"]
    await asyncio.sleep(0)
    assert service.asked == [None, "p2", "p3"]
    service.answer["p3"].set()
    assert await anext(pages) == ["p3-a", "p3-b"]
    with pytest.raises(StopAsyncIteration):
        await anext(pages)
    assert service.asked == [None, "p2", "p3"]  # nothing asked for past the last page


async def test_without_prefetch_a_page_is_asked_for_only_when_wanted():
    service = Service()
    for token in ("p2", "p3"):
        service.answer[token] = asyncio.Event()
        service.answer[token].set()
    pages = pagination.pages(service.fetch, {"taskId": "t"}, SPEC)
    await anext(pages)
    await asyncio.sleep(0)
    assert service.asked == [None]


async def test_stopping_early_cancels_the_page_asked_for_ahead(caplog):
    service = Service()
    pages = pagination.pages(service.fetch, {"taskId": "t"}, SPEC, prefetch=True)
    await anext(pages)
    await asyncio.sleep(0)
    await pages.aclose()
    await asyncio.sleep(0)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    gc.collect()
    assert "never retrieved" not in caplog.text


async def test_a_repeated_token_is_refused_after_its_page():
    async def fetch(request: dict[str, Any]) -> dict[str, Any]:
        return {"findings": ["x"], "nextToken": "same"}

    pages = pagination.pages(fetch, {}, SPEC, prefetch=True)
    assert await anext(pages) == ["x"]
    assert await anext(pages) == ["x"]
    with pytest.raises(RuntimeError, match="repeated the page token"):
        await anext(pages)
