"""FastTable: 100,000 rows stay instant; filter, sort and marks; AWS-looking text is never markup."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from iot_defender_tui.ui.widgets.fast_table import Column, FastTable

ROWS = 100_000


def make_rows(start: int, stop: int):
    return [(f"k{i}", (f"row{i:06d}", Text(f"name-{i % 7}"), str(i % 10))) for i in range(start, stop)]


class TableApp(App[None]):
    def __init__(self, markable: bool = True) -> None:
        super().__init__()
        self.markable = markable
        self.selected: list[object] = []

    def compose(self) -> ComposeResult:
        yield FastTable(
            [Column("Id", width=10), Column("Name", fraction=2), Column("N", width=3, sort_key=int)],
            markable=self.markable,
        )

    def on_fast_table_selected(self, event: FastTable.Selected) -> None:
        self.selected.append(event.key)


def screen_text(table: FastTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


async def test_hundred_thousand_rows_render_only_what_shows() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FastTable)
        table.focus()
        for page in range(0, ROWS, 250):  # streamed in pages, as findings arrive
            table.append_rows(make_rows(page, page + 250))
        await pilot.pause()
        lines = screen_text(table)
        assert "Id" in lines[0] and "Name" in lines[0]
        assert "row000000" in lines[1] and "row000001" in lines[2]
        assert table.row_count == ROWS

        await pilot.press("end")
        assert table.cursor_key == f"k{ROWS - 1}"
        assert any("row099999" in line for line in screen_text(table))

        await pilot.press("home", "down", "down")
        assert table.cursor_key == "k2"
        table.append_rows(make_rows(ROWS, ROWS + 10))  # cursor and scroll stay put
        assert table.cursor_key == "k2" and table.scroll_y == 0

        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == ["k2"]


async def test_filter_narrows_and_clears() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FastTable)
        table.append_rows(make_rows(0, ROWS))
        table.set_filter("ROW01234")  # case-insensitive (its speed is measured by tests/perf/bench.py)
        assert table.row_count == 10
        await pilot.pause()
        assert "row012340" in screen_text(table)[1]
        table.set_filter("")
        assert table.row_count == ROWS


async def test_marks_count_and_mark_all_as_filtered() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FastTable)
        table.append_rows(make_rows(0, 100))
        table.toggle_mark("k1")
        table.toggle_mark("k2")
        table.toggle_mark("k2")
        assert table.marked == {"k1"}
        await pilot.pause()
        assert screen_text(table)[2].startswith("●")
        table.set_filter("name-3")
        table.mark_all()
        assert len(table.marked) == 1 + len([i for i in range(100) if i % 7 == 3])
        table.clear_marks()
        assert table.marked == frozenset()


async def test_sort_by_column_toggles_direction() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FastTable)
        table.focus()
        table.append_rows(make_rows(0, 30))
        table.sort_by(2)
        keys = table.visible_keys()
        assert [int(table.row_cells(k)[2].plain) for k in keys] == sorted(i % 10 for i in range(30))
        table.sort_by(2)  # again: descending
        assert table.row_cells(table.visible_keys()[0])[2].plain == "9"
        await pilot.press("o")  # cycles to the first column, ascending
        assert table.sort_state == (0, False)
        await pilot.press("O")
        assert table.visible_keys()[0] == "k29"
        await pilot.pause()
        assert "▼" in screen_text(table)[0]


async def test_markup_looking_text_is_shown_literally() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FastTable)
        table.append_rows([("a", ("[bold]x[/]", Text("[red]y[/red]"), "[/"))])
        await pilot.pause()
        line = screen_text(table)[1]
        assert "[bold]x[/]" in line and "[red]y[/red]" in line and "[/" in line


async def test_sorted_table_stays_sorted_while_rows_stream_and_change() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one(FastTable)
        table.append_rows(make_rows(0, 50))
        table.sort_by(2)
        table.move_to_key("k13")
        for start in range(50, 1000, 50):  # pages arriving after the user sorted
            table.append_rows(make_rows(start, start + 50))
        table.append_rows([("k5", ("row000005", "renamed", "0"))])  # a changed row moves
        await pilot.pause()
        keys = table.visible_keys()
        numbers = [int(table.row_cells(k)[2].plain) for k in keys]
        assert numbers == sorted(numbers) and len(keys) == 1000
        assert keys.index("k5") < 100  # now among the zeros
        assert table.cursor_key == "k13"  # the cursor stayed on its row
        table.set_filter("renamed")
        assert table.visible_keys() == ["k5"] and table.cursor_key == "k5"


async def test_plain_cells_take_their_column_style() -> None:
    class Styled(App[None]):
        def compose(self) -> ComposeResult:
            yield FastTable([Column("Severity", width=8, style=lambda t: "red" if t == "HIGH" else "")])

    async with Styled().run_test(size=(40, 6)) as pilot:
        table = pilot.app.query_one(FastTable)
        table.append_rows([("a", ("HIGH",)), ("b", ("LOW",)), ("c", (Text("[b]x[/b]", style="blue"),))])
        await pilot.pause()
        assert [c.plain for k in "abc" for c in table.row_cells(k)] == ["HIGH", "LOW", "[b]x[/b]"]
        assert str(table.row_cells("a")[0].style) == "red" and str(table.row_cells("c")[0].style) == "blue"
        table.move_cursor(2)  # off the rows checked: the cursor row is drawn in one readable colour
        high = [s for s in table.render_line(1) if s.text.strip() == "HIGH"]
        assert high and high[0].style is not None and high[0].style.color.name == "red"
        low = [s for s in table.render_line(2) if "LOW" in s.text]
        assert low and (
            low[0].style is None or low[0].style.color is None or low[0].style.color.name != "red"
        )
        assert "[b]x[/b]" in table.render_line(3).text  # markup-looking text stays literal
