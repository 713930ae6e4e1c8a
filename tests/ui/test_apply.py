"""Apply mitigation from the Results pane: pick an action, confirm, one task; read-only refuses."""

from __future__ import annotations

import time

from textual.widgets import SelectionList

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.apply_mitigation import ApplyMitigationScreen
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.results import ResultsPane
from iot_defender_tui.ui.tracker import TaskTracker
from tests.support.mitigation import NEEDS, SHARED, make_role
from tests.support.sandbox import make_client, request_counts
from tests.support.ui import until
from tests.ui.test_results import Harness, open_shared_certificate_findings, static_text


class ApplyHarness(Harness):
    """Records what the user is told: notifications and bells; follows started tasks with the real tracker."""

    def __init__(self, dd: DefenderClient, read_only: bool = False) -> None:
        super().__init__(dd, read_only)
        self.notes: list[str] = []
        self.severities: list[str] = []
        self.bells = 0
        self.tracker = TaskTracker(self)

    def track_task(self, kind, task_id: str) -> None:
        self.tracker.track(kind, task_id)

    def notify(self, message: str, **kwargs) -> None:
        self.notes.append(message)
        self.severities.append(kwargs.get("severity", "information"))

    def bell(self) -> None:
        self.bells += 1


def seed_action(url: str) -> None:
    arn = make_role(url, "MitigationDeactivateRole", NEEDS["UPDATE_DEVICE_CERTIFICATE"])
    make_client(url).create_mitigation_action(
        actionName="DeactivateCert",
        roleArn=arn,
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )
    # Not applicable to the shared-certificate check: must not be offered.
    make_client(url).create_mitigation_action(
        actionName="FixLogging",
        roleArn=make_role(url, "LoggingRole", NEEDS["ENABLE_IOT_LOGGING"]),
        actionParams={"enableIoTLoggingParams": {"roleArnForLogging": arn, "logLevel": "ERROR"}},
    )


def mitigation_tasks(url: str) -> list[dict]:
    return make_client(url).list_audit_mitigation_actions_tasks(
        startTime=time.time() - 3600, endTime=time.time() + 60
    )["tasks"]


async def apply_marked(pilot, app: ApplyHarness) -> ApplyMitigationScreen:
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, ApplyMitigationScreen))
    screen = app.screen
    await until(pilot, lambda: screen.query_one(SelectionList).option_count == 1)
    await pilot.press("space")  # pick the one offered action
    assert "1 finding of 1 check" in static_text(screen.query_one("#title"))
    assert "Task: 1 finding of 1 check." in static_text(screen.query_one("#summary"))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
    confirm = static_text(app.screen.query_one("#body"))  # what will change, named before it happens
    assert "DeactivateCert: deactivate the device certificate" in confirm
    assert "cert " in confirm.split("on:")[1]
    await pilot.press("y")
    await until(pilot, lambda: not isinstance(app.screen, (ApplyMitigationScreen, ConfirmModal)))
    return screen


async def test_apply_starts_one_task_and_deactivates(lab: str, dd: DefenderClient) -> None:
    runtime().options.mitigation_seconds = 30  # still running when applied again
    seed_action(lab)
    iot = make_client(lab)
    app = ApplyHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_shared_certificate_findings(pilot, pane)
        await pilot.press("space")
        audit_id = pane.marked_findings()[0].task_id
        await apply_marked(pilot, app)
        tasks = mitigation_tasks(lab)
        assert len(tasks) == 1
        first = tasks[0]["taskId"]
        assert app.notes[0] == f"Mitigation task {first} started" and app.bells >= 1

        await apply_marked(pilot, app)  # the same selection while it runs: the same task, not a second one
        assert len(mitigation_tasks(lab)) == 1
        assert app.notes[-1] == (
            f"Mitigation task {first} is already running for these findings (not started again)"
        )
        assert app.errors == []

        finding = iot.list_audit_findings(taskId=audit_id, checkName=SHARED)["findings"][0]
        cert_id = finding["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]
        runtime().clock.advance(60)
        assert (await dd.describe_mitigation_task(first)).status == "COMPLETED"
        assert certificate_status(iot, cert_id) == "INACTIVE"

        # Re-activated by hand since: applying again runs the mitigation again.
        iot.update_certificate(certificateId=cert_id, newStatus="ACTIVE")
        await apply_marked(pilot, app)
        (second,) = [t["taskId"] for t in mitigation_tasks(lab) if t["taskId"] != first]
        again = f"Mitigation task {second} started again (previous task {first} ended COMPLETED)"
        assert app.notes[-1] == again
        runtime().clock.advance(60)
        assert (await dd.describe_mitigation_task(second)).status == "COMPLETED"
        assert certificate_status(iot, cert_id) == "INACTIVE"
        assert app.errors == []


def certificate_status(iot, cert_id: str) -> str:
    return iot.describe_certificate(certificateId=cert_id)["certificateDescription"]["status"]


async def test_no_applicable_action_says_where_to_create_one(lab: str, dd: DefenderClient) -> None:
    app = ApplyHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_shared_certificate_findings(pilot, pane)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ApplyMitigationScreen))
        message = app.screen.query_one("#message")
        await until(pilot, lambda: "Mitigation pane" in static_text(message))
        await pilot.press("enter")  # nothing picked: refused, the dialog stays
        assert isinstance(app.screen, ApplyMitigationScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, ApplyMitigationScreen)
    assert mitigation_tasks(lab) == []


async def test_read_only_refuses_apply(lab: str, dd: DefenderClient) -> None:
    seed_action(lab)
    before = request_counts(lab).get("StartAuditMitigationActionsTask", 0)
    app = ApplyHarness(dd, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_shared_certificate_findings(pilot, pane)
        assert not any(b.binding.action == "apply_mitigation" for b in app.active_bindings.values())
        await pilot.press("space", "a")
        await pilot.pause()
        assert app.screen is app.screen_stack[0]
    assert request_counts(lab).get("StartAuditMitigationActionsTask", 0) == before
    assert mitigation_tasks(lab) == []
