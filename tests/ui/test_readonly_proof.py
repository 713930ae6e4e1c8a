"""Read-only proof: every pane, every key that would change something, and any dialog that opens
confirmed: the sandbox receives no mutating request, and the app sends none to any service."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path

import pytest
from textual.pilot import Pilot

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.aws.guard import is_mutating
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.app import DefenderApp
from tests.support import ui
from tests.support.mitigation import NEEDS, SHARED, make_role
from tests.support.sandbox import make_client, request_counts, sandbox_settings
from tests.support.ui import RecordingApp, connected

until = partial(ui.until, timeout=20.0)  # this module's waits keep the patience they had

# Per pane: how to get there, then the keys that change something when the app is writable (and the
# harmless ones that reach them: a level down in Results, the task list in Mitigation).
# `rows`: the keys wait for the focused list to be filled first.
SESSION: tuple[tuple[str, str, bool, tuple[str, ...]], ...] = (
    ("1", "settings", True, ("down", "space", "t", "ctrl+s")),
    ("2", "schedules", False, ("n", "e", "d", "o")),
    ("3", "results", True, ("c", "enter", "enter", "space", "s", "S", "a", "A", "s", "S", "a", "u", "a")),
    ("4", "mitigation", True, ("n", "e", "d", "c", "t", "c", "e", "d")),
)


@pytest.fixture
def account(sandbox_url: str, aws_env: Path) -> str:
    """The lab, plus something for every mutating key to act on: an action, a running mitigation task."""
    runtime().options.mitigation_seconds = 3600  # stays IN_PROGRESS: `c` has a task to cancel
    seed_fleet("lab")
    iot = make_client(sandbox_url)
    role = make_role(sandbox_url, "ReadOnlyProofRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    iot.create_mitigation_action(
        actionName="Deactivate",
        roleArn=role,
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )
    (task,) = iot.list_audit_tasks(startTime=time.time() - 86400 * 80, endTime=time.time() + 60)["tasks"]
    findings = iot.list_audit_findings(taskId=task["taskId"], checkName=SHARED)["findings"]
    iot.start_audit_mitigation_actions_task(
        taskId="running",
        target={"findingIds": [findings[0]["findingId"]]},
        auditCheckToActionsMapping={SHARED: ["Deactivate"]},
        clientRequestToken="t",
    )
    return sandbox_url


async def press_and_confirm(pilot: Pilot, app: DefenderApp, key: str) -> None:
    """The key, then whatever dialog it opened is accepted every way a user could accept it."""
    await pilot.press(key)
    await pilot.pause(0.15)
    for _ in range(3):
        if len(app.screen_stack) == 1:
            return
        for accept in ("y", "ctrl+s", "enter", "y"):
            await pilot.press(accept)
            await pilot.pause(0.1)
        await pilot.press("escape")
        await pilot.pause(0.1)


async def test_a_read_only_session_sends_no_change(account: str, tmp_path: Path, monkeypatch) -> None:
    sent: list[tuple[str, str]] = []  # every request the client sends, IAM and SNS included
    real_call = DefenderClient._call

    async def recorded(self, service: str, operation: str, params):
        sent.append((service, operation))
        return await real_call(self, service, operation, params)

    monkeypatch.setattr(DefenderClient, "_call", recorded)
    iam = make_client(account, "iam")
    roles_before = iam.list_roles()["Roles"]
    before = request_counts(account)
    journal = Journal.open(tmp_path / "journal.sqlite3")
    settings = Settings(audit_poll_seconds=0.3, mitigation_poll_seconds=0.3, idle_poll_seconds=1)
    app = RecordingApp(sandbox_settings(account, read_only=True), settings, journal)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot, timeout=20.0)
        for key, pane_id, rows, keys in SESSION:
            await pilot.press(key)
            await until(pilot, lambda p=pane_id: app.current_pane().id == p and app.focused, pane_id)
            if rows:
                await until(pilot, lambda: getattr(app.focused, "row_count", 0) > 0, f"{pane_id}'s rows")
            for pressed in keys:
                results = app.query_one("#results") if pane_id == "results" else None
                if results is not None and pressed == "enter":  # a level down, once it is listed
                    level = results.level
                    await pilot.press("enter")
                    await until(
                        pilot, lambda r=results, n=level: r.level > n and r.table.row_count > 0, "rows"
                    )
                    continue
                await press_and_confirm(pilot, app, pressed)
        assert app.query_one("#results").level == 2, "the session reached the findings, where s/S/a act"
        await asyncio.sleep(0.5)  # anything a key started has reached the sandbox
        await pilot.pause()

    after = request_counts(account)
    served = {op: n - before.get(op, 0) for op, n in after.items() if n > before.get(op, 0)}
    assert {op for op in served if is_mutating(op)} == set(), served
    assert {f"{s}:{op}" for s, op in sent if is_mutating(op)} == set()
    assert {"ListAuditTasks", "ListAuditFindings", "ListMitigationActions"} <= set(served)  # it did read
    assert len([e for e in app.errors if e.startswith("Read-only:")]) >= 10  # and told the user each time
    assert journal.entries() == []
    assert iam.list_roles()["Roles"] == roles_before
