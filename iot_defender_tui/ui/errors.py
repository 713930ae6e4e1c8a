"""`E`: the last errors, whole. The status line shows the latest in at most three rows; here each one is
kept with when and where it happened, wrapped, newest first (k9s keeps such a log too).

Also a modal showing one long text whole (a failed mitigation execution's error).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from .screen import DefenderModal, DefenderScreen
from .widgets.footer import Footer

KEPT = 50  # errors remembered: enough to read back a burst of failures, never growing without end


@dataclass(frozen=True, slots=True)
class ErrorEntry:
    when: datetime
    where: str  # the pane, screen or operation it happened in
    text: str


class ErrorLog:
    def __init__(self, kept: int = KEPT) -> None:
        self._entries: deque[ErrorEntry] = deque(maxlen=kept)

    def add(self, where: str, text: str, when: datetime | None = None) -> ErrorEntry:
        entry = ErrorEntry(when or datetime.now(), where, text)
        self._entries.append(entry)
        return entry

    def newest_first(self) -> list[ErrorEntry]:
        return list(reversed(self._entries))

    def __len__(self) -> int:
        return len(self._entries)


def log_text(entries: list[ErrorEntry]) -> Text:
    """Plain Text: an error quotes what AWS sent, never markup."""
    if not entries:
        return Text("No errors since the app started.", style="dim")
    text = Text()
    for n, entry in enumerate(entries):
        if n:
            text.append("\n\n")
        text.append(f"{entry.when:%H:%M:%S}", style="bold")
        text.append(f"  {entry.where}", style="cyan")
        text.append("\n")
        text.append(entry.text, style="red")
    return text


class ErrorsScreen(DefenderScreen[None]):
    """The errors of this session, newest first, each whole (the status line keeps only the latest)."""

    DEFAULT_CSS = """
    ErrorsScreen #errors-title { padding: 0 1; background: $panel; }
    ErrorsScreen VerticalScroll { height: 1fr; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,E,q", "close", "Back", id="errors-close"),
        Binding("r", "reload", "Refresh", id="errors-refresh"),  # errors said while it is open
    ]

    def __init__(self, log: ErrorLog) -> None:
        super().__init__()
        self._log = log

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="errors-title")
        with VerticalScroll(id="errors-scroll"):
            yield Static(log_text(self._log.newest_first()), id="errors-text")
        yield Footer()

    def _title(self) -> Text:
        count = len(self._log)
        title = f"Last errors ({count}, newest first; ↑ ↓ pgup pgdn scroll)" if count else "Last errors"
        return Text(title, style="bold")

    def action_reload(self) -> None:
        self.query_one("#errors-title", Static).update(self._title())
        self.query_one("#errors-text", Static).update(log_text(self._log.newest_first()))

    def on_mount(self) -> None:
        self.query_one("#errors-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)


class TextModal(DefenderModal[None]):
    """A title and a long text, wrapped and scrollable; any of escape, enter or q closes it."""

    DEFAULT_CSS = """
    TextModal { align: center middle; }
    TextModal > VerticalScroll { width: 76; max-width: 100%; height: auto; max-height: 90%;
        border: thick $error; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="text-close")]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self._title = title
        self._body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(self._title, style="bold"), id="text-title")
            yield Static(self._body, id="text-body")

    def action_close(self) -> None:
        self.dismiss(None)
