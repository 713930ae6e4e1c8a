"""The command palette on the real app: every action of every pane, from any pane, with the user's keys."""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import Static, TabbedContent

from iot_defender_tui.config import Settings
from iot_defender_tui.ui.actions import INSIDE, WORDS, catalogue
from iot_defender_tui.ui.app import PANES, DefenderApp, pane_class
from iot_defender_tui.ui.check_picker import CheckPickerModal
from iot_defender_tui.ui.finding_detail import FindingDetailScreen
from iot_defender_tui.ui.panes.mitigation_forms import ActionForm
from iot_defender_tui.ui.panes.results import Level, ResultsPane
from iot_defender_tui.ui.panes.results_suppress import SuppressModal
from iot_defender_tui.ui.widgets.fast_table import FastTable
from iot_defender_tui.ui.widgets.filter_bar import FilterBar
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


# -- every action of every pane, from any pane (issue 13, point 6) -------------------------------------


def test_every_binding_of_every_pane_has_plain_words() -> None:
    """A pane's new key gets a palette entry by itself; this asks for its words (actions.WORDS)."""
    bound: set[str] = set()
    for pane_id, _, label, _, _ in PANES:
        pane = pane_class(pane_id)
        for binding in Binding.make_bindings(pane.BINDINGS):
            assert binding.id in WORDS, f"{label}: binding {binding.id or binding.action!r} has no WORDS"
            bound.add(binding.id)
    for binding in Binding.make_bindings([*DefenderApp.BINDINGS, *FastTable.BINDINGS, *FilterBar.BINDINGS]):
        bound.add(binding.id)
    assert set(WORDS) <= bound, f"WORDS of no binding: {sorted(set(WORDS) - bound)}"
    app = DefenderApp.__new__(DefenderApp)  # the catalogue reads classes and the keymap only
    app._keymap = {}
    entries = catalogue(app, [(p, label, pane_class(p)) for p, _, label, _, _ in PANES])
    for pane_id, _, _, _, _ in PANES:
        ids = {b.id for b in Binding.make_bindings(pane_class(pane_id).BINDINGS)}
        assert ids <= {e.binding_id for e in entries if e.pane_id == pane_id}


async def palette_hits(pilot, query: str) -> list[tuple[str, str]]:
    """Open the palette, type `query`: each hit's command and help line."""
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await pilot.press(*query)
    await pilot.pause(0.3)
    options = pilot.app.screen.query_one("CommandList")
    hits = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    return [tuple([*hit.split("\n", 1), ""][:2]) for hit in hits]  # type: ignore[misc]


def notes_of(app: DefenderApp) -> list[str]:
    """What the app notifies from now on."""
    notes: list[str] = []
    notify = app.notify

    def spy(message: str, **kwargs) -> None:
        notes.append(message)
        notify(message, **kwargs)

    app.notify = spy  # type: ignore[method-assign]
    return notes


async def choose(pilot, title: str) -> None:
    """Run the palette's command `title` (the palette is open, with a query that finds it)."""
    options = pilot.app.screen.query_one("CommandList")
    titles = [str(options.get_option_at_index(i).prompt).split("\n")[0] for i in range(options.option_count)]
    options.highlighted = titles.index(title)
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(pilot.app.screen, CommandPalette))


def results(app: DefenderApp) -> ResultsPane:
    return app.query_one(ResultsPane)


async def test_suppress_from_settings_leads_to_the_findings_and_says_what_to_do(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    notes = notes_of(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settings_ready(pilot)
        hits = await palette_hits(pilot, "suppress")
        assert hits[0] == (
            "Suppress findings",
            f"Results{INSIDE}findings: suppress the marked findings (s)",
        ), hits
        await choose(pilot, "Suppress findings")
        tabs = app.query_one(TabbedContent)
        await until(pilot, lambda: tabs.active == "tab-results" and bool(notes))
        # Results opened on its audit list: the way down to the findings, then the marks.
        assert results(app).level == Level.TASKS
        assert notes[-1] == (
            "Open an audit with ⏎ and a check with ⏎. Mark findings with space (or A for all), then press s."
        )
        # Once a check's findings were opened, the palette leads back to them from elsewhere.
        await until(pilot, lambda: results(app).table.row_count > 0)
        await pilot.press("enter")
        await until(pilot, lambda: results(app).level == Level.CHECKS and results(app).table.row_count > 0)
        await pilot.press("enter")
        await until(pilot, lambda: results(app).level == Level.FINDINGS)
        await pilot.press("1")
        await settings_ready(pilot)
        await palette_hits(pilot, "suppress")
        await choose(pilot, "Suppress findings")
        await until(pilot, lambda: tabs.active == "tab-results" and len(notes) == 2)
        assert results(app).level == Level.FINDINGS
        assert notes[-1] == "Mark findings with space (or A for all), then press s."
        assert app.screen is app.screen_stack[0]  # nothing was suppressed unasked
        # From Results itself it acts on the marks, as s does.
        await pilot.press("space")
        await palette_hits(pilot, "suppress")
        await choose(pilot, "Suppress findings")
        await until(pilot, lambda: isinstance(app.screen, SuppressModal))


async def test_audit_now_from_results_opens_the_check_picker(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settings_ready(pilot)
        await pilot.press("3")
        await until(pilot, lambda: app.query_one(TabbedContent).active == "tab-results")
        hits = await palette_hits(pilot, "audit now")
        assert hits[0][0] == "Audit now", hits
        assert hits[0][1] == "Schedules: run an on-demand audit of the checks you pick (o)"
        await choose(pilot, "Audit now")
        await until(pilot, lambda: isinstance(app.screen, CheckPickerModal))
        assert app.query_one(TabbedContent).active == "tab-schedules"


async def test_cancel_audit_from_the_findings_goes_up_to_the_audits(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    notes = notes_of(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settings_ready(pilot)
        await pilot.press("3")
        await until(pilot, lambda: app.query_one(TabbedContent).active == "tab-results")
        await until(pilot, lambda: results(app).table.row_count > 0)
        await pilot.press("enter")
        await until(pilot, lambda: results(app).level == Level.CHECKS and results(app).table.row_count > 0)
        hits = await palette_hits(pilot, "cancel audit")
        assert hits[0] == (
            "Cancel audit",
            f"Results{INSIDE}audit tasks: cancel the audit in progress under the cursor (c)",
        )
        await choose(pilot, "Cancel audit")
        await until(pilot, lambda: bool(notes))
        assert results(app).level == Level.TASKS
        assert notes[-1] == "Move to an audit in progress, then press c."


async def test_read_only_palette_finds_changes_only_as_refused(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab, read_only=True), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settings_ready(pilot)
        # Not in the list the palette opens with, as the keys are not in the footer...
        hits = await palette_hits(pilot, "")
        assert "Go to Mitigation" in [h[0] for h in hits]
        assert not {"Suppress findings", "New scheduled audit", "Toggle check"} & {h[0] for h in hits}
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, CommandPalette))
        # ...but named, it is found and refused with the reason, as its key is.
        hits = await palette_hits(pilot, "suppress")
        assert hits[0][0] == "Suppress findings", hits
        assert hits[0][1].endswith("refused: read-only"), hits
        await choose(pilot, "Suppress findings")
        status = app.query_one("#status", Static)
        await until(pilot, lambda: "Read-only" in str(status.render()))
        assert "Suppress findings is refused" in str(status.render())
        assert app.query_one(TabbedContent).active == "tab-settings"


async def test_the_palette_shows_the_users_keys(lab: str) -> None:
    keymap = {"results-suppress": "x", "results-mark": "m", "pane-results": "f3"}
    app = DefenderApp(sandbox_settings(lab), Settings(keymap=keymap), None)
    notes = notes_of(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settings_ready(pilot)
        hits = dict(await palette_hits(pilot, "suppress"))
        assert hits["Suppress findings"].endswith("(x)"), hits
        await choose(pilot, "Suppress findings")
        await until(pilot, lambda: bool(notes))
        assert notes[-1].endswith("Mark findings with m (or A for all), then press x.")
        hits = dict(await palette_hits(pilot, "go to results"))
        assert hits["Go to Results"].endswith("(f3)"), hits


async def test_from_a_finding_the_palette_closes_it_and_goes(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await settings_ready(pilot)
        await pilot.press("3")
        await until(pilot, lambda: app.query_one(TabbedContent).active == "tab-results")
        await until(pilot, lambda: results(app).table.row_count > 0)
        await pilot.press("enter")
        await until(pilot, lambda: results(app).level == Level.CHECKS and results(app).table.row_count > 0)
        await pilot.press("enter")
        await until(pilot, lambda: results(app).level == Level.FINDINGS and results(app).table.row_count > 0)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FindingDetailScreen))
        await palette_hits(pilot, "new mitigation action")
        await choose(pilot, "New mitigation action")
        await until(pilot, lambda: isinstance(app.screen, ActionForm))
        assert app.query_one(TabbedContent).active == "tab-mitigation"
        assert not any(isinstance(s, FindingDetailScreen) for s in app.screen_stack)


def test_the_readme_key_table_is_the_apps() -> None:
    """README.md's key table is generated from the bindings: a key added, renamed or reworded without
    `python scripts/key_table.py --write` fails here."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    import key_table

    readme = key_table.README.read_text()
    assert key_table.replaced(readme) == readme, "run: python scripts/key_table.py --write"
    assert f"| Results{INSIDE}findings | `s` | Suppress findings |" in readme
