"""A stand-in for DefenderApp in tests that mount one pane, screen or modal: the app contract
(iot_defender_tui/ui/contract.py) and nothing else, recording what the part asked of the app."""

from __future__ import annotations

from textual import events
from textual.app import App
from textual.worker import Worker, WorkerState

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.config import Settings
from iot_defender_tui.ui.contract import TaskKind
from iot_defender_tui.ui.memory import MemoryPolicy
from iot_defender_tui.ui.screen import error_text
from iot_defender_tui.ui.type_ahead import hand_over


class StandIn(App[None]):
    read_only_reason = "started with --read-only"

    def __init__(
        self, dd: DefenderClient | None = None, read_only: bool = False, settings: Settings | None = None
    ) -> None:
        super().__init__()
        self.dd = dd
        self.read_only = read_only
        self.settings = settings or Settings()
        self.memory = MemoryPolicy()
        self.history = None  # no audit history unless a test gives one
        self.contexts: list[Context] = []  # no named contexts: client_for is not asked
        self.errors: list[str] = []  # the status line's messages, worker errors included
        self.tracked: list[tuple[str, str]] = []
        self.tracked_in: list[str | None] = []  # the context each tracked task was started in, if given
        self.panes_shown: list[str] = []

    def show_error(self, message: str) -> None:
        self.errors.append(message)

    def on_key(self, event: events.Key) -> None:
        hand_over(self, event)  # as the app does: keys typed as a form opens are the form's

    def report_worker(self, worker: Worker, state: WorkerState) -> None:
        if state == WorkerState.ERROR:
            self.errors.append(error_text(worker))

    def track_task(
        self,
        kind: TaskKind,
        task_id: str,
        *,
        client: DefenderClient | None = None,
        context: str | None = None,
    ) -> None:
        self.tracked.append((kind, task_id))
        self.tracked_in.append(context)

    def action_show_pane(self, pane_id: str) -> None:
        self.panes_shown.append(pane_id)

    async def client_for(self, context: Context) -> DefenderClient:
        raise LookupError(f"the stand-in has no context {context.name!r}")
