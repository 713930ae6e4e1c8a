"""The Mitigation pane: mitigation actions (create, edit, delete) and mitigation tasks, live while running."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from ...aws.errors import AwsError
from ...aws.models import MitigationAction, MitigationTask
from ..contract import defender
from ..format import when
from ..modals import ConfirmModal
from ..pane import Pane
from ..readonly import allowed, refuse_key, refused
from ..widgets.fast_table import FastTable
from ..widgets.filter_bar import FilterBar
from .mitigation_delete import DeleteActionConfirm
from .mitigation_forms import ActionForm
from .mitigation_revert import Reverter
from .mitigation_views import (
    ACTION_COLUMNS,
    TASK_COLUMNS,
    ExecutionsScreen,
    Row,
    filter_status,
    status_text,
)

TASK_DAYS = 90
MUTATING = {"new_action", "edit_action", "delete_action", "cancel_task", "revert_task"}


class MitigationPane(Pane):
    title = "Mitigation"

    DEFAULT_CSS = """
    MitigationPane { layout: vertical; }
    MitigationPane .heading { height: 1; text-style: bold; }
    MitigationPane #actions { height: 1fr; min-height: 4; }
    MitigationPane #tasks { height: 1fr; min-height: 4; }
    """
    HEADINGS = {"actions": "Mitigation actions", "tasks": f"Mitigation tasks (last {TASK_DAYS} days)"}
    BINDINGS = [
        Binding("n", "new_action", "New action", id="mitigation-new"),
        Binding("e", "edit_action", "Edit action", id="mitigation-edit"),
        Binding("d", "delete_action", "Delete action", id="mitigation-delete"),
        Binding("c", "cancel_task", "Cancel task", id="mitigation-cancel"),
        Binding("u", "revert_task", "Revert task", id="mitigation-revert"),
        Binding("t", "switch_list", "Actions/tasks", id="mitigation-switch"),
        Binding("slash", "filter", "Filter", id="mitigation-filter"),
        Binding("escape", "clear_filter", "Clear filter", id="mitigation-clear-filter"),
    ]

    def __init__(self, *children, **kwargs) -> None:
        kwargs.setdefault("id", "mitigation")
        super().__init__(*children, **kwargs)
        self.actions: dict[str, MitigationAction] = {}
        self.tasks: dict[str, MitigationTask] = {}
        self.reverter = Reverter(self, self.refresh_then_say)

    def compose(self) -> ComposeResult:
        yield Static(Text(self.HEADINGS["actions"] + " (loading…)"), classes="heading", id="actions-heading")
        yield FastTable(ACTION_COLUMNS, id="actions")
        yield Static(Text(self.HEADINGS["tasks"] + " (loading…)"), classes="heading", id="tasks-heading")
        yield FastTable(TASK_COLUMNS, id="tasks")
        yield FilterBar(id="mitigation-filter")

    # -- filter: the focused list --------------------------------------------------------------------
    def _list(self) -> FastTable:
        bar = self.query_one(FilterBar)
        if bar.has_focus and bar.table is not None:
            return bar.table
        tasks = self.query_one("#tasks", FastTable)
        return tasks if tasks.has_focus else self.query_one("#actions", FastTable)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self._list())

    def action_clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.table = self._list()
        bar.clear_filter()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._headings()

    def _headings(self) -> None:
        for name, heading in self.HEADINGS.items():
            table = self.query_one(f"#{name}", FastTable)
            count = filter_status(table) if self.listed else f" ({self.waiting()})"
            self.query_one(f"#{name}-heading", Static).update(Text(heading + count))

    def show_retries(self) -> None:
        self._headings()

    # -- polling --------------------------------------------------------------------------------------
    def interval(self) -> float:
        return self.settings.mitigation_poll_seconds if self.busy else self.settings.idle_poll_seconds

    async def poll(self) -> None:
        listed = await self.dd.list_mitigation_actions()
        # The list has names only; role and parameters need a describe each. Fast polls (a task running)
        # describe only actions not seen yet: re-describing up to 100 actions every 2 s would spend the
        # DescribeMitigationAction quota on what a running task does not change. Idle polls refresh all.
        known = {} if not self.busy else self.actions
        described = await asyncio.gather(
            *(
                self.dd.describe_mitigation_action(a.name) if a.name not in known else _same(known[a.name])
                for a in listed
            )
        )
        now = datetime.now(UTC)
        found = await self.dd.list_mitigation_tasks(
            now - timedelta(days=TASK_DAYS), now + timedelta(minutes=5)
        )
        # Listed tasks carry no statistics: describe new and unfinished ones (finished ones are final).
        stale = [
            t
            for t in found
            if t.task_id not in self.tasks
            or self.tasks[t.task_id].status != t.status
            or t.status == "IN_PROGRESS"
        ]
        fresh = await asyncio.gather(*(self.dd.describe_mitigation_task(t.task_id) for t in stale))
        tasks = {**self.tasks, **{t.task_id: t for t in fresh}}
        order = sorted(found, key=lambda t: t.start_time or now, reverse=True)
        self.tasks = {t.task_id: tasks[t.task_id] for t in order}
        self.actions = {a.name: a for a in sorted(described, key=lambda a: a.name.lower())}
        self.busy = any(t.status == "IN_PROGRESS" for t in self.tasks.values())
        self.listed = True
        self._show()

    def _show(self) -> None:
        self.query_one("#actions", FastTable).set_rows(
            (n, self._action_row(a)) for n, a in self.actions.items()
        )
        self.query_one("#tasks", FastTable).set_rows((i, self._task_row(t)) for i, t in self.tasks.items())
        self._headings()

    @staticmethod
    def _action_row(a: MitigationAction) -> Row:
        params = a.params
        summary = params.summary if hasattr(params, "summary") else str(params or "")
        role = (a.role_arn or "").rsplit("/", 1)[-1]
        return (Text(a.name), Text(a.action_type or "?"), Text(role), Text(summary))

    @staticmethod
    def _task_row(t: MitigationTask) -> Row:
        s = t.totals
        return (
            Text(t.task_id),
            status_text(t.status),
            Text(f"{s.succeeded}/{s.total}", style="green" if s.succeeded else ""),
            Text(f"{s.failed}/{s.total}", style="red" if s.failed else ""),
            Text(f"{s.skipped}/{s.total}"),
            Text(f"{s.canceled}/{s.total}"),
            Text(when(t.start_time)),
        )

    # -- what is under the cursor ---------------------------------------------------------------------------
    def _current(self, table_id: str) -> str | None:
        key = self.query_one(table_id, FastTable).cursor_key
        return None if key is None else str(key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":  # else escape is the app's (back)
            return bool(self._list().filter_text) or self.query_one(FilterBar).shown
        return allowed(self, action, MUTATING)

    def on_key(self, event: events.Key) -> None:
        refuse_key(self, event, MUTATING)

    def _refuse(self) -> bool:
        return refused(self)

    @property
    def has_unsaved_edits(self) -> bool:
        """An action form with unsaved input is open (the app asks before quitting over it)."""
        return any(isinstance(s, ActionForm) and s.dirty for s in self.app.screen_stack)

    def action_switch_list(self) -> None:
        actions, tasks = self.query_one("#actions", FastTable), self.query_one("#tasks", FastTable)
        (actions if tasks.has_focus else tasks).focus()

    # -- actions: new, edit, delete ----------------------------------------------------------------------
    def _after_form(self, name: str | None) -> None:
        if name:
            self.actions.pop(name, None)  # so a fast poll describes it again
            self.refresh_then_say(f"Saved mitigation action {name}")

    def action_new_action(self) -> None:
        if not self._refuse():
            self.app.push_screen(ActionForm(), self._after_form)

    def action_edit_action(self) -> None:
        if self._refuse():
            return
        name = self._current("#actions")
        if name is None:
            defender(self.app).show_error("No mitigation action to edit.")
            return
        self.app.push_screen(ActionForm(self.actions[name]), self._after_form)

    def action_delete_action(self) -> None:
        if self._refuse():
            return
        name = self._current("#actions")
        if name is None:
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_worker(
                    self._mutate(self.dd.delete_mitigation_action(name), f"Deleted {name}"),
                    group="mitigation-change",
                    exit_on_error=False,
                )

        self.app.push_screen(DeleteActionConfirm(name, self.dd), confirmed)

    # -- tasks: open, cancel ------------------------------------------------------------------------------
    @on(FastTable.Selected, "#tasks")
    def _open_task(self, event: FastTable.Selected) -> None:
        task = self.tasks.get(str(event.key))
        if task is not None:
            self.app.push_screen(ExecutionsScreen(task))

    @on(FastTable.Selected, "#actions")
    def _open_action(self) -> None:
        if not self.read_only:
            self.action_edit_action()

    def action_cancel_task(self) -> None:
        if self._refuse():
            return
        task_id = self._current("#tasks")
        if task_id is None:
            return
        body = Text.assemble(
            "Cancel mitigation task ",
            (task_id, "bold"),
            "?\nActions already applied stay applied; the rest are canceled.",
        )

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_worker(
                    self._mutate(self.dd.cancel_mitigation_task(task_id), f"Canceled {task_id}"),
                    group="mitigation-change",
                    exit_on_error=False,
                )

        modal = ConfirmModal("Cancel mitigation task?", body, "Cancel task", "Keep it running")
        self.app.push_screen(modal, confirmed)

    def action_revert_task(self) -> None:
        """`u` on a finished task: undo what it did where AWS allows it (mitigation_revert.py)."""
        if self._refuse():
            return
        task_id = self._current("#tasks")
        if task_id is None:
            defender(self.app).show_error("No mitigation task to revert: move to one in the tasks list.")
            return
        self.reverter.start(task_id)

    async def _mutate(self, call, done: str) -> None:
        try:
            await call
        except AwsError as err:
            defender(self.app).show_error(err.text)
            return
        self.refresh_then_say(done)


async def _same(value: MitigationAction) -> MitigationAction:
    return value
