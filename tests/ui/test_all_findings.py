"""Results' "All findings": every non-compliant check of an audit in one list, streamed, at 80x24."""

from __future__ import annotations

import pytest
from textual.widgets import Static
from textual.worker import WorkerState

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.ui.apply_mitigation import ApplyMitigationScreen
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes.results import ResultsPane
from iot_defender_tui.ui.panes.results_suppress import SuppressModal
from tests.support.results import listed
from tests.support.sandbox import make_client
from tests.support.ui import until
from tests.ui.test_results import LAB_CHECKS, Harness, lines, shown, static_text

SHARED = "DEVICE_CERTIFICATE_SHARED_CHECK"


@pytest.fixture
def fleet(lab: str) -> str:  # the lab, then generated devices on top
    seed_fleet("empty", devices=40)
    make_client(lab).start_on_demand_audit_task(targetCheckNames=list(LAB_CHECKS))
    return lab


async def open_checks(pilot, pane: ResultsPane) -> None:
    await until(
        pilot, lambda: "COMPLETED" in lines(pane.table)[1] and "3/3" in lines(pane.table)[1], timeout=20
    )
    pane.table.move_cursor(0)
    await pilot.press("enter")
    await until(pilot, lambda: "All findings" in shown(pane))


async def open_all(pilot, pane: ResultsPane) -> dict[str, int]:
    """Opens "All findings"; returns each check's non-compliant count as the checks list shows it."""
    await open_checks(pilot, pane)
    table = pane.table
    counts = {k: int(table.row_cells(k)[3].plain) for k in table.visible_keys()}
    await pilot.press("enter")  # the cursor starts on the first row: All findings
    await until(pilot, lambda: pane.level == 2 and not pane.stream.loading and pane.table.row_count > 0)
    return counts


async def test_all_findings_row_streams_every_check(fleet: str, dd: DefenderClient) -> None:
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_checks(pilot, pane)
        assert pane.table.visible_keys()[0] == "__all__"
        assert "All findings" in lines(pane.table)[1]
        counts = {k: int(pane.table.row_cells(k)[3].plain) for k in pane.table.visible_keys()}
        total = counts.pop("__all__")
        assert total == sum(counts.values()) and total > 3
        await pilot.press("enter")
        await until(
            pilot, lambda: pane.level == 2 and not pane.stream.loading and pane.table.row_count == total
        )
        assert "Audit > All findings > findings" in static_text(pane.query_one("#crumb", Static))
        assert lines(pane.table)[0].split()[:2] == ["Check", "Severity"]
        per_check = {k: n for k, n in counts.items() if n}
        found: dict[str, int] = {}
        for finding in listed(pane):
            found[finding.check_name] = found.get(finding.check_name, 0) + 1
        assert found == per_check and len(found) == 3
        titles = {line[2:20].strip() for line in lines(pane.table)[1:] if line.strip()}
        assert len(titles) >= 2, titles  # rows of several checks on one screen

        await pilot.press("slash", *"shared")  # the Check column is filtered on too
        assert pane.table.row_count == per_check[SHARED]
        await pilot.press("escape")
        assert pane.table.row_count == total

        await pilot.press("o")  # sort by Check
        keys = pane.table.visible_keys()
        names = [pane.stream.finding(k).check_name for k in keys]
        titles_sorted = [pane.table.row_cells(k)[0].plain.lower() for k in keys]
        assert titles_sorted == sorted(titles_sorted) and len(set(names)) == 3
        assert "Check ▲" in lines(pane.table)[0]
        assert app.errors == []


async def test_marks_suppress_and_apply_across_checks(fleet: str, dd: DefenderClient) -> None:
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_all(pilot, pane)
        table = pane.table
        await pilot.press("o")  # by check, so the first rows of two checks are easy to reach
        keys = table.visible_keys()
        first = keys[0]
        other = next(
            k for k in keys if pane.stream.finding(k).check_name != pane.stream.finding(first).check_name
        )
        for key in (first, other):
            table.move_to_key(key)
            await pilot.press("space")
        assert "2 marked" in static_text(pane.query_one("#status", Static))
        picked = pane.marked_findings()
        assert len({f.check_name for f in picked}) == 2

        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ApplyMitigationScreen))
        assert {f.check_name for f in app.screen.findings} == {f.check_name for f in picked}
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ApplyMitigationScreen))

        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SuppressModal))
        await pilot.press("enter", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "2 findings of 2 checks" in static_text(app.screen.query_one("#body", Static))
        await pilot.press("y")
        await until(
            pilot, lambda: not pane.suppressions.progress and table.row_cells(other)[5].plain == "now"
        )
        assert table.row_cells(first)[5].plain == "now"  # suppressed since the audit, not in its report
        suppressions = make_client(fleet).list_audit_suppressions()["suppressions"]
        assert sorted(s["checkName"] for s in suppressions) == sorted(f.check_name for f in picked)
        assert app.errors == []


async def test_leaving_all_findings_stops_the_stream(fleet: str, dd: DefenderClient) -> None:
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_checks(pilot, pane)
        await pilot.press("enter", "escape")
        assert pane.level == 1 and not pane.stream.loading
        await pilot.pause()
        running = [w for w in app.workers if w.group == "results-findings" and w.state == WorkerState.RUNNING]
        assert running == []
        await pilot.press("enter")  # and opening it again loads everything once
        await until(pilot, lambda: pane.level == 2 and not pane.stream.loading and pane.table.row_count > 3)
        assert pane.table.row_count == len(listed(pane))
