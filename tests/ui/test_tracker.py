"""Started tasks followed to their end: the outcome notified with a bell, the effect shown, polling stops."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static
from textual.widgets._toast import Toast
from textual.worker import Worker, WorkerState

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.finding_detail import FindingDetailScreen
from iot_defender_tui.ui.panes.results import ResultsPane
from tests.support.mitigation import make_role
from tests.support.sandbox import FAST, make_client, request_counts, sandbox_settings
from tests.support.ui import until
from tests.ui.test_apply import ApplyHarness, apply_marked, seed_action
from tests.ui.test_results import LAB_CHECKS, open_shared_certificate_findings, static_text

DESCRIBE_MITIGATION = "DescribeAuditMitigationActionsTask"


class TrackerHarness(ApplyHarness):
    """Also records the order of what the user is told, and which workers failed."""

    def __init__(self, dd: DefenderClient) -> None:
        super().__init__(dd)
        self.events: list[str] = []
        self.failed_workers: list[str] = []

    def notify(self, message: str, **kwargs) -> None:
        super().notify(message, **kwargs)
        self.events.append(message)

    def bell(self) -> None:
        super().bell()
        self.events.append("BELL")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.failed_workers.append(event.worker.name)
        super().on_worker_state_changed(event)

    def outcome(self) -> str | None:
        return next((n for n in self.notes if "started" not in n), None)


def seed_powerless_action(url: str) -> None:
    """An action on the lab's check whose role may not update certificates: its execution fails."""
    make_client(url).create_mitigation_action(
        actionName="DeactivateCert",
        roleArn=make_role(url, "PowerlessRole", []),
        actionParams={"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
    )


async def mark_and_apply(pilot, app: TrackerHarness) -> ResultsPane:
    pane = app.query_one(ResultsPane)
    await open_shared_certificate_findings(pilot, pane)
    await pilot.press("space")
    await apply_marked(pilot, app)
    return pane


async def test_mitigation_outcome_names_the_effect_and_polling_stops(lab: str, dd: DefenderClient) -> None:
    runtime().options.mitigation_seconds = 0.5
    seed_action(lab)
    app = TrackerHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        await mark_and_apply(pilot, app)
        assert app.tracker.followed and app.tracker.active
        await until(pilot, lambda: app.outcome() is not None)
        outcome = app.outcome() or ""
        task_id = make_client(lab).list_audit_mitigation_actions_tasks(startTime=0, endTime=2**31)["tasks"][
            0
        ]["taskId"]
        assert outcome.startswith(f"Mitigation task {task_id} COMPLETED: 1 succeeded, 0 failed, 0 skipped")
        assert "\ncertificate " in outcome and outcome.endswith(" is now INACTIVE")
        assert app.severities[app.notes.index(outcome)] == "information"
        assert app.events[-2:] == [outcome, "BELL"] and app.bells == 2

        # Nothing left to follow: no further describes over several poll intervals.
        assert app.tracker.followed == []
        before = request_counts(lab).get(DESCRIBE_MITIGATION, 0)
        await pilot.pause(0.6)
        assert request_counts(lab).get(DESCRIBE_MITIGATION, 0) == before
        assert not app.tracker.active
        assert app.errors == []


async def test_open_finding_detail_turns_inactive_by_itself(lab: str, dd: DefenderClient) -> None:
    runtime().options.mitigation_seconds = 2.0
    seed_action(lab)
    app = TrackerHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        await mark_and_apply(pilot, app)
        await pilot.press("enter")  # the finding under the cursor, while the task runs
        await until(pilot, lambda: isinstance(app.screen, FindingDetailScreen))
        state = app.screen.query_one("#state", Static)
        await until(pilot, lambda: "status ACTIVE" in static_text(state))
        assert app.outcome() is None  # shown before the task ended: the refresh below is the tracker's
        await until(pilot, lambda: "status INACTIVE" in static_text(state))
        assert app.outcome() is not None and "is now INACTIVE" in (app.outcome() or "")
        assert app.errors == []


async def test_failing_mitigation_is_reported_as_an_error(lab: str, dd: DefenderClient) -> None:
    runtime().options.mitigation_seconds = 0.3
    seed_powerless_action(lab)
    app = TrackerHarness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        await mark_and_apply(pilot, app)
        await until(pilot, lambda: app.outcome() is not None)
        outcome = app.outcome() or ""
        assert "FAILED: 0 succeeded, 1 failed, 0 skipped" in outcome, outcome
        assert "INACTIVE" not in outcome
        assert app.severities[app.notes.index(outcome)] == "error"
        assert app.events[-1] == "BELL"


async def test_errors_while_polling_keep_the_task(lab: str, aws_env: Path, journal) -> None:
    runtime().options.mitigation_seconds = 1.0
    seed_action(lab)
    # Without botocore's own retries (seconds of back-off on a 500), every injected error reaches the tracker.
    async with DefenderClient(sandbox_settings(lab), journal, tuning=FAST) as fast:
        app = TrackerHarness(fast)
        async with app.run_test(size=(80, 24)) as pilot:
            await mark_and_apply(pilot, app)
            runtime().options.error_rate = 1.0
            await until(pilot, lambda: app.failed_workers.count("track") >= 2)
            assert len(app.tracker.followed) == 1 and app.outcome() is None
            runtime().options.error_rate = 0.0
            await until(pilot, lambda: app.outcome() is not None)
            assert "COMPLETED: 1 succeeded" in (app.outcome() or "")
            assert "is now INACTIVE" in (app.outcome() or "")
            assert app.tracker.followed == []


class RecordingApp(DefenderApp):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bells = 0

    def bell(self) -> None:
        self.bells += 1


def toasts(app: DefenderApp) -> list[str]:
    return [str(t.render()) for t in app.screen.query(Toast)]


async def test_started_audit_is_followed_in_the_real_app(sandbox_url: str, aws_env: Path) -> None:
    runtime().options.audit_seconds = 0.8
    seed_fleet("lab")
    settings = Settings(audit_poll_seconds=0.1, idle_poll_seconds=0.3)
    app = RecordingApp(sandbox_settings(sandbox_url), settings, None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:  # toasts rendered
        await until(pilot, lambda: app.dd is not None)
        task_id = make_client(sandbox_url).start_on_demand_audit_task(targetCheckNames=list(LAB_CHECKS))[
            "taskId"
        ]
        app.track_task("audit", task_id)
        app.track_task("audit", task_id)  # the same task twice: followed once
        assert app.tracker.followed == [("audit", task_id)]
        await until(pilot, lambda: any("COMPLETED" in t for t in toasts(app)))
        shown = [t for t in toasts(app) if "COMPLETED" in t]
        assert len(shown) == 1 and f"Audit {task_id[:8]}" in shown[0]
        assert "3 of 3 checks non-compliant" in shown[0]
        assert app.bells == 1
        before = request_counts(sandbox_url).get("DescribeAuditTask", 0)
        await pilot.pause(0.5)
        assert request_counts(sandbox_url).get("DescribeAuditTask", 0) == before
        assert not app.tracker.active
