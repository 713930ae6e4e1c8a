"""Results: audit tasks → a task's checks → a check's findings → one finding, with enter and escape.

Tasks come from ListAuditTasks (last 90 days), each described once (finished tasks do not change) and
again on every poll while IN_PROGRESS. Findings stream page by page into a FastTable, so the first page
shows while the rest of a large audit is still arriving.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from ...aws.catalogue import check_info
from ...aws.models import AuditTask, Finding
from ..finding_detail import FindingDetailScreen
from ..pane import Pane
from ..readonly import is_read_only, refuse_key
from ..widgets.fast_table import FastTable
from ..widgets.filter_bar import FilterBar
from ..widgets.row_batcher import RowBatcher
from ..wording import plural
from . import results_views as views
from .results_changes import ResultsChanges
from .results_stream import ResultsStream

TASKS, CHECKS, FINDINGS = 0, 1, 2
MUTATING = {"cancel_task", "suppress", "unsuppress", "apply_mitigation"}
# AWS keeps 90 days and refuses a startTime even slightly older, so stay a little inside it.
LOOKBACK = timedelta(days=90) - timedelta(minutes=10)
DESCRIBE_AT_ONCE = 8  # DescribeAuditTask calls in flight while filling the task list


class ResultsPane(ResultsStream, ResultsChanges, Pane):
    title = "Results"

    DEFAULT_CSS = """
    ResultsPane { layout: vertical; }
    ResultsPane #crumb, ResultsPane #status { height: 1; }
    ResultsPane #status { color: $text-muted; }
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
    ]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("id", "results")
        super().__init__(**kwargs)
        self.level = TASKS
        self._tasks: dict[str, AuditTask] = {}
        self._task_id: str | None = None
        self._check_name: str | None = None
        self._findings: dict[str, Finding] = {}
        self._loading = False
        self._listed = False  # until the first list of tasks arrives
        self._batcher: RowBatcher | None = None  # the streaming load's, while one runs
        self._opened = asyncio.Event()  # cleared while `--task`'s audit opens (see ResultsStream)
        self._opened.set()
        self._progress = ""  # a change running over several findings: "Suppressing 3/40…"

    def compose(self) -> ComposeResult:
        yield Static(Text("Audit tasks (last 90 days)"), id="crumb")
        yield FastTable(views.TASK_COLUMNS, id="tasks")
        yield FastTable(views.CHECK_COLUMNS, id="checks")
        yield FastTable(views.FINDING_COLUMNS, markable=True, id="findings")
        yield FilterBar(id="filter")
        yield Static(Text(""), id="status")

    def on_mount(self) -> None:
        self._show_level(TASKS)

    # -- levels -----------------------------------------------------------------------------------
    @property
    def table(self) -> FastTable:
        return self.query_one(("#tasks", "#checks", "#findings")[self.level], FastTable)

    def _show_level(self, level: int, *, focus: bool = True) -> None:
        self.level = level
        for n, name in enumerate(("#tasks", "#checks", "#findings")):
            self.query_one(name).display = n == level
        self._hide_filter()
        if focus:
            self.table.focus()
        crumb = Text("Audit tasks (last 90 days)")
        if level >= CHECKS and self._task_id:
            task = self._tasks.get(self._task_id)
            crumb = Text(f"Audit {views.short_time(task.start_time if task else None)} > checks")
        if level == FINDINGS and self._check_name:
            title = views.ALL_TITLE if self._check_name == views.ALL else check_info(self._check_name).title
            crumb = Text(f"Audit > {title} > findings")
        self.query_one("#crumb", Static).update(crumb)
        self._update_status()
        self.refresh_bindings()

    def _update_status(self) -> None:
        table = self.table
        # A count says what it counts; before the first answer there is nothing to count yet.
        if self.level == TASKS and not self._listed:
            count = f"throttled, retrying ({self.retries})…" if self.retries else "loading…"
        elif table.filter_text:
            count = f"{table.row_count}/{table.total_count} shown"
        else:  # the checks' list starts with its "All findings" row, not a check
            rows = table.row_count - (self.level == CHECKS and table.row_count > 0)
            count = plural(rows, ("audit task", "check", "finding")[self.level])
        parts = [count]
        if self.level == FINDINGS:
            parts.append(f"{table.mark_count} marked")
            if self._loading:
                parts.append("loading…")
            if self._progress:
                parts.append(self._progress)
        if table.filter_text:
            parts.append(f"filter: {table.filter_text}")
        # One line whatever it says: no layout pass (a streaming load updates it several times a second).
        self.query_one("#status", Static).update(Text(" · ".join(parts)), layout=False)

    def focus_target(self) -> FastTable:
        """What the app focuses when the pane is shown: the list of the current level."""
        return self.table

    def on_fast_table_selected(self, event: FastTable.Selected) -> None:
        event.stop()
        if event.control is not self.table:
            return  # a hidden level's table: its key means nothing here
        if self.level == TASKS:
            self._task_id = str(event.key)
            self._fill_checks()
            self._show_level(CHECKS)
            if self._task_id not in self._tasks or not self._tasks[self._task_id].checks:
                self.refresh_now()
        elif self.level == CHECKS:
            self._check_name = str(event.key)
            every = self._check_name == views.ALL
            self.query_one("#findings", FastTable).set_columns(
                views.ALL_FINDING_COLUMNS if every else views.FINDING_COLUMNS
            )
            self._findings.clear()
            self._show_level(FINDINGS)
            self._start_stream(reload=False)
        else:
            finding = self._findings.get(str(event.key))
            if finding is not None:
                self.app.push_screen(FindingDetailScreen(finding, self.dd))

    def action_back(self) -> None:
        """Escape clears a filter first, then goes up a level."""
        bar = self.query_one(FilterBar)
        if bar.shown or self.table.filter_text:
            bar.table = self.table
            bar.clear_filter()
            self._update_status()
        elif self.level > TASKS:
            if self.level == FINDINGS:
                self.workers.cancel_group(self, "results-findings")
                self._stop_batcher()
                self._loading = False
            self._show_level(self.level - 1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.level > TASKS or bool(self.table.filter_text) or self.query_one(FilterBar).shown
        if action == "cancel_task":
            return self.level == TASKS and not is_read_only(self)
        if action in ("suppress", "unsuppress", "apply_mitigation"):
            return self.level == FINDINGS and not is_read_only(self)
        if action in ("mark", "mark_all", "clear_marks", "reload"):
            return self.level == FINDINGS
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
        present = {t.task_id for t in listed}
        self._tasks = {k: v for k, v in self._tasks.items() if k in present}
        self.busy = any(t.status == "IN_PROGRESS" for t in self._tasks.values())
        tasks = views.sorted_tasks(list(self._tasks.values()))
        self.query_one("#tasks", FastTable).set_rows((t.task_id, views.task_row(t)) for t in tasks)
        self._listed = True
        if self.level == CHECKS:
            self._fill_checks()
        self._update_status()

    def show_retries(self) -> None:
        self._update_status()

    def _fill_checks(self) -> None:
        task = self._tasks.get(self._task_id or "")
        checks = sorted(task.checks, key=views.check_order) if task else []
        rows = [(c.check_name, views.check_row(c)) for c in checks]
        if checks:
            rows.insert(0, (views.ALL, views.all_row(checks)))
        self.query_one("#checks", FastTable).set_rows(rows)

    # -- filter and marks -------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self.table)

    def _hide_filter(self) -> None:
        self.query_one(FilterBar).remove_class("shown")

    def on_input_changed(self, event: Input.Changed) -> None:
        self._update_status()  # the FilterBar has filtered the table

    def action_mark(self) -> None:
        self.table.toggle_mark()
        self.table.action_cursor(1)
        self._update_status()

    def action_mark_all(self) -> None:
        self.table.mark_all()
        self._update_status()

    def action_clear_marks(self) -> None:
        self.table.clear_marks()
        self._update_status()

    def marked_findings(self) -> list[Finding]:
        """The marked findings in list order, or the one under the cursor (for apply-mitigation)."""
        if self.level != FINDINGS:
            return []
        table = self.table
        marked = table.marked
        if marked:
            return [self._findings[str(k)] for k in table.visible_keys() if k in marked] or [
                self._findings[str(k)] for k in marked
            ]
        key = table.cursor_key
        return [self._findings[str(key)]] if key is not None else []
