"""The Schedules pane: scheduled audits (create, edit, delete) and running an audit now.

ListScheduledAudits names no checks, so each schedule is described too (a few at a time; AWS allows only
a handful of scheduled audits per account). Nothing here runs for long, so the pane polls at the idle rate.
"""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ...aws.errors import AwsError
from ...aws.models import AuditConfiguration, ScheduledAudit
from ...aws.safe_text import safe
from ..check_picker import CheckPickerModal, ordered
from ..contract import defender
from ..format import plural
from ..modals import ConfirmModal
from ..pane import Pane
from ..widgets.data_table_sync import Row, sync_table
from .schedules_form import NONE_ENABLED, ScheduleForm, checks_text, when_text

DESCRIBE_AT_ONCE = 4
MUTATING = {"new_schedule", "edit_schedule", "delete_schedule", "run_audit"}
EMPTY = "No scheduled audits. n creates one."


class SchedulesPane(Pane):
    title = "Schedules"

    DEFAULT_CSS = """
    SchedulesPane { layout: vertical; }
    SchedulesPane #heading { height: 1; text-style: bold; }
    SchedulesPane #empty { height: auto; color: $text-muted; padding: 0 1; }
    SchedulesPane #schedule-list { height: 1fr; min-height: 3; }
    SchedulesPane #detail { height: auto; max-height: 6; color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("n", "new_schedule", "New", id="schedules-new"),
        Binding("e", "edit_schedule", "Edit", id="schedules-edit"),
        Binding("d", "delete_schedule", "Delete", id="schedules-delete"),
        Binding("o", "run_audit", "Audit now", id="schedules-run-audit"),
    ]

    def __init__(self, *children, **kwargs) -> None:
        kwargs.setdefault("id", "schedules")
        super().__init__(*children, **kwargs)
        self.audits: dict[str, ScheduledAudit] = {}
        self.config: AuditConfiguration | None = None
        self._starting = False  # an on-demand audit is being picked, confirmed or started

    def compose(self) -> ComposeResult:
        yield Static(Text("Scheduled audits  ·  loading…"), id="heading")
        yield Static(Text(""), id="empty")
        yield DataTable(id="schedule-list", cursor_type="row", zebra_stripes=True)
        yield Static(Text(""), id="detail")

    def on_mount(self) -> None:
        table = self.query_one("#schedule-list", DataTable)
        for label in ("Name", "Frequency", "Day", "Checks"):
            table.add_column(label, key=label.lower())
        self.query_one("#empty").display = False

    def focus_target(self) -> DataTable:
        """What the app focuses when the pane is shown."""
        return self.query_one("#schedule-list", DataTable)

    # -- polling --------------------------------------------------------------------------------------
    async def poll(self) -> None:
        listed = await self.dd.list_scheduled_audits()
        limit = asyncio.Semaphore(DESCRIBE_AT_ONCE)

        async def describe(audit: ScheduledAudit) -> ScheduledAudit | None:
            async with limit:
                try:
                    return await self.dd.describe_scheduled_audit(audit.name)
                except AwsError as err:
                    if err.code == "ResourceNotFoundException":
                        return None  # deleted since it was listed
                    raise

        described, config = await asyncio.gather(
            asyncio.gather(*(describe(a) for a in listed)), self.dd.describe_audit_configuration()
        )
        self.audits = {a.name: a for a in sorted(filter(None, described), key=lambda a: a.name.lower())}
        self.config = config
        self.busy = False
        self._show()

    def show_retries(self) -> None:
        if not self.listed:
            self._show()

    def _show(self) -> None:
        if self.config is None:  # before the first answer: neither "0 checks" nor "No scheduled audits"
            self.query_one("#heading", Static).update(Text(f"Scheduled audits  ·  {self.waiting()}"))
            return
        enabled = len(self.config.enabled_checks)
        heading = Text.assemble(
            ("Scheduled audits", "bold"), f"  ·  {plural(enabled, 'check')} enabled (Settings, key 1)"
        )
        self.query_one("#heading", Static).update(heading)
        empty = self.query_one("#empty", Static)
        empty.display = not self.audits
        empty.update(Text("No scheduled audits." if self.read_only else EMPTY))
        with self.app.batch_update():
            sync_table(
                self.query_one("#schedule-list", DataTable), {n: _row(a) for n, a in self.audits.items()}
            )
        self._show_detail()

    @on(DataTable.RowHighlighted, "#schedule-list")
    def _show_detail(self) -> None:
        audit = self._current()
        text = Text("")
        if audit is not None:
            text = Text(f"{audit.name}: {when_text(audit.frequency, audit.day_of_week, audit.day_of_month)}")
            text.append(f"\nChecks: {checks_text(ordered(audit.check_names))}")
        self.query_one("#detail", Static).update(text)

    def _current(self) -> ScheduledAudit | None:
        table = self.query_one("#schedule-list", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.audits.get(str(key))

    # -- read-only ----------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only: mutating keys are hidden from the footer and do nothing.
        return not (action in MUTATING and self.read_only)

    def _refuse(self) -> bool:
        if self.read_only:
            defender(self.app).show_error("Read-only mode: changes are refused.")
        return self.read_only

    @property
    def has_unsaved_edits(self) -> bool:
        """A schedule form with unsaved input is open (the app asks before quitting over it)."""
        return any(isinstance(s, ScheduleForm) and s.dirty for s in self.app.screen_stack)

    async def _enabled_checks(self) -> tuple[str, ...]:
        # Asked afresh: the Settings pane may have just changed which checks are enabled.
        self.config = await self.dd.describe_audit_configuration()
        return self.config.enabled_checks

    # -- new, edit, delete --------------------------------------------------------------------------------
    def _after_form(self, name: str | None) -> None:
        if name:
            self.refresh_then_say(f"Saved scheduled audit {name}")

    def action_new_schedule(self) -> None:
        if not self._refuse():
            self._open_form(None)

    def action_edit_schedule(self) -> None:
        if self._refuse():
            return
        audit = self._current()
        if audit is None:
            defender(self.app).show_error("No scheduled audit to edit.")
            return
        self._open_form(audit)

    @on(DataTable.RowSelected, "#schedule-list")
    def _open_row(self) -> None:
        if not self.read_only:
            self.action_edit_schedule()

    def _open_form(self, audit: ScheduledAudit | None) -> None:
        # Pushed in the key's handler, loading its checks inside: the keys typed next are the form's.
        if any(isinstance(s, ScheduleForm) for s in self.app.screen_stack):
            return  # a repeated key: one form at a time
        self.app.push_screen(ScheduleForm(None, audit, load=self._enabled_checks), self._after_form)

    def action_delete_schedule(self) -> None:
        if self._refuse():
            return
        audit = self._current()
        if audit is None:
            return
        body = Text.assemble("Delete scheduled audit ", (audit.name, "bold"), "?")
        body.append(f"\nIt runs {when_text(audit.frequency, audit.day_of_week, audit.day_of_month)}.")
        body.append("\nAudits it already ran keep their results.")

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_worker(self._delete(audit.name), group="schedules-change", exit_on_error=False)

        self.app.push_screen(ConfirmModal("Delete scheduled audit?", body, "Delete"), confirmed)

    async def _delete(self, name: str) -> None:
        try:
            await self.dd.delete_scheduled_audit(name)
        except AwsError as err:
            defender(self.app).show_error(err.text)
            return
        self.refresh_then_say(f"Deleted scheduled audit {name}")

    # -- run an audit now --------------------------------------------------------------------------------
    def action_run_audit(self) -> None:
        if self._refuse():
            return
        if self._starting:
            # A repeated `o` must not start a second audit.
            self.app.notify("An on-demand audit is already being started.", markup=False)
            return
        self._starting = True
        # Shown at once, loading the enabled checks inside: the keys typed next are the picker's.
        picker = CheckPickerModal(
            "Run an audit now: which checks?", None, load=self._enabled_checks, none_offered=NONE_ENABLED
        )
        self.app.push_screen(picker, self._confirm_audit)

    def _confirm_audit(self, checks: tuple[str, ...] | None) -> None:
        if not checks:
            self._starting = False
            return
        body = Text(f"Checks: {checks_text(checks)}")

        def confirmed(ok: bool | None) -> None:
            if not ok:
                self._starting = False
                return
            self.run_worker(self._start_audit(checks), group="schedules-audit", exit_on_error=False)

        self.app.push_screen(
            ConfirmModal(f"Start an on-demand audit of {plural(len(checks), 'check')}?", body, "Start"),
            confirmed,
        )

    async def _start_audit(self, checks: tuple[str, ...]) -> None:
        try:
            task_id = await self.dd.start_audit(checks)
        except AwsError as err:
            defender(self.app).show_error(err.text)
            return
        finally:
            self._starting = False
        self.app.notify(f"Audit {safe(task_id)} started ({plural(len(checks), 'check')})", markup=False)
        defender(self.app).track_task("audit", task_id)


def _row(a: ScheduledAudit) -> Row:
    day = a.day_of_week if a.frequency in ("WEEKLY", "BIWEEKLY") else a.day_of_month
    checks = Text(f"{len(a.check_names)}: {checks_text(ordered(a.check_names))}")
    checks.truncate(40, overflow="ellipsis")
    return (Text(a.name), Text(a.frequency or "?"), Text(day or "-"), checks)
