"""The drift screen (ui/drift.py) on a hand-made Drift: what a user reads (per check, new / resolved /
persisting counts), which list enter opens, and snapshots at 80x24 and 60x20."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from textual.widgets import DataTable

from iot_defender_tui.aws.models import AuditTask
from iot_defender_tui.history.models import CheckDrift, Drift
from iot_defender_tui.ui.drift import DriftList, DriftScreen
from tests.support.standin import StandIn
from tests.support.ui import until

EARLIER, LATER = "0f3c2a7e" + "0" * 24, "8b1d4e90" + "1" * 24


def ids(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{k:028x}" for k in range(n))


DRIFT = Drift(
    EARLIER,
    LATER,
    (
        CheckDrift(
            "DEVICE_CERTIFICATE_EXPIRING_CHECK", ids("new0", 1204), ids("res0", 380), ids("per0", 30112)
        ),
        CheckDrift("DEVICE_CERTIFICATE_SHARED_CHECK", ids("new1", 12), (), ids("per1", 4)),
        CheckDrift("IOT_POLICY_OVERLY_PERMISSIVE_CHECK", (), ids("res2", 3), ids("per2", 9)),
        CheckDrift("LOGGING_DISABLED_CHECK", (), ids("res3", 1), ()),
        CheckDrift("CA_CERTIFICATE_EXPIRING_CHECK", (), (), ()),
    ),
)


def task(task_id: str, day: int) -> AuditTask:
    start = datetime(2026, 11, day, 6, 0, tzinfo=UTC)
    return AuditTask(task_id, "COMPLETED", "SCHEDULED_AUDIT_TASK", start, "daily-fleet-audit", None, ())


def screen() -> DriftScreen:
    return DriftScreen(DRIFT, task(EARLIER, 27), task(LATER, 28))


async def show(pilot: Any) -> None:
    await pilot.app.push_screen(screen())
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
def test_drift_snapshot(snap_compare: Any, utc: None, size: tuple[int, int]) -> None:
    assert snap_compare(StandIn(), terminal_size=size, run_before=show)


async def test_enter_on_a_count_opens_that_list(utc: None) -> None:
    app = StandIn()
    chosen: list[DriftList | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(screen(), chosen.append)
        await until(pilot, lambda: isinstance(app.screen, DriftScreen) and bool(app.screen.query(DataTable)))
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index("DEVICE_CERTIFICATE_EXPIRING_CHECK"), column=3)
        await pilot.press("enter")
        await until(pilot, lambda: bool(chosen))
    (listed,) = chosen
    assert listed is not None
    assert (listed.kind, listed.check_name) == ("resolved", "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    assert listed.task_id == EARLIER
    assert listed.against == (LATER, False) and len(listed.finding_ids) == 380
