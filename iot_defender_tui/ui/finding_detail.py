"""Everything about one finding, and the current state of its resource (fetched in a worker).

All of it is AWS text, so it is built as `rich.text.Text` and never parsed as markup.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from ..aws.catalogue import check_info
from ..aws.errors import AwsError
from ..aws.models import Finding, ResourceRef
from ..aws.resource_state import ResourceState, fetch_state
from .format import when
from .screen import DefenderScreen, error_text
from .widgets.footer import Footer

if TYPE_CHECKING:
    from ..aws.client import DefenderClient
    from .messages import TaskFinished


def _field(out: Text, label: str, value: str | None) -> None:
    out.append(f"{label:<14}", style="bold")
    out.append(value if value else "-")
    out.append("\n")


def _resource_lines(out: Text, ref: ResourceRef, indent: str = "  ") -> None:
    out.append(f"{indent}{ref.resource_type}: ")
    out.append(ref.full_id, style="bold")
    out.append("\n")
    if ref.connected_at or ref.disconnected_at:
        out.append(
            f"{indent}  connected {when(ref.connected_at)}  disconnected {when(ref.disconnected_at)}\n"
        )
    for key, value in sorted(ref.additional_info.items()):
        if key not in ("CONNECTION_TIME", "DISCONNECTION_TIME"):
            out.append(f"{indent}  {key}: {value}\n")


def describe_finding(finding: Finding) -> Text:
    info = check_info(finding.check_name)
    out = Text()
    out.append(info.title, style="bold")
    out.append(f"  ({finding.severity})\n\n")
    _field(out, "Check", finding.check_name)
    _field(out, "Finding id", finding.finding_id)
    _field(out, "Audit task", finding.task_id)
    _field(out, "Found", when(finding.finding_time))
    _field(out, "Suppressed", "yes" if finding.is_suppressed else "no")
    _field(out, "Reason code", finding.reason_code)
    _field(out, "Reason", finding.reason)
    out.append("\nResource\n", style="bold underline")
    _resource_lines(out, finding.resource)
    out.append("  identifier: " + json.dumps(finding.resource.identifier, sort_keys=True, default=str) + "\n")
    if finding.related:
        out.append("\nRelated resources\n", style="bold underline")
        for ref in finding.related:
            _resource_lines(out, ref)
    return out


def render_state(state: ResourceState | None) -> Text:
    if state is None:
        return Text("No live state to show for this resource type.\n")
    out = Text(f"{state.kind} {state.resource_id}\n  {state.label} ")
    out.append(state.value, style="bold")
    out.append("\n")
    if state.valid is not None:
        out.append(f"  valid {when(state.valid[0])} to {when(state.valid[1])}\n")
    return out


async def current_state(dd: DefenderClient, ref: ResourceRef) -> Text:
    """What the resource looks like now (the finding shows how it was at audit time)."""
    return render_state(await fetch_state(dd, ref))


class FindingDetailScreen(DefenderScreen[None]):
    """Opened with enter on a finding; escape closes it."""

    DEFAULT_CSS = """
    FindingDetailScreen VerticalScroll { padding: 0 1; }
    FindingDetailScreen #state { margin-top: 1; }
    """
    BINDINGS: ClassVar = [Binding("escape", "close", "Back", id="detail-close")]

    def __init__(self, finding: Finding, dd: DefenderClient) -> None:
        super().__init__()
        self.finding = finding
        self.dd = dd

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(describe_finding(self.finding), id="finding")
            yield Static(Text("Current state: loading…"), id="state")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).focus()
        self.reload_state()

    def reload_state(self) -> None:
        self.run_worker(self._load_state(), group="finding-state", exclusive=True, exit_on_error=False)

    def on_task_finished(self, event: TaskFinished) -> None:
        """A mitigation task ended: show its effect on this finding's resource without a key press."""
        if event.kind == "mitigation" and (
            not event.finding_ids or self.finding.finding_id in event.finding_ids
        ):
            self.reload_state()

    async def _load_state(self) -> None:
        out = Text("Current state\n", style="bold underline")
        try:
            out.append_text(await current_state(self.dd, self.finding.resource))
        except AwsError as error:
            out.append(f"could not fetch: {error}\n")
        self.query_one("#state", Static).update(out)

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "finding-state" and state == WorkerState.ERROR:
            out = Text("Current state\n", style="bold underline")
            out.append(f"could not fetch: {error_text(worker)}\n")
            self.query_one("#state", Static).update(out)

    def action_close(self) -> None:
        self.dismiss(None)
