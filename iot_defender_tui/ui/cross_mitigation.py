"""Apply one mitigation action to marked findings of several contexts (issue 17): the plan per context,
the action made present where it is missing, one confirmation, then one task per context.

The marked findings come grouped per context (account-region). Each context's actions are listed with its
own client; the actions offered are those whose type applies to the check, found in any context. Where the
chosen action is missing, `c` creates it there with the same parameters (cross_create.py). `enter` shows
every context and count in one confirmation; only then is one StartAuditMitigationActionsTask sent per
context, each through that context's client (journaled there; a read-only context's guard refuses it,
shown as refused while the others start). The tasks are followed by the app's tracker, with their
context's client. The screen starts tasks once: a repeated key never starts a second set.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ..aws.catalogue import check_info
from ..aws.contexts import Context
from ..aws.errors import AwsError
from ..aws.guard import ReadOnlyError
from ..aws.models import Finding, MitigationAction
from ..aws.survey import survey
from .apply_checks import ApplyConfirm
from .apply_mitigation import MAX_FINDINGS, started_message
from .contract import defender
from .cross_create import create_body, create_missing
from .cross_plan import ContextPlan, plan_line
from .format import plural
from .modals import ConfirmModal
from .screen import DefenderModal, error_text

if TYPE_CHECKING:
    from ..aws.client import DefenderClient


class CrossMitigationScreen(DefenderModal[None]):
    DEFAULT_CSS = """
    CrossMitigationScreen { align: center middle; }
    CrossMitigationScreen > Vertical { width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 0 1; }
    CrossMitigationScreen #cross-actions { height: auto; max-height: 5; }
    CrossMitigationScreen #cross-plan { height: auto; max-height: 10; }
    CrossMitigationScreen #cross-plan-body { height: auto; }
    CrossMitigationScreen #cross-message { height: auto; max-height: 3; color: $error; }
    CrossMitigationScreen #cross-hint { height: 1; color: $text-muted; }
    """
    BINDINGS: ClassVar = [
        # Priority: the list's own enter would only highlight the action.
        Binding("enter", "apply", "Apply", id="cross-mitigation-apply", priority=True),
        Binding("c", "create_missing", "Create missing", id="cross-mitigation-create"),
        Binding("escape", "close", "Close", id="cross-mitigation-close"),
    ]

    def __init__(self, check_name: str, plan: list[tuple[Context, str, list[Finding]]]) -> None:
        super().__init__()
        self.check_name = check_name
        self.plans = [ContextPlan(context, account, findings) for context, account, findings in plan]
        self.offered: dict[str, MitigationAction] = {}  # name → the first context's action of that name
        self.elsewhere: dict[str, MitigationAction] = {}  # the shown context's, when no plan is in it
        self.busy = False
        self.started = False  # once: a repeated enter never starts a second set of tasks

    @property
    def chosen(self) -> str | None:
        options = self.query_one("#cross-actions", OptionList)
        if options.highlighted is None or not options.option_count:
            return None
        return options.get_option_at_index(options.highlighted).id

    def compose(self) -> ComposeResult:
        findings = sum(len(p.findings) for p in self.plans)
        title = (
            f"Mitigate {check_info(self.check_name).title}: {plural(findings, 'finding')} "
            f"in {plural(len(self.plans), 'context')}"
        )
        with Vertical():
            yield Static(Text(title, style="bold"), id="cross-mitigation-title")
            yield OptionList(id="cross-actions")
            with VerticalScroll(id="cross-plan", can_focus=False):
                yield Static(Text(""), id="cross-plan-body")
            yield Static(Text("Listing each context's mitigation actions…"), id="cross-message")
            yield Static(Text("↑↓ action · c create missing · enter apply · esc close"), id="cross-hint")

    def on_mount(self) -> None:
        super().on_mount()
        self._show_plan()
        self.query_one("#cross-actions", OptionList).focus()
        self.run_worker(self._load(), group="cross-mitigation-load", exclusive=True, exit_on_error=False)

    # -- reading ----------------------------------------------------------------------------------
    async def _load(self) -> None:
        by_name = {p.context.name: p for p in self.plans}
        async with contextlib.aclosing(survey([p.context for p in self.plans], self._actions_of)) as ends:
            async for context, result in ends:
                plan = by_name[context.name]
                if isinstance(result, AwsError):
                    plan.error = result.text
                else:
                    plan.actions = result
                self._offer()
                self._show_plan()
        shown = defender(self.app).dd
        if shown is not None and all(p.client is not shown for p in self.plans):
            # The context shown may hold the action to copy (made in its Mitigation pane) without a
            # marked finding of its own.
            with contextlib.suppress(AwsError):
                self.elsewhere = await self._described(shown)
                self._offer()
                self._show_plan()
        self._message("" if self.offered else self._nothing_applies())

    async def _actions_of(self, context: Context) -> dict[str, MitigationAction]:
        dd = await defender(self.app).client_for(context)
        next(p for p in self.plans if p.context is context).client = dd
        return await self._described(dd)

    async def _described(self, dd: DefenderClient) -> dict[str, MitigationAction]:
        listed = await dd.list_mitigation_actions()
        # A list item carries no type; describing each gives it (an account has few actions).
        described = await asyncio.gather(*(dd.describe_mitigation_action(a.name) for a in listed))
        return {a.name: a for a in described}

    def _offer(self) -> None:
        types = check_info(self.check_name).action_types
        before = self.chosen
        for actions in [*(plan.actions or {} for plan in self.plans), self.elsewhere]:
            for action in actions.values():
                if action.action_type in types and action.name not in self.offered:
                    self.offered[action.name] = action
        options = self.query_one("#cross-actions", OptionList)
        options.clear_options()
        for name, action in sorted(self.offered.items()):
            present = sum(1 for p in self.plans if p.has(name))
            label = Text(f"{name} ({action.action_type}) · in {present}/{len(self.plans)} contexts")
            options.add_option(Option(label, id=name))
        if self.offered:
            names = sorted(self.offered)
            options.highlighted = names.index(before) if before in names else 0

    def _nothing_applies(self) -> str:
        wanted = ", ".join(check_info(self.check_name).action_types) or "none"
        return f"No context has an action of a type for this check ({wanted}): create one in Mitigation (4)."

    # -- what is shown ------------------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#cross-actions")
    def _show_plan(self) -> None:
        body = Text("\n").join(plan_line(p, self.chosen) for p in self.plans)
        self.query_one("#cross-plan-body", Static).update(body)

    def refresh_plan(self) -> None:
        """The offered actions' counts and every context's line, after a change (cross_create.py)."""
        self._offer()
        self._show_plan()

    def _message(self, message: str) -> None:
        shown = self.query_one("#cross-message", Static)
        shown.update(Text(message))
        shown.display = bool(message)

    def worker_ended(self, worker: Worker, state: WorkerState) -> None:
        self.busy = False
        self._message(error_text(worker))

    # -- keys ---------------------------------------------------------------------------------------
    def action_create_missing(self) -> None:
        action = self.chosen
        if self.busy or self.started or action is None:
            return
        missing = [p for p in self.plans if p.actions is not None and not p.has(action)]
        if not missing:
            self._message(f"{action} is present in every context that could be read.")
            return
        source = self.offered[action]

        def answered(yes: bool | None) -> None:
            if yes and not self.busy and not self.started:
                self.busy = True
                self.run_worker(self._create(source, missing), group="cross-create", exit_on_error=False)

        title = "Create the action where it is missing?"
        self.app.push_screen(ConfirmModal(title, create_body(source, missing), "Create"), answered)

    async def _create(self, source: MitigationAction, missing: list[ContextPlan]) -> None:
        try:
            await create_missing(source, missing, self.refresh_plan)
        finally:
            self.busy = False

    def action_apply(self) -> None:
        if self.started:
            self._message("The tasks were started: close (esc) and mark again to start more.")
            return
        action = self.chosen
        if self.busy or action is None:
            if action is None:
                self._message("No action to apply yet.")
            return
        ready = [p for p in self.plans if p.has(action)]
        if not ready:
            self._message(f"{action} is in none of these contexts: c creates it.")
            return
        crowded = [p.label for p in ready if len(p.findings) > MAX_FINDINGS]
        if crowded:
            self._message(f"AWS takes at most {MAX_FINDINGS} findings per task: {', '.join(crowded)}.")
            return
        self.app.push_screen(
            ApplyConfirm("Mitigate across contexts", self.confirmation(action, ready), "Apply"),
            lambda yes: self._confirmed(bool(yes), action, ready),
        )

    def confirmation(self, action: str, ready: list[ContextPlan]) -> Text:
        chosen = self.offered[action]
        effect = getattr(chosen.params, "summary", None) or chosen.action_type or ""
        findings = sum(len(p.findings) for p in ready)
        body = Text(f"Apply {action} ({effect}) to {plural(findings, 'finding')}, one task per context:\n")
        for plan in ready:
            body.append(f"{plan.label}: {plural(len(plan.findings), 'finding')}\n", style="bold")
            body.append(f"  on: {plan.resources()}\n")
        left_out = [p for p in self.plans if p not in ready]
        if left_out:
            count = sum(len(p.findings) for p in left_out)
            body.append(f"Left out, no action there ({plural(count, 'finding')}): ", style="bold")
            body.append(", ".join(p.label for p in left_out) + "\n")
        accounts = len({p.account for p in ready})
        body.append(f"This changes resources in {plural(accounts, 'account')}.")
        return body

    def _confirmed(self, yes: bool, action: str, ready: list[ContextPlan]) -> None:
        if yes and not self.started and not self.busy:
            self.started = self.busy = True
            self._message("Starting…")
            self.run_worker(self._start(action, ready), group="cross-mitigation-start", exit_on_error=False)

    async def _start(self, action: str, ready: list[ContextPlan]) -> None:
        await asyncio.gather(*(self._start_one(plan, action) for plan in ready))
        self.busy = False
        started = sum(1 for p in ready if p.task_id)
        self._message("" if started == len(ready) else f"{len(ready) - started} of {len(ready)} refused.")
        self.app.notify(f"Mitigation: {started} of {plural(len(ready), 'task')} started", markup=False)
        self.app.bell()

    async def _start_one(self, plan: ContextPlan, action: str) -> None:
        dd = plan.client
        assert dd is not None  # listed its actions, so it has its client
        target = {"findingIds": [f.finding_id for f in plan.findings]}
        try:
            start = await dd.start_mitigation_task(target, {self.check_name: [action]})
        except (AwsError, ReadOnlyError) as error:
            plan.outcome = f"refused: {error}"
        else:
            plan.task_id = start.task_id
            plan.outcome = started_message(start)
            defender(self.app).track_task("mitigation", start.task_id, client=dd, context=plan.context.name)
        self._show_plan()

    def action_close(self) -> None:
        if not self.busy:
            self.dismiss(None)
