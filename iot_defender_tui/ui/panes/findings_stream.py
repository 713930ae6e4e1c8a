"""A findings list's load: one check's (or every check's) findings streamed into a table as pages arrive,
and reloads that swap the rows in one go.

The Results pane holds one and asks it (`loading`, `findings`); the stream answers through the callbacks
it was given. Its worker runs on the owner (the pane), so it ends with the pane and its failures reach
the app's reporter like the pane's own. What it loads lives as long as the list: it tells the app's
memory policy so (ui/memory.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.widget import Widget

from ...aws.errors import AwsError
from ...aws.models import Finding, Suppression
from ...history.store import HistoryError
from ..contract import defender
from ..history_link import HistoryLink
from ..widgets.fast_table import FastTable
from ..widgets.row_batcher import RowBatcher
from . import results_views as views
from .suppressed_now import InForce, resource_key

if TYPE_CHECKING:
    from .stored_rows import StoredRows

FETCH_AT_ONCE = 4  # checks whose findings are fetched at the same time for "All findings"
FIRST_PAGE = 100  # findings of `--task`'s first request: a screen's worth, read ~2.5x sooner than 250
PAINT_EVERY = 0.25  # seconds between two hand-overs of streamed rows to the table (see RowBatcher)
GROUP = "results-findings"  # the worker group: one load at a time

FirstPage = asyncio.Future[tuple[Finding, ...]]


@dataclass(frozen=True, slots=True)
class FindingsView:
    """What a list shows: one check's findings of an audit, or for views.ALL those of `checks`."""

    task_id: str
    check_name: str
    checks: tuple[str, ...] = ()  # views.ALL: the checks that found something
    completed: bool = False  # a COMPLETED audit: its findings never change, so the history keeps them
    # A drift list, read from the history: the findings another audit has too (True) or lacks (False)…
    against: tuple[str, bool] | None = None
    drift_check: str | None = None  # …of this check (None: of every check)

    @property
    def check_names(self) -> tuple[str, ...]:
        """The checks whose findings the list holds."""
        return self.checks if self.check_name == views.ALL else (self.check_name,)


class FindingsStream:
    def __init__(
        self,
        owner: Widget,
        table: FastTable,
        *,
        changed: Callable[[], None],  # `loading` changed: the status line says so
        shown: Callable[[], None],  # streamed rows reached the table
        ended: Callable[[], None],  # a load ended, however (finished, failed, abandoned)
        failed: Callable[[AwsError], None],  # what arrived before stays on screen
    ) -> None:
        self.table = table
        self._owner = owner
        self._changed, self._shown, self._ended, self._failed = changed, shown, ended, failed
        self._view: FindingsView | None = None
        self._findings: dict[str, Finding] = {}
        self._stored: StoredRows | None = None  # the list read from the history on demand, if it is one
        self._loading = False
        self._batcher: RowBatcher | None = None  # the streaming load's, while one runs
        # The suppressions in force now, of a list read from AWS (None: not known, or a stored list,
        # whose history keeps the pane's own changes in isSuppressed).
        self._in_force: InForce | None = None

    @property
    def loading(self) -> bool:
        """True from a load's start until its last row is in the table."""
        return self._loading

    def finding(self, key: Hashable) -> Finding | None:
        """The finding of the table's row `key`."""
        if self._stored is not None:
            found = self._stored.findings([key])
            return found[0] if found else None
        return self._findings.get(str(key))

    def findings_of(self, keys: Iterable[Hashable]) -> list[Finding]:
        if self._stored is not None:
            return self._stored.findings(keys)
        return [self._findings[str(k)] for k in keys if str(k) in self._findings]

    def export_source(self) -> tuple[Sequence[Hashable], Callable[[Sequence[Hashable]], list[Finding]]]:
        """The list's keys in the table's order now (filter and sort applied), and a reader of their
        findings for a worker thread, batch by batch: it keeps reading this list once another is opened (a
        stored list closed meanwhile raises HistoryError; an in-memory one cleared gives fewer)."""
        stored = self._stored
        if stored is not None:
            return stored.view.copy(), stored.findings  # a numpy array: 8 bytes a row, not a list of ints
        findings = self._findings
        return self.table.visible_keys(), lambda keys: [findings[str(k)] for k in keys if str(k) in findings]

    def suppressed_now(self, finding: Finding) -> bool:
        """Whether a suppression covers `finding` now, as far as the pane knows."""
        if self._in_force is None:
            return finding.is_suppressed
        return finding in self._in_force

    def set_suppressed(self, changed: list[Finding], suppressed: bool) -> list[str]:
        """Every listed finding of these findings' checks on their resources (what one suppression covers)
        shown with `suppressed`; returns their ids."""
        if self._stored is not None:
            positions = self._stored.stored.same_resource(changed)
            same = self._stored.findings(positions.tolist())
            self._stored.suppressed_changed(positions, suppressed)
            self.table.view_changed()
            return [f.finding_id for f in same]
        resources = {resource_key(f) for f in changed}
        # A cheap test first: serialising 100,000 identifiers per batch would stall the screen.
        checks = {f.check_name for f in changed}
        identifiers = [f.resource.identifier for f in changed]
        same = [
            f
            for f in self._findings.values()
            if f.check_name in checks
            and f.resource.identifier in identifiers
            and resource_key(f) in resources
        ]
        if self._in_force is not None:  # AWS's isSuppressed stays as of the audit; "now" changes
            self._in_force.changed(changed, suppressed)
            self.replace(same)
        else:
            self.replace(dataclasses.replace(f, is_suppressed=suppressed) for f in same)
        return [f.finding_id for f in same]

    def row(self, finding: Finding) -> tuple[str, ...]:
        now = None if self._in_force is None else finding in self._in_force
        if self._view is not None and self._view.check_name == views.ALL:
            return views.all_finding_row(finding, now)
        return views.finding_row(finding, now)

    def replace(self, changed: Iterable[Finding]) -> None:
        """Findings changed in place (a suppression): their rows redrawn where they stand."""
        findings = list(changed)
        for finding in findings:
            self._findings[finding.finding_id] = finding
        self.table.append_rows((f.finding_id, self.row(f)) for f in findings)

    def first_page(self, task_id: str) -> FirstPage:
        """The audit's first page of findings (of any check), asked for at once: `--task` asks with the
        audit's description, not after (the two round trips one after the other were ~0.1 s of the wait
        for the first row). Empty if it fails: the checks' own pages bring every finding anyway."""
        return asyncio.ensure_future(self._first_page(task_id))

    def load(self, view: FindingsView, *, reload: bool = False, first_page: FirstPage | None = None) -> None:
        """A first load (the table's rows cleared beforehand) streams rows in as pages arrive; a reload
        keeps the old rows until the new ones are all there, then swaps them in one go so the cursor and
        marks stay on the findings that remain."""
        self._stop_batcher()
        self._view = view
        if not reload:
            self._findings.clear()
            self._close_stored()
            self._in_force = None
        self._owner.run_worker(
            self._stream(view, reload, first_page), group=GROUP, exclusive=True, exit_on_error=False
        )

    def stop(self) -> None:
        """The list is left: its load is abandoned, rows still pending dropped."""
        self._owner.workers.cancel_group(self._owner, GROUP)
        self._stop_batcher()
        self._loading = False

    def _stop_batcher(self) -> None:
        # At once, not in the cancelled worker's `finally`: that may run after the next load has begun.
        if self._batcher is not None:
            self._batcher.close()
            self._batcher = None

    async def _stream(self, view: FindingsView, reload: bool, first_page: FirstPage | None) -> None:
        table = self.table
        memory = defender(self._owner.app).memory
        fresh: dict[str, Finding] = {} if reload else self._findings
        batcher = None if reload else RowBatcher(self._owner, table, PAINT_EVERY, self._shown)
        self._batcher = batcher
        self._loading = True
        self._changed()
        history = defender(self._owner.app).history if view.completed or view.against else None
        stored = history is not None and not reload and await history.stored(view.task_id)
        in_force: asyncio.Future[InForce | None] | None = None
        try:
            if view.against is not None or stored:
                if history is None:
                    raise HistoryError("no audit history", reason="the audit history is not available")
                stored = True
                if first_page is not None:
                    first_page.cancel()  # the store has it: no request at all
                    first_page = None
                await self._browse(view, history, batcher)
                memory.settled()
                return
            else:
                pages = self._pages_after(view, first_page, history)
                in_force = asyncio.ensure_future(self._suppressions_in_force(view))
            async for page in pages:
                for finding in page:
                    fresh[finding.finding_id] = finding
                if batcher is not None:
                    if in_force is not None and in_force.done():
                        self._use_in_force(in_force.result(), batcher)
                        in_force = None
                    batcher.add([(f.finding_id, self.row(f)) for f in page])
                memory.kept(len(page))
            if batcher is not None:
                if in_force is not None:
                    self._use_in_force(await in_force, batcher)
                batcher.flush()
            else:
                if in_force is not None:  # before the rows are made: they show it
                    self._in_force = await in_force
                marked, cursor = self._ids_of_marks()
                self._findings = fresh
                self._close_stored()
                table.set_rows((f.finding_id, self.row(f)) for f in fresh.values())
                if marked is not None:  # a stored list reloaded from AWS: its marks are finding ids now
                    table.set_marks(marked)
                    if cursor is not None:
                        table.move_to_key(cursor)
            memory.settled()
            if history is not None and not stored:
                history.check_complete(view.task_id, view.check_names)  # whole: read from there next time
        except HistoryError as error:  # the store failed midway: what it gave stays, AWS is the way now
            if batcher is not None:
                batcher.flush()
            self._failed(AwsError("History", error.reason, hint="r loads the findings from AWS."))
        except AwsError as error:
            if batcher is not None:
                batcher.flush()  # what arrived before the error stays on screen
            self._failed(error)
        finally:
            if in_force is not None:
                in_force.cancel()
            if first_page is not None:
                first_page.cancel()  # not awaited if the load was left before it came
            self._ended()
            if batcher is not None:
                batcher.close()
            if self._batcher is batcher:
                self._loading = False
                self._changed()

    async def _suppressions_in_force(self, view: FindingsView) -> InForce | None:
        """The suppressions in force now, of the view's check (or of every check): asked for beside the
        findings' pages. None if AWS refuses: the list then shows its isSuppressed alone."""
        dd = defender(self._owner.app).dd
        try:
            found: tuple[Suppression, ...] = await dd.list_suppressions(
                check_name=None if view.check_name == views.ALL else view.check_name
            )
        except AwsError:
            return None
        return InForce(found)

    def _use_in_force(self, in_force: InForce | None, batcher: RowBatcher) -> None:
        """A first load: the suppressions came while rows were streaming; the rows made before they came
        are drawn again (flushed first, so none pending is drawn afterwards without them)."""
        if in_force is None:
            return
        batcher.flush()
        self._in_force = in_force
        self.replace(in_force.shown_differently(self._findings.values()))

    async def _browse(self, view: FindingsView, history: HistoryLink, batcher: RowBatcher | None) -> None:
        """A stored list is read on demand, not held (a 1,000,000-finding audit would not fit): its first
        rows show as usual while the list's index is built, then the table reads from the store. A drift
        list, or a reload, has no first rows of its own: the table shows the old ones until it is built."""
        # Here, not at the top: numpy (~15 MB, ~0.1 s) is paid when a stored list is opened, not at start.
        from .stored_rows import StoredRows

        check = None if view.check_name == views.ALL else view.check_name
        if view.against is not None:
            check = view.drift_check
        building = asyncio.ensure_future(history.browse(view.task_id, check, view.against))
        first: tuple[Finding, ...] = ()
        try:
            if batcher is not None and view.against is None:
                first = await history.first(view.task_id, check)
                self._findings.update((f.finding_id, f) for f in first)
                batcher.add([(f.finding_id, self.row(f)) for f in first])
                batcher.flush()
            stored = await building
        finally:
            building.cancel()  # left before it was built: HistoryLink.browse closes it
        table = self.table
        roles = views.ALL_FINDING_ROLES if check is None else views.FINDING_ROLES
        model = StoredRows(table.columns, roles, stored, self.row)
        if isinstance(table.model, StoredRows):  # a reload: the same list, the same positions
            model.marked, cursor = set(table.marked), table.cursor_key
        else:  # the first rows are the list's first positions (the same order): their marks carry over
            at = {finding_id: n for n, finding_id in enumerate(f.finding_id for f in first)}
            model.marked = {at[k] for k in table.marked if k in at}
            cursor = at.get(str(table.cursor_key))
        if table.sort_state is not None:
            model.sort_by(*table.sort_state)
        if table.filter_text:
            model.set_filter(table.filter_text)
        if batcher is not None:
            batcher.close()
        self._findings.clear()
        self._close_stored()
        self._stored = model
        table.use_model(model, cursor)

    def _ids_of_marks(self) -> tuple[list[str] | None, str | None]:
        """A stored list's marks and cursor as finding ids (its keys are positions), or (None, None)."""
        if self._stored is None:
            return None, None
        table = self.table
        marked = [f.finding_id for f in self._stored.findings(sorted(table.marked))]  # type: ignore[type-var]
        cursor = self.finding(table.cursor_key) if table.cursor_key is not None else None
        return marked, cursor.finding_id if cursor else None

    def _close_stored(self) -> None:
        if self._stored is not None:
            self._stored.stored.close()
            self._stored = None

    async def _first_page(self, task_id: str) -> tuple[Finding, ...]:
        dd = defender(self._owner.app).dd
        with contextlib.suppress(AwsError):
            pages = dd.iter_findings(task_id=task_id, page_size=FIRST_PAGE)
            async with contextlib.aclosing(pages):
                async for page in pages:
                    return page
        return ()

    async def _pages_after(
        self, view: FindingsView, first_page: FirstPage | None, history: HistoryLink | None
    ) -> AsyncIterator[tuple[Finding, ...]]:
        """`first_page`'s findings, then the view's pages without them: they come again there, and the
        table, though it keeps one row per finding, rebuilds its whole view for every row replaced. A
        completed audit's pages are handed to the history as they come (written on its own thread)."""
        shown: set[str] = set()
        if first_page is not None:
            page = await first_page
            shown = {finding.finding_id for finding in page}
            if history is not None:
                history.save_findings(view.task_id, page)
            yield page
        async for page in self._pages(view):
            if history is not None:
                history.save_findings(view.task_id, page)
            yield tuple(f for f in page if f.finding_id not in shown) if shown else page

    async def _pages(self, view: FindingsView) -> AsyncIterator[tuple[Finding, ...]]:
        """The check's pages, or for "All findings" the pages of every check that found something,
        fetched concurrently and yielded as they arrive."""
        dd = defender(self._owner.app).dd
        if view.check_name != views.ALL:
            async for page in dd.iter_findings(task_id=view.task_id, check_name=view.check_name):
                yield page
            return
        if view.checks:
            async for _check, page in dd.fetch_findings(view.task_id, list(view.checks), FETCH_AT_ONCE):
                yield page
