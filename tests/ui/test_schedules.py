"""The Schedules pane by keyboard against the loopback sandbox with the lab seeded (80x24)."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input, Select, SelectionList, Static

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.check_picker import CheckPickerModal
from iot_defender_tui.ui.help import bindings_text
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.schedules import EMPTY, SchedulesPane
from iot_defender_tui.ui.panes.schedules_form import ScheduleForm
from tests.support.sandbox import make_client, request_counts, sandbox_settings
from tests.support.standin import StandIn
from tests.support.ui import type_burst, until

LOGGING = "LOGGING_DISABLED_CHECK"
SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
MUTATING_CALLS = (
    "CreateScheduledAudit",
    "UpdateScheduledAudit",
    "DeleteScheduledAudit",
    "StartOnDemandAuditTask",
)


class Harness(StandIn):
    """The app contract, around the Schedules pane; also records notifications."""

    def __init__(self, dd: DefenderClient, read_only: bool = False) -> None:
        super().__init__(dd, read_only, Settings(idle_poll_seconds=0.5))
        self.notes: list[str] = []
        self.listed_at_note: list[list[str]] = []  # the schedules the list showed as each note came

    def compose(self) -> ComposeResult:
        yield SchedulesPane()

    def on_mount(self) -> None:
        pane = self.query_one(SchedulesPane)
        pane.refresh_now()
        pane.focus_target().focus()

    def notify(self, message: str, *args, **kwargs) -> None:
        self.notes.append(message)
        self.listed_at_note.append([row[0] for row in cells(self)])
        super().notify(message, *args, **kwargs)


@pytest.fixture
async def lab(sandbox_url: str, aws_env, journal):
    runtime().options.audit_seconds = 0.3
    seed_fleet("lab")
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as client:
        yield client


def cells(app: App) -> list[list[str]]:
    table = app.query_one(SchedulesPane).query_one("#schedule-list", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def text_of(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def pane_text(app: App, selector: str) -> str:
    return str(app.query_one(SchedulesPane).query_one(selector, Static).render())


async def choose(pilot, select_id: str, value: str) -> None:
    """Pick `value` in a Select by keyboard: focus it, open its menu, move to the value, enter."""
    select = pilot.app.screen.query_one(select_id, Select)
    select.focus()
    await pilot.press("enter")
    await pilot.pause()
    for _ in range(10):
        if select.value == value:
            break
        await pilot.press("down", "enter")
        await pilot.pause()
        if select.value != value:
            await pilot.press("enter")  # open the menu again, on the next option
            await pilot.pause()
    assert select.value == value


async def open_new(pilot, name: str) -> ScheduleForm:
    await pilot.press("n")
    await until(pilot, lambda: isinstance(pilot.app.screen, ScheduleForm))
    await pilot.press(*name)
    return pilot.app.screen


async def save_confirmed(pilot) -> None:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal))
    await pilot.press("y")


async def test_lists_a_schedule_and_the_empty_state(lab, sandbox_url):
    iot = make_client(sandbox_url)
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(SchedulesPane)
        await until(pilot, lambda: pane.config is not None)
        assert pane_text(app, "#empty") == EMPTY
        assert "17 checks enabled" in pane_text(app, "#heading")
        iot.create_scheduled_audit(
            scheduledAuditName="weekly-audit",
            frequency="WEEKLY",
            dayOfWeek="WED",
            targetCheckNames=[LOGGING, SHARED],
        )
        pane.refresh_now()
        await until(pilot, lambda: len(cells(app)) == 1)
        row = cells(app)[0]
        assert row[:3] == ["weekly-audit", "WEEKLY", "WED"]
        assert row[3].startswith("2: ")
        assert not app.query_one("#empty").display
        detail = pane_text(app, "#detail")
        assert "WEEKLY on WED" in detail
        assert "Device certificate shared" in detail and "Logging disabled" in detail
        assert app.errors == []


async def test_create_by_keyboard_then_edit_then_delete(lab, sandbox_url):
    iot = make_client(sandbox_url)
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.query_one(SchedulesPane).config is not None)
        form = await open_new(pilot, "nightly_1")
        assert not form.query_one("#p-weekday").display
        assert len(form.checks) == 17  # every enabled check by default
        await choose(pilot, "#frequency", "WEEKLY")
        assert form.query_one("#p-weekday").display and not form.query_one("#p-day").display
        await choose(pilot, "#weekday", "TUE")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        body = text_of(app, "#body")
        assert "nightly_1" in body and "WEEKLY on TUE" in body and "Checks (17)" in body
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (ScheduleForm, ConfirmModal)))
        described = iot.describe_scheduled_audit(scheduledAuditName="nightly_1")
        assert described["frequency"] == "WEEKLY" and described["dayOfWeek"] == "TUE"
        assert len(described["targetCheckNames"]) == 17
        await until(pilot, lambda: [r[:3] for r in cells(app)] == [["nightly_1", "WEEKLY", "TUE"]])
        # "Saved" comes once the list shows it: never over "No scheduled audits".
        assert app.notes[-1] == "Saved scheduled audit nightly_1" and app.listed_at_note[-1] == ["nightly_1"]

        # Edit: WEEKLY -> MONTHLY on the last day, with only one check.
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ScheduleForm))
        form = app.screen
        assert form.query_one("#name", Input).disabled
        await choose(pilot, "#frequency", "MONTHLY")
        form.query_one("#day", Input).focus()
        await pilot.press(*"last")
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, CheckPickerModal))
        picker = app.screen
        await pilot.press("A")  # all were chosen: none now
        await until(pilot, lambda: picker.selected == ())
        await pilot.press("enter")  # nothing chosen: refused, the picker stays
        assert app.screen is picker and "at least one" in text_of(app, "#checks-status")
        picker.query_one(SelectionList).highlighted = picker._offered.index(LOGGING)
        await pilot.press("space", "enter")
        await until(pilot, lambda: isinstance(app.screen, ScheduleForm))
        assert form.checks == (LOGGING,)
        await save_confirmed(pilot)
        await until(pilot, lambda: not isinstance(app.screen, (ScheduleForm, ConfirmModal)))
        described = iot.describe_scheduled_audit(scheduledAuditName="nightly_1")
        assert described["frequency"] == "MONTHLY" and described["dayOfMonth"] == "LAST"
        assert described["targetCheckNames"] == [LOGGING]
        await until(pilot, lambda: [r[:3] for r in cells(app)] == [["nightly_1", "MONTHLY", "LAST"]])

        # Delete: asks first; no deletes nothing.
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "nightly_1" in text_of(app, "#body")
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        assert len(iot.list_scheduled_audits()["scheduledAudits"]) == 1
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: cells(app) == [])
        assert iot.list_scheduled_audits()["scheduledAudits"] == []
        await until(pilot, lambda: pane_text(app, "#empty") == EMPTY)
        assert app.errors == []


async def test_form_rejects_bad_input_and_keeps_it(lab, sandbox_url):
    iot = make_client(sandbox_url)
    iot.create_scheduled_audit(scheduledAuditName="taken", frequency="DAILY", targetCheckNames=[LOGGING])
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(cells(app)) == 1)
        before = request_counts(sandbox_url).get("CreateScheduledAudit", 0)
        form = await open_new(pilot, "bad name!")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: text_of(app, "#form-error").startswith("Name:"))
        assert app.screen is form and form.query_one("#name", Input).value == "bad name!"

        name = form.query_one("#name", Input)
        name.value = ""
        name.focus()
        await pilot.press(*"taken")
        await choose(pilot, "#frequency", "WEEKLY")
        await pilot.press("ctrl+s")  # WEEKLY with no weekday picked
        await until(pilot, lambda: text_of(app, "#form-error").startswith("Day of the week:"))
        assert app.screen is form

        await choose(pilot, "#frequency", "MONTHLY")
        form.query_one("#day", Input).focus()
        await pilot.press("3", "2", "ctrl+s")
        await until(pilot, lambda: text_of(app, "#form-error").startswith("Day of the month:"))
        assert "'32'" in text_of(app, "#form-error")
        assert form.query_one("#day", Input).value == "32"
        assert form.query_one("#frequency", Select).value == "MONTHLY"
        assert request_counts(sandbox_url).get("CreateScheduledAudit", 0) == before

        # A valid form whose name exists: the server's refusal in the form, everything kept.
        form.query_one("#day", Input).value = "15"
        await save_confirmed(pilot)
        await until(pilot, lambda: "ResourceAlreadyExists" in text_of(app, "#form-error"))
        assert app.screen is form
        assert form.query_one("#name", Input).value == "taken"
        assert form.query_one("#day", Input).value == "15"
        assert iot.describe_scheduled_audit(scheduledAuditName="taken")["frequency"] == "DAILY"

        # Escape with edits asks first.
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: app.screen is app.screen_stack[0])


async def test_form_with_no_enabled_checks_points_to_settings(lab, sandbox_url):
    iot = make_client(sandbox_url)
    checks = iot.describe_account_audit_configuration()["auditCheckConfigurations"]
    iot.update_account_audit_configuration(
        auditCheckConfigurations={name: {"enabled": False} for name in checks}
    )
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.query_one(SchedulesPane).config is not None)
        form = await open_new(pilot, "none")
        assert "Settings (key 1)" in text_of(app, "#form-error")
        await pilot.press("ctrl+s")
        assert app.screen is form and "Settings (key 1)" in text_of(app, "#form-error")
        form.dismiss(None)
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("o")
        await until(pilot, lambda: any("Settings (key 1)" in e for e in app.errors))
        assert app.screen is app.screen_stack[0]


async def test_audit_now_starts_exactly_one(lab, sandbox_url, monkeypatch):
    iot = make_client(sandbox_url)

    def tasks() -> set[str]:
        listed = iot.list_audit_tasks(startTime=time.time() - 7 * 86400, endTime=time.time() + 60)
        return {t["taskId"] for t in listed["tasks"]}

    # StartOnDemandAuditTask held until released, so keys pressed while it is in flight are seen.
    release = asyncio.Event()
    real_start = lab.start_audit

    async def held_start(checks):
        await release.wait()
        return await real_start(checks)

    monkeypatch.setattr(lab, "start_audit", held_start)
    before = tasks()
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(SchedulesPane)
        await until(pilot, lambda: pane.config is not None)
        await pilot.press("o", "o")
        await until(pilot, lambda: isinstance(app.screen, CheckPickerModal))
        await pilot.pause(0.1)
        assert sum(isinstance(s, CheckPickerModal) for s in app.screen_stack) == 1
        picker = app.screen
        assert len(picker.selected) == 17  # every enabled check by default
        await pilot.press("A")
        await until(pilot, lambda: picker.selected == ())
        for check in (LOGGING, SHARED):
            picker.query_one(SelectionList).highlighted = picker._offered.index(check)
            await pilot.press("space")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert text_of(app, "#title") == "Start an on-demand audit of 2 checks?"
        assert "Device certificate shared" in text_of(app, "#body")
        await pilot.press("enter", "enter", "y", "o", "o", "enter")  # the start is still in flight
        await pilot.pause(0.1)
        assert app.screen is app.screen_stack[0] and app.tracked == []
        release.set()
        await until(pilot, lambda: len(app.tracked) == 1)
        await pilot.pause(0.2)
        new = tasks() - before
        assert len(new) == 1
        (task_id,) = new
        assert app.tracked == [("audit", task_id)]
        described = iot.describe_audit_task(taskId=task_id)
        assert described["taskType"] == "ON_DEMAND_AUDIT_TASK"
        assert set(described["auditDetails"]) == {LOGGING, SHARED}
        assert any(task_id in note and "started" in note for note in app.notes)
        # Once it has started, `o` works again; escape leaves the picker without starting anything.
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, CheckPickerModal))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, CheckPickerModal))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await until(pilot, lambda: app.screen is app.screen_stack[0])
        await pilot.pause(0.1)
        assert tasks() - before == {task_id} and len(app.tracked) == 1
        assert app.errors == []


async def test_read_only_hides_and_refuses_mutating_keys(lab, sandbox_url):
    iot = make_client(sandbox_url)
    iot.create_scheduled_audit(
        scheduledAuditName="weekly-audit", frequency="WEEKLY", dayOfWeek="WED", targetCheckNames=[LOGGING]
    )
    before = request_counts(sandbox_url)
    app = Harness(lab, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(cells(app)) == 1)
        pane = app.query_one(SchedulesPane)
        shown = {b.binding.key for b in app.active_bindings.values() if b.enabled and b.binding.show}
        assert not shown & {"n", "e", "d", "o"}
        help_text = bindings_text(app, app.screen.active_bindings).plain
        assert "Audit now" not in help_text and "New" not in help_text and "Delete" not in help_text
        for key in ("n", "e", "d", "o", "enter"):
            await pilot.press(key)
            await asyncio.sleep(0.05)
            assert app.screen is app.screen_stack[0], key
        for name in ("new_schedule", "edit_schedule", "delete_schedule", "run_audit"):
            getattr(pane, f"action_{name}")()
        await pilot.pause()
        assert len(app.errors) == 4 and all("Read-only" in e for e in app.errors)
        assert app.screen is app.screen_stack[0]
    after = request_counts(sandbox_url)
    assert all(after.get(op, 0) == before.get(op, 0) for op in MUTATING_CALLS)
    assert len(iot.list_scheduled_audits()["scheduledAudits"]) == 1


async def test_in_the_app_on_key_2(lab, sandbox_url):
    from iot_defender_tui.ui.app import DefenderApp

    make_client(sandbox_url).create_scheduled_audit(
        scheduledAuditName="weekly-audit", frequency="WEEKLY", dayOfWeek="WED", targetCheckNames=[LOGGING]
    )
    app = DefenderApp(sandbox_settings(sandbox_url), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        # As test_app does: the first pane has focus before another pane's key is pressed.
        await until(pilot, lambda: app.focused is not None and app.focused.id == "settings-table")
        await pilot.press("2")
        await until(pilot, lambda: len(cells(app)) == 1)
        await until(pilot, lambda: isinstance(app.focused, DataTable))
        shown = {b.binding.key for b in app.active_bindings.values() if b.enabled and b.binding.show}
        assert {"n", "e", "d", "o"} <= shown
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ScheduleForm))
        assert app.screen.query_one("#weekday", Select).value == "WED"
        await choose(pilot, "#weekday", "THU")
        assert app.query_one(SchedulesPane).has_unsaved_edits
        await pilot.press("escape")  # edited: asks before dropping it
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ScheduleForm))
        assert app.screen.query_one("#weekday", Select).value == "THU"


@pytest.mark.parametrize("burst", [False, True], ids=["keys", "burst"])
@pytest.mark.parametrize("opener", ["n", "e"])
async def test_keys_typed_as_the_form_opens_are_the_forms(lab, sandbox_url, opener, burst):
    """No pause after `n`/`e`: what is typed next lands in the form, never in the pane behind it (where
    `e` would open an edit, `d` a delete), even as one burst queued before the app handled `n`."""
    iot = make_client(sandbox_url)
    iot.create_scheduled_audit(scheduledAuditName="taken", frequency="DAILY", targetCheckNames=[LOGGING])
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(cells(app)) == 1)
        if burst:
            type_burst(app, opener + "edo")
        else:
            await pilot.press(opener, "e", "d", "o")
        await until(pilot, lambda: isinstance(app.screen, ScheduleForm), "the form")
        form = app.screen
        if opener == "n":
            await until(pilot, lambda: form.query_one("#name", Input).value == "edo", "the name typed")
        await until(pilot, lambda: not form.loading, "the enabled checks")
        assert len(app.screen_stack) == 2  # the form only: no edit, delete or picker behind it
        assert LOGGING in form.checks
        assert form.dirty == (opener == "n")


async def test_audit_now_picker_takes_the_keys_typed_as_it_opens(lab, sandbox_url):
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.query_one(SchedulesPane).config is not None)
        await pilot.press("o", "n", "e")
        assert isinstance(app.screen, CheckPickerModal)
        assert not any(isinstance(s, ScheduleForm) for s in app.screen_stack)
        await until(pilot, lambda: "17 of 17 chosen" in text_of(app, "#checks-status"))


async def test_enter_typed_while_the_picker_loads_confirms_once_loaded(lab, sandbox_url):
    """`o` then enter in one go (audit every enabled check): the enter came while the checks loaded and was
    dropped, so the audit never started."""
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.query_one(SchedulesPane).config is not None)
        runtime().options.latency_ms = 300
        type_burst(app, "o")
        app.post_message(events.Key("enter", None))
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the audit's confirmation")
        await until(pilot, lambda: bool(app.screen.query("#body")), "the confirmation composed")
        runtime().options.latency_ms = 0
        body = text_of(app, "#body")
        assert "Authenticated Cognito role" in body and body.endswith("Logging disabled")  # every check
