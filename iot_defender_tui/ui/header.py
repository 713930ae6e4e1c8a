"""The header line: who and where the app is connected, READ-ONLY (and why, when the journal is
unavailable), connection state, last refresh."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.widgets import Static


class DefenderHeader(Static):
    """Plain Text only: the identity ARN and the region come from AWS and are never markup."""

    DEFAULT_CSS = """
    DefenderHeader { height: 2; background: $panel; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis; }
    """
    NARROW = 70  # content narrower: the account without its label, so the state and refresh time fit 60

    def __init__(
        self,
        *,
        read_only: bool,
        region: str | None,
        journal_unavailable: bool = False,
        context: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__("", **kwargs)
        self.context = context  # a named context's name (aws/contexts.py); None: the implicit one
        self.read_only = read_only
        self.journal_unavailable = journal_unavailable  # why it is read-only: no change may go unrecorded
        self.aws_region = region or "?"
        self.account = "…"
        self.arn = ""
        self.conn_state = "connecting"
        self.last_refresh: datetime | None = None

    def on_mount(self) -> None:
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def set_identity(self, account: str, arn: str, region: str | None) -> None:
        self.account, self.arn = account, arn
        if region:
            self.aws_region = region
        self._redraw()

    def show_context(
        self,
        *,
        context: str | None,
        read_only: bool,
        region: str | None,
        account: str,
        arn: str,
        state: str,
        last_refresh: datetime | None,
    ) -> None:
        """Another context is shown (the app's switch_context): all it says of it at once."""
        self.context, self.read_only = context, read_only
        self.aws_region = region or "?"
        self.account, self.arn, self.conn_state, self.last_refresh = account, arn, state, last_refresh
        self._redraw()

    def set_state(self, state: str) -> None:
        """`connecting`, `connected`, `error`, `retrying (n)`, `disconnected (n)` or `no answer for n s`:
        what the last requests did (the app sets it from every poll, not only from the first connect)."""
        if state == self.conn_state:
            return
        self.conn_state = state
        self._redraw()

    def refreshed(self, when: datetime | None = None) -> None:
        self.last_refresh = when or datetime.now()
        self._redraw()

    def render_text(self) -> Text:
        line = Text()
        # Fits 80 columns with the badge: the ARN, the long part, has the second line to itself. Each
        # line is cut with an ellipsis (CSS) rather than wrapped: a wrapped line would push the next off.
        narrow = 0 < self.size.width < self.NARROW
        line.append(self.account if narrow else f"account {self.account}", style="bold")
        line.append(f"  {self.aws_region}")
        if self.read_only:
            line.append("  ")
            line.append(" READ-ONLY ", style="bold black on yellow")
        style = {"connected": "green", "error": "bold red"}.get(self.conn_state, "yellow")
        if self.conn_state.startswith("disconnected"):
            style = "bold red"
        line.append("  ● ", style=style)
        line.append(self.conn_state, style=style)
        if self.last_refresh is not None:
            line.append(f"  refreshed {self.last_refresh:%H:%M:%S}", style="dim")
        line.append("\n")
        if self.journal_unavailable:
            # Under READ-ONLY, on the ARN's line: the first line is full at 80 columns.
            line.append(" journal unavailable ", style="bold white on red")
            line.append("  ")
        if self.context is not None:
            # On the ARN's line too: the first line is full at 80 columns, and a name is the user's text.
            line.append(f"ctx {self.context}", style="bold")
            line.append("  read-only  " if self.read_only else "  ")
        line.append(self.arn or "identity: …", style="dim")
        return line

    def _redraw(self) -> None:
        self.update(self.render_text())
