"""`d` on an audit in Results: what changed since the previous audit of the same checks, per check.

A finding is the same across audits when check and resource match (history/drift.py). Each check's new,
resolved and persisting findings are counted here; `enter` on a count opens that list in Results' own
findings table (filter, sort, marks, and mitigation of the new ones).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ..aws.catalogue import check_info
from ..aws.models import AuditTask
from ..history.models import CheckDrift, Drift
from .format import short_time
from .screen import DefenderScreen
from .widgets.footer import Footer

KINDS = ("new", "resolved", "persisting")
COLUMNS = ("Check", "Severity", "New", "Resolved", "Persisting")
FIXED_WIDTH = 8 + 3 + 8 + 10 + 2 * 5 + 4  # the other columns, cell padding, scrollbar and margin


@dataclass(frozen=True, slots=True)
class DriftList:
    """What `enter` opened: one kind of one check (or of every check when `check_name` is None)."""

    kind: str  # new, resolved or persisting
    check_name: str | None
    task_id: str  # the audit the ids are of: the earlier one for resolved, else the later one
    finding_ids: tuple[str, ...]

    @property
    def title(self) -> str:
        check = check_info(self.check_name).title if self.check_name else "every check"
        return f"Drift: {self.kind} in {check}"


def drift_list(drift: Drift, kind: str, check_name: str | None) -> DriftList:
    checks = [c for c in drift.checks if check_name is None or c.check_name == check_name]
    ids = tuple(i for c in checks for i in getattr(c, kind))
    task_id = drift.earlier_task_id if kind == "resolved" else drift.later_task_id
    return DriftList(kind, check_name, task_id, ids)


def _row(check: CheckDrift) -> tuple[Text, ...]:
    info = check_info(check.check_name)
    counts = (len(check.new), len(check.resolved), len(check.persisting))
    styles = ("bold red" if counts[0] else "", "green" if counts[1] else "", "")
    return (
        Text(info.title, overflow="ellipsis", no_wrap=True),
        Text(info.severity),
        *(Text(str(n), style=style, justify="right") for n, style in zip(counts, styles, strict=True)),
    )


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
    ]

    def __init__(self, drift: Drift, earlier: AuditTask, later: AuditTask) -> None:
        super().__init__()
        self.drift, self.earlier, self.later = drift, earlier, later

    def compose(self) -> ComposeResult:
        title = Text("Drift ", style="bold")
        title.append(f"audit {short_time(self.later.start_time)} vs {short_time(self.earlier.start_time)}")
        title.append(f" ({self.earlier.task_id[:8]}… → {self.later.task_id[:8]}…)", style="dim")
        yield Static(title, id="drift-title")
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
        table.focus()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        row_key, column_key = table.coordinate_to_cell_key(table.cursor_coordinate)
        column = str(column_key.value)
        kind = column if column in KINDS else "new"
        check = str(row_key.value) or None
        self.dismiss(drift_list(self.drift, kind, check))

    def action_close(self) -> None:
        self.dismiss(None)
