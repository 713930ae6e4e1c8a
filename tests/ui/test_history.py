"""The audit history in the app (issue 14, point 1): a completed audit read once from AWS is kept, and
re-opened from the store without ListAuditFindings; suppressions reach the stored copy; a store that cannot
be opened is said, and the app runs without it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import DataTable, OptionList

from iot_defender_tui.config import Settings
from iot_defender_tui.history.store import AuditStore
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.drift import DriftScreen
from iot_defender_tui.ui.history_link import HistoryLink, close_store, open_store
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.results import Level, ResultsPane
from iot_defender_tui.ui.panes.results_suppress import SuppressModal
from iot_defender_tui.ui.pickers import PickerModal
from iot_defender_tui.ui.trend import TrendScreen
from tests.support.mitigation import role_arn
from tests.support.models import lab_task_id
from tests.support.results import listed
from tests.support.sandbox import ACCOUNT, REGION, make_client, request_counts, sandbox_settings
from tests.support.ui import connected, until
from tests.ui.test_results import shown


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    """A history of the test's own, closed after it."""
    with AuditStore.open(tmp_path / "history.sqlite3") as opened:
        yield opened


async def open_all_findings(pilot, pane: ResultsPane) -> None:
    """From the task list: the lab's audit, then "All findings" (one of each of its three checks)."""
    await until(pilot, lambda: "COMPLETED" in shown(pane))
    await pilot.press("enter")
    await until(pilot, lambda: "All findings" in shown(pane))
    await pilot.press("enter")
    await until(
        pilot, lambda: pane.level == Level.FINDINGS and not pane.stream.loading and pane.table.row_count == 3
    )


async def test_a_completed_audit_reopens_from_the_history(lab: str, store: AuditStore) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None, history_store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        await open_all_findings(pilot, pane)
        first = sorted(f.finding_id for f in listed(pane))
        assert app.history is not None
        app.history.flush()
        task_id = pane._view().task_id
        assert store.is_complete(ACCOUNT, REGION, task_id)
        assert store.count(ACCOUNT, REGION, task_id) == 3

        sent = request_counts(lab).get("ListAuditFindings", 0)
        await pilot.press("escape", "escape")
        await until(pilot, lambda: pane.level == Level.TASKS)
        await open_all_findings(pilot, pane)
        assert request_counts(lab).get("ListAuditFindings", 0) == sent  # from the store
        assert sorted(f.finding_id for f in listed(pane)) == first
        assert {f.check_name for f in listed(pane)} == {
            "DEVICE_CERTIFICATE_SHARED_CHECK",
            "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
            "LOGGING_DISABLED_CHECK",
        }

        # `r` asks AWS again, whatever the store holds.
        await pilot.press("r")
        await until(pilot, lambda: request_counts(lab).get("ListAuditFindings", 0) > sent)


async def test_a_suppression_reaches_the_stored_copy(lab: str, store: AuditStore, journal) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), journal, history_store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        await open_all_findings(pilot, pane)
        await pilot.press("space", "s")  # the first finding, suppressed for a month
        await until(pilot, lambda: isinstance(app.screen, SuppressModal))
        await pilot.press("down", "enter", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        # The list keeps AWS's isSuppressed (as of the audit) and shows the suppression as made since;
        # the stored copy, re-opened later, shows the pane's change in its isSuppressed.
        await until(pilot, lambda: any(pane.stream.suppressed_now(f) for f in listed(pane)))
        assert not any(f.is_suppressed for f in listed(pane))
        assert app.history is not None
        app.history.flush()
        task_id = pane._view().task_id
        stored = [f for page in store.findings(ACCOUNT, REGION, task_id) for f in page]
        assert (
            sum(f.is_suppressed for f in stored)
            == sum(pane.stream.suppressed_now(f) for f in listed(pane))
            == 1
        )


async def test_a_damaged_history_is_said_and_the_app_reads_aws(lab: str, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("IOT_DEFENDER_TUI_HOME", str(tmp_path))
    from iot_defender_tui.config import history_path

    history_path().parent.mkdir(parents=True, exist_ok=True)
    history_path().write_bytes(b"this is not a database, it is " * 100)
    store, problem = open_store(sandbox=False)
    assert store is None and problem
    app = DefenderApp(sandbox_settings(lab), Settings(), None, history_problem=problem)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        await until(pilot, lambda: "Audit history unavailable" in str(app.query_one("#status").render()))
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        await open_all_findings(pilot, pane)  # from AWS, as without a history


def test_the_sandbox_gets_a_history_of_its_own() -> None:
    store, problem = open_store(sandbox=True)
    assert store is not None and problem is None
    directory = store.path.parent
    assert directory.exists()
    close_store(store)
    assert not directory.exists()


async def test_drift_against_the_previous_audit_and_its_lists(lab: str, store: AuditStore) -> None:
    """Logging enabled between two audits of the same checks: `d` on the newer one shows the logging
    finding resolved and the others persisting; enter on a count opens those findings."""
    iot = make_client(lab)
    earlier = lab_task_id(iot)
    checks = [c for c, s in iot.describe_audit_task(taskId=earlier)["auditDetails"].items()]
    iot.set_v2_logging_options(roleArn=role_arn("iotLoggingRole"), defaultLogLevel="WARN")
    later = iot.start_on_demand_audit_task(targetCheckNames=checks)["taskId"]
    # Finished before the app starts: its first poll then lists both as they will stay.
    for _ in range(300):
        if iot.describe_audit_task(taskId=later)["taskStatus"] == "COMPLETED":
            break
        await asyncio.sleep(0.1)
    app = DefenderApp(sandbox_settings(lab), Settings(), None, history_store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        tasks = pane.query_one("#tasks")
        await until(pilot, lambda: shown(pane).count("COMPLETED") == 2, "both audits completed", 30)
        tasks.move_to_key(later)
        await pilot.press("d")  # neither audit is stored yet: both are read from AWS first
        await until(pilot, lambda: isinstance(app.screen, DriftScreen), "the drift screen")
        drift = app.screen.drift
        by_check = {c.check_name: c for c in drift.checks}
        logging = by_check["LOGGING_DISABLED_CHECK"]
        assert (len(logging.new), len(logging.resolved), len(logging.persisting)) == (0, 1, 0)
        shared = by_check["DEVICE_CERTIFICATE_SHARED_CHECK"]
        assert (len(shared.new), len(shared.resolved), len(shared.persisting)) == (0, 0, 1)
        assert drift.earlier_task_id == earlier and drift.later_task_id == later

        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("LOGGING_DISABLED_CHECK"), column=3)  # Resolved
        await pilot.press("enter")
        await until(pilot, lambda: pane.level == Level.FINDINGS and not pane.stream.loading)
        assert [f.check_name for f in listed(pane)] == ["LOGGING_DISABLED_CHECK"]
        assert "Drift: resolved in Logging disabled" in str(pane.query_one("#crumb").render())


async def test_the_trend_key_charts_the_stored_audits(lab: str, store: AuditStore) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None, history_store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        await open_all_findings(pilot, pane)
        await pilot.press("T")
        await until(pilot, lambda: isinstance(app.screen, TrendScreen), "the trend screen")
        screen = app.screen
        await until(pilot, lambda: screen.trend is not None, "the stored audits")
        assert screen.trend is not None and len(screen.trend.points) == 1
        assert screen.trend.points[0].by_severity.get("CRITICAL") == 2
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TrendScreen))


async def test_drift_against_an_audit_picked(lab: str, store: AuditStore) -> None:
    """Logging on, then off again: against the previous audit the logging finding is new; against the
    first audit, picked with b, it persists."""
    iot = make_client(lab)
    first = lab_task_id(iot)
    checks = list(iot.describe_audit_task(taskId=first)["auditDetails"])
    iot.set_v2_logging_options(roleArn=role_arn("iotLoggingRole"), defaultLogLevel="WARN")
    iot.start_on_demand_audit_task(targetCheckNames=checks)
    await asyncio.sleep(1.0)  # the audits run 0.5 s: the two must not share a start second
    iot.set_v2_logging_options(disableAllLogs=True)
    last = iot.start_on_demand_audit_task(targetCheckNames=checks)["taskId"]
    app = DefenderApp(sandbox_settings(lab), Settings(), None, history_store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        await until(pilot, lambda: shown(pane).count("COMPLETED") == 3)
        pane.query_one("#tasks").move_to_key(last)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DriftScreen), "the drift screen")
        screen = app.screen
        logging = {c.check_name: c for c in screen.drift.checks}["LOGGING_DISABLED_CHECK"]
        assert (len(logging.new), len(logging.persisting)) == (1, 0)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, PickerModal), "the audits to pick from")
        picker = app.screen
        await until(pilot, lambda: picker.query_one(OptionList).option_count == 2, "two earlier audits")
        picker.query_one(OptionList).highlighted = 0  # oldest first: the lab's audit
        await pilot.press("enter")
        await until(pilot, lambda: screen.drift.earlier_task_id == first, "the drift against the first")
        logging = {c.check_name: c for c in screen.drift.checks}["LOGGING_DISABLED_CHECK"]
        assert (len(logging.new), len(logging.persisting)) == (0, 1)


async def test_a_failed_write_is_said_once_and_on_the_loop(tmp_path: Path) -> None:
    """Writes run on the history's thread; their failure reaches the status line from the app's loop (a
    widget touched from another thread is undefined), and only once."""
    import threading

    store = AuditStore.open(tmp_path / "history.sqlite3")
    said: list[tuple[str, threading.Thread]] = []
    link = HistoryLink(store, ACCOUNT, REGION, lambda m: said.append((m, threading.current_thread())))
    store.close()  # every write now fails
    link.save_findings("t" * 32, [])
    link.check_complete("t" * 32, ["LOGGING_DISABLED_CHECK"])
    await asyncio.to_thread(link.flush)
    await asyncio.sleep(0.05)
    link.close()
    assert len(said) == 1 and said[0][0].startswith("Audit history: ")
    assert said[0][1] is threading.main_thread()


async def test_an_audit_only_the_history_holds_is_listed_and_browsed_from_it(lab: str, store: AuditStore):
    """Past AWS's 90 days (here: generated into the store), an audit still opens, read from the file on
    demand (the table holds no rows): filter, sort, marks and the detail work on it."""
    from iot_defender_tui.history.generate import generate
    from iot_defender_tui.ui.finding_detail import FindingDetailScreen
    from iot_defender_tui.ui.panes.stored_rows import StoredRows

    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    (old,) = generate(store, ACCOUNT, REGION, findings=5000, tasks=1, now=long_ago)
    app = DefenderApp(sandbox_settings(lab), Settings(), None, history_store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        await until(pilot, lambda: "(history)" in shown(pane))
        await pilot.press("end", "enter")  # the oldest audit: the generated one
        await until(pilot, lambda: pane.level == Level.CHECKS and "All findings" in shown(pane))
        await pilot.press("enter")
        table = pane.table
        await until(pilot, lambda: isinstance(table.model, StoredRows) and not pane.stream.loading)
        assert pane._view().task_id == old
        assert table.row_count == table.total_count == 5000

        await pilot.press("slash", *"client", "enter")
        await until(pilot, lambda: table.filter_text == "client")
        assert 0 < table.row_count < 5000
        assert all(f.resource.resource_type == "CLIENT_ID" for f in listed(pane))
        await pilot.press("o", "o", "o")  # Check, Severity, Resource: by the client id
        await until(pilot, lambda: table.sort_state == (2, False))
        ids = [f.resource.readable for f in listed(pane)]
        assert ids == sorted(ids, key=str.lower)

        await pilot.press("home", "space", "space")  # a mark moves the cursor down
        assert [f.resource.readable for f in pane.marked_findings()] == ids[:2]
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(app.screen, FindingDetailScreen))
        assert app.screen.finding.resource.readable == ids[0]


async def test_drift_lists_of_big_stored_audits_are_read_from_the_history(lab: str, store: AuditStore):
    """Two stored audits of 3,000 findings, a tenth of each check's resources changed between them: each
    drift list opens as exactly the findings the comparison named, read on demand (no rows held)."""
    from iot_defender_tui.history.generate import generate
    from iot_defender_tui.ui.panes.stored_rows import StoredRows

    now = datetime(2020, 1, 2, tzinfo=UTC)
    earlier, later = generate(store, ACCOUNT, REGION, findings=3000, tasks=2, now=now)
    app = DefenderApp(sandbox_settings(lab), Settings(), None, history_store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        await pilot.press("3")
        pane = app.query_one(ResultsPane)
        await until(pilot, lambda: shown(pane).count("(history)") == 2)
        pane.query_one("#tasks").move_to_key(later)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DriftScreen), "the drift screen")
        drift = app.screen.drift
        assert (drift.earlier_task_id, drift.later_task_id) == (earlier, later)
        check = "DEVICE_CERTIFICATE_AGE_CHECK"
        counts = {c.check_name: c for c in drift.checks}[check]
        assert 0 < len(counts.new) == len(counts.resolved) < len(counts.persisting)
        for column, kind in ((2, "new"), (3, "resolved"), (4, "persisting")):
            if not isinstance(app.screen, DriftScreen):
                await pilot.press("escape", "d")
                await until(pilot, lambda: isinstance(app.screen, DriftScreen), "the drift screen")
            table = app.screen.query_one(DataTable)
            table.move_cursor(row=table.get_row_index(check), column=column)
            await pilot.press("enter")
            await until(
                pilot,
                lambda: (
                    pane.level == Level.FINDINGS
                    and isinstance(pane.table.model, StoredRows)
                    and not pane.stream.loading
                ),
            )
            assert pane.table.row_count == len(getattr(counts, kind))
            assert {f.finding_id for f in listed(pane)} == set(getattr(counts, kind))
            await pilot.press("escape")
            await until(pilot, lambda: pane.level == Level.CHECKS)
            await pilot.press("escape")
            await until(pilot, lambda: pane.level == Level.TASKS)
            pane.query_one("#tasks").move_to_key(later)
