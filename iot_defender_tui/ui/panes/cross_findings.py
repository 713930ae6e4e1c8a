"""Findings of one check across every context in one table (issue 17): Context, Account and Region columns,
then the finding. Opened from the Fleet overview (`f`, then the check).

Each context is read with aws/cross.py (its latest completed audit that ran the check) through the client
the app keeps for it, fanned out by aws/survey.py (bounded overall and per account). Rows stream in as
pages arrive, batched as in Results (RowBatcher): one check across 50 contexts may be 100,000 rows. A
context that cannot be read is a line under the table; the others fill. Filter, sort and mark as in
Results; `a` hands the marked findings, grouped per context, to the cross-context mitigation
(ui/cross_mitigation.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.dom import DOMNode
from textual.widgets import Static

from ...aws.catalogue import CHECKS, check_info
from ...aws.client import DefenderClient
from ...aws.contexts import Context
from ...aws.cross import CheckSource, read_check
from ...aws.errors import AwsError
from ...aws.models import Finding
from ...aws.survey import survey
from ..contract import defender
from ..finding_detail import FindingDetailScreen
from ..format import plural
from ..pickers import Entry, PickerModal
from ..screen import DefenderScreen
from ..widgets.fast_table import Column, FastTable
from ..widgets.filter_bar import FilterBar
from ..widgets.footer import Footer
from ..widgets.row_batcher import RowBatcher
from . import results_views as views
from .findings_stream import PAINT_EVERY
from .mark_keys import MarkKeys

COLUMNS = (
    Column("Context", fraction=2),
    Column("Account", width=12),
    Column("Region", width=14),
    *views.FINDING_COLUMNS[:3],  # Severity, Resource, Reason
)
ERRORS_SHOWN = 3  # lines of failed contexts under the table; the status line counts the rest
Key = tuple[str, str]  # (context name, finding id): finding ids are an account-region's own


def check_picker() -> PickerModal:
    """Which check, typed to filter: every check the catalogue knows (a context may audit any of them)."""

    async def load() -> list[Entry]:
        return [(f"{info.title}  {info.severity}".rstrip(), name) for name, info in CHECKS.items()]

    return PickerModal("Findings of which check, across every context?", load)


def open_cross_findings(node: DOMNode) -> None:
    """The Overview's `f`: pick a check, then its findings in every context."""
    contexts = list(defender(node.app).contexts)
    if not contexts:
        defender(node.app).show_error("No contexts: add [[contexts]] to config.toml, or --region a,b.")
        return

    def picked(check_name: str | None) -> None:
        if check_name:
            node.app.push_screen(CrossFindingsScreen(check_name, contexts))

    node.app.push_screen(check_picker(), picked)


def finding_row(context: Context, account: str, finding: Finding) -> tuple[str, ...]:
    return (context.name, account, context.region or "", *views.finding_row(finding)[:3])


class CrossFindingsScreen(MarkKeys, DefenderScreen[None]):
    DEFAULT_CSS = """
    CrossFindingsScreen { layout: vertical; }
    CrossFindingsScreen #cross-title, CrossFindingsScreen #cross-status { height: 1; }
    CrossFindingsScreen #cross-status { color: $text-muted; }
    CrossFindingsScreen #cross-errors { height: auto; max-height: 3; color: $error; text-wrap: nowrap;
        text-overflow: ellipsis; }
    """
    # Most important first: the footer drops hints from the end when the terminal is narrow.
    BINDINGS: ClassVar = [
        Binding("a", "apply_mitigation", "Mitigate", id="cross-apply-mitigation"),
        Binding("space", "mark", "Mark", id="cross-mark"),
        Binding("slash", "filter", "Filter", id="cross-filter"),
        Binding("escape", "back", "Back", id="cross-back"),
        Binding("A", "mark_all", "Mark all", id="cross-mark-all"),
        Binding("u", "clear_marks", "Unmark", id="cross-clear-marks"),
        Binding("r", "reload", "Reload", id="cross-reload"),
    ]

    def __init__(self, check_name: str, contexts: list[Context]) -> None:
        super().__init__()
        self.check_name = check_name
        self.contexts = list(contexts)
        self.by_name = {c.name: c for c in self.contexts}
        self.findings: dict[Key, Finding] = {}
        self.sources: dict[str, CheckSource] = {}  # by context name, once read
        self.errors: dict[str, AwsError] = {}
        self.clients: dict[str, DefenderClient] = {}
        self.accounts: dict[str, str] = {}  # by context name, once known
        self.reading = False  # not `loading`: Textual's reactive of that name covers the screen with dots
        self._batcher: RowBatcher | None = None  # the load running, if any
        self._accounts: dict[tuple[str | None, str | None], str] = {}  # by profile and role

    def compose(self) -> ComposeResult:
        title = f"{check_info(self.check_name).title} · across {plural(len(self.contexts), 'context')}"
        yield Static(Text(title, style="bold", no_wrap=True, overflow="ellipsis"), id="cross-title")
        yield FastTable(COLUMNS, markable=True, id="cross-findings")
        yield FilterBar(id="cross-filter")
        errors = Static(Text(""), id="cross-errors")
        errors.display = False
        yield errors
        yield Static(Text(""), id="cross-status")
        yield Footer()

    @property
    def table(self) -> FastTable:
        return self.query_one("#cross-findings", FastTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.load()

    # -- reading ----------------------------------------------------------------------------------
    def load(self) -> None:
        if self._batcher is not None:
            self._batcher.close()  # at once: rows of the load replaced never reach the table
        self.findings.clear()
        self.sources.clear()
        self.errors.clear()
        self.table.clear()
        self.run_worker(self._load(), group="cross-load", exclusive=True, exit_on_error=False)

    async def _load(self) -> None:
        batcher = RowBatcher(self, self.table, PAINT_EVERY, self._update_status)
        self._batcher = batcher
        self.reading = True
        self._update_status()
        try:
            async with contextlib.aclosing(survey(self.contexts, lambda c: self._read(c, batcher))) as ends:
                async for context, result in ends:
                    if isinstance(result, AwsError):
                        self.errors[context.name] = result
                        self._show_errors()
                    else:
                        self.sources[context.name] = result
                    self._update_status()
            batcher.flush()
            defender(self.app).memory.settled()
        finally:
            batcher.close()
            if self._batcher is batcher:  # not a load `r` replaced: its own end says so
                self.reading = False
                self._update_status()

    async def _read(self, context: Context, batcher: RowBatcher) -> CheckSource:
        dd = await defender(self.app).client_for(context)
        self.clients[context.name] = dd
        who = (context.profile, context.role_arn)
        account = context.account_id or self._accounts.get(who)
        if account is None:  # one STS request per profile and role: the account is the same in every region
            account = (await dd.identity()).account
            self._accounts[who] = account
        self.accounts[context.name] = account

        def page(findings: tuple[Finding, ...]) -> None:
            if batcher.closed:
                return  # a load `r` replaced
            rows = []
            for finding in findings:
                key = (context.name, finding.finding_id)
                self.findings[key] = finding
                rows.append((key, finding_row(context, account, finding)))
            batcher.add(rows)
            defender(self.app).memory.kept(len(rows))  # 100,000 findings: frozen out of the GC's walks

        now = datetime.now(UTC)  # the UI's clock (a frozen one in the snapshots)
        return await read_check(dd, self.check_name, page, account=account, now=now)

    # -- what is shown ------------------------------------------------------------------------------
    def _show_errors(self) -> None:
        shown = self.query_one("#cross-errors", Static)
        # One line a context (cut at the edge): the status line counts them, `r` reads them again.
        failed = list(self.errors.items())[:ERRORS_SHOWN]
        lines = [f"{name}: {' '.join(error.text.split())}" for name, error in failed]
        more = len(self.errors) - ERRORS_SHOWN
        if more > 0:
            lines[-1] = f"{lines[-1]} (+{more} more failed)"
        shown.update(Text("\n".join(lines), no_wrap=True, overflow="ellipsis"))
        shown.display = bool(lines)

    def _update_status(self) -> None:
        table = self.table
        read = len(self.sources) + len(self.errors)
        parts = [f"{read}/{len(self.contexts)} contexts read"]
        if self.errors:
            parts[0] += f", {len(self.errors)} failed"
        if table.filter_text:
            parts.append(f"{table.row_count:,}/{table.total_count:,} shown")
        else:
            parts.append(plural(table.row_count, "finding"))
        parts.append(f"{table.mark_count} marked")
        if self.reading:
            parts.append("loading…")
        if table.filter_text:
            parts.append(f"filter: {table.filter_text}")
        self.query_one("#cross-status", Static).update(Text(" · ".join(parts), no_wrap=True), layout=False)

    # -- keys ---------------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        """Escape clears a filter first, then leaves the screen."""
        bar = self.query_one(FilterBar)
        if bar.shown or self.table.filter_text:
            bar.table = self.table
            bar.clear_filter()
            self._update_status()
            return
        self.workers.cancel_group(self, "cross-load")
        self.dismiss(None)

    def on_fast_table_selected(self, event: FastTable.Selected) -> None:
        event.stop()
        key = event.key
        finding = self.findings.get(key) if isinstance(key, tuple) else None  # type: ignore[arg-type]
        if finding is not None and key[0] in self.clients:  # type: ignore[index]
            self.app.push_screen(FindingDetailScreen(finding, self.clients[key[0]]))  # type: ignore[index]

    def marked(self) -> dict[str, list[Finding]]:
        """The marked findings (or the one under the cursor) per context name, in the list's order."""
        table = self.table
        keys: list[Hashable] = [k for k in table.visible_keys() if k in table.marked] or list(table.marked)
        if not keys and table.cursor_key is not None:
            keys = [table.cursor_key]
        grouped: dict[str, list[Finding]] = {}
        for key in keys:
            finding = self.findings.get(key)  # type: ignore[arg-type]
            if finding is not None:
                grouped.setdefault(key[0], []).append(finding)  # type: ignore[index]
        return grouped

    def action_apply_mitigation(self) -> None:
        from ..cross_mitigation import CrossMitigationScreen  # the plan's modules only when asked for

        grouped = self.marked()
        if not grouped:
            return
        plan = [(self.by_name[name], self.accounts.get(name, ""), found) for name, found in grouped.items()]
        self.app.push_screen(CrossMitigationScreen(self.check_name, plan))
