"""One context's workspace: its four panes in tabs, and its own client, identity, history and connection.

The app holds one workspace per context it has shown (aws/contexts.py; a single one without named
contexts), only the active one displayed. A hidden workspace keeps its widgets, so switching back shows
its panes as they were left; its panes are paused (they do not poll).
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.timer import Timer
from textual.widgets import Static, TabbedContent, TabPane
from textual.worker import Worker

if TYPE_CHECKING:
    from ..aws.client import DefenderClient
    from ..aws.models import Identity
    from ..aws.session import ConnectionSettings
    from .history_link import HistoryLink
    from .pane import Pane

# (pane id, key, tab label, module, class)
PANES = (
    ("settings", "1", "Settings", "iot_defender_tui.ui.panes.settings", "SettingsPane"),
    ("schedules", "2", "Schedules", "iot_defender_tui.ui.panes.schedules", "SchedulesPane"),
    ("results", "3", "Results", "iot_defender_tui.ui.panes.results", "ResultsPane"),
    ("mitigation", "4", "Mitigation", "iot_defender_tui.ui.panes.mitigation", "MitigationPane"),
    # Every context's posture: the same in each workspace, enter switches to the row's context.
    ("overview", "0", "Overview", "iot_defender_tui.ui.panes.overview", "OverviewPane"),
)


def pane_class(pane_id: str) -> type[Pane]:
    for known, _key, _label, module, name in PANES:
        if known == pane_id:
            return getattr(importlib.import_module(module), name)
    raise KeyError(pane_id)


class Workspace(Container):
    """Found by panes as their ancestor (`is_workspace`): a pane always talks to its own context's client."""

    is_workspace = True
    DEFAULT_CSS = "Workspace { height: 1fr; }"

    def __init__(
        self,
        connection: ConnectionSettings,
        *,
        first_pane: str,
        read_only: bool,
        read_only_reason: str,
        id: str,
    ) -> None:
        super().__init__(id=id)
        self.connection = connection
        self.context_name = connection.context  # None: the implicit context (no named contexts)
        self.first_pane = first_pane
        self.read_only = read_only
        self.read_only_reason = read_only_reason
        self.dd: DefenderClient | None = None  # None until connected: the panes are shown once it is set
        self.identity: Identity | None = None
        self.history: HistoryLink | None = None
        self.panes_shown = False  # until connected and the tabs are shown, a pane key is only noted
        self.wanted_pane: str | None = None
        self.connect_failures = 0
        self.retry_delay = 0.0
        self.retry_timer: Timer | None = None
        self.connect_worker: Worker | None = None
        self.connect_error: str | None = None  # the last failed connection's message, said again on return
        self.request_failures = 0  # requests in a row that could not reach the endpoint: the header
        # What the header shows of this context, kept while another is shown.
        self.account = "…"
        self.arn = ""
        self.aws_region = connection.region
        self.conn_state = "connecting"
        self.last_refresh: datetime | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Connecting to AWS…"), id="connecting")
        # Hidden, and no pane polls, until the client is open. Only the first pane is composed now; the
        # others when first shown (DefenderApp._compose_pane).
        with TabbedContent(id="tabs", initial=f"tab-{self.first_pane}"):
            for pane_id, key, label, _, _ in PANES:
                with TabPane(f"{key} {label}", id=f"tab-{pane_id}"):
                    if pane_id == self.first_pane:
                        yield pane_class(pane_id)(id=pane_id)

    def connecting_text(self, text: str) -> None:
        for shown in self.query("#connecting").results(Static):
            shown.update(Text(text))

    def stop_retrying(self) -> None:
        if self.retry_timer is not None:
            self.retry_timer.stop()
            self.retry_timer = None
