"""Apply mitigation actions to the marked findings: pick actions, see exactly what will change, confirm.

Only actions whose type applies to every selected finding's check (per the catalogue) are offered, so
AWS never gets a mapping it would refuse. The task id is derived from the request by the AWS layer, so
confirming the same selection while its task runs finds that task instead of starting another; once it
has ended, applying again starts a new one. The notification says which.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState

from ..aws.catalogue import check_info
from ..aws.client import DefenderClient
from ..aws.client_mitigation import MitigationStart
from ..aws.errors import AwsError
from ..aws.guard import ReadOnlyError
from ..aws.models import Finding, MitigationAction
from .contract import defender
from .modals import ConfirmModal
from .screen import DefenderModal, error_text

MAX_FINDINGS = 25  # AWS's limit on findingIds in one StartAuditMitigationActionsTask
RESOURCES_SHOWN = 8


def started_message(start: MitigationStart) -> str:
    """What the user is told: started, started again after an ended task, or found already running."""
    if start.reused:
        return f"Mitigation task {start.task_id} is already running for these findings (not started again)"
    if start.previous is not None:
        return (
            f"Mitigation task {start.task_id} started again "
            f"(previous task {start.previous.task_id} ended {start.previous.status})"
        )
    return f"Mitigation task {start.task_id} started"


def applicable_types(findings: list[Finding]) -> set[str]:
    """Action types that apply to every check of `findings`."""
    checks = {f.check_name for f in findings}
    sets = [set(check_info(c).action_types) for c in checks]
    return set.intersection(*sets) if sets else set()


class ApplyMitigationScreen(DefenderModal[str | None]):
    """Dismisses with the started task's id, or None when closed without starting one."""

    DEFAULT_CSS = """
    ApplyMitigationScreen { align: center middle; }
    ApplyMitigationScreen > Vertical { width: 76; max-width: 98%; height: auto; max-height: 96%;
        border: thick $warning; background: $surface; padding: 0 1; }
    ApplyMitigationScreen #actions { height: auto; max-height: 6; }
    ApplyMitigationScreen #summary { height: auto; max-height: 11; overflow-y: auto; }
    ApplyMitigationScreen #message { height: auto; color: $error; }
    ApplyMitigationScreen #hint { color: $text-muted; height: 1; }
    """
    # Enter has priority: inside the SelectionList it would only toggle an option, and space does that.
    BINDINGS: ClassVar = [
        Binding("enter", "apply", "Apply", id="apply-mitigation-apply", priority=True),
        Binding("ctrl+s", "apply", "Apply", id="apply-mitigation-save"),
        Binding("escape", "close", "Cancel", id="apply-mitigation-cancel"),
    ]

    def __init__(self, findings: list[Finding], dd: DefenderClient) -> None:
        super().__init__()
        self.findings = findings
        self.dd = dd
        self._actions: dict[str, MitigationAction] = {}
        self._picked: list[str] = []  # action names in the order the user picked them
        self._starting = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Apply mitigation", style="bold"), id="title")
            yield SelectionList[str](id="actions")
            yield Static(Text("Loading mitigation actions…"), id="message")
            yield Static(Text(""), id="summary")
            yield Static(Text("space pick · enter apply · escape cancel"), id="hint")

    def on_mount(self) -> None:
        self._update_summary()
        self.run_worker(self._load(), group="apply-load", exclusive=True, exit_on_error=False)

    async def _load(self) -> None:
        try:
            listed = await self.dd.list_mitigation_actions()
            # A list item carries no type; describing each gives it (an account has few actions).
            described = await asyncio.gather(*(self.dd.describe_mitigation_action(a.name) for a in listed))
        except AwsError as error:
            self._message(str(error))
            return
        types = applicable_types(self.findings)
        self._actions = {a.name: a for a in described if a.action_type in types}
        options = self.query_one("#actions", SelectionList)
        options.clear_options()
        options.add_options(
            Selection(Text(f"{a.name} ({a.action_type})"), a.name) for a in self._actions.values()
        )
        if self._actions:
            self._message("")
            options.highlighted = 0  # so space picks straight away
            options.focus()
        else:
            wanted = ", ".join(sorted(types)) or "none"
            self._message(
                f"No mitigation action applies to these findings (types that would: {wanted}). "
                "Create one in the Mitigation pane (4, then n)."
            )

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "apply-start":
            self._starting = False  # escape and apply work again; the picked actions stay
        if state == WorkerState.ERROR:
            self._message(error_text(worker))

    def _message(self, message: str) -> None:
        self.query_one("#message", Static).update(Text(message))

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        selected = list(event.selection_list.selected)
        self._picked = [n for n in self._picked if n in selected] + [
            n for n in selected if n not in self._picked
        ]
        self._update_summary()

    def _update_summary(self) -> None:
        count = len(self.findings)
        body = Text(f"{count} finding{'s' if count != 1 else ''} on:\n")
        for finding in self.findings[:RESOURCES_SHOWN]:
            body.append(f"  {finding.resource.readable} ({check_info(finding.check_name).title})\n")
        if count > RESOURCES_SHOWN:
            body.append(f"  +{count - RESOURCES_SHOWN} more\n")
        if self._picked:
            body.append("Actions, in order:\n")
            for n, name in enumerate(self._picked, 1):
                body.append(f"  {n}. {name} ({self._actions[name].action_type})\n")
        else:
            body.append("No action picked yet.")
        self.query_one("#summary", Static).update(body.rstrip() or body)

    def mapping(self) -> dict[str, list[str]]:
        return {check: list(self._picked) for check in dict.fromkeys(f.check_name for f in self.findings)}

    def action_apply(self) -> None:
        if self._starting:
            return
        if not self._picked:
            self._message("Pick at least one action (space).")
            return
        if len(self.findings) > MAX_FINDINGS:
            self._message(
                f"AWS takes at most {MAX_FINDINGS} findings per task; {len(self.findings)} selected."
            )
            return
        # What will happen, named: each action's effect, then the resources it falls on.
        body = Text(f"Apply {len(self._picked)} action(s) to {len(self.findings)} finding(s):\n")
        for n, name in enumerate(self._picked, 1):
            action = self._actions[name]
            # An unknown action type's params stay a dict, with no summary.
            effect = getattr(action.params, "summary", None) or action.action_type
            body.append(f"  {n}. {name}: {effect}\n")
        body.append("on:\n")
        for finding in self.findings[:RESOURCES_SHOWN]:
            body.append(f"  {finding.resource.readable}\n")
        if len(self.findings) > RESOURCES_SHOWN:
            body.append(f"  +{len(self.findings) - RESOURCES_SHOWN} more\n")
        body.append("This changes resources in the account.")
        self.app.push_screen(ConfirmModal("Apply mitigation", body, "Apply"), self._confirmed)

    def _confirmed(self, answer: bool | None) -> None:
        if answer and not self._starting:
            self._starting = True
            self._message("Starting…")
            self.run_worker(self._start(), group="apply-start", exclusive=True, exit_on_error=False)

    async def _start(self) -> None:
        target = {"findingIds": [f.finding_id for f in self.findings]}
        try:
            start = await self.dd.start_mitigation_task(target, self.mapping())
        except (AwsError, ReadOnlyError) as error:
            self._message(str(error))  # the selection stays, so the user can fix and retry
            self._starting = False
            return
        self.app.notify(started_message(start), markup=False)
        self.app.bell()
        defender(self.app).track_task("mitigation", start.task_id)  # tells the outcome
        self.dismiss(start.task_id)

    def action_close(self) -> None:
        if not self._starting:
            self.dismiss(None)
