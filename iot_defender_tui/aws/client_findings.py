"""Audit findings, streamed page by page so the first 250 show while the rest are still coming."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any

from . import pagination
from .client_core import ClientCore
from .models import Finding, ResourceRef

FindingPage = tuple[Finding, ...]
_DONE = object()


class FindingsMixin(ClientCore):
    async def iter_findings(
        self,
        *,
        task_id: str | None = None,
        check_name: str | None = None,
        resource: ResourceRef | Mapping[str, Any] | None = None,
        start_time: datetime | None = None,
        end_time: datetime | None = None,
        include_suppressed: bool | None = None,
        page_size: int = pagination.MAX_RESULTS,
        prefetch: bool = False,
    ) -> AsyncIterator[FindingPage]:
        """One tuple of findings per ListAuditFindings page (`page_size`, at most 250, each; a first page
        may be empty).

        AWS needs either `task_id` or both `start_time` and `end_time`. `prefetch`: for a caller that
        reads every page, the next is asked for while this one is handled (pagination.pages).
        """
        params = {
            "taskId": task_id,
            "checkName": check_name,
            "resourceIdentifier": None
            if resource is None
            else dict(resource.identifier if isinstance(resource, ResourceRef) else resource),
            "startTime": start_time,
            "endTime": end_time,
            "listSuppressedFindings": include_suppressed,
        }
        async for page in self._pages(
            "iot", "ListAuditFindings", params, pagination.iot("findings", page_size), prefetch=prefetch
        ):
            yield tuple(Finding.from_api(item) for item in page)

    async def list_findings(self, **filters: Any) -> tuple[Finding, ...]:
        """Every finding matching the filters of `iter_findings`, in one tuple."""
        found: list[Finding] = []
        async for page in self.iter_findings(**filters):
            found.extend(page)
        return tuple(found)

    async def fetch_findings(
        self,
        task_id: str,
        check_names: Iterable[str],
        concurrency: int = 4,
        *,
        include_suppressed: bool | None = None,
        prefetch: bool = False,
    ) -> AsyncIterator[tuple[str, FindingPage]]:
        """The findings of several checks of one audit, at most `concurrency` checks at a time
        (`include_suppressed` and `prefetch` as for `iter_findings`).

        Yields (check, page) in arrival order; every check yields at least one page (maybe empty), so
        a caller can tell "no findings" from "not loaded yet".
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        checks = list(dict.fromkeys(check_names))
        # Bounded so a slow consumer holds back the fetches instead of buffering a whole audit.
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=concurrency * 2)
        gate = asyncio.Semaphore(concurrency)

        # The first check's first page is asked for alone: with several requests in flight the server
        # answers them all at about the same time, and the first rows would wait for the slowest.
        first_page = asyncio.Event()

        async def fetch_one(check: str, lead: bool) -> None:
            if not lead:
                await first_page.wait()
            async with gate:
                pages = self.iter_findings(
                    task_id=task_id,
                    check_name=check,
                    include_suppressed=include_suppressed,
                    prefetch=prefetch,
                )
                async for page in pages:
                    await queue.put((check, page))
                    first_page.set()
            first_page.set()

        async def run_all() -> None:
            try:
                async with asyncio.TaskGroup() as group:
                    for n, check in enumerate(checks):
                        group.create_task(fetch_one(check, lead=n == 0))
            except BaseExceptionGroup as errors:
                # Callers expect the AwsError itself, as from any other method.
                await queue.put(errors.exceptions[0])
            else:
                await queue.put(_DONE)

        runner = asyncio.create_task(run_all())
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # The consumer may stop early (a screen closed): stop fetching pages nobody will read.
            if not runner.done():
                runner.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runner

    async def describe_finding(self, finding_id: str) -> Finding:
        data = await self._read("iot", "DescribeAuditFinding", {"findingId": finding_id})
        return Finding.from_api(data.get("finding") or {})

    async def list_related_resources(self, finding_id: str) -> tuple[ResourceRef, ...]:
        found = await self._all(
            "iot",
            "ListRelatedResourcesForAuditFinding",
            {"findingId": finding_id},
            pagination.iot("relatedResources"),
        )
        return tuple(ResourceRef.from_api(item) for item in found)
