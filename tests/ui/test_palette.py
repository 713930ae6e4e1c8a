"""The command palette on the real app: pane commands, and every enabled key of the current pane."""

from __future__ import annotations

from functools import partial

from textual.command import CommandPalette
from textual.widgets import TabbedContent

from iot_defender_tui.config import Settings
from iot_defender_tui.ui.app import DefenderApp
from tests.support import ui
from tests.support.sandbox import sandbox_settings

until = partial(ui.until, timeout=30.0)  # this module's waits keep the patience they had

TOGGLED = "✗*"  # the Settings row of a check switched off, not saved yet


def first_row(app: DefenderApp) -> str:
    table = app.query_one("#settings-table")
    return " ".join(str(c) for c in table.get_row_at(0))


async def settings_ready(pilot) -> None:
    app = pilot.app
    await until(
        pilot,
        lambda: (
            app.focused is not None
            and app.focused.id == "settings-table"
            and app.query_one("#settings-table").row_count > 0
        ),
    )


async def palette_texts(pilot, query: str) -> list[str]:
    """Open the palette, type `query`, and read the commands it offers."""
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await pilot.press(*query)
    palette = pilot.app.screen
    await pilot.pause(0.3)  # the palette gathers from its providers in the background
    options = palette.query_one("CommandList")
    # Each prompt is the command, then its help on the next line.
    return [str(options.get_option_at_index(i).prompt).split("\n")[0] for i in range(options.option_count)]


async def test_palette_runs_a_pane_key(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settings_ready(pilot)
        assert first_row(app).startswith("✓")
        texts = await palette_texts(pilot, "Toggle")
        assert "Toggle check" in texts, texts
        await pilot.press("down", "enter")
        await until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        await until(pilot, lambda: first_row(app).startswith(TOGGLED))


async def test_read_only_palette_has_no_mutating_commands(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab, read_only=True), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settings_ready(pilot)
        texts = await palette_texts(pilot, "e")
        for present in ("Refresh", "Go to Results", "Help"):
            assert present in texts, texts
        for absent in ("Toggle check", "Edit threshold", "Save"):
            assert absent not in texts, texts
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        app.read_only = False  # the same palette offers them once the pane allows them
        app.screen.refresh_bindings()
        assert "Toggle check" in await palette_texts(pilot, "e")


async def test_palette_goes_to_a_pane(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settings_ready(pilot)
        texts = await palette_texts(pilot, "Go to Results")
        assert "Go to Results" in texts[0], texts
        await pilot.press("down", "enter")
        tabs = app.query_one(TabbedContent)
        await until(pilot, lambda: tabs.active == "tab-results")
