"""The Results pane's findings loads: a check's (or every check's) findings streamed into the table as
pages arrive, reloads, and `--task`'s straight-to-the-findings opening.

A mixin of ResultsPane, kept apart so each file stays short; it uses the pane's tables and caches.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ...aws.errors import AwsError, NotFoundError
from ...aws.models import AuditTask, Finding
from ..contract import defender
from ..widgets.fast_table import FastTable
from ..widgets.row_batcher import RowBatcher
from . import results_views as views

if TYPE_CHECKING:
    from ...aws.client import DefenderClient

TASKS, FINDINGS = 0, 2
FETCH_AT_ONCE = 4  # checks whose findings are fetched at the same time for "All findings"
FREEZE_EVERY = 10_000  # findings loaded between two gc.freeze() calls
FIRST_PAGE = 100  # findings of `--task`'s first request: a screen's worth, read ~2.5x sooner than 250
OPEN_WAIT = 5.0  # seconds the task list and the identity wait for `--task`'s first rows at most
PAINT_EVERY = 0.25  # seconds between two hand-overs of streamed rows to the table (see RowBatcher)


class ResultsStream:
    if TYPE_CHECKING:
        level: int
        dd: DefenderClient
        app: Any
        ancestors_with_self: list[Any]
        _tasks: dict[str, AuditTask]
        _task_id: str | None
        _check_name: str | None
        _findings: dict[str, Finding]
        _loading: bool
        _batcher: RowBatcher | None
        _opened: asyncio.Event

        def run_worker(self, *args: Any, **kwargs: Any) -> Any: ...
        def query_one(self, *args: Any) -> Any: ...
        def _update_status(self) -> None: ...
        def _fill_checks(self) -> None: ...
        def _show_level(self, level: int, *, focus: bool = True) -> None: ...
        def _error(self, error: Exception) -> None: ...
        def call_after_refresh(self, *args: Any) -> bool: ...

    def open_audit(self, task_id: str) -> None:
        """`--task`: straight to the audit's "All findings", described and streamed without waiting for
        the task list; the poll fills the levels above once the first rows show."""
        self._opened.clear()
        work = self._open_audit(task_id)
        self.run_worker(work, name="open task", group="results-open", exclusive=True, exit_on_error=False)

    async def opened(self) -> None:
        """Returns once the audit of `open_audit` shows its first rows, or could not be opened (or after
        OPEN_WAIT seconds: a load cancelled before it began would never say)."""
        if self._opened.is_set():
            return  # every poll asks: no timer task for the usual case
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._opened.wait(), OPEN_WAIT)

    async def _open_audit(self, task_id: str) -> None:
        streaming = False
        # The audit's first page of findings (of any check) is asked for with its description, not after:
        # the two round trips one after the other were ~0.1 s of the wait for the first row.
        first_page = asyncio.ensure_future(self._first_page(task_id))
        try:
            task = await self.dd.describe_audit_task(task_id)  # which checks found something
            if self.level != TASKS:
                return  # the user went into an audit meanwhile: theirs wins
            self._tasks[task_id] = task
            self._task_id, self._check_name = task_id, views.ALL
            self._fill_checks()  # what escape goes back to
            self.query_one("#findings", FastTable).set_columns(views.ALL_FINDING_COLUMNS)
            self._findings.clear()
            # Focus only if shown: focusing into a hidden tab makes Textual switch to it, undoing the pane
            # a key chose meanwhile. Hidden, the app's `_focus_in` puts it on the findings when shown.
            shown = all(getattr(node, "display", True) for node in self.ancestors_with_self)
            self._show_level(FINDINGS, focus=shown)
            self._start_stream(reload=False, first_page=first_page)
            streaming = True  # the stream tells `opened()`
        except NotFoundError:
            defender(self.app).show_error(f"Audit task {task_id} not found")
        except AwsError as error:
            self._error(error)
        finally:
            if not streaming:
                first_page.cancel()
                self._opened.set()

    async def _first_page(self, task_id: str) -> tuple[Finding, ...]:
        # Nothing if it fails: the checks' own pages bring every finding anyway, and report their errors.
        with contextlib.suppress(AwsError):
            pages = self.dd.iter_findings(task_id=task_id, page_size=FIRST_PAGE)
            async with contextlib.aclosing(pages):
                async for page in pages:
                    return page
        return ()

    def _shown_rows(self) -> None:
        self._update_status()
        # After the frame showing them: what waits for them (the task list, the identity) would else
        # hold that frame back by ~0.1 s.
        self.call_after_refresh(self._opened.set)

    def _start_stream(
        self, *, reload: bool, first_page: asyncio.Future[tuple[Finding, ...]] | None = None
    ) -> None:
        self._stop_batcher()
        self.run_worker(
            self._stream_findings(reload, first_page),
            group="results-findings",
            exclusive=True,
            exit_on_error=False,
        )

    def _stop_batcher(self) -> None:
        # At once, not in the cancelled worker's `finally`: that may run after the next load has begun.
        if self._batcher is not None:
            self._batcher.close()
            self._batcher = None

    def action_reload(self) -> None:
        """`r` in findings: fetch them again. Not on a timer: a finished audit's findings only change
        through suppression, which this pane applies to its rows itself."""
        self._start_stream(reload=True)

    async def _stream_findings(
        self, reload: bool = False, first_page: asyncio.Future[tuple[Finding, ...]] | None = None
    ) -> None:
        # A first load streams rows in as pages arrive; a reload keeps the old rows until the new ones
        # are all there, then swaps them in one go so the cursor and marks stay on the findings that remain.
        table = self.query_one("#findings", FastTable)
        fresh: dict[str, Finding] = {} if reload else self._findings
        batcher = None if reload else RowBatcher(self, table, PAINT_EVERY, self._shown_rows)
        self._batcher = batcher
        self._loading = True
        self._update_status()
        unfrozen = 0
        try:
            async for page in self._pages_after(first_page):
                for finding in page:
                    fresh[finding.finding_id] = finding
                if batcher is not None:
                    batcher.add([(f.finding_id, self.finding_row(f)) for f in page])
                unfrozen += len(page)
                if unfrozen >= FREEZE_EVERY:  # see below
                    gc.freeze()
                    unfrozen = 0
            if batcher is not None:
                batcher.flush()
            else:
                self._findings = fresh
                table.set_rows((f.finding_id, self.finding_row(f)) for f in fresh.values())
            # The findings live as long as the list: keep them out of the cyclic collector's reach. Left
            # in, every full collection walks 100,000 of them (~120 ms) and keys stutter (tests/perf).
            # Not after every page: a freeze also pins the cycles of the requests then in flight, which
            # per page added up to ~45 MB at 100,000 findings; every 10,000 it is about a megabyte.
            gc.freeze()
        except AwsError as error:
            if batcher is not None:
                batcher.flush()  # what arrived before the error stays on screen
            self._error(error)
        finally:
            if first_page is not None:
                first_page.cancel()  # not awaited if the load was left before it came
            self._opened.set()
            if batcher is not None:
                batcher.close()
            if self._batcher is batcher:
                self._loading = False
                self._update_status()

    async def _pages_after(
        self, first_page: asyncio.Future[tuple[Finding, ...]] | None
    ) -> AsyncIterator[tuple[Finding, ...]]:
        """`first_page`'s findings, then the view's pages without them: they come again there, and the
        table, though it keeps one row per finding, rebuilds its whole view for every row replaced."""
        shown: set[str] = set()
        if first_page is not None:
            page = await first_page
            shown = {finding.finding_id for finding in page}
            yield page
        async for page in self._finding_pages():
            yield tuple(f for f in page if f.finding_id not in shown) if shown else page

    async def _finding_pages(self) -> AsyncIterator[tuple[Finding, ...]]:
        """The open check's pages, or for "All findings" the pages of every check that found
        something, fetched concurrently and yielded as they arrive."""
        if self._check_name != views.ALL:
            async for page in self.dd.iter_findings(task_id=self._task_id, check_name=self._check_name):
                yield page
            return
        task = self._tasks.get(self._task_id or "")
        checks = views.with_findings(list(task.checks)) if task else []
        if checks and self._task_id:
            async for _check, page in self.dd.fetch_findings(self._task_id, checks, FETCH_AT_ONCE):
                yield page

    def finding_row(self, finding: Finding) -> tuple[str, ...]:
        if self._check_name == views.ALL:
            return views.all_finding_row(finding)
        return views.finding_row(finding)
