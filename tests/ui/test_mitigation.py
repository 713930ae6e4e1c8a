"""The Mitigation pane by keyboard against the loopback sandbox with the lab seeded (80x24)."""

from __future__ import annotations

import asyncio
import time

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.mitigation import MitigationPane
from iot_defender_tui.ui.panes.mitigation_forms import ActionForm
from iot_defender_tui.ui.panes.mitigation_views import ExecutionsScreen
from iot_defender_tui.ui.pickers import PickerModal
from iot_defender_tui.ui.widgets.fast_table import FastTable
from tests.support.mitigation import NEEDS, make_role
from tests.support.sandbox import make_client, request_counts, sandbox_settings
from tests.support.standin import StandIn
from tests.support.ui import type_burst, until

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"


class Harness(StandIn):
    """The app contract, around the Mitigation pane, with fast polls."""

    def __init__(self, dd: DefenderClient, read_only: bool = False) -> None:
        super().__init__(dd, read_only, Settings(mitigation_poll_seconds=0.2, idle_poll_seconds=0.5))

    def compose(self) -> ComposeResult:
        yield MitigationPane()

    def on_mount(self) -> None:
        pane = self.query_one(MitigationPane)
        pane.refresh_now()
        pane.query_one("#actions", FastTable).focus()


@pytest.fixture
async def lab(sandbox_url: str, aws_env, journal):
    seed_fleet("lab")
    async with DefenderClient(sandbox_settings(sandbox_url), journal) as client:
        yield client


def cells(app: App, table_id: str) -> list[list[str]]:
    table = app.query_one(MitigationPane).query_one(table_id, FastTable)
    return [[c.plain for c in table.row_cells(k)] for k in table.visible_keys()]


def screen_lines(table: FastTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def form_error(app: App) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


async def pick_role(pilot, typed: str) -> None:
    await pilot.press("f2")
    await until(pilot, lambda: isinstance(pilot.app.screen, PickerModal))
    await pilot.press(*typed)
    await until(pilot, lambda: pilot.app.screen.query_one("#picker-list").option_count == 1)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ActionForm))


async def fill_new(pilot, name: str, role_filter: str) -> None:
    await pilot.press("n")
    await until(pilot, lambda: isinstance(pilot.app.screen, ActionForm))
    await pilot.press(*name)
    pilot.app.screen.query_one("#role", Input).focus()
    await pick_role(pilot, role_filter)


async def save_confirmed(pilot) -> None:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal))
    await pilot.press("y")


async def test_create_duplicate_invalid_edit_delete(lab, sandbox_url):
    arn = make_role(sandbox_url, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    other = make_role(sandbox_url, "OtherMitigationRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    iot = make_client(sandbox_url)
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        # Create, the role chosen in the picker by a typed filter.
        await fill_new(pilot, "DeactivateCert", "deactivate")
        assert app.screen.query_one("#role", Input).value == arn
        await save_confirmed(pilot)
        await until(pilot, lambda: not isinstance(app.screen, (ActionForm, ConfirmModal)))
        await until(pilot, lambda: any(r[0] == "DeactivateCert" for r in cells(app, "#actions")))
        row = next(r for r in cells(app, "#actions") if r[0] == "DeactivateCert")
        assert row[1:] == [
            "UPDATE_DEVICE_CERTIFICATE",
            "MitigationDeactivateRole",
            "deactivate the device certificate",
        ]
        described = iot.describe_mitigation_action(actionName="DeactivateCert")
        assert described["roleArn"] == arn
        assert described["actionParams"] == {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}

        # A duplicate name: the server's error in the form, everything typed kept.
        await fill_new(pilot, "DeactivateCert", "deactivate")
        await save_confirmed(pilot)
        await until(pilot, lambda: "already exists" in form_error(app).lower())
        assert isinstance(app.screen, ActionForm)
        assert app.screen.query_one("#name", Input).value == "DeactivateCert"
        assert app.screen.query_one("#role", Input).value == arn

        # An invalid name: refused before anything is sent.
        before = request_counts(sandbox_url).get("CreateMitigationAction", 0)
        name = app.screen.query_one("#name", Input)
        name.value = "bad name!"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form_error(app).startswith("Name:"))
        assert isinstance(app.screen, ActionForm) and name.value == "bad name!"
        assert request_counts(sandbox_url).get("CreateMitigationAction", 0) == before
        await pilot.press("escape")  # typed but not saved: asks before discarding
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, ActionForm))

        # Edit: the role changes.
        app.query_one("#actions", FastTable).focus()
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, ActionForm))
        assert app.screen.query_one("#name", Input).disabled
        await pick_role(pilot, "othermit")
        await save_confirmed(pilot)
        await until(pilot, lambda: not isinstance(app.screen, (ActionForm, ConfirmModal)))
        assert iot.describe_mitigation_action(actionName="DeactivateCert")["roleArn"] == other
        await until(pilot, lambda: [r[2] for r in cells(app, "#actions")] == ["OtherMitigationRole"])

        # Delete after confirmation.
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: cells(app, "#actions") == [])
        assert iot.list_mitigation_actions()["actionIdentifiers"] == []


async def test_task_runs_live_and_shows_executions(lab, sandbox_url):
    from iot_defender_tui.sandbox.runtime import runtime

    runtime().options.mitigation_seconds = 1.5  # long enough to be seen IN_PROGRESS
    arn = make_role(sandbox_url, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    iot = make_client(sandbox_url)
    iot.create_mitigation_action(
        actionName="DeactivateCert",
        roleArn=arn,
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )
    audits = iot.list_audit_tasks(startTime=time.time() - 7 * 86400, endTime=time.time() + 60)["tasks"]
    findings = iot.list_audit_findings(taskId=audits[0]["taskId"], checkName=SHARED)["findings"]
    finding_id = findings[0]["findingId"]
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(cells(app, "#actions")) == 1)
        task_id = iot.start_audit_mitigation_actions_task(
            taskId="ui-mitigation-1",
            target={"findingIds": [finding_id]},
            auditCheckToActionsMapping={SHARED: ["DeactivateCert"]},
            clientRequestToken="ui-mitigation-1",
        )["taskId"]
        pane = app.query_one(MitigationPane)
        pane.refresh_now()
        await until(
            pilot, lambda: any(r[0] == task_id and r[1] == "IN_PROGRESS" for r in cells(app, "#tasks"))
        )
        assert pane.busy
        await until(pilot, lambda: cells(app, "#tasks")[0][:3] == [task_id, "COMPLETED", "1/1"], timeout=15)
        assert not pane.busy

        tasks = app.query_one("#tasks", FastTable)
        tasks.focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ExecutionsScreen))
        table = app.screen.query_one("#executions", FastTable)
        await until(pilot, lambda: table.row_count == 1)
        row = [c.plain for c in table.row_cells(table.visible_keys()[0])]
        assert row[:3] == [finding_id, "DeactivateCert", "COMPLETED"]
        await pilot.press("slash", *"zzz", "enter")  # the same filter as every list
        assert table.row_count == 0 and isinstance(app.screen, ExecutionsScreen)
        assert "0/1 shown" in str(app.screen.query_one("#executions-status", Static).render())
        await pilot.press("escape")  # clears the filter first
        assert table.row_count == 1 and isinstance(app.screen, ExecutionsScreen)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ExecutionsScreen))


async def test_read_only_refuses_mutating_keys(lab, sandbox_url):
    arn = make_role(sandbox_url, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    iot = make_client(sandbox_url)
    iot.create_mitigation_action(
        actionName="DeactivateCert",
        roleArn=arn,
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )
    app = Harness(lab, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(cells(app, "#actions")) == 1)
        pane = app.query_one(MitigationPane)
        shown = {b.binding.key for b in app.active_bindings.values() if b.enabled and b.binding.show}
        assert not shown & {"n", "e", "d", "c", "u"}
        for key in ("n", "e", "d", "c", "u"):
            await pilot.press(key)
            await asyncio.sleep(0.05)
            assert app.screen is app.screen_stack[0], key
        assert len(app.errors) == 5 and all(e.startswith("Read-only:") for e in app.errors)
        for name in ("new_action", "edit_action", "delete_action", "cancel_task", "revert_task"):
            getattr(pane, f"action_{name}")()
        assert len(app.errors) == 10 and app.screen is app.screen_stack[0]
        assert len(iot.list_mitigation_actions()["actionIdentifiers"]) == 1


async def test_fast_polls_while_a_task_runs_do_not_redescribe_known_actions(lab, sandbox_url):
    iot = make_client(sandbox_url)
    role = make_role(sandbox_url, "PollRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    for name in ("A1", "A2", "A3"):
        iot.create_mitigation_action(
            actionName=name,
            roleArn=role,
            actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
        )
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(MitigationPane)
        await until(pilot, lambda: len(pane.actions) == 3)
        pane.pause()
        pane.busy = True  # as while a mitigation task is IN_PROGRESS
        before = request_counts(sandbox_url).get("DescribeMitigationAction", 0)
        await pane.poll()
        pane.busy = True
        await pane.poll()
        assert request_counts(sandbox_url).get("DescribeMitigationAction", 0) == before
        pane.busy = False  # an idle poll refreshes every action
        await pane.poll()
        assert request_counts(sandbox_url).get("DescribeMitigationAction", 0) == before + 3


async def test_lists_filter_and_sort_like_results(lab, sandbox_url):
    iot = make_client(sandbox_url)
    role = make_role(sandbox_url, "SortRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    for name in ("Bravo", "alpha", "Charlie"):
        iot.create_mitigation_action(
            actionName=name,
            roleArn=role,
            actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
        )
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(MitigationPane)
        table = pane.query_one("#actions", FastTable)
        heading = pane.query_one("#actions-heading", Static)
        await until(pilot, lambda: len(cells(app, "#actions")) == 3)
        await pilot.press("slash", *"char")
        await until(pilot, lambda: table.row_count == 1)
        assert "1/3 shown, filter: char" in str(heading.render())
        await pilot.press("enter")  # back to the list, the filter kept
        assert table.has_focus and table.row_count == 1
        assert "Charlie" in screen_lines(table)[1]
        await pilot.press("escape")  # clears it
        assert table.row_count == 3 and "shown" not in str(heading.render())
        await pilot.press("o")  # sort by name (case-insensitive), then reverse
        assert [r[0] for r in cells(app, "#actions")] == ["alpha", "Bravo", "Charlie"]
        await pilot.press("O")
        assert [r[0] for r in cells(app, "#actions")] == ["Charlie", "Bravo", "alpha"]
        await pilot.pause()
        assert "Name ▼" in screen_lines(table)[0] and "Charlie" in screen_lines(table)[1]
        pane.refresh_now()  # a poll keeps the sort
        await pilot.pause(0.3)
        assert [r[0] for r in cells(app, "#actions")] == ["Charlie", "Bravo", "alpha"]
        assert app.errors == []


@pytest.mark.parametrize("burst", [False, True], ids=["keys", "burst"])
async def test_keys_typed_as_the_form_opens_are_the_forms(lab, sandbox_url, burst):
    """No pause after `n`: the name gets what is typed next; `e` and `d` open no edit, no delete. As a
    burst (keys queued before the app handled `n`, as over SSH), the later keys were sent to the table
    behind the form, and to the form before its name field had focus: typed into the name all the same."""
    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.focused is not None, "the actions list focused")
        if burst:
            type_burst(app, "nedtc")
        else:
            await pilot.press("n", "e", "d", "t", "c")
        await until(pilot, lambda: isinstance(app.screen, ActionForm), "the form")
        form = app.screen
        await until(pilot, lambda: form.query_one("#name", Input).value == "edtc", "the name typed")
        assert len(app.screen_stack) == 2


async def test_u_reverts_a_finished_task_by_keys(lab, sandbox_url, journal):
    """The lab's ask: the shared certificate deactivated by a mitigation task, then `u` on that task, the
    confirmation listing the change, `y`: the certificate is ACTIVE again, the change journaled; `u` again
    has nothing left to undo."""
    from tests.support.mitigation import SHARED
    from tests.support.models import lab_task_id

    iot = make_client(sandbox_url)
    iot.create_mitigation_action(
        actionName="DeactivateCert",
        roleArn=make_role(sandbox_url, "RevertRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"]),
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )
    finding = iot.list_audit_findings(taskId=lab_task_id(iot), checkName=SHARED)["findings"][0]
    cert_id = finding["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]
    task_id = iot.start_audit_mitigation_actions_task(
        taskId="ui-revert-1", target={"findingIds": [finding["findingId"]]},
        auditCheckToActionsMapping={SHARED: ["DeactivateCert"]}, clientRequestToken="ui-revert-1",
    )["taskId"]  # fmt: skip

    def status() -> str:
        return iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"]

    app = Harness(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        finished = lambda: any(r[:2] == [task_id, "COMPLETED"] for r in cells(app, "#tasks"))  # noqa: E731
        await until(pilot, finished, timeout=15)
        assert status() == "INACTIVE"
        await pilot.press("t", "u")  # the tasks list, then revert the task under the cursor
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the revert's confirmation")
        body = str(app.screen.query_one("#body", Static).render())
        assert f"re-activate certificate {cert_id[:10]}… (INACTIVE now)" in body
        await pilot.press("y")
        await until(pilot, lambda: status() == "ACTIVE", "the certificate re-activated")
        assert [e.operation for e in journal.entries(None) if e.operation == "UpdateCertificate"] == [
            "UpdateCertificate"
        ]
        await until(pilot, lambda: not app.query_one(MitigationPane).reverter.running)
        await pilot.press("u")  # again: the certificate is active, nothing is sent
        await until(pilot, lambda: any("can be undone" in e for e in app.errors), "nothing to undo")
        assert "it is ACTIVE now" in app.errors[-1]
