"""No worker error vanishes: a screen or modal whose worker fails with any exception (not only an AWS error)
shows it in its own message line and in the status line, leaves its busy state, and escape closes it."""

from __future__ import annotations

import time
from functools import partial

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, SelectionList, Static

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.models import MitigationTask
from iot_defender_tui.config import Settings
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.apply_mitigation import ApplyMitigationScreen
from iot_defender_tui.ui.create_role import CreateRoleModal
from iot_defender_tui.ui.finding_detail import FindingDetailScreen
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.mitigation_forms import ActionForm
from iot_defender_tui.ui.panes.mitigation_views import ExecutionsScreen
from iot_defender_tui.ui.panes.schedules_form import ScheduleForm
from iot_defender_tui.ui.pickers import role_picker
from tests.support import ui
from tests.support.mitigation import NEEDS, SHARED, make_role
from tests.support.sandbox import make_client, sandbox_settings

until = partial(ui.until, timeout=15.0)  # this module's waits keep the patience they had


def boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


def text(screen: Screen, selector: str) -> str:
    """What the widget shows ("" while the screen is still being composed)."""
    found = screen.query(selector).results(Static)
    return "".join(str(widget.render()) for widget in found)


def status_line(app: DefenderApp) -> str:
    return str(app.screen_stack[0].query_one("#status", Static).render())


async def connected(pilot: Pilot) -> DefenderApp:
    app = pilot.app
    assert isinstance(app, DefenderApp)
    await until(pilot, lambda: app.dd is not None and app.focused is not None)
    return app


async def shared_finding(lab: str, dd: DefenderClient):
    iot = make_client(lab)
    audits = iot.list_audit_tasks(startTime=time.time() - 7 * 86400, endTime=time.time() + 60)["tasks"]
    [finding] = await dd.list_findings(task_id=audits[0]["taskId"], check_name=SHARED)
    return finding


async def open_screen(pilot: Pilot, screen: Screen) -> None:
    """Pushed by the app's own loop, as a key handler would."""
    pilot.app.call_later(pilot.app.push_screen, screen)
    await until(pilot, lambda: pilot.app.screen is screen)


async def escape_closes(pilot: Pilot, screen: Screen) -> None:
    await pilot.press("escape")
    if isinstance(pilot.app.screen, ConfirmModal):  # a form with typed text asks before discarding
        await pilot.press("y")
    await until(pilot, lambda: screen not in pilot.app.screen_stack)


async def test_finding_detail(lab: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert app.dd is not None
        finding = await shared_finding(lab, app.dd)
        monkeypatch.setattr(DefenderClient, "describe_certificate", boom)
        screen = FindingDetailScreen(finding, app.dd)
        await open_screen(pilot, screen)
        await until(pilot, lambda: "boom" in text(screen, "#state"))
        assert "loading" not in text(screen, "#state")
        await until(pilot, lambda: "RuntimeError: boom" in status_line(app))
        await escape_closes(pilot, screen)


async def test_picker(lab: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        monkeypatch.setattr(DefenderClient, "list_roles", boom)
        screen = role_picker(app.dd)
        await open_screen(pilot, screen)
        await until(pilot, lambda: "boom" in text(screen, "#picker-status"))
        assert "loading" not in text(screen, "#picker-status")
        await until(pilot, lambda: "RuntimeError: boom" in status_line(app))
        await escape_closes(pilot, screen)


async def test_apply_start(lab: str, monkeypatch: pytest.MonkeyPatch) -> None:
    arn = make_role(lab, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    make_client(lab).create_mitigation_action(
        actionName="DeactivateCert",
        roleArn=arn,
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        assert app.dd is not None
        finding = await shared_finding(lab, app.dd)
        monkeypatch.setattr(DefenderClient, "start_mitigation_task", boom)
        screen = ApplyMitigationScreen([finding], app.dd)
        await open_screen(pilot, screen)
        await until(pilot, lambda: screen.query_one(SelectionList).option_count == 1)
        await pilot.press("space", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: "boom" in text(screen, "#message"))
        assert "Starting" not in text(screen, "#message")
        await until(pilot, lambda: "RuntimeError: boom" in status_line(app))
        await escape_closes(pilot, screen)


async def test_create_role(lab: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        monkeypatch.setattr(DefenderClient, "create_mitigation_role", boom)
        screen = CreateRoleModal("UPDATE_DEVICE_CERTIFICATE", None, "IoTMitigation-Boom")
        await open_screen(pilot, screen)
        await until(pilot, lambda: app.screen is screen and app.focused is not None)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: "boom" in text(screen, "#role-error"))
        assert "Creating" not in text(screen, "#role-error")
        assert not screen.query_one("#role-name", Input).disabled  # the user can fix the name and retry
        await until(pilot, lambda: "RuntimeError: boom" in status_line(app))
        await escape_closes(pilot, screen)


async def test_executions(lab: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        monkeypatch.setattr(DefenderClient, "describe_mitigation_task", boom)
        task = MitigationTask("boom-task", "IN_PROGRESS", None, None, {"findingIds": ["f-1"]}, {}, {})
        screen = ExecutionsScreen(task)
        await open_screen(pilot, screen)
        await until(pilot, lambda: "boom" in text(screen, "#executions-status"))
        assert "loading" not in text(screen, "#executions-status")
        await until(pilot, lambda: "RuntimeError: boom" in status_line(app))
        await escape_closes(pilot, screen)


async def test_action_form(lab: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        monkeypatch.setattr(DefenderClient, "create_mitigation_action", boom)
        screen = ActionForm()
        await open_screen(pilot, screen)
        await until(pilot, lambda: app.screen is screen and app.focused is not None)
        screen.query_one("#name", Input).value = "BoomAction"
        screen.query_one("#role", Input).value = "arn:aws:iam::123456789012:role/AnyRole"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: "boom" in text(screen, "#form-error"))
        assert "Saving" not in text(screen, "#form-error")
        await until(pilot, lambda: "RuntimeError: boom" in status_line(app))
        await pilot.press("ctrl+s")  # saving works again: the user can retry
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await escape_closes(pilot, screen)


async def test_schedule_form(lab: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        monkeypatch.setattr(DefenderClient, "create_scheduled_audit", boom)
        screen = ScheduleForm([SHARED])
        await open_screen(pilot, screen)
        await until(pilot, lambda: app.screen is screen and app.focused is not None)
        screen.query_one("#name", Input).value = "BoomSchedule"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: "boom" in text(screen, "#form-error"))
        assert "Saving" not in text(screen, "#form-error")
        await until(pilot, lambda: "RuntimeError: boom" in status_line(app))
        await escape_closes(pilot, screen)


def test_every_screen_and_modal_reports_its_workers() -> None:
    import importlib
    import inspect
    import pkgutil

    from textual.screen import ModalScreen

    import iot_defender_tui.ui as ui
    from iot_defender_tui.ui.screen import DefenderModal, DefenderScreen

    screens = set()
    for module in pkgutil.walk_packages(ui.__path__, f"{ui.__name__}."):
        for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__.startswith(ui.__name__):
                screens.add(cls)
    assert len(screens) >= 12
    for cls in screens:
        base = DefenderModal if issubclass(cls, ModalScreen) else DefenderScreen
        assert issubclass(cls, base), cls


async def test_action_form_saved_twice_quickly_sends_once(lab: str, journal) -> None:
    from iot_defender_tui.sandbox.runtime import runtime
    from tests.support.sandbox import request_counts

    role = make_role(lab, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    app = DefenderApp(sandbox_settings(lab), Settings(), journal)  # no write is sent without one
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        screen = ActionForm()
        await open_screen(pilot, screen)
        screen.query_one("#name", Input).value = "SavedOnce"
        screen.query_one("#role", Input).value = role
        before = request_counts(lab).get("CreateMitigationAction", 0)
        runtime().options.latency_ms = 500  # the first save is still in flight when the second comes
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y", "ctrl+s")
        if isinstance(app.screen, ConfirmModal):
            await pilot.press("y")
        ended = lambda: screen not in app.screen_stack or "Saving" not in text(screen, "#form-error")  # noqa: E731
        await until(pilot, ended)
        runtime().options.latency_ms = 0
        assert request_counts(lab).get("CreateMitigationAction", 0) == before + 1
        assert screen not in app.screen_stack  # saved, and the form closed
