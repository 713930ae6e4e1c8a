"""Table helpers of the Mitigation pane, and the screen listing one task's executions per finding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ...aws.errors import AwsError
from ...aws.models import MitigationTask

Row = Sequence[Text]
STATUS_STYLE = {
    "COMPLETED": "green",
    "IN_PROGRESS": "yellow",
    "PENDING": "yellow",
    "FAILED": "red",
    "CANCELED": "magenta",
    "SKIPPED": "dim",
}


def when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def status_text(status: str) -> Text:
    return Text(status or "-", style=STATUS_STYLE.get(status, ""))


def sync_table(table: DataTable, rows: dict[str, Row]) -> None:
    """Show `rows` (key → cells, in order) changing only what changed, so the cursor and scroll stay."""
    current = [str(key.value) for key in table.rows]
    if current != list(rows):
        # Rows came, went or moved: rebuild, keeping the cursor on the same row where it still exists.
        keep = current[table.cursor_row] if current and 0 <= table.cursor_row < len(current) else None
        table.clear()
        for key, cells in rows.items():
            table.add_row(*cells, key=key)
        if keep in rows:
            table.move_cursor(row=list(rows).index(keep))
        return
    for key, cells in rows.items():
        for column, cell in zip(table.columns, cells, strict=False):
            if table.get_cell(key, column) != cell:
                table.update_cell(key, column, cell)


class ExecutionsScreen(Screen[None]):
    """Each finding of a mitigation task with the actions applied to it; reloads while the task runs."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="executions-back"),
        Binding("r", "reload", "Refresh", id="executions-refresh"),
    ]

    def __init__(self, task: MitigationTask) -> None:
        super().__init__()
        self._mtask = task

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Mitigation task {self._mtask.task_id}", style="bold"), id="executions-title")
        yield Static(Text("loading…"), id="executions-status")
        yield DataTable(id="executions", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("Finding", "Action", "Status", "Error", "Message", "Started", "Ended"):
            table.add_column(label, key=label.lower())
        table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.run_worker(self._load(), group="executions", exclusive=True, exit_on_error=False)

    async def _finding_ids(self) -> list[str]:
        dd = self.app.dd  # type: ignore[attr-defined]
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
        dd = self.app.dd  # type: ignore[attr-defined]
        status = self.query_one("#executions-status", Static)
        try:
            task = await dd.describe_mitigation_task(self._mtask.task_id)
            if not self._mtask.mapping:
                self._mtask = task
            rows: dict[str, Row] = {}
            for finding_id in await self._finding_ids():
                executions = await dd.list_mitigation_executions(task.task_id, finding_id)
                if not executions:
                    rows[finding_id] = (
                        Text(finding_id),
                        Text("-"),
                        Text("no execution", style="dim"),
                        Text(""),
                        Text(""),
                        Text(""),
                        Text(""),
                    )
                for e in executions:
                    rows[f"{finding_id}/{e.action_name}"] = (
                        Text(finding_id),
                        Text(e.action_name),
                        status_text(e.status),
                        Text(e.error_code or ""),
                        Text(e.message or ""),
                        Text(when(e.start_time)),
                        Text(when(e.end_time)),
                    )
        except AwsError as err:
            status.update(Text(err.text, style="red"))
            self.set_timer(self.app.settings.idle_poll_seconds, self.action_reload)  # type: ignore[attr-defined]
            return
        status.update(Text.assemble("Task ", status_text(task.status), f"  {len(rows)} execution(s)"))
        sync_table(self.query_one(DataTable), rows)
        if task.status == "IN_PROGRESS":
            self.set_timer(self.app.settings.mitigation_poll_seconds, self.action_reload)  # type: ignore[attr-defined]
