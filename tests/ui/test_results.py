"""Results pane against the lab sandbox: tasks live, checks, findings, the finding's detail, triage keys."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.finding_detail import FindingDetailScreen
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.results import ResultsPane
from iot_defender_tui.ui.panes.results_suppress import SuppressModal
from iot_defender_tui.ui.widgets.fast_table import FastTable
from tests.support.sandbox import make_client
from tests.support.standin import StandIn
from tests.support.ui import until

LAB_CHECKS = (
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "LOGGING_DISABLED_CHECK",
)


class Harness(StandIn):
    """The app contract, around the Results pane, with fast polls."""

    def __init__(self, dd: DefenderClient, read_only: bool = False) -> None:
        super().__init__(dd, read_only, Settings(audit_poll_seconds=0.1, idle_poll_seconds=0.3))

    def compose(self) -> ComposeResult:
        yield ResultsPane()

    def on_mount(self) -> None:
        self.query_one(ResultsPane).refresh_now()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The real app shows every worker's error in its status line; here they fail the test.
        if event.state == WorkerState.ERROR:
            self.errors.append(str(event.worker.error))


def lines(table: FastTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def shown(pane: ResultsPane) -> str:
    return "\n".join(lines(pane.table))


def static_text(widget: Static) -> str:
    return str(widget.render())


async def open_shared_certificate_findings(pilot: Pilot, pane: ResultsPane) -> None:
    await until(pilot, lambda: "COMPLETED" in shown(pane))
    await pilot.press("enter")
    await until(pilot, lambda: "non-compliant" in shown(pane))
    table = pane.table
    table.move_to_key("DEVICE_CERTIFICATE_SHARED_CHECK")
    await pilot.press("enter")
    await until(pilot, lambda: pane.table.row_count == 1 and not pane.stream.loading)


async def test_tasks_checks_findings_and_detail(lab: str, dd: DefenderClient) -> None:
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await until(pilot, lambda: "COMPLETED" in shown(pane))
        assert "on demand" in shown(pane) or "scheduled" in shown(pane)

        await pilot.press("enter")
        await until(pilot, lambda: "non-compliant" in shown(pane))
        keys = pane.table.visible_keys()
        assert keys[0] == "__all__" and "All findings" in lines(pane.table)[1]
        assert set(keys[1:4]) == set(LAB_CHECKS)  # non-compliant first
        assert all("non-compliant" in line for line in lines(pane.table)[1:5])
        assert "non-compliant" not in lines(pane.table)[5]

        pane.table.move_to_key("DEVICE_CERTIFICATE_SHARED_CHECK")
        await pilot.press("enter")
        await until(pilot, lambda: pane.table.row_count == 1 and not pane.stream.loading)
        assert "cert " in shown(pane)

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FindingDetailScreen))
        screen = app.screen
        await until(pilot, lambda: "ACTIVE" in static_text(screen.query_one("#state", Static)))
        detail = static_text(screen.query_one("#finding", Static))
        assert "SensorDevice01" in detail and "SensorDevice02" in detail
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, FindingDetailScreen))

        await pilot.press("escape", "escape")
        assert pane.level == 0
        await pilot.press("escape")  # at the top: nothing happens
        assert pane.level == 0
        assert app.errors == []


async def test_new_audit_shows_in_progress_then_completed(lab: str, dd: DefenderClient) -> None:
    runtime().options.audit_seconds = 1.0
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await until(pilot, lambda: "COMPLETED" in shown(pane))
        task_id = make_client(lab).start_on_demand_audit_task(targetCheckNames=list(LAB_CHECKS))["taskId"]
        await until(pilot, lambda: "IN_PROGRESS" in lines(pane.table)[1])
        assert pane.table.visible_keys()[0] == task_id  # newest first
        assert pane.busy
        await until(pilot, lambda: "COMPLETED" in lines(pane.table)[1])
        assert "3/3" in lines(pane.table)[1]
        await until(pilot, lambda: not pane.busy)


async def test_cancel_in_progress_audit(lab: str, dd: DefenderClient) -> None:
    runtime().options.audit_seconds = 30.0
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        make_client(lab).start_on_demand_audit_task(targetCheckNames=list(LAB_CHECKS))
        await until(pilot, lambda: "IN_PROGRESS" in lines(pane.table)[1])
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: "CANCELED" in lines(pane.table)[1])


async def test_marks_filter_and_marked_findings(lab: str, dd: DefenderClient) -> None:
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_shared_certificate_findings(pilot, pane)
        status = pane.query_one("#status", Static)
        await pilot.press("space")
        assert "1 marked" in static_text(status)
        assert len(pane.marked_findings()) == 1
        await pilot.press("u")
        assert "0 marked" in static_text(status)
        await pilot.press("slash")
        await pilot.press(*"zzz-nothing")
        assert pane.table.row_count == 0
        await pilot.press("escape")  # clears the filter
        assert pane.table.row_count == 1 and pane.table.filter_text == ""
        await pilot.press("slash", *"zzz", "enter")  # kept after enter, back in the list
        assert pane.table.row_count == 0 and pane.table.has_focus
        assert "filter: zzz" in static_text(status)
        await pilot.press("escape")  # clears it before going up a level
        assert pane.table.row_count == 1 and pane.level == 2
        await pilot.press("A")
        assert "1 marked" in static_text(status)
        assert pane.marked_findings()[0].check_name == "DEVICE_CERTIFICATE_SHARED_CHECK"


async def test_suppress_then_unsuppress(lab: str, dd: DefenderClient) -> None:
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_shared_certificate_findings(pilot, pane)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SuppressModal))
        await pilot.press("down", "enter", *"[bold]lab[/]", "enter")  # 1 month; description as typed
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        body = static_text(app.screen.query_one("#body", Static))
        assert "1 month" in body and "[bold]lab[/]" in body
        await pilot.press("y")
        # "now": suppressed since the audit (its report, AWS's isSuppressed, says it was not then).
        await until(pilot, lambda: lines(pane.table)[1].rstrip().endswith("now"))
        suppressions = make_client(lab).list_audit_suppressions()["suppressions"]
        assert [s["checkName"] for s in suppressions] == ["DEVICE_CERTIFICATE_SHARED_CHECK"]

        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await until(pilot, lambda: not lines(pane.table)[1].rstrip().endswith("now"))
        assert make_client(lab).list_audit_suppressions()["suppressions"] == []
        assert app.errors == []


async def test_read_only_refuses_cancel_and_suppress(lab: str, dd: DefenderClient) -> None:
    runtime().options.audit_seconds = 30.0
    app = Harness(dd, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        make_client(lab).start_on_demand_audit_task(targetCheckNames=list(LAB_CHECKS))
        await until(pilot, lambda: "IN_PROGRESS" in lines(pane.table)[1])
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert "IN_PROGRESS" in lines(pane.table)[1]
        assert app.errors == [
            "Read-only: Cancel audit is refused; nothing was changed (started with --read-only)."
        ]
        assert not any(b.binding.action == "cancel_task" for b in app.active_bindings.values())

        pane.table.move_cursor(1)
        await open_shared_certificate_findings(pilot, pane)
        for key in ("s", "S", "a"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.screen_stack[0]
            assert app.errors[-1].startswith("Read-only:"), key
        assert len(app.errors) == 4
        assert make_client(lab).list_audit_suppressions()["suppressions"] == []


def test_rows_are_text() -> None:
    from iot_defender_tui.ui.panes import results_views as views

    assert all(isinstance(c.label, str) for c in views.FINDING_COLUMNS)
    assert isinstance(views.short_time(None), str) and Text("x").plain == "x"


async def open_biggest_check(pilot: Pilot, pane: ResultsPane, at_least: int) -> None:
    """Findings of the check with the most non-compliant resources (a lab with generated devices)."""
    await until(pilot, lambda: "COMPLETED" in shown(pane))
    await pilot.press("enter")
    await until(pilot, lambda: "non-compliant" in shown(pane))
    table = pane.table
    counts = {k: int(table.row_cells(k)[3].plain or 0) for k in table.visible_keys() if k != "__all__"}
    name = max(counts, key=lambda k: counts[k])
    assert counts[name] >= at_least, counts
    table.move_to_key(name)
    await pilot.press("enter")
    await until(pilot, lambda: pane.table.row_count == counts[name] and not pane.stream.loading)


async def test_suppress_marked_findings_one_by_one_then_reload(lab: str, dd: DefenderClient) -> None:
    seed_fleet("empty", devices=40)
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        make_client(lab).start_on_demand_audit_task(targetCheckNames=list(LAB_CHECKS))
        await until(pilot, lambda: "COMPLETED" in lines(pane.table)[1], timeout=20)
        await open_biggest_check(pilot, pane, at_least=3)
        table = pane.table
        first, second, third = table.visible_keys()[:3]
        # Suppressed behind the pane's back: its request fails, the other two still go.
        taken = pane.stream.finding(second)
        make_client(lab).create_audit_suppression(
            checkName=taken.check_name,
            resourceIdentifier=taken.resource.identifier,
            suppressIndefinitely=True,
        )
        await pilot.press("space", "space", "space")
        assert table.marked == {first, second, third}
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SuppressModal))
        await pilot.press("enter", "enter")  # 1 week, no description
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "3 findings" in static_text(app.screen.query_one("#body", Static))
        await pilot.press("y")
        await until(pilot, lambda: app.errors != [] and not pane.suppressions.progress)
        assert "Suppressed 2 of 3; 1 failed" in app.errors[0]
        assert len(make_client(lab).list_audit_suppressions()["suppressions"]) == 3
        supp = {k: table.row_cells(k)[4].plain for k in (first, second, third)}
        assert supp == {first: "now", second: "", third: "now"}  # since the audit; the second's failed
        assert lines(table)[1].rstrip().endswith("now") and lines(table)[3].rstrip().endswith("now")

        table.move_to_key(third)
        await pilot.press("r")  # reload: same cursor finding, marks kept
        # AWS reports a finding's suppression as of its audit (API_AuditFinding's isSuppressed): all three
        # came after it, so its report says none. The reload still shows them suppressed now, the one made
        # behind the pane's back too, read from AWS's suppressions.
        await until(pilot, lambda: not pane.stream.loading and pane.stream.suppressed_now(taken))
        assert all(line.rstrip().endswith("now") for line in lines(table)[1:4])
        assert not any(f.is_suppressed for f in pane.stream.findings_of([first, second, third]))
        assert table.cursor_key == third and table.marked == {first, second, third}
        assert "3 marked" in static_text(pane.query_one("#status", Static))


async def test_failed_check_says_why(lab: str, dd: DefenderClient) -> None:
    """An audit role that does not exist fails the checks (INSUFFICIENT_PERMISSIONS, API_AuditCheckDetails):
    the Status cell says so in short, the status line gives AWS's message for the check under the cursor."""
    missing = "arn:aws:iam::123456789012:role/NeverCreated"
    iot = make_client(lab)
    iot.update_account_audit_configuration(
        roleArn=missing, auditCheckConfigurations={name: {"enabled": True} for name in LAB_CHECKS}
    )
    iot.start_on_demand_audit_task(targetCheckNames=["LOGGING_DISABLED_CHECK"])
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await until(pilot, lambda: "FAILED" in lines(pane.table)[1], timeout=20)
        await pilot.press("enter")
        await until(pilot, lambda: "failed: perms" in shown(pane))
        status = pane.query_one("#status", Static)
        assert "INSUFFICIENT_PERMISSIONS" not in static_text(status)  # the cursor is on "All findings"
        await pilot.press("down")
        await until(pilot, lambda: "INSUFFICIENT_PERMISSIONS" in static_text(status))
        assert f"The audit role {missing} does not exist." in static_text(status).replace("\n", " ")
        assert status.size.height > 1  # the whole message, wrapped, at 80 columns
        await pilot.press("up")
        await until(pilot, lambda: "INSUFFICIENT_PERMISSIONS" not in static_text(status))
        assert status.size.height == 1
        assert app.errors == []


def test_failed_reason_is_data() -> None:
    """AWS's message is shown as it came (markup stays text) and made safe (no terminal escapes)."""
    from iot_defender_tui.aws.models import CheckResult
    from iot_defender_tui.ui.panes import results_views as views

    message = "[bold]x[/] \x1b]0;t\x07"
    data = {"checkRunStatus": "FAILED", "errorCode": "INSUFFICIENT_PERMISSIONS", "message": message}
    check = CheckResult.from_api(data, "LOGGING_DISABLED_CHECK")
    reason = views.check_reason(check)
    assert reason is not None and "[bold]x[/]" in reason.plain and "\x1b" not in reason.plain
    assert views.check_status(check) == "failed: perms"
    assert views.check_reason(CheckResult.from_api({"checkRunStatus": "COMPLETED_COMPLIANT"}, "X")) is None
