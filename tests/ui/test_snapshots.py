"""Snapshots (pytest-textual-snapshot) of every pane of the real app on the sandbox lab, at 60x20, 80x24
and 120x40 (and the mitigation action form at 60x20, where it has to scroll).

After a deliberate UI change, regenerate and review the SVGs (tests/ui/__snapshots__/test_snapshots/):

    python -m pytest tests/ui/test_snapshots.py --snapshot-update

The screens are reproducible: scripts/screenshots.py `prepare` seeds the lab (plus a weekly schedule, a
mitigation action and a finished mitigation task) on a frozen sandbox clock with deterministic ids and a
fixed lab certificate; `freeze_ui_clock` makes the app read that clock; TZ=UTC fixes local times. Each
case waits until its pane shows its data (polling, no fixed sleeps) before the snapshot is taken.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from iot_defender_tui.config import Settings
from iot_defender_tui.ui.app import DefenderApp
from tests.support.sandbox import sandbox_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import screenshots as world

SIZES = {"60x20": (60, 20), "80x24": (80, 24), "120x40": (120, 40)}
PANES = {
    "settings": world.show_settings,
    "schedules": world.show_schedules,
    "results": world.show_results,
    "mitigation": world.show_mitigation,
}


@pytest.fixture
def lab(sandbox_url: str, aws_env: Path, utc: None, monkeypatch: pytest.MonkeyPatch) -> str:
    world.prepare(sandbox_url)
    world.freeze_ui_clock(monkeypatch.setattr)
    return sandbox_url


def snap(snap_compare: Any, url: str, drive: Callable[[Any], Awaitable[None]], size: tuple[int, int]) -> bool:
    app = DefenderApp(sandbox_settings(url), Settings(), None)
    return snap_compare(app, terminal_size=size, run_before=drive)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("pane", PANES)
def test_pane(snap_compare: Any, lab: str, pane: str, size: tuple[int, int]) -> None:
    assert snap(snap_compare, lab, PANES[pane], size)


def test_overview_80x24(snap_compare: Any, lab: str) -> None:
    """The Fleet overview of an organization: every account-region, a broken role's error in its rows."""
    world.prepare_organization()
    assert snap_compare(world.organization_app(lab), terminal_size=(80, 24), run_before=world.show_overview)


async def show_logging_action_form(pilot: Any) -> None:
    """The longest action form (ENABLE_IOT_LOGGING): at 60x20 its fields scroll, its buttons stay."""
    from textual.widgets import Select

    from iot_defender_tui.ui.panes.mitigation_forms import ActionForm

    await world.show_mitigation(pilot)
    await pilot.press("n")
    form = pilot.app.screen
    assert isinstance(form, ActionForm)
    form.query_one("#type", Select).value = "ENABLE_IOT_LOGGING"
    await pilot.pause()
    assert form.query_one("#p-logging").display
    # The top of the form with its buttons below: the logging fields are further down the scroll.
    await world.until(pilot, lambda t: "ENABLE_IOT_LOGGING" in t and "Save (ctrl+s)" in t, "the form")


def test_logging_action_form_60x20(snap_compare: Any, lab: str) -> None:
    assert snap(snap_compare, lab, show_logging_action_form, (60, 20))


async def test_the_findings_footer_shows_every_key_at_80_columns(lab: str) -> None:
    """The point of the findings list, `a` (apply mitigation), and the rest of its keys fit at 80x24."""
    from iot_defender_tui.ui.widgets.footer import Footer

    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await world.show_findings(pilot)
        footer = app.screen.query_one(Footer)
        text = footer.hint_text(80).plain
        assert "a Mitigate" in text.splitlines()[0]  # first: the most important key
        for hint in ("space Mark", "/ Filter", "s Suppress", "esc Back", "⏎ Open", "? Help"):
            assert hint in text, hint
        assert all(len(line) <= 80 for line in text.splitlines())


@pytest.mark.parametrize("screen", ["findings", "finding"])
def test_findings_80x24(snap_compare: Any, lab: str, screen: str) -> None:
    drive = {"findings": world.show_findings, "finding": world.show_finding}[screen]
    assert snap(snap_compare, lab, drive, (80, 24))


async def test_toasts_are_short_and_cover_no_list_row_at_80x24(lab: str) -> None:
    from textual.widgets._toast import Toast

    from iot_defender_tui.ui.tracker import NOTE_SECONDS
    from iot_defender_tui.ui.widgets.fast_table import FastTable

    assert DefenderApp.NOTIFICATION_TIMEOUT <= 5 and NOTE_SECONDS <= 10
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await world.show_findings(pilot)
        app.notify("Suppressed 3 finding(s).", markup=False)
        app.notify("Mitigation task t-1 COMPLETED: 1 succeeded\ncert 1a… is now INACTIVE", title="Done")
        await pilot.pause()
        await pilot.pause()
        table = app.query_one("#findings", FastTable)
        rows = table.region.y + 1  # under the list's header
        toasts = list(app.screen.query(Toast))
        assert len(toasts) == 2
        for toast in toasts:
            region = toast.region  # clipped to the rack
            assert region.bottom <= rows, (region, rows)

        # A screen over the main one (its list may start at its top): over its footer instead.
        await pilot.press("enter")
        await world.until(pilot, lambda t: "SensorDevice01" in t, "the finding")
        app.notify("Suppressed 1 finding(s).", markup=False)
        await pilot.pause()
        await pilot.pause()
        shown = list(app.screen.query(Toast))  # the earlier two too: notifications are the app's
        assert shown and all(t.region.y >= 24 - 3 for t in shown)


@pytest.mark.parametrize("screen", ["tasks", "findings"])
def test_an_audit_only_the_history_holds_80x24(snap_compare: Any, lab: str, tmp_path: Path, screen: str):
    """The task list with an audit AWS no longer lists, `(history)`, and its findings read from the file."""
    from datetime import UTC, datetime

    from iot_defender_tui.history.generate import generate
    from iot_defender_tui.history.store import AuditStore
    from tests.support.sandbox import ACCOUNT, REGION

    store = AuditStore.open(tmp_path / "history.sqlite3")
    generate(store, ACCOUNT, REGION, findings=2000, tasks=1, now=datetime(2025, 8, 1, 6, tzinfo=UTC))

    async def drive(pilot: Any) -> None:
        await world.show_results(pilot)
        await pilot.press("escape")
        await world.until(pilot, lambda t: "(history)" in t and world._quiet(t), "the stored audit")
        if screen == "findings":
            await pilot.press("end", "enter")
            await world.until(pilot, lambda t: "All findings" in t, "its checks")
            await pilot.press("enter")
            await world.until(pilot, lambda t: "2,000 findings" in t, "its findings")

    app = DefenderApp(sandbox_settings(lab), Settings(), None, history_store=store)
    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=drive)
    finally:
        store.close()


def test_context_picker_80x24(snap_compare: Any, lab: str) -> None:
    """`:` over the Settings pane: each context's name, region, account once known, read-only."""
    from iot_defender_tui.aws.contexts import Context
    from iot_defender_tui.aws.session import ConnectionSettings

    contexts = [
        Context(name="lab", profile=None, region="us-east-1"),
        Context(name="lab-eu", profile=None, region="eu-west-1", read_only=True),
    ]

    async def drive(pilot: Any) -> None:
        await world.show_settings(pilot)
        await pilot.press("colon")
        await world.until(pilot, lambda t: "Switch to context" in t and "2 of 2" in t, "the picker")

    base = ConnectionSettings(region="us-east-1", endpoint_url=lab, context="lab")
    app = DefenderApp(base, Settings(), None, contexts=contexts)
    assert snap_compare(app, terminal_size=(80, 24), run_before=drive)
