"""Streamed rows reach the table a few times a second: the first at once, none stuck behind a pause."""

from __future__ import annotations

from textual.app import App, ComposeResult

from iot_defender_tui.ui.widgets.fast_table import Column, FastTable
from iot_defender_tui.ui.widgets.row_batcher import RowBatcher
from tests.support.ui import until


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FastTable([Column("Id", width=10), Column("Name")])


def rows(start: int, stop: int) -> list[tuple[str, tuple[str, str]]]:
    return [(f"k{i}", (f"row{i}", f"name{i}")) for i in range(start, stop)]


async def test_first_rows_at_once_then_batched_and_shown_after_a_pause_without_more_pages() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FastTable)
        flushed: list[int] = []
        batcher = RowBatcher(table, table, 0.3, lambda: flushed.append(table.row_count))
        batcher.add(rows(0, 5))
        assert table.row_count == 5  # the first page is not held back
        batcher.add(rows(5, 10))
        batcher.add(rows(10, 15))
        assert table.row_count == 5  # within the interval: gathered, not painted page by page
        # No further page comes (a throttled retry, say): the gathered rows still show.
        await until(pilot, lambda: table.row_count == 15, "the gathered rows", timeout=5.0)
        assert flushed == [5, 15]
        await pilot.pause()
        assert "row14" in "\n".join(table.render_line(y).text for y in range(16))


async def test_an_abandoned_load_never_paints_its_pending_rows() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FastTable)
        batcher = RowBatcher(table, table, 0.2)
        batcher.add(rows(0, 3))
        batcher.add(rows(3, 6))
        batcher.close()  # the user went to another check meanwhile
        batcher.add(rows(6, 9))
        batcher.flush()
        await pilot.pause(0.4)
        assert table.row_count == 3
