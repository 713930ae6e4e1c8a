"""Results: audit tasks → a task's checks → a check's findings → one finding, with enter and escape.

Tasks come from ListAuditTasks (last 90 days), each described once (finished tasks do not change) and
again on every poll while IN_PROGRESS. Findings stream page by page into a FastTable (FindingsStream), so
the first page shows while the rest of a large audit is still arriving. `--task` opens straight on an
audit's "All findings". Keys change things from here: cancel an audit, suppress or unsuppress findings
(Suppressions), hand the marked findings to the apply-mitigation screen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ...aws.catalogue import check_info
from ...aws.errors import AwsError, NotFoundError
from ...aws.models import AuditTask, Finding
from ...history.trend import trend
from ..apply_mitigation import MAX_FINDINGS, ApplyMitigationScreen
from ..contract import defender
from ..drift import DriftList
from ..finding_detail import FindingDetailScreen
from ..format import plural, short_time
from ..modals import ConfirmModal
from ..pane import Pane
from ..readonly import is_read_only, refuse_key, refused
from ..widgets.fast_table import FastTable
from ..widgets.filter_bar import FilterBar
from . import results_views as views
from .findings_stream import FindingsStream, FindingsView
from .mark_keys import MarkKeys
from .results_drift import NO_HISTORY, show_drift
from .results_export import Exports, default_path
from .results_suppress import Suppressions


class Level(IntEnum):
    """The list shown, top to bottom; escape goes up one."""

    TASKS = 0
    CHECKS = 1
    FINDINGS = 2


TABLES = ("#tasks", "#checks", "#findings")  # by Level
MUTATING = {"cancel_task", "suppress", "unsuppress", "apply_mitigation"}
# AWS keeps 90 days and refuses a startTime even slightly older, so stay a little inside it.
LOOKBACK = timedelta(days=90) - timedelta(minutes=10)
DESCRIBE_AT_ONCE = 8  # DescribeAuditTask calls in flight while filling the task list
OPEN_WAIT = 5.0  # seconds the task list and the identity wait for `--task`'s first rows at most


class ResultsPane(MarkKeys, Pane):
    title = "Results"

    DEFAULT_CSS = """
    ResultsPane { layout: vertical; }
    ResultsPane #crumb, ResultsPane #status { height: 1; }
    ResultsPane #status { color: $text-muted; }
    ResultsPane #status.reason { height: auto; max-height: 4; }
    """
    # Most important first: the footer drops hints from the end when the terminal is narrow.
    BINDINGS: ClassVar = [
        Binding("a", "apply_mitigation", "Mitigate", id="results-apply-mitigation"),
        Binding("space", "mark", "Mark", id="results-mark"),
        Binding("c", "cancel_task", "Cancel audit", id="results-cancel-audit"),
        Binding("slash", "filter", "Filter", id="results-filter"),
        Binding("s", "suppress", "Suppress", id="results-suppress"),
        Binding("escape", "back", "Back", id="results-back"),
        Binding("A", "mark_all", "Mark all", id="results-mark-all"),
        Binding("u", "clear_marks", "Unmark", id="results-clear-marks"),
        Binding("S", "unsuppress", "Unsuppress", id="results-unsuppress"),
        Binding("r", "reload", "Reload", id="results-reload"),
        Binding("d", "drift", "Drift", id="results-drift"),
        Binding("T", "trend", "Trend", id="results-trend"),
        # Off the footer: at 80 columns they would push out enter (open) and sort; `?` and ctrl+p list them.
        Binding("e", "export", "Export", id="results-export", show=False),
        Binding("y", "copy_ids", "Copy ids", id="results-copy-ids", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("id", "results")
        super().__init__(**kwargs)
        self.level = Level.TASKS
        self._tasks: dict[str, AuditTask] = {}
        self._task_id: str | None = None
        self._check_name: str | None = None
        self._drift: DriftList | None = None  # the drift list shown at the findings level, if one is
        self._progress = ""  # what a longer step (drift) is doing
        self._opened = asyncio.Event()  # cleared while `--task`'s audit opens (see open_audit)
        self._opened.set()
        findings = FastTable(views.FINDING_COLUMNS, markable=True, id="findings")
        self.stream = FindingsStream(
            self,
            findings,
            changed=self._update_status,
            shown=self._rows_shown,
            ended=self._opened.set,
            failed=self._error,
        )
        self.suppressions = Suppressions(self, self.stream, self._update_status)
        self.exports = Exports(self, self._update_status)

    def compose(self) -> ComposeResult:
        yield Static(Text("Audit tasks (last 90 days)"), id="crumb")
        yield FastTable(views.TASK_COLUMNS, id="tasks")
        yield FastTable(views.CHECK_COLUMNS, id="checks")
        yield self.stream.table
        yield FilterBar(id="filter")
        yield Static(Text(""), id="status")

    def on_mount(self) -> None:
        self._show_level(Level.TASKS)

    @property
    def tasks(self) -> Mapping[str, AuditTask]:
        """The audit tasks listed, by id, as last described."""
        return self._tasks

    # -- levels -----------------------------------------------------------------------------------
    @property
    def table(self) -> FastTable:
        return self.query_one(TABLES[self.level], FastTable)

    def _show_level(self, level: Level, *, focus: bool = True) -> None:
        self.level = level
        for n, name in enumerate(TABLES):
            self.query_one(name).display = n == level
        self._hide_filter()
        self.exports.note = ""
        if focus:
            self.table.focus()
        # AWS lists 90 days of audits; the history adds the older ones it keeps.
        kept = defender(self.app).history is not None
        crumb = Text(f"Audit tasks (last 90 days{' + history' if kept else ''})")
        if level >= Level.CHECKS and self._task_id:
            task = self._tasks.get(self._task_id)
            crumb = Text(f"Audit {short_time(task.start_time if task else None)} > checks")
        if level == Level.FINDINGS and self._check_name:
            title = views.ALL_TITLE if self._check_name == views.ALL else check_info(self._check_name).title
            crumb = Text(f"Audit > {self._drift.title if self._drift else title} > findings")
        self.query_one("#crumb", Static).update(crumb)
        self._update_status()
        self.refresh_bindings()

    def _update_status(self) -> None:
        table = self.table
        # A count says what it counts; before the first answer there is nothing to count yet.
        if self.level == Level.TASKS and not self.listed:
            count = self.waiting()
        elif table.filter_text:
            count = f"{table.row_count:,}/{table.total_count:,} shown"
        else:  # the checks' list starts with its "All findings" row, not a check
            rows = table.row_count - (self.level == Level.CHECKS and table.row_count > 0)
            count = plural(rows, ("audit task", "check", "finding")[self.level])
        parts = [count]
        if self._progress:
            parts.append(self._progress)
        if self.level == Level.FINDINGS:
            parts.append(f"{table.mark_count} marked")
            if self.stream.loading:
                parts.append("loading…")
            if self.suppressions.progress:
                parts.append(self.suppressions.progress)
            if self.exports.status:
                parts.append(self.exports.status)
        if table.filter_text:
            parts.append(f"filter: {table.filter_text}")
        status = self.query_one("#status", Static)
        reason = self._failed_reason()
        if reason is not None:  # AWS's whole message (a role ARN, the actions missing): up to 4 lines
            status.set_class(True, "reason")
            status.update(Text(" · ".join(parts) + "\n").append_text(reason))
            return
        status.set_class(False, "reason")
        # One line whatever it says: no layout pass (a streaming load updates it several times a second).
        status.update(Text(" · ".join(parts)), layout=False)

    def _failed_reason(self) -> Text | None:
        """At the checks level, why the check under the cursor FAILED, if it did."""
        if self.level != Level.CHECKS or self._task_id not in self._tasks:
            return None
        check = self._tasks[self._task_id or ""].check(str(self.table.cursor_key))
        return views.check_reason(check) if check is not None else None

    def on_fast_table_cursor_moved(self, event: FastTable.CursorMoved) -> None:
        if event.control is self.table and self.level == Level.CHECKS:
            self._update_status()

    def focus_target(self) -> FastTable:
        """What the app focuses when the pane is shown: the list of the current level."""
        return self.table

    def on_fast_table_selected(self, event: FastTable.Selected) -> None:
        event.stop()
        if event.control is not self.table:
            return  # a hidden level's table: its key means nothing here
        if self.level == Level.TASKS:
            self._task_id = str(event.key)
            self._fill_checks()
            self._show_level(Level.CHECKS)
            if self._task_id not in self._tasks or not self._tasks[self._task_id].checks:
                self.refresh_now()
        elif self.level == Level.CHECKS:
            self._drift = None
            self._check_name = str(event.key)
            every = self._check_name == views.ALL
            self.stream.table.set_columns(views.ALL_FINDING_COLUMNS if every else views.FINDING_COLUMNS)
            self._show_level(Level.FINDINGS)
            self.stream.load(self._view())
        else:
            finding = self.stream.finding(event.key)
            if finding is not None:
                self.app.push_screen(FindingDetailScreen(finding, self.dd))

    def action_back(self) -> None:
        """Escape clears a filter first, then goes up a level."""
        bar = self.query_one(FilterBar)
        if bar.shown or self.table.filter_text:
            bar.table = self.table
            bar.clear_filter()
            self._update_status()
        elif self.level > Level.TASKS:
            if self.level == Level.FINDINGS:
                self.stream.stop()
            self._show_level(Level(self.level - 1))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.level > Level.TASKS or bool(self.table.filter_text) or self.query_one(FilterBar).shown
        if action == "cancel_task":
            return self.level == Level.TASKS and not is_read_only(self)
        if action in ("suppress", "unsuppress", "apply_mitigation"):
            return self.level == Level.FINDINGS and not is_read_only(self)
        if action in ("mark", "mark_all", "clear_marks", "reload", "export", "copy_ids"):
            return self.level == Level.FINDINGS
        if action == "drift":
            return self.level == Level.TASKS
        return True

    def on_key(self, event: events.Key) -> None:
        refuse_key(self, event, MUTATING)

    # -- polling ----------------------------------------------------------------------------------
    async def poll(self) -> None:
        await self.opened()  # `--task`: the audit's first rows before the task list
        now = datetime.now(UTC)
        listed = await self.dd.list_audit_tasks(now - LOOKBACK, now + timedelta(minutes=1))
        stale = [
            t.task_id
            for t in listed
            if t.task_id not in self._tasks
            or t.status == "IN_PROGRESS"
            or self._tasks[t.task_id].status != t.status
        ]
        for start in range(0, len(stale), DESCRIBE_AT_ONCE):
            batch = stale[start : start + DESCRIBE_AT_ONCE]
            for task in await asyncio.gather(*(self.dd.describe_audit_task(i) for i in batch)):
                self._tasks[task.task_id] = task
                self._keep(task)
        present = {t.task_id for t in listed}
        history = defender(self.app).history
        older = await history.older(present) if history is not None else []
        self._tasks = {k: v for k, v in self._tasks.items() if k in present}
        self._tasks.update((t.task_id, t) for t in older)
        self.busy = any(t.status == "IN_PROGRESS" for t in self._tasks.values())
        tasks = views.sorted_tasks(list(self._tasks.values()))
        only_stored = {t.task_id for t in older}
        rows = ((t.task_id, views.task_row(t, stored=t.task_id in only_stored)) for t in tasks)
        self.query_one("#tasks", FastTable).set_rows(rows)
        self.listed = True  # before poll() returns: the checks below are filled from this list
        if self.level == Level.CHECKS:
            self._fill_checks()
        self._update_status()

    def show_retries(self) -> None:
        self._update_status()

    def _keep(self, task: AuditTask) -> None:
        """A completed audit with its per-check results goes to the history (once), before its findings."""
        history = defender(self.app).history
        if history is not None:
            history.save_task(task)

    def _fill_checks(self) -> None:
        task = self._tasks.get(self._task_id or "")
        checks = sorted(task.checks, key=views.check_order) if task else []
        rows = [(c.check_name, views.check_row(c)) for c in checks]
        if checks:
            rows.insert(0, (views.ALL, views.all_row(checks)))
        self.query_one("#checks", FastTable).set_rows(rows)

    # -- findings ---------------------------------------------------------------------------------
    def _view(self) -> FindingsView:
        """The findings list the user opened: one check's, or for "All findings" those of every check of
        the audit that found something."""
        task_id, check_name = self._task_id or "", self._check_name or ""
        task = self._tasks.get(task_id)
        checks = views.with_findings(list(task.checks)) if task and check_name == views.ALL else []
        completed = task is not None and task.status == "COMPLETED"
        against = self._drift.against if self._drift is not None else None
        check = self._drift.check_name if self._drift is not None else None
        return FindingsView(task_id, check_name, tuple(checks), completed=completed, against=against,
                            drift_check=check)  # fmt: skip

    def action_drift(self) -> None:
        """`d` on an audit: what changed since the previous audit of the same checks."""
        task = self._tasks.get(str(self.table.cursor_key or ""))
        if task is None:
            return
        work = show_drift(self, task, self._open_drift, self._say_progress, lambda: self._tasks.values())
        self.run_worker(work, name="drift", group="results-drift", exclusive=True, exit_on_error=False)

    def action_trend(self) -> None:
        """`T`: non-compliant findings of every stored audit, as a chart."""
        history = defender(self.app).history
        if history is None:
            defender(self.app).show_error(NO_HISTORY.replace("Drift needs", "The trend needs"))
            return
        # Imported here: textual-plot brings numpy (~15 MB, ~0.1 s), paid only when the chart is opened.
        from ..trend import TrendScreen

        self.app.push_screen(TrendScreen(partial(trend, history.store, history.account, history.region)))

    def _say_progress(self, text: str) -> None:
        self._progress = text
        self._update_status()

    def _open_drift(self, listed: DriftList) -> None:
        """A drift list in the findings table: the audit it is of, every check's columns."""
        self._drift = listed
        self._task_id, self._check_name = listed.task_id, views.ALL
        self._fill_checks()  # what escape goes back to
        self.stream.table.set_columns(views.ALL_FINDING_COLUMNS)
        self._show_level(Level.FINDINGS)
        self.stream.load(self._view())

    def action_reload(self) -> None:
        """`r` in findings: fetch them again. Not on a timer: a finished audit's findings only change
        through suppression, which this pane applies to its rows itself."""
        self.stream.load(self._view(), reload=True)

    def _rows_shown(self) -> None:
        self._update_status()
        # After the frame showing them: what waits for them (the task list, the identity) would else
        # hold that frame back by ~0.1 s.
        self.call_after_refresh(self._opened.set)

    def _error(self, error: Exception) -> None:
        defender(self.app).show_error(str(error))

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
        first_page = self.stream.first_page(task_id)  # asked for with the description, not after it
        try:
            task = await self.dd.describe_audit_task(task_id)  # which checks found something
            if self.level != Level.TASKS:
                return  # the user went into an audit meanwhile: theirs wins
            self._tasks[task_id] = task
            self._keep(task)
            self._task_id, self._check_name = task_id, views.ALL
            self._fill_checks()  # what escape goes back to
            self.stream.table.set_columns(views.ALL_FINDING_COLUMNS)
            # Focus only if shown: focusing into a hidden tab makes Textual switch to it, undoing the pane
            # a key chose meanwhile. Hidden, the app's `_focus_in` puts it on the findings when shown.
            shown = all(getattr(node, "display", True) for node in self.ancestors_with_self)
            self._show_level(Level.FINDINGS, focus=shown)
            self.stream.load(self._view(), first_page=first_page)
            streaming = True  # the stream tells `opened()` (its `shown` and `ended`)
        except NotFoundError:
            defender(self.app).show_error(f"Audit task {task_id} not found")
        except AwsError as error:
            self._error(error)
        finally:
            if not streaming:
                first_page.cancel()
                self._opened.set()

    # -- filter and marks -------------------------------------------------------------------------
    def _hide_filter(self) -> None:
        self.query_one(FilterBar).remove_class("shown")

    def marked_findings(self) -> list[Finding]:
        """The marked findings in list order, or the one under the cursor (for apply-mitigation)."""
        if self.level != Level.FINDINGS:
            return []
        table = self.table
        marked = table.marked
        if marked:
            keys = [k for k in table.visible_keys() if k in marked] or list(marked)
            return self.stream.findings_of(keys)
        key = table.cursor_key
        return self.stream.findings_of([key]) if key is not None else []

    # -- export and copy (no change to AWS: allowed in read-only) ------------------------------------
    def action_export(self) -> None:
        if self.level != Level.FINDINGS:
            return
        keys, read = self.stream.export_source()
        check = None if self._check_name == views.ALL else self._check_name
        path = default_path(self._task_id or "", "drift" if self._drift else check)
        self.exports.export(keys, read, path, loading=self.stream.loading)

    def action_copy_ids(self) -> None:
        if self.level == Level.FINDINGS:
            self.exports.copy(self.table.mark_count, self.marked_findings)

    # -- changes (refused in read-only) -----------------------------------------------------------
    def action_cancel_task(self) -> None:
        key = self.table.cursor_key
        if refused(self) or self.level != Level.TASKS or key is None:
            return
        task = self._tasks[str(key)]
        if task.status != "IN_PROGRESS":
            defender(self.app).show_error("Only an audit in progress can be canceled.")
            return
        body = Text(f"Cancel the audit started {short_time(task.start_time)} ({task.task_id})?")

        def confirmed(answer: bool | None) -> None:
            if answer:
                self.run_worker(self._cancel(task.task_id), group="results-change", exit_on_error=False)

        modal = ConfirmModal("Cancel audit?", body, "Cancel audit", "Keep it running")
        self.app.push_screen(modal, confirmed)

    async def _cancel(self, task_id: str) -> None:
        try:
            await self.dd.cancel_audit_task(task_id)
        except AwsError as error:
            self._error(error)
        self.refresh_now()

    def action_suppress(self) -> None:
        if not refused(self):
            self.suppressions.suppress(self.marked_findings())

    def action_unsuppress(self) -> None:
        if not refused(self):
            self.suppressions.unsuppress(self.marked_findings())

    def action_apply_mitigation(self) -> None:
        findings = self.marked_findings()
        if refused(self) or not findings:
            return
        if len(findings) > MAX_FINDINGS:
            # Refuse rather than silently apply to only the first 25.
            defender(self.app).show_error(
                f"AWS takes at most {MAX_FINDINGS} findings per mitigation task; {len(findings)} are marked."
            )
            return

        def started(task_id: str | None) -> None:
            if task_id:
                defender(self.app).action_show_pane("mitigation")

        self.app.push_screen(ApplyMitigationScreen(findings, self.dd), started)
