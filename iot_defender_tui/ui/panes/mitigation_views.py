"""Table helpers of the Mitigation pane, and the screen listing one task's executions per finding."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState

from ...aws.errors import AwsError
from ...aws.models import MitigationExecution, MitigationTask
from ...aws.safe_text import safe
from ..contract import defender
from ..errors import TextModal
from ..format import leading_number, plural, when
from ..messages import Selected
from ..screen import DefenderScreen, error_text
from ..widgets.fast_table import Column, FastTable
from ..widgets.filter_bar import FilterBar
from ..widgets.footer import Footer

Row = Sequence[Text]
STATUS_STYLE = {
    "COMPLETED": "green",
    "IN_PROGRESS": "yellow",
    "PENDING": "yellow",
    "FAILED": "red",
    "CANCELED": "magenta",
    "SKIPPED": "dim",
}


ACTION_COLUMNS = (
    Column("Name", fraction=2),
    Column("Type", fraction=2),
    Column("Role", fraction=2),
    Column("Parameters", fraction=3),
)
TASK_COLUMNS = (
    Column("Task", fraction=1),
    Column("Status", width=11),
    Column("Succ", width=5, sort_key=leading_number),
    Column("Fail", width=5, sort_key=leading_number),
    Column("Skip", width=5, sort_key=leading_number),
    Column("Canc", width=5, sort_key=leading_number),
    Column("Started", width=19),
)
EXECUTION_COLUMNS = (
    Column("Finding", fraction=2),
    Column("Action", fraction=2),
    Column("Status", width=11),
    Column("Error", fraction=1),
    Column("Message", fraction=3),
    Column("Started", width=19),
    Column("Ended", width=19),
)


def filter_status(table: FastTable) -> str:
    """What a list heading adds while a filter narrows it."""
    if not table.filter_text:
        return f" ({table.row_count})"
    return f" ({table.row_count:,}/{table.total_count:,} shown, filter: {table.filter_text})"


def status_text(status: str) -> Text:
    return Text(status or "-", style=STATUS_STYLE.get(status, ""))


# The finding ids of a task's target are AWS's structure as sent (they are sent back to list the
# executions): made safe here, where they are shown.
def target_row(finding_id: str) -> Row:
    """A finding of the task's target that has no execution (yet)."""
    return (
        Text(safe(finding_id)),
        Text("-"),
        Text("no execution", style="dim"),
        Text(""),
        Text(""),
        Text(""),
        Text(""),
    )


def execution_text(finding_id: str, e: MitigationExecution) -> Text:
    """An execution whole: the table's Message column cuts AWS's error after a few words."""
    text = Text.assemble(("Status  ", "bold"), status_text(e.status))
    text.append(f"\nFinding {safe(finding_id)}\nAction  {e.action_name}")
    text.append(f"\nStarted {when(e.start_time)}   Ended {when(e.end_time)}")
    if e.error_code:
        text.append("\n\nError code\n", style="bold")
        text.append(e.error_code, style="red")
    text.append("\n\nMessage\n", style="bold")
    text.append(e.message or "(none)", style="" if e.message else "dim")
    return text


def execution_row(finding_id: str, e: MitigationExecution) -> Row:
    return (
        Text(safe(finding_id)),
        Text(e.action_name),
        status_text(e.status),
        Text(e.error_code or ""),
        Text(e.message or ""),
        Text(when(e.start_time)),
        Text(when(e.end_time)),
    )


class ExecutionsScreen(DefenderScreen[None]):
    """Each finding of a mitigation task with the actions applied to it; reloads while the task runs."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="executions-back"),
        Binding("r", "reload", "Refresh", id="executions-refresh"),
        Binding("slash", "filter", "Filter", id="executions-filter"),
    ]

    def __init__(self, task: MitigationTask) -> None:
        super().__init__()
        self._mtask = task
        self._status = Text("loading…")
        self._executions: dict[str, tuple[str, MitigationExecution]] = {}  # row key → (finding, execution)

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Mitigation task {self._mtask.task_id}", style="bold"), id="executions-title")
        yield Static(self._status, id="executions-status")
        yield FastTable(EXECUTION_COLUMNS, id="executions")
        yield FilterBar(id="executions-filter")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(FastTable).focus()
        self.action_reload()

    def on_fast_table_selected(self, event: Selected) -> None:
        """Enter on an execution: its full error (code and message, wrapped)."""
        found = self._executions.get(str(event.key))
        if found is None:
            self.notify("No execution for this finding yet.", markup=False)
            return
        finding_id, e = found
        title = f"Execution of {e.action_name}: {e.status}"
        self.app.push_screen(TextModal(title, execution_text(finding_id, e)))

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self.query_one(FastTable))

    def action_back(self) -> None:
        """Escape clears a filter first, then goes back."""
        if self.query_one(FastTable).filter_text:
            self.query_one(FilterBar).clear_filter()
        else:
            self.app.pop_screen()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._show_status()

    def _show_status(self) -> None:
        text = self._status.copy()
        table = self.query_one(FastTable)
        if table.filter_text:
            text.append(filter_status(table))
        self.query_one("#executions-status", Static).update(text)

    def action_reload(self) -> None:
        self.run_worker(self._load(), group="executions", exclusive=True, exit_on_error=False)

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "executions" and state == WorkerState.ERROR:
            self._status = Text(f"{error_text(worker)} (r to retry)", style="red")
            self._show_status()

    async def _finding_ids(self) -> list[str]:
        dd = defender(self.app).dd
        target = self._mtask.target
        if target.get("findingIds"):
            return [str(f) for f in target["findingIds"]]
        audit = target.get("auditTaskId")
        if not audit:
            return []
        ids: list[str] = []
        for check in self._mtask.mapping:
            async for page in dd.iter_findings(task_id=str(audit), check_name=check):
                ids.extend(f.finding_id for f in page)
        return ids

    async def _load(self) -> None:
        dd = defender(self.app).dd
        try:
            task = await dd.describe_mitigation_task(self._mtask.task_id)
            if not self._mtask.mapping:
                self._mtask = task
            rows: dict[str, Row] = {}
            found: dict[str, tuple[str, MitigationExecution]] = {}
            for finding_id in await self._finding_ids():
                executions = await dd.list_mitigation_executions(task.task_id, finding_id)
                if not executions:
                    rows[finding_id] = target_row(finding_id)
                for e in executions:
                    rows[f"{finding_id}/{e.action_name}"] = execution_row(finding_id, e)
                    found[f"{finding_id}/{e.action_name}"] = (finding_id, e)
        except AwsError as err:
            self._status = Text(err.text, style="red")
            self._show_status()
            self.set_timer(defender(self.app).settings.idle_poll_seconds, self.action_reload)
            return
        self._status = Text.assemble("Task ", status_text(task.status), f"  {plural(len(rows), 'execution')}")
        self._show_status()
        self._executions = found
        self.query_one(FastTable).set_rows(rows.items())
        if task.status == "IN_PROGRESS":
            self.set_timer(defender(self.app).settings.mitigation_poll_seconds, self.action_reload)
