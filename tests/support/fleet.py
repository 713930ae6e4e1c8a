"""A stand-in app with contexts, for the Fleet overview: the app contract's `contexts` and `client_for`
(one client per context of one sandbox, opened when first asked, closed with the app), the app's `r`,
and the contexts chosen with enter. tests/ui/test_overview.py and the benchmark (tests/perf) use it."""

from __future__ import annotations

import contextlib

from textual.app import ComposeResult
from textual.binding import Binding

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.aws.session import ConnectionSettings, Tuning, create_session
from iot_defender_tui.config import Settings
from iot_defender_tui.ui.messages import ContextChosen
from iot_defender_tui.ui.panes.overview import OverviewPane
from iot_defender_tui.ui.widgets.footer import Footer
from tests.support.standin import StandIn


class FleetApp(StandIn):
    """The app contract with contexts: one client per context of the sandbox, opened when first asked;
    `r` refreshes the pane as DefenderApp's does."""

    BINDINGS = [Binding("r", "refresh", "Refresh", id="refresh")]

    def __init__(
        self,
        url: str,
        contexts: list[Context],
        tuning: Tuning | None = None,
        *,
        read_at_once: bool = True,
        share_sessions: bool = True,
    ) -> None:
        super().__init__(settings=Settings())
        self.url, self.tuning = url, tuning
        # One botocore session per profile and role, shared by its contexts' clients (as the app should).
        self.share_sessions = share_sessions
        self.sessions: dict[tuple[str | None, str | None], object] = {}
        self.read_at_once = read_at_once  # False: the caller starts the first read (the benchmark times it)
        self.contexts = contexts
        self.clients: dict[str, DefenderClient] = {}
        self.opened = 0
        self.asked = 0  # client_for calls: one per context read
        self.chosen: list[str] = []
        self._stack = contextlib.AsyncExitStack()

    async def client_for(self, context: Context) -> DefenderClient:
        self.asked += 1
        if context.name not in self.clients:
            settings = ConnectionSettings(
                profile=context.profile, region=context.region, endpoint_url=self.url, context=context.name
            )
            session = None
            if self.share_sessions:
                key = (context.profile, context.role_arn)
                if key not in self.sessions:
                    self.sessions[key] = create_session(settings)  # AwsError for an unknown profile
                session = self.sessions[key]
            client = DefenderClient(settings, tuning=self.tuning, session=session)
            self.clients[context.name] = await self._stack.enter_async_context(client)
            self.opened += 1
        return self.clients[context.name]

    def compose(self) -> ComposeResult:
        yield OverviewPane()
        yield Footer()  # the app's own, as DefenderApp has it

    def on_mount(self) -> None:
        pane = self.query_one(OverviewPane)
        if self.read_at_once:
            pane.refresh_now()
        pane.focus_target().focus()

    async def on_unmount(self) -> None:
        await self._stack.aclose()

    def action_refresh(self) -> None:
        self.query_one(OverviewPane).refresh_now()

    def on_context_chosen(self, message: ContextChosen) -> None:
        self.chosen.append(message.context_name)
