"""What a pane, screen or modal may use of the app, typed: the contract between `DefenderApp` and its parts.

Parts reach the app through `defender(self.app)` instead of `self.app.<attribute>`: Textual types
`self.app` as a plain `App`, and a Protocol (rather than importing `DefenderApp`) keeps the parts free of
app.py, which imports them. Test stand-ins implement the same members.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol, cast

if TYPE_CHECKING:
    from textual.app import App
    from textual.widget import Widget
    from textual.worker import Worker, WorkerState

    from ..aws.client import DefenderClient
    from ..aws.contexts import Context
    from ..config import Settings
    from .history_link import HistoryLink
    from .memory import MemoryPolicy

TaskKind = Literal["audit", "mitigation"]


class DefenderAppContract(Protocol):
    # The active context's client; None until connected: panes are only shown once it is set.
    dd: DefenderClient | None
    settings: Settings
    read_only: bool  # from the flag, the settings or an unavailable journal; the client enforces it
    read_only_reason: str  # why, for the refusal message
    memory: MemoryPolicy  # the process's GC policy: a load says what it keeps, never calls gc itself
    # The audit history of the connected account and region; None without one (unavailable, not yet known).
    history: HistoryLink | None
    # Every known context (config, --region list, discovery), in that order; empty without any. The
    # Fleet overview reads each of them.
    contexts: list[Context]

    def show_error(self, message: str) -> None:
        """The status line, in red, until the next error or a recovery clears it."""

    def report_worker(self, worker: Worker, state: WorkerState) -> None:
        """A worker's end: errors go to the status line. Called for every worker of every part."""

    def track_task(
        self,
        kind: TaskKind,
        task_id: str,
        *,
        client: DefenderClient | None = None,
        context: str | None = None,
    ) -> None:
        """Follow a started task to its end whatever is shown; the outcome is notified. A task started in
        another context than the one shown (the cross-context mitigation) gives that context's `client`
        and name: it is followed there and its outcome names the context."""

    def action_show_pane(self, pane_id: str) -> None:
        """Show a pane by id (settings, schedules, results, mitigation)."""

    async def client_for(self, context: Context) -> DefenderClient:
        """That context's open client (opened on first use, kept while the app runs, closed when it
        ends), whether or not it is the one shown. Raises the mapped AwsError when it cannot be opened."""


def defender(app: App) -> DefenderAppContract:
    return cast("DefenderAppContract", app)


class PaletteHost(Protocol):
    """What the command palette (commands.py) uses of the app besides Textual's `App`."""

    pane_keys: list[tuple[str, str, str]]  # (pane id, key, label), in tab order

    def pane_type(self, pane_id: str) -> type[Widget]:
        """A pane's class, composed or not (the palette reads its BINDINGS)."""

    def current_pane(self) -> Widget | None:
        """The pane shown, once connected."""

    async def show_pane_ready(self, pane_id: str) -> Widget | None:
        """Show a pane (composing it the first time) and return it once the focus is in it; None while
        not connected (it is shown once connected)."""


def palette_host(app: App) -> PaletteHost:
    return cast("PaletteHost", app)
