"""Fleet overview: every context's audit posture in one table (issue 17), `enter` to work in one.

Each context (account-region) is read with aws/posture.py through a client the app keeps for it
(`client_for`), fanned out by aws/survey.py: bounded overall and per account, rows filling as reads end,
a context's error in its own row. Drift is the local history's (new and resolved findings since the
previous audit of the same checks) when it holds both audits whole; "—" otherwise, since computing it
would mean fetching every finding of two audits per context.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ...aws.contexts import Context
from ...aws.errors import AwsError
from ...aws.posture import Posture, read_posture
from ...aws.survey import survey
from ...history.store import HistoryError
from ..contract import defender
from ..messages import ContextChosen
from ..pane import Pane
from ..widgets.fast_table import FastTable
from . import overview_rows as rows

# 50 contexts are ~250 requests: read again on the app's `r` (refresh_now), or every 5 minutes.
FLEET_POLL_SECONDS = 300.0


class OverviewPane(Pane):
    title = "Overview"

    DEFAULT_CSS = """
    OverviewPane { layout: vertical; }
    OverviewPane #fleet-heading, OverviewPane #fleet-detail { height: 1; }
    OverviewPane #fleet-detail { color: $text-muted; }
    """

    BINDINGS: ClassVar = [
        Binding("f", "cross_findings", "Findings across", id="overview-cross-findings"),
    ]

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("id", "overview")
        super().__init__(**kwargs)
        self.results: dict[str, Posture | AwsError] = {}  # by context name, as last read
        self._contexts: dict[str, Context] = {}
        self._drifts: dict[str, tuple[int, int] | None] = {}
        self._accounts: dict[tuple[str | None, str | None], str] = {}  # by profile and role
        self.read_count = 0
        self.total = 0

    def compose(self) -> ComposeResult:
        yield Static(Text("Fleet overview"), id="fleet-heading")
        yield FastTable(rows.COLUMNS, id="fleet")
        yield Static(Text(""), id="fleet-detail")

    def focus_target(self) -> FastTable:
        return self.table

    @property
    def table(self) -> FastTable:
        return self.query_one("#fleet", FastTable)

    def interval(self) -> float:
        return FLEET_POLL_SECONDS

    # -- reading ----------------------------------------------------------------------------------
    async def poll(self) -> None:
        contexts = list(defender(self.app).contexts)
        self._contexts = {c.name: c for c in contexts}
        self.total, self.read_count = len(contexts), 0
        table = self.table
        # Built before set_rows, which empties the model the previous figures are read from.
        waiting = [
            (c.name, rows.waiting_row(c, table.row_cells(c.name) if c.name in self.results else None))
            for c in contexts
        ]
        table.set_rows(waiting)
        self.results = {k: v for k, v in self.results.items() if k in self._contexts}
        self._heading()
        self._detail()
        async with contextlib.aclosing(survey(contexts, self._read)) as arrivals:
            async for context, result in arrivals:
                self.results[context.name] = result
                self.read_count += 1
                if isinstance(result, AwsError):
                    row = rows.error_row(context, result)
                else:
                    row = rows.posture_row(context, result, self._drifts.get(context.name))
                table.append_rows([(context.name, row)])
                self._heading()
                if table.cursor_key == context.name:
                    self._detail()

    async def _read(self, context: Context) -> Posture:
        dd = await defender(self.app).client_for(context)
        # Contexts found by organization discovery carry their account; a profile and role are one account
        # in every region. Either way no STS client and request for it.
        who = (context.profile, context.role_arn)
        account = context.account_id or self._accounts.get(who)
        # The app's clock (the screenshots freeze it), as the other panes' audit windows use.
        posture = await read_posture(dd, account=account, now=datetime.now(UTC))
        self._accounts[who] = posture.account
        self._drifts[context.name] = await self._drift(posture)
        return posture

    async def _drift(self, posture: Posture) -> tuple[int, int] | None:
        history = defender(self.app).history
        if history is None or posture.latest_task_id is None or posture.latest_status != "COMPLETED":
            return None
        args = (history.store, posture.account, posture.region, posture.latest_task_id)
        try:
            return await asyncio.to_thread(rows.stored_drift, *args)
        except HistoryError:
            return None  # the history says so itself (the status line); the overview goes on without it

    # -- what is shown ------------------------------------------------------------------------------
    def _heading(self) -> None:
        errors = sum(1 for r in self.results.values() if isinstance(r, AwsError))
        if self.read_count < self.total:
            progress = f"{self.read_count}/{self.total} read…"
        else:
            progress = f"{self.total} read"
        failed = f", {errors} failed" if errors else ""
        text = f"Fleet overview  ·  {progress}{failed}" if self.total else "Fleet overview  ·  no contexts"
        self.query_one("#fleet-heading", Static).update(Text(text))

    def _detail(self) -> None:
        key = self.table.cursor_key
        context = self._contexts.get(str(key)) if key is not None else None
        line = rows.detail(context, self.results.get(context.name)) if context else ""
        self.query_one("#fleet-detail", Static).update(Text(line, no_wrap=True, overflow="ellipsis"))

    def on_fast_table_cursor_moved(self, event: FastTable.CursorMoved) -> None:
        event.stop()
        self._detail()

    def action_cross_findings(self) -> None:
        from .cross_findings import open_cross_findings  # its modules when first asked for

        open_cross_findings(self)

    def on_fast_table_selected(self, event: FastTable.Selected) -> None:
        event.stop()
        if event.key is not None:
            self.post_message(ContextChosen(str(event.key)))
