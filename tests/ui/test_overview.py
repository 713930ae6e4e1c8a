"""The Fleet overview at 80x24 against the loopback sandbox: one row per context filling as it is read,
an error row for a context that cannot be read, enter naming the context chosen."""

from __future__ import annotations

from pathlib import Path

import pytest

from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.aws.posture import Posture
from iot_defender_tui.history.drift import drift
from iot_defender_tui.history.generate import generate
from iot_defender_tui.history.store import AuditStore
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.ui.panes.overview import OverviewPane
from iot_defender_tui.ui.panes.overview_rows import (
    NO_CONFIGURATION,
    READING,
    drift_text,
    posture_row,
    stored_drift,
)
from iot_defender_tui.ui.widgets.footer import Footer
from tests.support.fleet import FleetApp
from tests.support.ui import until

LAB = Context("lab", None, "us-east-1")
FRESH = Context("fresh", None, "eu-west-1")
BROKEN = Context("broken", "no-such-profile", "us-west-2")


def rows(app: FleetApp) -> dict[str, list[str]]:
    table = app.query_one(OverviewPane).table
    return {str(key): [cell.plain for cell in table.row_cells(key)] for key in table.visible_keys()}


@pytest.fixture
def fleet(sandbox_url: str, aws_env) -> str:
    seed_fleet("lab")  # us-east-1 only: every other region of the sandbox is a fresh account-region
    return sandbox_url


def filled(app: FleetApp) -> bool:
    return all(cells[-1] != READING for cells in rows(app).values())


async def test_rows_fill_and_a_context_that_cannot_be_read_shows_its_error(fleet: str) -> None:
    app = FleetApp(fleet, [LAB, FRESH, BROKEN])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(rows(app)) == 3 and filled(app), "every row read")
        shown = rows(app)
        heading = str(app.query_one("#fleet-heading").render())
        footer = app.query_one(Footer).render()
    lab = dict(zip(["Context", "Account", "Region", "Last", "NC"], shown["lab"], strict=False))
    assert lab == {
        "Context": "lab",
        "Account": "123456789012",
        "Region": "us-east-1",
        "Last": "24h",
        "NC": "3",
    }
    assert shown["lab"][-1] == "COMPLETED"
    assert shown["fresh"][-1] == NO_CONFIGURATION
    assert shown["broken"][-1].startswith("ProfileNotFound")
    assert "3 read, 1 failed" in heading
    footer_text = str(footer.plain if hasattr(footer, "plain") else footer)
    assert "Refresh" in footer_text and "Open" in footer_text and "Sort" in footer_text  # at 80 columns


async def test_enter_on_a_row_names_its_context(fleet: str) -> None:
    app = FleetApp(fleet, [LAB, FRESH])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(rows(app)) == 2 and filled(app), "every row read")
        table = app.query_one(OverviewPane).table
        table.move_to_key("fresh")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.chosen), "a context chosen")
        detail = str(app.query_one("#fleet-detail").render())
    assert app.chosen == ["fresh"]
    assert detail.startswith("fresh (default profile, eu-west-1)")


async def test_r_reads_every_context_again_with_the_clients_it_has(fleet: str) -> None:
    app = FleetApp(fleet, [LAB, FRESH])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: len(rows(app)) == 2 and filled(app), "every row read")
        pane = app.query_one(OverviewPane)
        first = dict(pane.results)
        await pilot.press("r")
        await until(pilot, lambda: app.asked == 4 and filled(app) and pane.read_count == 2, "a second read")
        assert pane.results.keys() == first.keys()
        assert pane.results["lab"] == first["lab"] and pane.results["lab"] is not first["lab"]
    assert app.opened == 2


def test_drift_comes_from_the_history_when_it_holds_both_audits_whole(tmp_path: Path) -> None:
    with AuditStore.open(tmp_path / "history.sqlite3") as store:
        earlier, later = generate(store, "111122223333", "eu-west-1", findings=200, tasks=2)
        found = drift(store, "111122223333", "eu-west-1", earlier, later)
        new = sum(len(c.new) for c in found.checks)
        resolved = sum(len(c.resolved) for c in found.checks)
        assert new and resolved  # the generator changes a share of the findings between audits
        assert stored_drift(store, "111122223333", "eu-west-1", later) == (new, resolved)
        assert drift_text(stored_drift(store, "111122223333", "eu-west-1", later)) == f"+{new}-{resolved}"
        assert stored_drift(store, "111122223333", "eu-west-1", earlier) is None  # nothing before it
        assert stored_drift(store, "111122223333", "us-east-1", later) is None  # another region's
    assert drift_text(None) == "—"


def test_a_region_without_a_finished_audit_shows_no_counts_and_says_why() -> None:
    context = Context("staging", "dev", "eu-west-1")
    fresh = posture_row(context, Posture("111122223333", "eu-west-1", audit_configured=False), None)
    running = posture_row(context, Posture("111122223333", "eu-west-1", True, running_audits=1), None)
    idle = posture_row(context, Posture("111122223333", "eu-west-1", True), None)
    assert [c.plain for c in fresh[4:11]] == [""] * 7  # no zeros that would read as "clean"
    assert (fresh[-1].plain, running[-1].plain, idle[-1].plain) == (
        NO_CONFIGURATION,
        "first audit running",
        "no audit in 90 days",
    )
    assert running[9].plain == "1/0"
