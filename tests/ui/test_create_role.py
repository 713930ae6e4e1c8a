""" "Create role" in the mitigation action form, by keyboard at 80x24 against the lab sandbox.

The lab's sandbox account has no role allowing iot:UpdateCertificate: the user makes one with F3, as the
console's "Create Role", and the mitigation task that uses it deactivates the shared certificate.
"""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Button, Input, Static
from textual.widgets._toast import Toast

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.config import Settings
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.create_role import CreateRoleModal
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.mitigation_forms import ActionForm
from tests.support import ui
from tests.support.sandbox import ACCOUNT, make_client, sandbox_settings
from tests.support.standin import StandIn

until = partial(ui.until, timeout=15.0)  # this module's waits keep the patience they had

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"


def text_of(app: App, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def focused_id(app: App) -> str | None:
    return app.focused.id if app.focused is not None else None


def toasts(app: App) -> str:
    return "\n".join(str(t.render()) for t in app.screen.query(Toast))


def role_names(url: str) -> list[str]:
    return [r["RoleName"] for r in make_client(url, "iam").list_roles()["Roles"]]


def shown_keys(app: App) -> set[str]:
    return {b.binding.id or "" for b in app.screen.active_bindings.values() if b.enabled and b.binding.show}


async def test_lab_by_keyboard_with_a_created_role(lab: str, journal) -> None:
    iot = make_client(lab)
    app = DefenderApp(sandbox_settings(lab), Settings(), journal)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await until(pilot, lambda: app.dd is not None and app.focused is not None)
        await pilot.press("4")
        await until(pilot, lambda: app.focused is not None and app.focused.id == "actions")
        await pilot.press("n")
        await until(pilot, lambda: focused_id(app) == "name")
        await pilot.press(*"DeactivateCert")
        assert "form-create-role" in shown_keys(app)
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, CreateRoleModal))
        modal = app.screen
        assert modal.query_one("#role-name", Input).value == "IoTMitigation-DeactivateCert"
        preview = text_of(app, "#role-preview")
        assert "IAM role: IoTMitigation-DeactivateCert" in preview
        assert "Trusted service (may assume it): iot.amazonaws.com" in preview
        assert "iot:UpdateCertificate on any resource" in preview

        await pilot.press("enter")  # accept the default name
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "iot:UpdateCertificate" in str(app.screen.query_one("#body", Static).render())
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, ActionForm))
        arn = f"arn:aws:iam::{ACCOUNT}:role/IoTMitigation-DeactivateCert"
        assert app.screen.query_one("#role", Input).value == arn
        await until(pilot, lambda: "Role IoTMitigation-DeactivateCert created" in toasts(app))

        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (ActionForm, ConfirmModal)))
        assert iot.describe_mitigation_action(actionName="DeactivateCert")["roleArn"] == arn

    # The role's permissions are what the action needs: the sandbox evaluates them at execution.
    audits = iot.list_audit_tasks(startTime=time.time() - 7 * 86400, endTime=time.time() + 60)["tasks"]
    [finding] = iot.list_audit_findings(taskId=audits[0]["taskId"], checkName=SHARED)["findings"]
    cert_id = finding["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]
    assert iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"] == "ACTIVE"
    task_id = iot.start_audit_mitigation_actions_task(
        taskId="create-role-lab",
        target={"findingIds": [finding["findingId"]]},
        auditCheckToActionsMapping={SHARED: ["DeactivateCert"]},
        clientRequestToken="create-role-lab",
    )["taskId"]
    deadline = time.monotonic() + 15
    while (task := iot.describe_audit_mitigation_actions_task(taskId=task_id))["taskStatus"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, task
        await asyncio.sleep(0.05)
    [execution] = iot.list_audit_mitigation_actions_executions(
        taskId=task_id, findingId=finding["findingId"]
    )["actionsExecutions"]
    assert (execution["status"], execution.get("errorCode")) == ("COMPLETED", None), execution
    assert task["taskStatus"] == "COMPLETED"
    assert iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"] == "INACTIVE"


class Harness(StandIn):
    """The app contract, under the action form."""

    def compose(self) -> ComposeResult:
        yield Static("base")


async def test_existing_name_is_shown_inline_and_kept(lab: str, dd: DefenderClient) -> None:
    make_client(lab, "iam").create_role(RoleName="IoTMitigation-Taken", AssumeRolePolicyDocument="{}")
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ActionForm())
        await until(pilot, lambda: focused_id(app) == "name")
        await pilot.press(*"Taken", "f3")
        await until(pilot, lambda: isinstance(app.screen, CreateRoleModal))
        modal = app.screen
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: "already exists" in text_of(app, "#role-error"))
        assert "pick the existing role with F2" in text_of(app, "#role-error")
        assert app.screen is modal
        name = modal.query_one("#role-name", Input)
        assert name.value == "IoTMitigation-Taken" and not name.disabled

        # A name IAM refuses never leaves the app; what was typed stays.
        name.value = "no spaces allowed"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "1 to 64 characters" in text_of(app, "#role-error"))
        assert isinstance(app.screen, CreateRoleModal) and name.value == "no spaces allowed"

        # Escape: back to the form, nothing filled in.
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ActionForm))
        assert app.screen.query_one("#role", Input).value == ""
    assert role_names(lab).count("IoTMitigation-Taken") == 1


async def test_repeated_keys_send_once(lab: str, dd: DefenderClient) -> None:
    sent: list[str] = []
    real = dd._send_write

    async def slow(service: str, operation: str, params: dict) -> tuple:
        sent.append(operation)
        await asyncio.sleep(0.3)  # keys arrive while the request is in flight
        return await real(service, operation, params)

    dd._send_write = slow  # type: ignore[method-assign]
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ActionForm())
        await until(pilot, lambda: focused_id(app) == "name")
        await pilot.press(*"Twice", "f3")
        await until(pilot, lambda: isinstance(app.screen, CreateRoleModal))
        modal = app.screen
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: modal.query_one("#role-create", Button).disabled)
        await pilot.press("ctrl+s", "enter", "ctrl+s")
        assert not isinstance(app.screen, ConfirmModal)
        await until(pilot, lambda: isinstance(app.screen, ActionForm))
        assert app.screen.query_one("#role", Input).value.endswith(":role/IoTMitigation-Twice")
    assert sent.count("CreateRole") == 1 and sent.count("PutRolePolicy") == 1


async def test_read_only_hides_and_refuses(lab: str, aws_env: Path) -> None:
    before = role_names(lab)
    async with DefenderClient(sandbox_settings(lab, read_only=True)) as ro:
        sent: list[str] = []
        real = ro._call

        async def spy(service: str, operation: str, params: dict) -> dict:
            sent.append(operation)
            return await real(service, operation, params)

        ro._call = ro._send_write = spy  # type: ignore[method-assign]  # reads and writes
        app = Harness(ro, read_only=True)
        async with app.run_test(size=(80, 24)) as pilot:
            app.push_screen(ActionForm())
            await until(pilot, lambda: focused_id(app) == "name")
            form = app.screen
            assert not form.query_one("#create-role", Button).display
            assert "form-create-role" not in shown_keys(app)
            await pilot.press(*"ReadOnly", "f3")
            await pilot.pause(0.1)
            assert app.screen is form
            form.action_create_role()  # e.g. from the command palette
            await pilot.pause()
            assert app.screen is form
            assert "Read-only mode" in text_of(app, "#form-error")
            # Even the modal itself, were it reached, refuses without sending.
            app.push_screen(CreateRoleModal("UPDATE_DEVICE_CERTIFICATE", None, "IoTMitigation-RO"))
            await until(pilot, lambda: isinstance(app.screen, CreateRoleModal))
            await pilot.press("ctrl+s")
            await until(pilot, lambda: "Read-only mode" in text_of(app, "#role-error"))
            assert not isinstance(app.screen, ConfirmModal)
    assert "CreateRole" not in sent and "PutRolePolicy" not in sent
    assert role_names(lab) == before
