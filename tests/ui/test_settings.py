"""The Settings pane on the lab, by keyboard: toggles, thresholds, save, server refusal, read-only."""

from __future__ import annotations

from functools import partial

from iot_defender_tui.aws import catalogue
from iot_defender_tui.config import Settings
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.settings import SettingsPane, ThresholdModal
from tests.support import ui
from tests.support.sandbox import make_client, request_counts, sandbox_settings

until = partial(ui.until, timeout=30.0)  # this module's waits keep the patience they had


def table_text(app: DefenderApp) -> dict[str, str]:
    table = app.query_one("#settings-table")
    return {str(k.value): " ".join(str(c) for c in table.get_row(k)) for k in table.rows}


def make_app(url: str, read_only: bool = False, journal=None) -> DefenderApp:
    return DefenderApp(sandbox_settings(url, read_only=read_only), Settings(), journal)


async def ready(pilot) -> SettingsPane:
    app = pilot.app
    await until(pilot, lambda: bool(app.query("#settings-table")) and len(table_text(app)) == 17)
    return app.query_one(SettingsPane)


async def cursor_to(pilot, name: str) -> None:
    table = pilot.app.query_one("#settings-table")
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()


async def test_lists_all_checks_enabled_and_account_settings(lab: str) -> None:
    app = make_app(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        rows = table_text(app)
        assert set(rows) == set(catalogue.CHECKS)
        assert all(row.startswith("✓") for row in rows.values())
        account = str(app.query_one("#settings-account").render())
        assert "arn:aws:iam::123456789012:role/" in account
        assert "IoT logging: disabled" in account


async def test_toggle_off_and_save(lab: str, journal) -> None:
    name = "LOGGING_DISABLED_CHECK"
    app = make_app(lab, journal=journal)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready(pilot)
        await cursor_to(pilot, name)
        await pilot.press("space")
        assert table_text(app)[name].startswith("✗*")
        assert pane.has_unsaved_edits
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "Disable: " in str(app.screen.query_one("#body").render())
        await pilot.press("y")
        await until(pilot, lambda: not pane.has_unsaved_edits and "Saved" in _message(app))
    config = make_client(lab).describe_account_audit_configuration()["auditCheckConfigurations"]
    assert config[name]["enabled"] is False
    assert config["DEVICE_CERTIFICATE_SHARED_CHECK"]["enabled"] is True


async def test_threshold_validates_and_keeps_input(lab: str, journal) -> None:
    name = "DEVICE_CERTIFICATE_AGE_CHECK"
    app = make_app(lab, journal=journal)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await cursor_to(pilot, name)
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, ThresholdModal))
        field = app.screen.query_one("#threshold-input")
        field.value = ""
        await pilot.press("1", "0", "enter")
        assert isinstance(app.screen, ThresholdModal)
        assert "between 30 and 3652" in str(app.screen.query_one("#threshold-error").render())
        assert field.value == "10"
        field.value = "400"
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, ThresholdModal))
        assert "400d" in table_text(app)[name]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: "Saved" in _message(app))
    config = make_client(lab).describe_account_audit_configuration()["auditCheckConfigurations"]
    assert config[name]["configuration"]["CERT_AGE_THRESHOLD_IN_DAYS"] == "400"


async def test_server_refusal_keeps_pending_edit(lab: str, journal) -> None:
    name = "DEVICE_CERTIFICATE_SHARED_CHECK"
    make_client(lab).create_scheduled_audit(
        scheduledAuditName="daily", frequency="DAILY", targetCheckNames=[name]
    )
    app = make_app(lab, journal=journal)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready(pilot)
        await cursor_to(pilot, name)
        await pilot.press("space", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: "Not saved" in _message(app))
        assert "scheduled audit" in _message(app)
        assert "daily" in str(app.query_one("#status").render())
        assert pane.pending_enabled == {name: False}
        pane.refresh_now()  # a poll does not overwrite the pending edit
        await until(pilot, lambda: _idle(app))
        assert table_text(app)[name].startswith("✗*")


async def test_read_only_refuses_edits(lab: str) -> None:
    name = "LOGGING_DISABLED_CHECK"
    before = request_counts(lab).get("UpdateAccountAuditConfiguration", 0)
    app = make_app(lab, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await ready(pilot)
        assert "READ-ONLY" in str(app.query_one("#header").render())
        await cursor_to(pilot, name)
        for key in ("space", "t", "ctrl+s"):
            app.clear_error()
            await pilot.press(key)
            await pilot.pause()
            assert str(app.query_one("#status").render()).startswith("Read-only:"), key
        pane.action_toggle()  # as the palette or a script would call it: refused the same way
        assert "Read-only:" in str(app.query_one("#status").render())
        assert not pane.has_unsaved_edits
        assert not isinstance(app.screen, ConfirmModal | ThresholdModal)
        assert table_text(app)[name].startswith("✓ ")
        keys = {b.binding.id for b in app.screen.active_bindings.values()}
        assert not keys & {"settings-toggle", "settings-threshold", "settings-save"}
    assert request_counts(lab).get("UpdateAccountAuditConfiguration", 0) == before


async def test_quit_with_unsaved_edits_asks(lab: str) -> None:
    app = make_app(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await pilot.press("space", "q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        assert app.is_running
        await pilot.press("q", "y")
        await until(pilot, lambda: not app.is_running)


def _message(app: DefenderApp) -> str:
    return str(app.query_one("#settings-message").render())


def _idle(app: DefenderApp) -> bool:
    return all(w.is_finished for w in app.workers if w.group.startswith("poll-"))


def table_lines(app: DefenderApp) -> list[str]:
    table = app.query_one("#settings-table")
    return [table.render_line(y).text for y in range(table.size.height)]


async def test_severity_in_full_when_the_window_is_wide_enough(lab: str) -> None:
    """At 200 columns the whole table fits with "CRITICAL"; at 120 (API names cut) it says "CRIT"."""
    app = make_app(lab)
    async with app.run_test(size=(200, 50)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: any("CRITICAL  Intermediate CA" in line for line in table_lines(app)))
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: any("CRIT  Intermediate CA" in line for line in table_lines(app)))
        assert not any("CRITICAL" in line for line in table_lines(app))
        await pilot.resize_terminal(200, 50)
        await until(pilot, lambda: any("CRITICAL  Intermediate CA" in line for line in table_lines(app)))
