"""At 80x24 over SSH: key hints that fit, a cursor row readable in every theme, colours follow the theme."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.theme import BUILTIN_THEMES

from iot_defender_tui.ui.widgets.contrast import contrast
from iot_defender_tui.ui.widgets.fast_table import Column, FastTable
from iot_defender_tui.ui.widgets.footer import GAP, Hint, fit

SEVERITY = {"CRITICAL": "bold red", "LOW": "cyan"}
COLUMNS = [
    Column("Severity", width=8, style=lambda text: SEVERITY.get(text, "")),
    Column("Reason", fraction=1),
    Column("Status", width=8),
]
ROWS = [
    ("f1", ("CRITICAL", "Policy allows broad access", Text("CANCELED", style="dim"))),
    ("f2", ("LOW", "Certificate expiring", "ok")),
]


class TableApp(App[None]):
    AUTO_FOCUS = None  # the tests choose when the table has focus

    def compose(self) -> ComposeResult:
        yield FastTable(COLUMNS, markable=True)


def cells(strip: Strip) -> list[tuple[str, object]]:
    return [(s.text.strip(), s.style) for s in strip if s.text.strip() and s.style is not None]


@pytest.mark.parametrize("focused", [True, False], ids=["focused", "blurred"])
async def test_the_cursor_row_is_readable_in_every_theme(focused: bool) -> None:
    app = TableApp()
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(FastTable)
        table.append_rows(ROWS)
        if focused:
            table.focus()
        await pilot.pause()
        for theme in sorted(BUILTIN_THEMES):
            app.theme = theme
            await pilot.pause()
            for text, style in cells(table.render_line(1)):  # the cursor row
                assert not style.dim, (theme, text)
                assert style.color is not None and style.bgcolor is not None, (theme, text)
                if not style.bgcolor.triplet:
                    continue  # an ANSI theme: the terminal's own palette decides, nothing to measure
                ratio = contrast(style.color, style.bgcolor)
                assert ratio >= 4.5, (theme, text, str(style), round(ratio, 2))  # WCAG AA


async def test_a_theme_change_redraws_the_cached_rows() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(FastTable)
        table.append_rows(ROWS)
        table.focus()
        app.theme = "textual-dark"
        await pilot.pause()
        before = (cells(table.render_line(1)), cells(table.render_line(2)))
        app.theme = "nord"
        await pilot.pause()
        after = (cells(table.render_line(1)), cells(table.render_line(2)))
        assert before[0] != after[0]  # the cursor row: the theme's accent and its text
        assert before[1] != after[1]  # a plain row: the theme's text colour


async def test_focus_and_blur_redraw_the_cursor_row() -> None:
    """The cursor row's cached line follows the focus (its key holds it; nothing is cleared on focus)."""
    app = TableApp()
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(FastTable)
        table.append_rows(ROWS)
        await pilot.pause()
        blurred = cells(table.render_line(1))
        table.focus()
        await pilot.pause()
        focused = cells(table.render_line(1))
        assert focused != blurred
        app.set_focus(None)
        await pilot.pause()
        assert cells(table.render_line(1)) == blurred
        table.focus()
        await pilot.pause()
        assert cells(table.render_line(1)) == focused


def test_hints_fit_in_columns_of_two_rows_and_drop_the_least_important_first() -> None:
    keys = [("a", "Mitigate"), ("space", "Mark"), ("/", "Filter"), ("q", "Quit")]
    ordered = [Hint(key, key, description) for key, description in keys]
    pinned = [Hint("?", "?", "Help"), Hint("ctrl+p", "^p", "palette")]
    assert fit(ordered, pinned, 80) == [ordered[:2], ordered[2:]]
    # Too narrow for all: the last (least important) go first, the pinned column stays.
    narrow = fit(ordered, pinned, 1 + 10 + GAP + 10)
    assert narrow == [ordered[:2]]
    assert fit(ordered, pinned, 5) == []
