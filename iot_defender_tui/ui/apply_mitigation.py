"""Apply mitigation actions to the marked findings: pick actions per check, see exactly what will change,
confirm.

StartAuditMitigationActionsTask maps each audit check to its own actions, so the dialog groups the marked
findings by check and offers, under each check, only the actions whose type applies to it (per the
catalogue): a certificate check gets its deactivation while a logging check gets its logging action, in
one task. A check left without a pick is left out of the task with its findings, and the confirmation
says so. The task id is derived from the request by the AWS layer, so confirming the same picks while
their task runs finds that task instead of starting another; once it has ended, applying again starts a
new one. The notification says which.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import Worker, WorkerState

from ..aws.client import DefenderClient
from ..aws.client_mitigation import MitigationStart
from ..aws.errors import AwsError
from ..aws.guard import ReadOnlyError
from ..aws.models import Finding
from .apply_checks import ApplyConfirm, CheckActions, group_by_check, option_label
from .contract import defender
from .format import plural
from .screen import DefenderModal, error_text

MAX_FINDINGS = 25  # AWS's limit on findingIds in one StartAuditMitigationActionsTask
MAX_ACTIONS_PER_CHECK = 5  # AWS's limit on the actions mapped to one check


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


class ApplyMitigationScreen(DefenderModal[str | None]):
    """Dismisses with the started task's id, or None when closed without starting one."""

    DEFAULT_CSS = """
    ApplyMitigationScreen { align: center middle; }
    ApplyMitigationScreen > Vertical { width: 76; max-width: 98%; height: auto; max-height: 96%;
        border: thick $warning; background: $surface; padding: 0 1; }
    ApplyMitigationScreen #checks { height: auto; }
    ApplyMitigationScreen .check-heading { height: 1; text-wrap: nowrap; text-overflow: ellipsis;
        text-style: bold; }
    ApplyMitigationScreen .check-actions { border: none; padding: 0 0 0 1; }
    ApplyMitigationScreen .check-actions:focus { border: none; border-left: outer $accent; padding: 0; }
    ApplyMitigationScreen .check-note { height: auto; padding: 0 0 0 2; color: $text-muted; }
    ApplyMitigationScreen #summary { height: auto; max-height: 4; }
    ApplyMitigationScreen #message { height: auto; color: $error; }
    ApplyMitigationScreen #hint { color: $text-muted; height: 1; }
    """
    # Enter has priority: inside a SelectionList it would only toggle an option, and space does that.
    BINDINGS: ClassVar = [
        Binding("enter", "apply", "Apply", id="apply-mitigation-apply", priority=True),
        Binding("ctrl+s", "apply", "Apply", id="apply-mitigation-save"),
        Binding("escape", "close", "Cancel", id="apply-mitigation-cancel"),
    ]

    def __init__(self, findings: list[Finding], dd: DefenderClient) -> None:
        super().__init__()
        self.findings = findings
        self.dd = dd
        self.groups = group_by_check(findings)
        self._starting = False

    def compose(self) -> ComposeResult:
        count = plural(len(self.findings), "finding")
        checks = plural(len(self.groups), "check")
        with Vertical():
            yield Static(Text(f"Apply mitigation · {count} of {checks}", style="bold"), id="title")
            with VerticalScroll(id="checks", can_focus=False):
                for index, group in enumerate(self.groups):
                    heading = f"{group.title} · {plural(len(group.findings), 'finding')}: {group.resources()}"
                    yield Static(Text(heading), classes="check-heading", id=f"heading-{index}")
                    yield CheckActions(group, index)
                    note = Static(Text(""), classes="check-note", id=f"note-{index}")
                    note.display = False  # until it has something to say
                    yield note
            yield Static(Text("Loading mitigation actions…"), id="message")
            yield Static(Text(""), id="summary")
            hint = "space pick · tab next check · enter apply · esc cancel"  # fits 60 columns
            yield Static(
                Text(hint if len(self.groups) > 1 else hint.replace(" · tab next check", "")), id="hint"
            )

    def on_mount(self) -> None:
        self._update_summary()
        self.run_worker(self._load(), group="apply-load", exclusive=True, exit_on_error=False)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        """The checks' list takes the rows the title, message, summary and hint leave, so those stay on
        screen (at 60x20 with five checks the hint and the reason nothing applies fell off the dialog)."""
        frame = self.query_one("#title").parent
        assert frame is not None
        parts = ("title", "message", "summary", "hint")
        around = sum(self.query_one(f"#{name}").outer_size.height for name in parts)
        docked = sum(w.outer_size.height for w in self.children if w.styles.is_docked)  # the key hints
        room = int((self.size.height - docked) * 0.96) - frame.styles.gutter.height - around
        self.query_one("#checks").styles.max_height = max(3, room)

    async def _load(self) -> None:
        try:
            listed = await self.dd.list_mitigation_actions()
            # A list item carries no type; describing each gives it (an account has few actions).
            described = await asyncio.gather(*(self.dd.describe_mitigation_action(a.name) for a in listed))
        except AwsError as error:
            self._message(str(error))
            return
        first: CheckActions | None = None
        for index, group in enumerate(self.groups):
            group.offered = {a.name: a for a in described if a.action_type in group.types}
            options = self.query_one(f"#actions-{index}", CheckActions)
            options.clear_options()
            options.add_options(Selection(option_label(a, None), a.name) for a in group.offered.values())
            options.display = bool(group.offered)
            if group.offered:
                options.highlighted = 0  # so space picks straight away
                first = first or options
            else:
                note = f"No action of type {', '.join(group.types)} yet: left out."
                shown = self.query_one(f"#note-{index}", Static)
                shown.update(Text(note))
                shown.display = True
        if first is not None:
            self._message("")
            first.focus()
        else:  # nothing to pick: the arrows scroll through every check's note
            checks = self.query_one("#checks", VerticalScroll)
            checks.can_focus = True
            checks.focus()
            self.query_one("#hint", Static).update(Text("↑↓ scroll · esc cancel"))
            wanted = ", ".join(sorted({t for g in self.groups for t in g.types})) or "none"
            self._message(
                f"No mitigation action applies to these findings (types that would: {wanted}). "
                "Create one in the Mitigation pane (4, then n)."
            )
        self._update_summary()

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        if worker.group == "apply-start":
            self._starting = False  # escape and apply work again; the picked actions stay
        if state == WorkerState.ERROR:
            self._message(error_text(worker))

    def _message(self, message: str) -> None:
        shown = self.query_one("#message", Static)
        shown.update(Text(message))
        shown.display = bool(message)  # no blank row at 80x24 when there is nothing to say
        self.call_after_refresh(self._fit)

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        options = event.selection_list
        if not isinstance(options, CheckActions):
            return
        group = options.group
        selected = list(options.selected)
        group.picked = [n for n in group.picked if n in selected] + [
            n for n in selected if n not in group.picked
        ]
        # With two picks or more, each says when it runs: AWS applies a check's actions in order.
        for index, name in enumerate(group.offered):
            position = (
                group.picked.index(name) + 1 if name in group.picked and len(group.picked) > 1 else None
            )
            options.replace_option_prompt_at_index(index, option_label(group.offered[name], position))
        self._update_summary()

    def _update_summary(self) -> None:
        """What the task holds so far, and which checks are left out (each check's picks are in its list)."""
        summary = self.query_one("#summary", Static)
        summary.display = any(g.offered for g in self.groups)
        picked = [g for g in self.groups if g.picked]
        if not picked:
            summary.update(Text("Nothing picked yet.", style="italic"))
            self.call_after_refresh(self._fit)
            return
        findings = sum(len(g.findings) for g in picked)
        body = Text.assemble(
            ("Task: ", "bold"), f"{plural(findings, 'finding')} of {plural(len(picked), 'check')}."
        )
        left_out = [g.title for g in self.groups if not g.picked]
        if left_out:
            body.append(" Left out: ", style="bold")
            body.append(", ".join(left_out) + ".")
        summary.update(body)
        self.call_after_refresh(self._fit)

    def mapping(self) -> dict[str, list[str]]:
        """auditCheckToActionsMapping: each check with a pick → its actions, in the order picked."""
        return {g.check: list(g.picked) for g in self.groups if g.picked}

    def targeted(self) -> list[Finding]:
        """The findings the task is started on: those of the checks with a pick."""
        return [f for g in self.groups if g.picked for f in g.findings]

    def action_apply(self) -> None:
        if self._starting:
            return
        if not self.mapping():
            self._message("Pick at least one action (space).")
            return
        crowded = [g.title for g in self.groups if len(g.picked) > MAX_ACTIONS_PER_CHECK]
        if crowded:
            self._message(
                f"AWS takes at most {MAX_ACTIONS_PER_CHECK} actions per check: {', '.join(crowded)}."
            )
            return
        findings = self.targeted()
        if len(findings) > MAX_FINDINGS:
            self._message(f"AWS takes at most {MAX_FINDINGS} findings per task; {len(findings)} selected.")
            return
        self._message("")
        self.app.push_screen(ApplyConfirm("Apply mitigation", self.confirmation(), "Apply"), self._confirmed)

    def confirmation(self) -> Text:
        """What will happen, named per check: each action's effect, then the resources it falls on."""
        findings, picked = self.targeted(), [g for g in self.groups if g.picked]
        body = Text(
            f"Apply mitigation to {plural(len(findings), 'finding')} of {plural(len(picked), 'check')}:\n"
        )
        for group in picked:
            body.append(f"{group.title} ({plural(len(group.findings), 'finding')}):\n", style="bold")
            for n, name in enumerate(group.picked, 1):
                action = group.offered[name]
                # An unknown action type's params stay a dict, with no summary.
                effect = getattr(action.params, "summary", None) or action.action_type
                body.append(f"  {n}. {name}: {effect}\n")
            body.append(f"  on: {group.resources()}\n")
        left_out = [g for g in self.groups if not g.picked]
        if left_out:
            count = sum(len(g.findings) for g in left_out)
            body.append(f"Left out, no action picked ({plural(count, 'finding')}): ", style="bold")
            body.append(", ".join(g.title for g in left_out) + "\n")
        body.append("This changes resources in the account.")
        return body

    def _confirmed(self, answer: bool | None) -> None:
        if answer and not self._starting:
            self._starting = True
            self._message("Starting…")
            self.run_worker(self._start(), group="apply-start", exclusive=True, exit_on_error=False)

    async def _start(self) -> None:
        target = {"findingIds": [f.finding_id for f in self.targeted()]}
        try:
            start = await self.dd.start_mitigation_task(target, self.mapping())
        except (AwsError, ReadOnlyError) as error:
            self._message(str(error))  # the picks stay, so the user can fix and retry
            self._starting = False
            return
        self.app.notify(started_message(start), markup=False)
        self.app.bell()
        defender(self.app).track_task("mitigation", start.task_id)  # tells the outcome
        self.dismiss(start.task_id)

    def action_close(self) -> None:
        if not self._starting:
            self.dismiss(None)
