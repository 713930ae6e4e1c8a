"""Errors you can read whole (`E`, the three-row status line, a failed execution's message) and state you
can believe (a pane's message stays with its pane, a recovered poll clears its error, form errors go
when their field changes, the header follows what requests do, a finished task is in its list)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pytest
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Input, Select

from iot_defender_tui.aws.models import MitigationExecution, MitigationTask
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox import ticker
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import Options, runtime
from iot_defender_tui.sandbox.server import SandboxServer
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.errors import ErrorsScreen, TextModal
from iot_defender_tui.ui.header import DefenderHeader
from iot_defender_tui.ui.launch import SandboxChild
from iot_defender_tui.ui.panes.mitigation_views import ExecutionsScreen
from iot_defender_tui.ui.panes.results import ResultsPane
from iot_defender_tui.ui.panes.schedules_form import ScheduleForm
from iot_defender_tui.ui.widgets.fast_table import FastTable
from tests.support import ui
from tests.support.sandbox import FAST, closed_port_url, make_client, sandbox_settings
from tests.support.standin import StandIn

until = partial(ui.until, timeout=30.0)


def header(app: DefenderApp) -> str:
    return str(app.query_one(DefenderHeader).render_text())


def status_line(app: DefenderApp) -> str:
    return str(app.query_one("#status").render())


def drawn(widget: Widget) -> str:
    """What the widget shows on screen, its rows joined: wrapped text reads as one line again."""
    return "".join(
        "".join(segment.text for segment in widget.render_line(y)).rstrip() + " "
        for y in range(widget.size.height)
    )


def squeezed(text: str) -> str:
    return "".join(text.split())


def results_listed(app: DefenderApp) -> bool:
    pane = app.current_pane()
    return isinstance(pane, ResultsPane) and bool(pane.tasks)


LONG = (
    "Suppressed 0 of 3; 3 failed: cert 8731aa…: CreateAuditSuppression: the suppression could not be "
    "created because the account already holds the maximum number of audit suppressions for this check "
    "(LimitExceededException); cert 91b2cc…: CreateAuditSuppression: the same [limit] reached; "
    "cert 0a0b0c…: CreateAuditSuppression: the same limit reached — remove old suppressions first."
)


async def test_the_errors_screen_shows_a_long_error_whole_at_80x24(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        app.show_error(LONG)
        await pilot.pause()
        status = app.query_one("#status")
        assert status.size.height == 3  # wrapped, not cut at one row
        assert "E: whole error" in status_line(app)  # and where to read the rest
        assert "E Errors" in str(app.screen.query_one("Footer").render())
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, ErrorsScreen))
        await pilot.pause()
        shown = drawn(app.screen.query_one("#errors-text"))
        assert squeezed(LONG) in squeezed(shown)  # every word, markup-looking brackets included
        assert "Settings pane" in shown  # where it happened
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ErrorsScreen))


async def test_an_action_error_stays_with_its_pane(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await pilot.press("3")
        await until(pilot, lambda: results_listed(app))
        await until(pilot, lambda: app.focused is not None and app.focused.id == "tasks")
        await pilot.press("c")  # the lab's audit has finished
        await until(pilot, lambda: "Only an audit in progress" in status_line(app))
        await pilot.press("1")
        await until(pilot, lambda: status_line(app).strip() == "")
        assert "Only an audit in progress" in app.errors_log.newest_first()[0].text
        assert app.errors_log.newest_first()[0].where.startswith("Results")


async def test_a_form_error_clears_when_its_field_changes(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await pilot.press("2")
        await until(pilot, lambda: app.focused is not None and app.focused.id == "schedule-list")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ScheduleForm))
        form = app.screen
        form.query_one("#name", Input).value = "weekly-check"
        form.query_one("#frequency", Select).value = "WEEKLY"
        form.query_one("#weekday", Select).clear()
        await pilot.pause()
        await pilot.press("ctrl+s")
        error = form.query_one("#form-error")
        await until(pilot, lambda: "Day of the week" in str(error.render()))
        form.query_one("#frequency", Select).value = "MONTHLY"
        await until(pilot, lambda: str(error.render()).strip() == "")
        await pilot.press("ctrl+s")  # MONTHLY without a day: a new error, shown
        await until(pilot, lambda: "Day of the month" in str(error.render()))
        form.query_one("#day", Input).value = "7"
        await until(pilot, lambda: str(error.render()).strip() == "")


@pytest.fixture
def own_sandbox(sandbox_url: str, aws_env: Path) -> Iterator[tuple[str, list[SandboxServer]]]:
    """A sandbox on a port of its own (the lab seeded) that the test stops and starts again."""
    seed_fleet("lab")
    url = closed_port_url()
    port = int(url.rsplit(":", 1)[1])
    servers = [SandboxServer("127.0.0.1", port, Options(audit_seconds=0.5))]
    servers[0].start()
    try:
        yield url, servers
    finally:
        for server in servers:
            server.stop()
        ticker.start()  # stopping a server stopped the ticker the session's sandbox shares


async def test_the_header_follows_what_polls_do(own_sandbox: tuple[str, list[SandboxServer]]) -> None:
    url, servers = own_sandbox
    app = DefenderApp(sandbox_settings(url), Settings(idle_poll_seconds=0.3), None, tuning=FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await until(pilot, lambda: "● connected" in header(app) and "refreshed" in header(app))
        servers[0].stop()
        await until(pilot, lambda: "retrying (1)" in header(app))
        assert "127.0.0.1" in status_line(app)  # why, in the status line
        await until(pilot, lambda: "disconnected" in header(app))
        port = int(url.rsplit(":", 1)[1])
        servers.append(SandboxServer("127.0.0.1", port, Options(audit_seconds=0.5)))
        servers[-1].start()
        await until(pilot, lambda: "● connected" in header(app))
        await until(pilot, lambda: status_line(app).strip() == "")  # the poll recovered: its error is gone


async def test_a_finished_audit_is_in_the_list_with_its_notification(lab: str) -> None:
    runtime().options.audit_seconds = 0.3
    # Slow polls: only the notification's refresh can bring the finished audit in time.
    settings = Settings(idle_poll_seconds=60, audit_poll_seconds=0.2)
    app = ui.RecordingApp(sandbox_settings(lab), settings, None)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await pilot.press("3")
        await until(pilot, lambda: results_listed(app))
        pane = app.current_pane()
        assert isinstance(pane, ResultsPane)
        started = make_client(lab).start_on_demand_audit_task(targetCheckNames=["LOGGING_DISABLED_CHECK"])
        task_id = started["taskId"]
        app.tracker.track("audit", task_id)  # as if started elsewhere: the pane was not refreshed
        await until(pilot, lambda: any(task_id[:8] in note and "COMPLETED" in note for note in app.notes))
        finished = lambda: task_id in pane.tasks and pane.tasks[task_id].status == "COMPLETED"  # noqa: E731
        await until(pilot, finished, "the audit COMPLETED in the list", timeout=2)


FAILED = MitigationExecution(
    task_id="t1",
    finding_id="f1",
    action_name="DeactivateCert",
    action_id=None,
    status="FAILED",
    start_time=datetime(2026, 12, 1, tzinfo=UTC),
    end_time=datetime(2026, 12, 1, tzinfo=UTC),
    error_code="AccessDeniedException",
    message="User: arn:aws:sts::123456789012:assumed-role/MitigationRole/session is not authorized to "
    "perform: iot:UpdateCertificate on resource: arn:aws:iot:us-east-1:123456789012:cert/8731aa because "
    "no identity-based policy allows the iot:UpdateCertificate action [end of message]",
)


TASK = MitigationTask("t1", "COMPLETED", None, None, {"findingIds": ["f1"]}, {"X": ("DeactivateCert",)}, {})


class FakeClient:
    async def describe_mitigation_task(self, task_id: str) -> MitigationTask:
        return TASK

    async def list_mitigation_executions(self, task_id: str, finding_id: str) -> list[MitigationExecution]:
        return [FAILED]


class Host(StandIn):
    def compose(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        self.push_screen(ExecutionsScreen(TASK))


async def test_enter_on_a_failed_execution_shows_its_error_whole() -> None:
    app = Host(FakeClient())  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ExecutionsScreen))
        table = app.screen.query_one("#executions", FastTable)
        await until(pilot, lambda: table.row_count == 1)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextModal))
        await pilot.pause()
        shown = drawn(app.screen.query_one("#text-body"))
        assert "AccessDeniedException" in shown
        assert squeezed(FAILED.message or "") in squeezed(shown)
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ExecutionsScreen))


async def test_pick_a_role_clears_once_a_role_is_filled_in(lab: str) -> None:
    from iot_defender_tui.ui.panes.mitigation_forms import ActionForm

    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await pilot.press("4")
        await until(pilot, lambda: app.focused is not None and app.focused.id == "actions")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ActionForm))
        form = app.screen
        form.query_one("#name", Input).value = "Deactivate"
        await pilot.press("ctrl+s")
        error = form.query_one("#form-error")
        await until(pilot, lambda: "pick a role" in str(error.render()))
        # What F3's created role (or F2's pick) does: the ARN goes into the field.
        form.query_one("#role", Input).value = "arn:aws:iam::123456789012:role/Made"
        await until(pilot, lambda: str(error.render()).strip() == "")


async def test_the_header_says_when_a_request_waits_long_for_its_answer(lab: str) -> None:
    """A paused endpoint (SIGSTOP, a link gone silent) answers nothing until the 30 s read timeout: the
    header kept "connected" all that while."""
    app = DefenderApp(sandbox_settings(lab), Settings(idle_poll_seconds=0.3), None, tuning=FAST)
    app.unanswered_after = 1.0
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await until(pilot, lambda: "● connected" in header(app))
        runtime().options.latency_ms = 3000
        await until(pilot, lambda: "no answer for" in header(app), timeout=8.0)
        runtime().options.latency_ms = 0
        await until(pilot, lambda: "● connected" in header(app), timeout=8.0)


async def test_a_sandbox_child_that_stopped_is_said_at_once(lab: str) -> None:
    """`--sandbox` and its child killed: the header said "connected" until the next idle poll, 30 s on."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    sandbox = SandboxChild(child, lab)
    app = DefenderApp(sandbox_settings(lab), Settings(), None, tuning=FAST)
    app.endpoint_gone = sandbox.gone
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "● connected" in header(app))
        child.kill()
        child.wait()
        await until(pilot, lambda: "disconnected" in header(app), timeout=3.0)
        assert "The sandbox this app started has stopped (killed by signal 9)" in status_line(app)


async def test_the_answer_watch_survives_the_app_closing(lab: str) -> None:
    """Its once-a-second tick came while the app was tearing its screen down and found no header."""
    app = DefenderApp(sandbox_settings(lab), Settings(), None, tuning=FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "● connected" in header(app))
        await app.query_one(DefenderHeader).remove()
        app._watch_answers()
