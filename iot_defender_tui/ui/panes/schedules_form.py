"""The form that creates or edits a scheduled audit.

It validates before sending (name, the day the frequency needs, at least one check and only checks enabled
in the account's audit configuration) and shows problems inline; a server error is shown in the form too
and nothing typed is lost. Dismisses with the schedule's name once AWS accepted the change, or None.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from ...aws.catalogue import check_info
from ...aws.errors import AwsError
from ...aws.models import ScheduledAudit
from ..check_picker import CheckPickerModal, ordered
from ..contract import defender
from ..form import EditForm, field_values
from ..format import plural
from ..modals import ConfirmModal
from ..type_ahead import TypeAhead

NAME = re.compile(r"[a-zA-Z0-9_-]{1,128}")  # ScheduledAuditName in AWS's model; matched whole
# ASCII only: str.isdigit() and int() also take "²" and other scripts' digits, which AWS refuses.
DAY_DIGITS = re.compile(r"[0-9]{1,2}")
FREQUENCIES = ("DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
LOADING = "Checks: still loading the checks enabled in the audit configuration; try again in a moment."
NONE_ENABLED = "No checks are enabled in this account's audit configuration: enable some in Settings (key 1)."


@dataclass(frozen=True, slots=True)
class Schedule:
    """What the form sends: validated, ready for create/update_scheduled_audit."""

    name: str
    frequency: str
    day_of_week: str | None
    day_of_month: str | None
    checks: tuple[str, ...]


def _unchanged(s: Schedule, a: ScheduledAudit) -> bool:
    was = (a.frequency, a.day_of_week, a.day_of_month, set(a.check_names))
    return (s.frequency, s.day_of_week, s.day_of_month, set(s.checks)) == was


def when_text(frequency: str | None, day_of_week: str | None, day_of_month: str | None) -> str:
    if frequency in ("WEEKLY", "BIWEEKLY"):
        return f"{frequency} on {day_of_week or '?'}"
    if frequency == "MONTHLY":
        return f"MONTHLY on day {day_of_month or '?'}"
    return frequency or "?"


def checks_text(names: Sequence[str]) -> str:
    return ", ".join(check_info(n).title for n in names) or "none"


class ScheduleForm(TypeAhead, EditForm):
    DEFAULT_CSS = """
    ScheduleForm { align: center middle; }
    ScheduleForm > Vertical { width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1; }
    ScheduleForm VerticalScroll { height: auto; max-height: 100%; }
    /* Docked: however small the window, the fields scroll and the error and buttons stay in view. */
    ScheduleForm #form-title { dock: top; }
    ScheduleForm #form-buttons { dock: bottom; }
    ScheduleForm #form-error { dock: bottom; margin-bottom: 3; }
    ScheduleForm Label { margin-top: 1; width: 100%; }
    ScheduleForm Horizontal { height: auto; }
    ScheduleForm #p-weekday, ScheduleForm #p-day { height: auto; }
    ScheduleForm #checks-summary { width: 1fr; height: auto; max-height: 3; }
    ScheduleForm #pick-checks { min-width: 12; margin-left: 1; }
    ScheduleForm #form-error { color: $error; height: auto; }
    ScheduleForm #form-buttons { align-horizontal: right; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="schedule-save"),
        Binding("f2", "pick_checks", "Pick checks", id="schedule-pick-checks"),
        Binding("escape", "close", "Cancel", id="schedule-cancel"),
    ]

    def __init__(
        self,
        enabled: Sequence[str] | None,
        audit: ScheduledAudit | None = None,
        load: Callable[[], Awaitable[Sequence[str]]] | None = None,
    ) -> None:
        """`enabled` None: `load` fetches them once the form is shown. The form opens at once, so the keys
        typed right after `n`/`e` land in it rather than in the pane behind it."""
        super().__init__()
        self._audit = audit
        self._sending = False
        self._load = load if enabled is None else None
        self._save_when_loaded = False
        self._enabled = ordered(enabled or ())
        # New: every enabled check. Edit: the schedule's own, even one since disabled (flagged on save).
        self.checks: tuple[str, ...] = self._enabled if audit is None else tuple(audit.check_names)

    def compose(self) -> ComposeResult:
        a = self._audit
        frequency = a.frequency if a and a.frequency in FREQUENCIES else "DAILY"
        weekday = a.day_of_week if a and a.day_of_week in WEEKDAYS else Select.NULL
        day = (a.day_of_month or "") if a else ""
        with Vertical():
            title = "Edit scheduled audit" if a else "New scheduled audit"
            yield Static(Text(title, style="bold"), id="form-title")
            with VerticalScroll():
                yield Label("Name (1-128 of a-z A-Z 0-9 _ -)")
                yield Input(a.name if a else "", id="name", disabled=a is not None, compact=True)
                yield Label("Frequency")
                yield Select(
                    [(f, f) for f in FREQUENCIES],
                    value=frequency,
                    allow_blank=False,
                    compact=True,
                    id="frequency",
                )
                with Vertical(id="p-weekday"):
                    yield Label("Day of the week")
                    yield Select(
                        [(d, d) for d in WEEKDAYS],
                        value=weekday,
                        prompt="pick a day",
                        compact=True,
                        id="weekday",
                    )
                with Vertical(id="p-day"):
                    yield Label("Day of the month (1-31, or LAST)")
                    yield Input(day, placeholder="1-31 or LAST", id="day", compact=True)
                yield Label("Checks (F2 or Checks… to pick; only enabled ones are offered)")
                with Horizontal():
                    yield Static(id="checks-summary", markup=False)
                    yield Button("Checks…", id="pick-checks", compact=True)
            yield Static(id="form-error", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self._show_frequency()
        self._show_checks()
        self.remember_initial()
        self.query_one("#frequency" if self._audit else "#name").focus()
        if self._load is not None:
            self._load_enabled(self._load)
        elif not self._enabled:
            self._error(NONE_ENABLED, about_fields=False)

    @property
    def loading(self) -> bool:
        return self._load is not None

    @work(exclusive=True, group="schedule-form-load", exit_on_error=False)
    async def _load_enabled(self, load: Callable[[], Awaitable[Sequence[str]]]) -> None:
        self._enabled = ordered(await load())
        self._load = None
        if self._audit is None:
            self.checks = self._enabled
        # What was typed meanwhile stays unsaved input; the loaded checks are not the user's edit.
        self._initial = (*self._initial[:-1], self.checks)
        self._show_checks()
        if not self._enabled:
            self._error(NONE_ENABLED, about_fields=False)
        elif self.error_message == LOADING:
            self._error("")  # the cause is gone: the checks are here
        if self._save_when_loaded:
            self._save_when_loaded = False
            self.action_save()

    @property
    def frequency(self) -> str:
        return str(self.query_one("#frequency", Select).value)

    @on(Select.Changed, "#frequency")
    def _show_frequency(self) -> None:
        self.query_one("#p-weekday").display = self.frequency in ("WEEKLY", "BIWEEKLY")
        self.query_one("#p-day").display = self.frequency == "MONTHLY"

    def _show_checks(self) -> None:
        if self.loading:
            self.query_one("#checks-summary", Static).update(Text("loading the enabled checks…", style="dim"))
            return
        summary = Text(f"{len(self.checks)} of {plural(len(self._enabled), 'enabled check')}: ", style="bold")
        titles = checks_text(ordered(self.checks))
        # Two lines at most, so the form fits 80x24; the picker (F2) lists them all.
        summary.append(titles if len(titles) <= 90 else titles[:89] + "…")
        self.query_one("#checks-summary", Static).update(summary)

    @on(Button.Pressed, "#pick-checks")
    def action_pick_checks(self) -> None:
        if self.loading:
            self._error(LOADING, about_fields=False)
            return
        if not self._enabled:
            self._error(NONE_ENABLED, about_fields=False)
            return

        def chosen(checks: tuple[str, ...] | None) -> None:
            if checks is not None:
                self.checks = checks
                self._show_checks()
                self.fields_changed()

        chosen_now = [c for c in self.checks if c in self._enabled]
        self.app.push_screen(
            CheckPickerModal("Checks of this scheduled audit", self._enabled, chosen_now), chosen
        )

    # -- validation and saving -----------------------------------------------------------------------
    def collect(self) -> Schedule | str:
        """The schedule to send, or the first problem found, worded for the user."""
        name = self.query_one("#name", Input).value.strip()
        if not NAME.fullmatch(name):
            return "Name: 1 to 128 characters, only letters, digits, '_' and '-'."
        frequency, weekday, day = self.frequency, None, None
        if frequency in ("WEEKLY", "BIWEEKLY"):
            picked = self.query_one("#weekday", Select).value
            if picked not in WEEKDAYS:
                return f"Day of the week: a {frequency} audit needs one (SUN to SAT)."
            weekday = str(picked)
        if frequency == "MONTHLY":
            typed = self.query_one("#day", Input).value.strip()
            day = typed.upper()
            if DAY_DIGITS.fullmatch(day) and 1 <= int(day) <= 31:
                day = str(int(day))  # AWS's pattern has no leading zero: "07" is sent as "7"
            elif day != "LAST":
                if not typed:
                    return "Day of the month: enter 1 to 31, or LAST."
                return f"Day of the month: 1 to 31 in digits 0-9, or LAST (not {typed!r})."
        if self.loading:
            return LOADING  # ctrl+s while loading is held instead (action_save); this is for the picker
        if not self._enabled:
            return NONE_ENABLED
        if not self.checks:
            return "Checks: pick at least one (F2)."
        disabled = [c for c in self.checks if c not in self._enabled]
        if disabled:
            return (
                f"Checks: not enabled in the audit configuration: {checks_text(disabled)}. "
                "Pick checks again (F2), or enable them in Settings (key 1)."
            )
        return Schedule(name, frequency, weekday, day, ordered(self.checks))

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self._sending:
            return  # a second save while the first is in flight would send it twice
        if self.loading:
            self._save_when_loaded = True  # ctrl+s typed as the form opened: saved once it can be
            return
        collected = self.collect()
        if isinstance(collected, str):
            self._error(collected, about_fields=collected != NONE_ENABLED)
            return
        s, a = collected, self._audit
        if a is not None and _unchanged(s, a):
            self._error("Nothing to save: the schedule is as it was.")
            return  # no question to answer, no request to send
        self._error("")
        verb = "Update" if a else "Create"
        body = Text.assemble(f"{verb} scheduled audit ", (s.name, "bold"))
        body.append(f"\nRuns: {when_text(s.frequency, s.day_of_week, s.day_of_month)}")
        body.append(f"\nChecks ({len(s.checks)}): {checks_text(s.checks)}")
        if a is not None:
            was = when_text(a.frequency, a.day_of_week, a.day_of_month)
            body.append(f"\n(was: {was}; {plural(len(a.check_names), 'check')})", style="dim")

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._sending = True
                self._send(s)

        self.app.push_screen(ConfirmModal(f"{verb} scheduled audit?", body, verb), confirmed)

    @work(exclusive=True, group="schedule-form", exit_on_error=False)
    async def _send(self, s: Schedule) -> None:
        dd = defender(self.app).dd
        self._error("Saving…", about_fields=False)
        try:
            if self._audit is None:
                await dd.create_scheduled_audit(
                    s.name, s.frequency, s.checks, day_of_week=s.day_of_week, day_of_month=s.day_of_month
                )
            else:
                await dd.update_scheduled_audit(
                    s.name,
                    frequency=s.frequency,
                    check_names=s.checks,
                    day_of_week=s.day_of_week,
                    day_of_month=s.day_of_month,
                )
        except AwsError as err:
            self._error(f"{err.code}: {err.text}")
            return
        finally:
            self._sending = False
        self.dismiss(s.name)

    def _snapshot(self) -> tuple[object, ...]:
        values = field_values(self, "Input, Select")
        return (*values, self.checks)
