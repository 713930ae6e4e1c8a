"""The whole lab of ../shared/seeds by keyboard alone, in the real app at 80x24, against the sandbox.

Settings → an on-demand audit from Schedules (`o`) → its outcome → the three lab checks non-compliant →
the shared certificate naming SensorDevice01 and SensorDevice02 → a deactivate-certificate action with a
role created on the spot (F3) → mark and apply → the task completes → the certificate is INACTIVE.
"""

from __future__ import annotations

from functools import partial

from textual.pilot import Pilot
from textual.widgets import Static

from iot_defender_tui.config import Settings
from iot_defender_tui.ui.apply_mitigation import ApplyMitigationScreen
from iot_defender_tui.ui.check_picker import CheckPickerModal
from iot_defender_tui.ui.create_role import CreateRoleModal
from iot_defender_tui.ui.finding_detail import FindingDetailScreen
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.mitigation import MitigationPane
from iot_defender_tui.ui.panes.mitigation_forms import ActionForm
from iot_defender_tui.ui.panes.results import ResultsPane
from iot_defender_tui.ui.widgets.fast_table import FastTable
from tests.support import ui
from tests.support.sandbox import make_client, sandbox_settings
from tests.support.ui import RecordingApp

until = partial(ui.until, timeout=20.0)  # this module's waits keep the patience they had

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"
LAB_CHECKS = {SHARED, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"}


def rows(table: FastTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def noted(app: RecordingApp, *words: str) -> bool:
    return any(all(w in note for w in words) for note in app.notes)


async def confirm(pilot: Pilot) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal), "the confirmation")
    await pilot.press("y")


async def test_the_lab_by_keyboard(lab: str, journal) -> None:
    settings = Settings(audit_poll_seconds=0.3, mitigation_poll_seconds=0.3, idle_poll_seconds=5)
    app = RecordingApp(sandbox_settings(lab), settings, journal)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.focused is not None and app.focused.id == "settings-table", "Settings")

        # 1.2 Run an audit now, from Schedules: the picker offers every enabled check.
        await pilot.press("2")
        await until(
            pilot, lambda: app.current_pane() is not None and app.current_pane().id == "schedules", "2"
        )
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, CheckPickerModal), "the check picker")
        await pilot.press("enter")
        await confirm(pilot)
        await until(
            pilot, lambda: noted(app, "COMPLETED", "3 of 17 checks non-compliant"), "the audit outcome"
        )

        # Triage: the new audit on top, its three non-compliant checks first.
        await pilot.press("3")
        results = app.query_one(ResultsPane)
        await until(pilot, lambda: "COMPLETED" in rows(results.table)[1], "the audit in Results")
        await pilot.press("enter")
        await until(pilot, lambda: "non-compliant" in "".join(rows(results.table)), "the checks")
        assert results.table.visible_keys()[0] == "__all__"  # every finding of the audit in one list
        assert set(results.table.visible_keys()[1:4]) == LAB_CHECKS
        while results.table.cursor_key != SHARED:
            await pilot.press("down")
        await pilot.press("enter")
        await until(pilot, lambda: results.table.row_count == 1 and not results.stream.loading, "the finding")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FindingDetailScreen), "the finding detail")
        detail = str(app.screen.query_one("#finding", Static).render())
        assert "SensorDevice01" in detail and "SensorDevice02" in detail
        await pilot.press("escape")

        # 2.1 The deactivate-certificate action, with a role created for it (the console's "Create Role").
        await pilot.press("4")
        mitigation = app.query_one(MitigationPane)
        await until(pilot, lambda: app.current_pane() is mitigation, "Mitigation")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ActionForm), "the action form")
        await pilot.press(*"DeactivateShared")
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, CreateRoleModal), "the create-role dialog")
        await pilot.press("ctrl+s")
        await confirm(pilot)
        await until(pilot, lambda: noted(app, "Role", "created"), "the role")
        await until(pilot, lambda: isinstance(app.screen, ActionForm), "back in the form")
        await pilot.press("ctrl+s")
        await confirm(pilot)
        await until(
            pilot,
            lambda: "DeactivateShared" in "".join(rows(mitigation.query_one("#actions", FastTable))),
            "the action listed",
        )

        # 2.2 Mark the finding and apply the action; the task is followed to its end.
        await pilot.press("3")
        await until(
            pilot, lambda: app.current_pane() is results and results.table.row_count == 1, "the findings"
        )
        await pilot.press("space", "a")
        await until(pilot, lambda: isinstance(app.screen, ApplyMitigationScreen), "the apply dialog")
        await until(
            pilot, lambda: app.screen.query_one("SelectionList").option_count == 1, "the action offered"
        )
        await pilot.press("space", "enter")
        await confirm(pilot)
        await until(pilot, lambda: noted(app, "COMPLETED", "1 succeeded"), "the mitigation outcome")
        assert noted(app, "is now INACTIVE")
        assert app.bells >= 2  # started, finished

        # Verify: the finding's resource now shows INACTIVE.
        await pilot.press("3")
        await until(
            pilot, lambda: app.current_pane() is results and results.table.row_count == 1, "the findings"
        )
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FindingDetailScreen), "the finding detail")
        state = app.screen.query_one("#state", Static)
        await until(pilot, lambda: "INACTIVE" in str(state.render()), "the certificate INACTIVE")

    cert = make_client(lab).list_certificates()["certificates"]
    shared = [c for c in cert if c["status"] == "INACTIVE"]
    assert len(shared) == 1
