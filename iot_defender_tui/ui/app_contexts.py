"""The app's contexts (issue 17): one workspace per context shown, one client per context, and switching.

Connecting is per workspace: each shows its own "Connecting…"/retry text, and a context that fails
(bad credentials, AccessDenied) keeps its error there while the user switches away. Only the active
workspace retries by itself; a hidden one retries when shown again.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack, suppress
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import App
from textual.widgets import Static, TabbedContent

from ..aws.client import DefenderClient, reconcile_journal
from ..aws.errors import AwsError
from ..aws.organization import organization_contexts
from ..aws.ratelimit import RETRYING
from ..aws.session import create_session
from .context_picker import ContextPicker
from .format import plural
from .header import DefenderHeader
from .history_link import HistoryLink
from .messages import ContextChosen
from .pane import Pane
from .workspace import Workspace

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

    from ..aws.contexts import Context
    from ..aws.journal import Journal
    from ..aws.session import ConnectionSettings, Tuning
    from ..config import OrganizationSettings, Settings
    from ..history.store import AuditStore
    from .panes.results import ResultsPane

NO_CONTEXTS = "No contexts: add [[contexts]] to config.toml or start with --region a,b"
OVERVIEW = "overview"  # the pane of every context's posture (panes/overview.py)


class ContextsMixin(App):
    """DefenderApp's connection and contexts; the attributes below are DefenderApp's."""

    contexts: list[Context]
    organization: OrganizationSettings | None  # its accounts become contexts once listed
    open_context: str | None  # --context naming one of the organization's contexts: switched to once listed
    workspace: Workspace  # the active one
    workspaces: dict[str | None, Workspace]  # by context name (None: the implicit context)
    settings: Settings
    journal: Journal | None
    journal_problem: str | None
    tuning: Tuning | None
    open_task: str | None
    history_store: AuditStore | None
    _base: ConnectionSettings  # the flags' connection, before any context's profile, region, read-only
    _clients: dict[str | None, DefenderClient]
    _client_stacks: dict[str | None, AsyncExitStack]
    _client_locks: dict[str | None, asyncio.Lock]
    _sessions: dict[tuple[str | None, str | None], AioSession]
    connect_retry: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0, 30.0)  # pauses before retries; the last repeats

    # -- clients -------------------------------------------------------------------------------------
    async def client_for(self, context: Context) -> DefenderClient:
        """The open client of a context, opened on first use (in the running loop) and kept until the app
        ends. Raises the mapped AwsError when it cannot be opened."""
        shown = self.workspaces.get(context.name)
        connection = shown.connection if shown is not None else self._base.for_context(context)
        return await self._client(context.name, connection)

    async def _client(self, key: str | None, connection: ConnectionSettings) -> DefenderClient:
        lock = self._client_locks.setdefault(key, asyncio.Lock())
        async with lock:  # two callers at once share one client
            if key in self._clients:
                return self._clients[key]
            stack = AsyncExitStack()
            try:
                client = DefenderClient(
                    connection,
                    self.journal,
                    tuning=self.tuning,
                    journal_problem=self.journal_problem,
                    session=self._session_for(connection),
                )
                dd = await stack.enter_async_context(client)
            except BaseException:
                with suppress(Exception):
                    await stack.aclose()
                raise
            self._clients[key], self._client_stacks[key] = dd, stack
            return dd

    def _session_for(self, connection: ConnectionSettings) -> AioSession | None:
        """One botocore session per profile and role, shared by the clients of its regions: each session
        loads botocore's models itself (0.1-0.3 s a client), which took the overview of 50 account-regions
        from ~2 s to ~9 s. A session that cannot be made (an unknown profile) is left to the client, which
        reports it as its error."""
        key = (connection.profile, connection.role_arn)
        if key not in self._sessions:
            try:
                self._sessions[key] = create_session(connection)
            except AwsError:
                return None
        return self._sessions[key]

    async def _drop_client(self, key: str | None) -> None:
        """A client whose identity failed: the retry opens a new one (fixed credentials are read again)."""
        self._clients.pop(key, None)
        stack = self._client_stacks.pop(key, None)
        if stack is not None:
            with suppress(Exception):
                await stack.aclose()

    async def _close_clients(self) -> None:
        for key in list(self._client_stacks):
            await self._drop_client(key)

    # -- connecting a workspace ----------------------------------------------------------------------
    def _header(self) -> DefenderHeader:
        return self.query_one(DefenderHeader)

    def _set_state(self, ws: Workspace, state: str) -> None:
        ws.conn_state = state
        if ws is self.workspace:
            self._header().set_state(state)

    def _start_connect(self, ws: Workspace | None = None) -> None:
        ws = ws or self.workspace
        ws.stop_retrying()
        if ws.connect_failures:
            self._set_state(ws, f"retrying ({ws.connect_failures})")
            self._say_connecting(ws, f"Connecting to AWS (retry {ws.connect_failures})…")
        ws.connect_worker = self.run_worker(
            self._connect(ws), name="connect", group="connect", exit_on_error=False
        )

    def _connecting(self, ws: Workspace | None = None) -> bool:
        worker = (ws or self.workspace).connect_worker
        return worker is not None and not worker.is_finished

    def _connecting_text(self, text: str) -> None:
        self.workspace.connecting_text(text)

    def _say_connecting(self, ws: Workspace, text: str) -> None:
        if ws is self.workspace:
            self._connecting_text(text)
        else:
            ws.connecting_text(text)

    def _retry_later(self, ws: Workspace) -> None:
        delay = self.connect_retry[min(ws.connect_failures, len(self.connect_retry) - 1)]
        ws.connect_failures += 1
        ws.retry_delay = delay
        if ws is not self.workspace:  # hidden: retried when shown again
            self._say_connecting(ws, "Cannot connect to AWS (why: E). r retries.")
            return
        ws.retry_timer = self.set_timer(delay, self._start_connect)
        self._connecting_text(f"Cannot connect to AWS (why: below). Retrying in {delay:g} s; r retries now.")

    async def _connect(self, ws: Workspace) -> None:
        throttled = 0

        def retried() -> None:  # AWS throttles the identity call: say so, not a bare "Connecting…"
            nonlocal throttled
            throttled += 1
            self._say_connecting(ws, f"Connecting to AWS… throttled, retrying ({throttled})…")

        RETRYING.set(retried)  # this worker's own context
        deep_link = ws.id == "ws-0" and self.open_task is not None  # `--task` is the first context's
        try:
            dd = await self._client(ws.context_name, ws.connection)
            if not deep_link:
                await self._identify(ws, dd)  # a bad credential shows before any pane polls
        except BaseException as error:
            await self._drop_client(ws.context_name)  # a retry opens a new one
            if isinstance(error, Exception):
                self._set_state(ws, "error")
                self._retry_later(ws)
            raise  # the worker's ERROR reaches show_error with the AwsError's hint
        if ws.connect_failures:
            ws.connect_failures = 0
            ws.connect_error = None
            if ws is self.workspace:
                self.clear_error()  # the failure it reported is over
        ws.dd = dd
        # `--task`: the audit's findings are asked for now, while the panes are first drawn, and the
        # identity (STS client and request, ~0.1 s) after: the first findings row is what the user waits for.
        opening = self._open_task() if deep_link else None
        await self._show_panes(ws)
        if ws.identity is None:
            if opening is not None:
                await opening.opened()
            await self._identify(ws, dd)
        if self.journal is not None:
            self.run_worker(self._reconcile(dd), name="reconcile", group="reconcile", exit_on_error=False)

    def _open_task(self) -> ResultsPane | None:
        pane = next(iter(self.workspace.query("#results").results(Pane)), None) if self.open_task else None
        if pane is None or self.open_task is None:
            return None
        results = cast("ResultsPane", pane)  # the only pane with id "results"
        results.open_audit(self.open_task)
        return results

    async def _identify(self, ws: Workspace, dd: DefenderClient) -> None:
        try:
            identity = await dd.identity()
        except Exception:
            self._set_state(ws, "error")
            raise
        ws.identity = identity
        ws.account, ws.arn, ws.aws_region = identity.account, identity.arn, dd.region or ws.aws_region
        if ws is self.workspace:
            self._header().set_identity(identity.account, identity.arn, dd.region)
        self._set_state(ws, "connected")
        if self.history_store is not None and ws.history is None:
            ws.history = HistoryLink(self.history_store, identity.account, dd.region or "", self.show_error)

    async def _reconcile(self, dd: DefenderClient) -> None:
        assert self.journal is not None
        results = await reconcile_journal(dd, self.journal)
        if results:
            settled = sum(r.closed for r in results)
            rest = " The rest stay unknown: see `iot-defender-tui journal`." if settled < len(results) else ""
            message = f"Journal: {settled} of {plural(len(results), 'unknown outcome')} settled.{rest}"
            self.notify(message, markup=False)

    async def _show_panes(self, ws: Workspace) -> None:
        await ws.query("#connecting").remove()
        ws.query_one(TabbedContent).display = True
        ws.panes_shown = True
        if ws is self.workspace:
            # The pane a key chose while connecting (a key pressed early is not lost, however late in
            # the connection it came), else the deep link's, else the first.
            self.action_show_pane(ws.wanted_pane or ws.first_pane)

    # -- an organization's accounts ------------------------------------------------------------------
    def _discover(self) -> None:
        if self.organization is not None:
            self.run_worker(
                self._list_accounts(), name="organization", group="organization", exit_on_error=False
            )

    async def _list_accounts(self) -> None:
        """Each ACTIVE account of the organization in each region becomes a context (ListAccounts, with the
        flags' credentials); a failure is the status line's, and the contexts known so far stay."""
        assert self.organization is not None
        found = await organization_contexts(self._base, self.organization)
        known = {c.name for c in self.contexts}
        added = [c for c in found if c.name not in known]
        self.contexts.extend(added)
        if self.open_context is not None:
            name, self.open_context = self.open_context, None
            if any(c.name == name for c in self.contexts):
                await self.switch_context(name)
            else:
                known = ", ".join(c.name for c in self.contexts)
                self.show_error(
                    f"--context: no context named {name!r} in the organization either; known: {known}"
                )
            return
        shown = self.current_pane()
        if shown is not None and shown.id == OVERVIEW:
            shown.refresh_now()  # its rows are the contexts: the new ones are read now

    # -- switching -----------------------------------------------------------------------------------
    def action_contexts(self) -> None:
        if not self.contexts:
            self.query_one("#status", Static).update(Text(NO_CONTEXTS))
            return
        if not isinstance(self.screen, ContextPicker):
            self.push_screen(ContextPicker(self._context_entries()), self._picked)

    def _context_entries(self) -> list[tuple[Context, str | None, bool, bool]]:
        entries = []
        for context in self.contexts:
            ws = self.workspaces.get(context.name)
            known = ws is not None and ws.identity is not None
            account = ws.identity.account if known else context.account_id  # type: ignore[union-attr]
            read_only = ws.read_only if ws is not None else self._read_only_of(context)
            entries.append((context, account, read_only, ws is self.workspace))
        return entries

    def _read_only_of(self, context: Context) -> bool:
        return self._base.for_context(context).read_only or self.settings.read_only

    async def _picked(self, name: str | None) -> None:
        if name is not None:
            await self.switch_context(name)

    async def on_context_chosen(self, message: ContextChosen) -> None:
        await self.switch_context(message.context_name)

    async def switch_context(self, name: str) -> None:
        """Show that context's workspace (made and connected the first time), the header naming it; the
        workspace left keeps its panes as they were, paused."""
        context = next((c for c in self.contexts if c.name == name), None)
        if context is None:
            self.show_error(f"No context named {name!r}.")
            return
        old, ws = self.workspace, self.workspaces.get(name)
        if ws is old:
            return
        if len(self.screen_stack) > 1:
            # A form open over the panes would save through the context switched to.
            self.show_error(f"Close {type(self.screen).__name__} first, then switch to {name}.")
            return
        shown = self.current_pane()
        self.screen.set_focus(None)  # off the panes being hidden
        for pane in self.all_panes():
            pane.pause()
        old.stop_retrying()  # a hidden context does not retry by itself
        if ws is None:
            first = shown.id if shown is not None and shown.id else old.first_pane
            if first == OVERVIEW:
                first = "results"  # enter on a row of the overview: that context's audits
            ws = self._new_workspace(self._base.for_context(context), first)
            ws.display = False
            await self.query_one("#main").mount(ws)
        old.display = False
        ws.display = True
        self.workspace = ws
        self._clear_status()  # the other context's message: kept in the errors log (E)
        self._header().show_context(
            context=ws.context_name,
            read_only=ws.read_only,
            region=ws.aws_region,
            account=ws.account,
            arn=ws.arn,
            state=ws.conn_state,
            last_refresh=ws.last_refresh,
        )
        self.refresh_bindings()
        if ws.panes_shown:
            active = ws.query_one(TabbedContent).active.removeprefix("tab-") or ws.first_pane
            if shown is not None and shown.id == OVERVIEW and active == OVERVIEW:
                active = "results"  # chosen on the overview: the context's own panes, not the overview again
            self.action_show_pane(active)
        elif not self._connecting(ws):
            if ws.connect_error is not None:
                self.show_error(ws.connect_error)
            self._start_connect(ws)

    def _new_workspace(self, connection: ConnectionSettings, first_pane: str) -> Workspace:
        ws = Workspace(
            connection,
            first_pane=first_pane,
            read_only=connection.read_only or self.settings.read_only,
            read_only_reason=self._reason(connection),
            id=f"ws-{len(self.workspaces)}",
        )
        self.workspaces[connection.context] = ws
        return ws

    def _reason(self, connection: ConnectionSettings) -> str:
        if self.journal_problem is not None:
            return "the journal is unavailable"
        if connection.context is not None and connection.read_only:
            return f"started with --read-only or in read-only context {connection.context}"
        return "started with --read-only"  # or the settings' read_only

    # Provided by DefenderApp.
    def current_pane(self) -> Pane | None:
        raise NotImplementedError

    def all_panes(self) -> list[Pane]:
        raise NotImplementedError

    def action_show_pane(self, pane_id: str) -> None:
        raise NotImplementedError

    def show_error(self, message: str) -> None:
        raise NotImplementedError

    def clear_error(self) -> None:
        raise NotImplementedError

    def _clear_status(self) -> None:
        raise NotImplementedError
