"""`DefenderApp`: the header, the panes in tabs on keys 1 to 4, the status line, help and the palette.

The app owns one `DefenderClient` per context (aws/contexts.py), each opened inside the running loop
(aiobotocore binds its sessions to the loop that made them) and closed when the app unmounts. Each
context shown has its workspace (ui/workspace.py: its panes, client, identity and history); `dd`,
`identity`, `history` and `read_only` are the active workspace's (app_contexts.py switches).
"""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.widget import Widget
from textual.widgets import Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from ..aws.errors import EndpointUnreachableError
from ..aws.journal import Journal
from ..aws.session import ConnectionSettings, Tuning
from ..config import OrganizationSettings, Settings
from .app_contexts import ContextsMixin
from .commands import DefenderCommands
from .contract import TaskKind
from .errors import ErrorLog, ErrorsScreen
from .header import DefenderHeader
from .help import HelpScreen
from .memory import MemoryPolicy
from .messages import TaskFinished
from .modals import ConfirmModal
from .pane import Pane
from .screen import error_text
from .signals import ENDING_SIGNALS
from .tracker import TaskTracker
from .type_ahead import HeldKeys, hand_over
from .widgets.footer import Footer
from .workspace import PANES, Workspace, pane_class

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..aws.client import DefenderClient
    from ..aws.contexts import Context
    from ..aws.models import Identity
    from ..history.store import AuditStore
    from .history_link import HistoryLink

__all__ = ["PANES", "DefenderApp", "pane_class"]


class DefenderApp(ContextsMixin):
    TITLE = "IoT Defender"
    CSS = """
    /* Wraps to three rows: at 80 columns one row cut most errors before their reason (E: all of them). */
    #status { height: auto; min-height: 1; max-height: 3; padding: 0 1; background: $panel; }
    #main { height: 1fr; }
    TabbedContent { height: 1fr; }
    TabPane { padding: 0; }
    #tabs { display: none; }
    /* Toasts where no list row is: on the main screen over the header and the tab bar (every pane has
       a title and a list header below them), elsewhere (a screen's list may start at its top) over the
       footer. Newest last, one line of padding less than Textual's. */
    ToastRack { dock: top; align: right top; margin-bottom: 0; max-height: 6; }
    DefenderScreen ToastRack, DefenderModal ToastRack { dock: bottom; align: right bottom; max-height: 3; }
    Toast { padding: 0 1; margin-top: 0; max-width: 75%; }
    """
    NOTIFICATION_TIMEOUT = 4  # seconds: a toast confirms what was just done; errors stay in the status line
    COMMANDS = App.COMMANDS | {DefenderCommands}
    BINDINGS = [
        Binding("1", "show_pane('settings')", "Settings", id="pane-settings", show=False),
        Binding("2", "show_pane('schedules')", "Schedules", id="pane-schedules", show=False),
        Binding("3", "show_pane('results')", "Results", id="pane-results", show=False),
        Binding("4", "show_pane('mitigation')", "Mitigation", id="pane-mitigation", show=False),
        Binding("0", "show_pane('overview')", "Overview", id="pane-overview", show=False),
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("question_mark", "help", "Help", id="help", key_display="?"),
        Binding("q", "quit", "Quit", id="quit"),
        # After quit: where the footer is short of room, the errors key goes first (the status line
        # names it when it cut an error, and `?` lists it).
        Binding("E", "errors", "Errors", id="errors"),
        Binding("escape", "back", "Back", id="back", show=False),
        Binding("colon", "contexts", "Contexts", id="contexts", key_display=":", show=False),
    ]

    def __init__(
        self,
        connection: ConnectionSettings,
        settings: Settings,
        journal: Journal | None = None,
        *,
        tuning: Tuning | None = None,  # tests shrink retries
        open_task: str | None = None,  # `--task`: Results opens on this audit's findings
        journal_problem: str | None = None,  # why the journal could not be opened (launch.open_journal)
        history_store: AuditStore | None = None,  # the audit history (history_link.open_store)
        history_problem: str | None = None,  # why it could not be opened
        contexts: Sequence[Context] = (),  # the named contexts `:` switches between (aws/contexts.py)
        organization: OrganizationSettings | None = None,  # its accounts are contexts too, once listed
        open_context: str | None = None,  # `--context` naming one of the organization's: shown once listed
    ):
        """`connection` is the flags' (its `context` names the active one); with `contexts`, its read_only
        is the flags' alone: each context's own read_only is added to its connection only."""
        super().__init__()
        self.history_store, self.history_problem = history_store, history_problem
        self.tuning = tuning
        self.journal_problem = journal_problem
        if journal_problem is not None:
            # No change may be sent unrecorded: read-only, down to the client, until the journal is fixed.
            connection = dataclasses.replace(connection, read_only=True)
        self.settings = settings
        self.journal = journal
        self.contexts = list(contexts)
        self.organization = organization
        self.open_context = open_context
        self._base = connection
        self._clients, self._client_stacks, self._client_locks, self._sessions = {}, {}, {}, {}
        self.open_task = open_task
        # `--task` opens on Results; an organization on the overview of its accounts.
        self._first_pane = "results" if open_task else "overview" if organization else PANES[0][0]
        active = next((c for c in self.contexts if c.name == connection.context), None)
        self.workspaces = {}
        self.workspace = self._new_workspace(
            connection.for_context(active) if active is not None else connection, self._first_pane
        )
        self._held = HeldKeys(self)
        self.pane_keys = [(pane_id, key, label) for pane_id, key, label, _, _ in PANES]
        if settings.theme:
            self.theme = settings.theme
        self.set_keymap(settings.keymap)
        self.tracker = TaskTracker(self)
        self.memory = MemoryPolicy()
        self.errors_log = ErrorLog()
        # Whose message the status line shows: a pane's (cleared when another pane is shown), and the
        # worker group whose next success means the cause is gone (a poll that recovered).
        self._status_pane: str | None = None
        self._status_group: str | None = None
        self._origin: tuple[str, str | None, str | None] | None = None  # set by report_worker for show_error

    # The active workspace's: what panes, screens and the palette act on.
    @property
    def dd(self) -> DefenderClient | None:
        return self.workspace.dd

    @property
    def identity(self) -> Identity | None:
        return self.workspace.identity

    @property
    def history(self) -> HistoryLink | None:
        return self.workspace.history

    @property
    def connection(self) -> ConnectionSettings:
        return self.workspace.connection

    @property
    def read_only(self) -> bool:
        return self.workspace.read_only

    @read_only.setter
    def read_only(self, value: bool) -> None:
        self.workspace.read_only = value

    @property
    def read_only_reason(self) -> str:
        return self.workspace.read_only_reason

    def compose(self) -> ComposeResult:
        yield DefenderHeader(
            read_only=self.read_only,
            region=self.connection.region,
            journal_unavailable=self.journal_problem is not None,
            context=self.connection.context,
            id="header",
        )
        with Container(id="main"):
            yield self.workspace
        yield Static("", id="status", markup=False)
        yield Footer()

    # -- connection (app_contexts.py) ----------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        if not self._held.hold(event):  # typed while a pane is being shown: that pane's
            hand_over(self, event)  # typed after the key that opened a form, sent to the pane behind it

    def on_mount(self) -> None:
        if self.journal_problem is not None:
            self.show_error(
                f"Journal unavailable: {self.journal_problem.rstrip('.')}. Changes are refused until it is "
                "fixed (move the file aside or fix its permissions, then restart)."
            )
        if self.history_problem is not None:
            self.show_error(
                f"Audit history unavailable: {self.history_problem.rstrip('.')}. Audits are read from AWS "
                "only (move the file aside to start a new history)."
            )
        self._catch_signals()
        self._start_connect()
        self._discover()
        self.set_interval(1.0, self._watch_answers)

    async def on_unmount(self) -> None:
        try:
            await self._close_clients()
        finally:
            self._release_signals()
            for ws in self.workspaces.values():
                if ws.history is not None:
                    await asyncio.to_thread(ws.history.close)  # what was handed over is written

    # -- signals -------------------------------------------------------------------------------------
    _signals: dict[int, object] | None = None  # signal → the handler it had before the app ran

    def _catch_signals(self) -> None:
        """SIGTERM and SIGHUP end the app the normal way: Textual restores the terminal, and the launcher
        (past app.run) stops the --sandbox child and closes the journal."""
        loop = asyncio.get_running_loop()
        self._signals = {}
        for signum in ENDING_SIGNALS:
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue  # started with nohup: the user asked for it to outlive the terminal
            try:
                loop.add_signal_handler(signum, self._signalled, signum)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # no signal handling here (not the main thread, or not on this system)
            self._signals[signum] = previous

    def _release_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum, previous in (self._signals or {}).items():
            loop.remove_signal_handler(signum)  # which sets the default action: the previous goes back
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)  # type: ignore[arg-type]
        self._signals = None

    def _signalled(self, signum: int) -> None:
        self.exit(return_code=128 + signum)  # the shell's convention for "ended by a signal"

    # -- panes ---------------------------------------------------------------------------------------
    def current_pane(self) -> Pane | None:
        try:
            tabs = self.workspace.query_one(TabbedContent)
        except Exception:
            return None
        active = tabs.active
        if not active or self.dd is None:
            return None
        return self._pane(active.removeprefix("tab-"))

    def all_panes(self) -> list[Pane]:
        return list(self.query(Pane))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_pane":
            return any(pane_id == parameters[0] for pane_id, _, _ in self.pane_keys)
        if action == "contexts":
            # Only over the panes: a screen or form open on top works in the context it was opened in.
            return len(self.screen_stack) == 1
        return True

    def action_show_pane(self, pane_id: str) -> None:
        if not self.workspace.panes_shown:
            self.workspace.wanted_pane = pane_id  # shown by _show_panes
            return
        try:
            tabs = self.workspace.query_one(TabbedContent)
        except Exception:
            return
        if tabs.active == f"tab-{pane_id}":
            self._activate(pane_id)
        else:
            # Unfocus first: Textual moves focus off a widget being hidden to a neighbour in the same
            # (hidden) tab, whose TabPane then takes the tab straight back.
            self._held.start()
            self.screen.set_focus(None)
            tabs.active = f"tab-{pane_id}"  # TabActivated then switches the polling

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if self.workspace not in event.tabbed_content.ancestors:
            return  # a hidden context's tabs (being composed): its panes stay paused
        pane_id = (event.pane.id or "").removeprefix("tab-")
        self._activate(pane_id)

    def _activate(self, pane_id: str) -> None:
        if not self.workspace.panes_shown:
            return  # not connected yet: _show_panes activates the shown pane
        shown = self._pane(pane_id)
        if shown is None:
            self.call_next(self._compose_pane, pane_id)
            return
        if not shown.is_mounted:
            return  # being composed: activated once it is
        if self._status_pane is not None and self._status_pane != pane_id:
            self._clear_status()  # another pane's message: kept in the errors log (E), not shown here
        for pane in self.all_panes():
            if pane is not shown:
                pane.pause()  # hidden panes do not poll
        shown.refresh_now()
        self.call_after_refresh(self._focus_in, shown)

    def _pane(self, pane_id: str) -> Pane | None:
        return next(iter(self.workspace.query(f"#{pane_id}").results(Pane)), None)

    async def _compose_pane(self, pane_id: str) -> None:
        # A pane is ~50 widgets to style and lay out: composing all four at start held the first frame
        # back by ~0.1 s, for panes most sessions never open.
        if self._pane(pane_id) is not None:
            return  # a second key asked for it while it was being composed
        pane = pane_class(pane_id)(id=pane_id)
        await self.workspace.query_one(f"#tab-{pane_id}", TabPane).mount(pane)
        if self.current_pane() is pane:  # still the one shown
            self._activate(pane_id)

    def pane_type(self, pane_id: str) -> type[Pane]:
        return pane_class(pane_id)

    async def show_pane_ready(self, pane_id: str) -> Pane | None:
        """Show a pane and return it once the focus is in it: the palette runs the pane's action then,
        before _focus_in could move the focus back under a screen the action opened."""
        if not self.workspace.panes_shown:
            self.action_show_pane(pane_id)  # shown once connected
            return None
        if self._pane(pane_id) is None:
            await self._compose_pane(pane_id)
        self.action_show_pane(pane_id)
        pane = self._pane(pane_id)
        for _ in range(100):  # a few frames; ~2 s at most if the pane took no focus
            focused = self.screen.focused
            if self.current_pane() is pane and focused is not None and pane in focused.ancestors:
                break
            await asyncio.sleep(0.02)
        return pane

    def _focus_in(self, pane: Pane) -> None:
        """A table first (keys act on it), never a filter Input: digits typed there would not switch panes."""
        if self.current_pane() is not pane:
            return  # another key switched on meanwhile: focusing here would switch the tab back
        target = getattr(pane, "focus_target", None)
        widget = target() if callable(target) else self._first_list(pane)
        if widget is not None:
            # At once, not `widget.focus()`: that focuses later, and if another key switched tabs
            # meanwhile, focusing into this pane's hidden tab would switch it straight back.
            self.screen.set_focus(widget)
            self._held.release()

    @staticmethod
    def _first_list(pane: Pane) -> Widget | None:
        for selector in ("DataTable", "FastTable", "ListView", "Tree"):
            for widget in pane.query(selector):
                # `focusable` is true for a widget hidden with display: none (Results keeps one table
                # per level): focusing one would send its keys to a list the user cannot see.
                if widget.focusable and widget.display:
                    return widget
        return None

    def action_refresh(self) -> None:
        if self.dd is None:
            if not self._connecting():
                self._start_connect()  # a failed connection is retried now
            return
        pane = self.current_pane()
        if pane is not None:
            pane.refresh_now()

    def action_errors(self) -> None:
        if not isinstance(self.screen, ErrorsScreen):
            self.push_screen(ErrorsScreen(self.errors_log))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.screen.active_bindings))

    async def action_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()

    def unsaved_panes(self) -> list[Pane]:
        return [p for p in self.all_panes() if getattr(p, "has_unsaved_edits", False)]

    async def action_quit(self) -> None:
        unsaved = self.unsaved_panes()
        if not unsaved:
            self.exit()
            return
        names = ", ".join(p.title or str(p.id) for p in unsaved)

        def answered(answer: bool | None) -> None:
            if answer:
                self.exit()

        self.push_screen(
            ConfirmModal("Quit without saving?", f"Unsaved edits in: {names}. They will be lost.", "Quit"),
            answered,
        )

    # -- errors and progress -------------------------------------------------------------------------
    def track_task(
        self,
        kind: TaskKind,
        task_id: str,
        *,
        client: DefenderClient | None = None,
        context: str | None = None,
    ) -> None:
        """Follow a started audit or mitigation task to its end, whatever pane is shown: the outcome is
        notified (with a bell) and open views get a `TaskFinished` message. `client` and `context`: a task
        started in another context than the one shown (the cross-context mitigation)."""
        named = context or (self.workspace.context_name if self.contexts else None)
        self.tracker.track(kind, task_id, client or self.dd, named)
        # The pane listing such tasks may have polled after the key that started it and before AWS
        # answered (a pane key right after confirming): it would lack the new task until its next poll.
        shown = self.current_pane()
        if shown is not None and shown.id == ("results" if kind == "audit" else "mitigation"):
            shown.refresh_now()

    def show_error(self, message: str) -> None:
        """The status line (three rows at most) and the errors log (E), which keeps it whole with when
        and where it happened. A pane's message goes when another pane is shown; a failed worker's
        when the same work next succeeds."""
        where, pane_id, group = self._origin or self._origin_now()
        self._origin = None
        self.errors_log.add(where, message)
        self._status_pane, self._status_group = pane_id, group
        self.query_one("#status", Static).update(self._status_text(message))

    def _status_text(self, message: str) -> Text:
        room = max(20, (self.size.width - 2) * 3)  # three rows, less the padding
        if len(message) > room:
            tail = "… (E: whole error)"
            message = message[: room - len(tail) - 2].rstrip() + tail
        return Text(message, style="bold red")

    def clear_error(self) -> None:
        self._clear_status()

    def _clear_status(self) -> None:
        self._status_pane = self._status_group = None
        self.query_one("#status", Static).update("")

    def _origin_now(self) -> tuple[str, str | None, str | None]:
        """Where an error said by a pane's or screen's own code happened: what is shown."""
        pane = self.current_pane()
        pane_id = pane.id if pane is not None else None
        where = f"{pane.title or pane.id} pane" if pane is not None else "app"
        if len(self.screen_stack) > 1:
            where = f"{where} / {type(self.screen).__name__}"
        return where, pane_id, None

    @staticmethod
    def _label(worker: Worker) -> str:
        """The operation a worker did, in words ("refresh" rather than a pane poll's method name)."""
        return "refresh" if worker.group.startswith("poll-") else (worker.name or worker.group)

    def _origin_of(self, worker: Worker) -> tuple[str, str | None, str | None]:
        node = getattr(worker, "node", None)  # a stand-in worker may have none
        label = self._label(worker)
        operation = f" / {label}" if label and label != "default" else ""
        if isinstance(node, Pane):
            return f"{node.title or node.id} pane{operation}", node.id, worker.group
        if node is self:
            return (label or "app"), None, worker.group
        _, pane_id, _ = self._origin_now()
        return f"{type(node).__name__}{operation}", pane_id, worker.group

    def _requests_answered(self, worker: Worker, state: WorkerState) -> None:
        """The header's connection state from what polls do, not only from the first connect."""
        ws = self._workspace_of(worker)
        if ws.dd is None or not (worker.group.startswith("poll-") or worker.group == "track"):
            return
        if next(iter(self.query(DefenderHeader)), None) is None:
            return  # the app is closing: a poll ending now has no header to stamp
        if state == WorkerState.ERROR and isinstance(worker.error, EndpointUnreachableError):
            ws.request_failures += 1
            n = ws.request_failures
            self._set_state(ws, f"retrying ({n})" if n < self.disconnected_after else "disconnected")
        elif state in (WorkerState.SUCCESS, WorkerState.ERROR):  # AWS answered, even with an error
            ws.request_failures = 0
            self._set_state(ws, "connected")

    def _workspace_of(self, worker: Worker) -> Workspace:
        """The context a worker worked in: its pane's, or the one connecting; else the active one."""
        node = getattr(worker, "node", None)  # a stand-in worker may have none
        if isinstance(node, Widget):
            for ancestor in node.ancestors_with_self:
                if isinstance(ancestor, Workspace):
                    return ancestor
        return next((ws for ws in self.workspaces.values() if ws.connect_worker is worker), self.workspace)

    disconnected_after = 3  # polls in a row that could not reach the endpoint
    unanswered_after = 5.0  # seconds a request may wait before the header says it has no answer

    def _watch_answers(self) -> None:
        """Once a second: a request unanswered for long (a paused endpoint, a link gone without a word)
        shows in the header now, not when its read timeout ends it 30 s later."""
        header = next(iter(self.query(DefenderHeader)), None)
        if self.dd is None or header is None:  # not connected yet, or the app is closing
            return
        gone = self.endpoint_gone() if self.endpoint_gone is not None else None
        if gone is not None:
            if header.conn_state != "disconnected":
                self._set_state(self.workspace, "disconnected")
                self.show_error(gone)
            return
        waited = self.dd.longest_wait()
        if waited >= self.unanswered_after and header.conn_state in ("connected", self._unanswered):
            self._unanswered = f"no answer for {waited:.0f} s"
            self._set_state(self.workspace, self._unanswered)
        elif waited < self.unanswered_after and header.conn_state == self._unanswered:
            self._set_state(self.workspace, "connected")  # answered after all

    _unanswered = "no answer"
    # Why the endpoint can answer no more, known without a request: the `--sandbox` child has exited.
    endpoint_gone: Callable[[], str | None] | None = None

    def report_worker(self, worker: Worker, state: WorkerState) -> None:
        """Any worker's end: errors go to the status line (never a crash), polls stamp the header."""
        self._requests_answered(worker, state)
        if state == WorkerState.ERROR:
            self._origin = self._origin_of(worker)
            text = error_text(worker)
            label = self._label(worker)
            message = f"{label}: {text}" if label and label != "default" else text
            if worker.group == "connect":
                self._connect_failed(self._workspace_of(worker), worker.error, message)
                return
            self.show_error(message)
        elif state == WorkerState.SUCCESS:
            if worker.group and worker.group == self._status_group:
                self._clear_status()  # the work that failed now succeeded: the error is over
            if worker.group.startswith("poll-"):
                ws = self._workspace_of(worker)
                ws.last_refresh = datetime.now()
                if ws is self.workspace:
                    # A poll can end while the app closes, its header already gone.
                    for header in self.query(DefenderHeader).results(DefenderHeader):
                        header.refreshed(ws.last_refresh)

    def _connect_failed(self, ws: Workspace, error: BaseException | None, message: str) -> None:
        if isinstance(error, EndpointUnreachableError):
            # What failed and what happens next, first: the status line is short.
            message = (
                f"{error.message.rstrip('.')} — retrying in {ws.retry_delay:g} s (r to retry now). "
                f"{error.hint or ''}".rstrip()
            )
        if ws.context_name is not None and len(self.workspaces) > 1:
            message = f"Context {ws.context_name}: {message}"
        ws.connect_error = message  # said again when the context is shown again
        if ws is self.workspace:
            self.show_error(message)
        else:
            self._origin = None
            self.errors_log.add(f"context {ws.context_name} / connect", message)

    def on_task_finished(self, message: TaskFinished) -> None:
        """The list a finished task belongs in is asked again now, not at its next poll: the
        notification and the list agree."""
        pane = self._pane("results" if message.kind == "audit" else "mitigation")
        if pane is not None and pane.is_mounted:
            pane.refresh_now()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.report_worker(event.worker, event.state)
