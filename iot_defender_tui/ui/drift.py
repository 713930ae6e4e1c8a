"""`d` on an audit in Results: what changed since the previous audit of the same checks, per check.

A finding is the same across audits when check and resource match (history/drift.py). Each check's new,
resolved and persisting findings are counted here; `enter` on a count opens that list in Results' own
findings table (filter, sort, marks, and mitigation of the new ones).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ..aws.catalogue import check_info
from ..aws.models import AuditTask
from ..history.models import CheckDrift, Drift
from .format import short_time
from .pickers import Entry, PickerModal
from .screen import DefenderScreen
from .widgets.footer import Footer

KINDS = ("new", "resolved", "persisting")
Found = tuple[Drift, AuditTask, AuditTask]
Compare = Callable[[str], Awaitable[Found | None]]  # an earlier audit's id -> its drift to the later one
COLUMNS = ("Check", "Severity", "New", "Resolved", "Persisting")
FIXED_WIDTH = 8 + 3 + 8 + 10 + 2 * 5 + 4  # the other columns, cell padding, scrollbar and margin


@dataclass(frozen=True, slots=True)
class DriftList:
    """What `enter` opened: one kind of one check (or of every check when `check_name` is None)."""

    kind: str  # new, resolved or persisting
    check_name: str | None
    task_id: str  # the audit the ids are of: the earlier one for resolved, else the later one
    finding_ids: tuple[str, ...]
    other_task_id: str = ""  # the audit compared with

    @property
    def against(self) -> tuple[str, bool]:
        """The other audit, and whether the list holds the findings it has too (persisting)."""
        return self.other_task_id, self.kind == "persisting"

    @property
    def title(self) -> str:
        check = check_info(self.check_name).title if self.check_name else "every check"
        return f"Drift: {self.kind} in {check}"


def drift_list(drift: Drift, kind: str, check_name: str | None) -> DriftList:
    checks = [c for c in drift.checks if check_name is None or c.check_name == check_name]
    ids = tuple(i for c in checks for i in getattr(c, kind))
    task_id, other = drift.earlier_task_id, drift.later_task_id
    if kind != "resolved":
        task_id, other = other, task_id
    return DriftList(kind, check_name, task_id, ids, other)


def _row(check: CheckDrift) -> tuple[Text, ...]:
    info = check_info(check.check_name)
    counts = (len(check.new), len(check.resolved), len(check.persisting))
    styles = ("bold red" if counts[0] else "", "green" if counts[1] else "", "")
    return (
        Text(info.title, overflow="ellipsis", no_wrap=True),
        Text(info.severity),
        *(Text(str(n), style=style, justify="right") for n, style in zip(counts, styles, strict=True)),
    )


def _label(task: AuditTask) -> str:
    when = task.start_time.strftime("%Y-%m-%d %H:%M") if task.start_time else "(no start time)"
    kind = "scheduled" if task.task_type == "SCHEDULED_AUDIT_TASK" else "on demand"
    return f"{when} · {kind} · {len(task.checks)} checks · {task.task_id[:8]}…"


class DriftScreen(DefenderScreen[DriftList | None]):
    """Dismisses with the list to open, or None."""

    DEFAULT_CSS = """
    DriftScreen #drift-title { padding: 0 1; background: $panel; height: auto; }
    DriftScreen DataTable { height: 1fr; }
    DriftScreen #drift-hint { color: $text-muted; padding: 0 1; height: auto; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Back", id="drift-close"),
        # Priority: the table's own enter would only select the cell.
        Binding("enter", "open", "Open list", id="drift-open", priority=True),
        Binding("b", "baseline", "Compare with…", id="drift-baseline"),
    ]

    def __init__(
        self,
        drift: Drift,
        earlier: AuditTask,
        later: AuditTask,
        *,
        compare: Compare | None = None,
        candidates: Callable[[], Awaitable[list[AuditTask]]] | None = None,
    ) -> None:
        super().__init__()
        self.drift, self.earlier, self.later = drift, earlier, later
        self._compare, self._candidates = compare, candidates

    def _title(self) -> Text:
        title = Text("Drift ", style="bold")
        title.append(f"audit {short_time(self.later.start_time)} vs {short_time(self.earlier.start_time)}")
        title.append(f" ({self.earlier.task_id[:8]}… → {self.later.task_id[:8]}…)", style="dim")
        return title

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="drift-title")
        yield DataTable(id="drift-table", cursor_type="cell", zebra_stripes=True)
        hint = "←→↑↓ pick a count · enter opens its findings (new ones can be mitigated) · escape back"
        yield Static(Text(hint), id="drift-hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # The counts must stay on screen at 80 columns: the check's title gets what they leave.
        title_width = max(16, self.app.size.width - FIXED_WIDTH)
        for label in COLUMNS:
            table.add_column(label, key=label.lower(), width=title_width if label == "Check" else None)
        self._fill()
        table.focus()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        rank = lambda c: (check_info(c.check_name).severity_rank, c.check_name)  # noqa: E731
        checks = sorted(self.drift.checks, key=rank)
        for check in checks:
            table.add_row(*_row(check), key=check.check_name)
        totals = [sum(len(getattr(c, kind)) for c in checks) for kind in KINDS]
        table.add_row(
            Text("All checks", style="bold"),
            Text(""),
            *(Text(str(n), style="bold", justify="right") for n in totals),
            key="",
        )
        table.move_cursor(row=0, column=2)  # on "New": what a user looks at first

    def action_baseline(self) -> None:
        """Compare with another audit than the previous one of the same checks."""
        if self._compare is None or self._candidates is None:
            return
        candidates = self._candidates

        async def load() -> list[Entry]:
            tasks = [t for t in await candidates() if t.task_id != self.later.task_id]
            return [(_label(t), t.task_id) for t in tasks]

        def chosen(task_id: str | None) -> None:
            if task_id:
                work = self._rebase(task_id)
                self.run_worker(work, group="drift-rebase", exclusive=True, exit_on_error=False)

        self.app.push_screen(PickerModal("Compare with which audit? (oldest first)", load), chosen)

    async def _rebase(self, task_id: str) -> None:
        assert self._compare is not None
        self.query_one("#drift-title", Static).update(Text("Reading the audits…"))
        try:
            found = await self._compare(task_id)
            if found is not None:
                self.drift, self.earlier, self.later = found
                self._fill()
        finally:  # whatever happened (reported by the app), the title says what is shown again
            self.query_one("#drift-title", Static).update(self._title())

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        row_key, column_key = table.coordinate_to_cell_key(table.cursor_coordinate)
        column = str(column_key.value)
        kind = column if column in KINDS else "new"
        check = str(row_key.value) or None
        self.dismiss(drift_list(self.drift, kind, check))

    def action_close(self) -> None:
        self.dismiss(None)
