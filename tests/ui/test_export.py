"""Export and copy from the Results pane's findings (issue 15, point 3), on the lab sandbox: `e` writes the
list as shown (filter and sort applied) to CSV or JSON, read back by the csv and json modules; `y` copies
the highlighted finding's ids (or the marked findings') to the clipboard."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from iot_defender_tui.aws.client import DefenderClient
from iot_defender_tui.config import Settings
from iot_defender_tui.history.store import AuditStore
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.modals import ConfirmModal
from iot_defender_tui.ui.panes import results_export
from iot_defender_tui.ui.panes.results import Level, ResultsPane
from iot_defender_tui.ui.panes.results_export import COLUMNS, ExportModal
from tests.support.results import listed
from tests.support.sandbox import ACCOUNT, REGION, sandbox_settings
from tests.support.ui import connected, until
from tests.ui.test_history import open_all_findings
from tests.ui.test_results import Harness, open_shared_certificate_findings, shown


def status(pane: ResultsPane) -> str:
    return str(pane.query_one("#status", Static).render())


async def open_export(pilot, app) -> ExportModal:
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, ExportModal), "the export dialog")
    modal = app.screen
    assert isinstance(modal, ExportModal)
    return modal


async def submit(pilot, modal: ExportModal, path: Path | str | None = None) -> None:
    """The path typed (or the default kept), enter."""
    field = modal.query_one("#path", Input)
    field.focus()
    if path is not None:
        field.value = str(path)
    await pilot.press("enter")


async def test_e_writes_the_shown_rows_as_csv_in_their_order_even_read_only(
    lab: str, dd: DefenderClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = Harness(dd, read_only=True)  # an export changes nothing at AWS
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_all_findings(pilot, pane)
        await pilot.press("o", "o", "O")  # by severity, descending
        await pilot.press("slash", *"i", "enter")  # a filter that keeps some rows
        await until(pilot, lambda: pane.table.filter_text == "i")
        expected = listed(pane)
        assert 0 < len(expected) <= 3

        modal = await open_export(pilot, app)
        await pilot.press("enter")  # CSV, the first format: on to the path
        assert app.focused is modal.query_one("#path", Input)
        task = pane._view().task_id
        default = tmp_path / f"findings-{task[:8]}-all.csv"
        assert modal.query_one("#path", Input).value == str(default)
        await pilot.press("enter")
        await until(pilot, lambda: "Exported" in status(pane), "the export's outcome")
        assert f"Exported {len(expected)} finding" in status(pane) and str(default) in status(pane)

        with default.open(newline="", encoding="utf-8") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
        assert tuple(reader.fieldnames or ()) == COLUMNS
        assert [r["finding_id"] for r in rows] == [f.finding_id for f in expected]
        for row, finding in zip(rows, expected, strict=True):
            assert row["check"] == finding.check_name and row["severity"] == finding.severity
            assert row["resource_type"] == finding.resource.resource_type
            assert row["resource_id"] == finding.resource.full_id
            assert row["task_id"] == task and row["suppressed"] == "false"
            assert datetime.fromisoformat(row["found_time"]) == finding.finding_time
        assert not list(tmp_path.glob(".*.part"))  # written under a temporary name, then renamed
        assert app.errors == []


async def test_json_is_parsed_back_and_an_existing_file_is_replaced_only_once_confirmed(
    lab: str, dd: DefenderClient, tmp_path: Path
) -> None:
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_all_findings(pilot, pane)
        expected = listed(pane)
        target = tmp_path / "findings.json"
        target.write_text("keep me", encoding="utf-8")

        modal = await open_export(pilot, app)
        field = modal.query_one("#path", Input)
        await pilot.press("down")  # JSON: the default path's extension follows
        assert field.value.endswith(".json")
        await submit(pilot, modal, target)
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the overwrite question")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is modal)
        assert target.read_text(encoding="utf-8") == "keep me"
        assert "not overwritten" in str(modal.query_one("#path-problem", Static).render())
        assert field.value == str(target)  # what was typed stays

        await submit(pilot, modal)
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), "the overwrite question")
        await pilot.press("y")
        await until(pilot, lambda: "Exported" in status(pane), "the export's outcome")
        records = json.loads(target.read_text(encoding="utf-8"))
        assert [r["finding_id"] for r in records] == [f.finding_id for f in expected]
        assert all(set(r) == set(COLUMNS) and r["suppressed"] is False for r in records)
        assert app.errors == []


async def test_a_path_that_cannot_be_written_keeps_what_was_typed_and_says_why(
    lab: str, dd: DefenderClient, tmp_path: Path
) -> None:
    app = Harness(dd)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_shared_certificate_findings(pilot, pane)
        modal = await open_export(pilot, app)
        problem = modal.query_one("#path-problem", Static)
        out = tmp_path / "out"
        out.mkdir()
        for typed, why in (
            (out / "missing" / "out.csv", f"No directory {out / 'missing'}"),
            (out, "is a directory"),
            ("  ", "type the file"),
        ):
            await submit(pilot, modal, typed)
            assert app.screen is modal
            assert why in str(problem.render())
            assert modal.query_one("#path", Input).value == str(typed)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not modal)
        assert list(out.iterdir()) == []


async def test_y_copies_the_finding_and_resource_ids_or_the_marked_finding_ids(
    lab: str, dd: DefenderClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = Harness(dd, read_only=True)
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await open_shared_certificate_findings(pilot, pane)
        (finding,) = listed(pane)
        certificate = finding.resource.device_certificate_id
        assert certificate

        await pilot.press("y")
        assert copied == [f"{finding.finding_id}\n{certificate}"]
        assert status(pane).endswith("Copied " + f"{finding.finding_id} {certificate}"[:59] + "…")

        await pilot.press("escape")
        await until(pilot, lambda: pane.level == Level.CHECKS)
        await pilot.press("home", "enter")  # All findings
        await until(pilot, lambda: pane.level == Level.FINDINGS and pane.table.row_count == 3)
        await until(pilot, lambda: not pane.stream.loading)
        await pilot.press("A", "y")
        assert copied[-1] == "\n".join(f.finding_id for f in listed(pane))
        assert "Copied 3 finding ids" in status(pane)
        assert app.errors == []

        monkeypatch.setattr(results_export, "COPY_MAX", 2)  # more marked than a terminal takes: refused
        await pilot.press("y")
        assert len(copied) == 2
        assert app.errors == ["3 findings are marked: y copies at most 2 ids (e exports them)."]


async def test_a_stored_list_exports_every_row_in_order_batch_by_batch(
    lab: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An audit read from the history on demand (the table holds no rows): all its shown rows, in the
    table's order, read a batch at a time."""
    from iot_defender_tui.history.generate import generate
    from iot_defender_tui.ui.panes.stored_rows import StoredRows

    monkeypatch.setattr(results_export, "BATCH", 700)
    read: list[int] = []
    store = AuditStore.open(tmp_path / "history.sqlite3")
    try:
        long_ago = datetime(2020, 1, 1, tzinfo=UTC)
        (old,) = generate(store, ACCOUNT, REGION, findings=5000, tasks=1, now=long_ago)
        app = DefenderApp(sandbox_settings(lab), Settings(), None, history_store=store)
        async with app.run_test(size=(100, 30)) as pilot:
            await connected(pilot)
            await pilot.press("3")
            pane = app.query_one(ResultsPane)
            await until(pilot, lambda: "(history)" in shown(pane))
            await pilot.press("end", "enter", "enter")  # the generated audit, All findings
            table = pane.table
            await until(pilot, lambda: isinstance(table.model, StoredRows) and not pane.stream.loading)
            assert pane._view().task_id == old
            await pilot.press("o", "o", "o", "O")  # by resource, descending
            await until(pilot, lambda: table.sort_state == (2, True))
            await pilot.press("slash", *"cert", "enter")
            await until(pilot, lambda: table.filter_text == "cert")
            expected = [f.finding_id for f in listed(pane)]
            assert 700 < len(expected) < 5000

            model = table.model
            assert isinstance(model, StoredRows)
            reading = model.stored.findings

            def counted(keys):
                keys = list(keys)
                read.append(len(keys))
                return reading(keys)

            monkeypatch.setattr(model.stored, "findings", counted)
            target = tmp_path / "stored.csv"
            modal = await open_export(pilot, app)
            await submit(pilot, modal, target)
            await until(pilot, lambda: "Exported" in status(pane), "the export's outcome", timeout=30)
            with target.open(newline="", encoding="utf-8") as file:
                assert [r["finding_id"] for r in csv.DictReader(file)] == expected
            assert f"Exported {len(expected):,} findings" in status(pane)
            assert max(read) == 700 and sum(read) == len(expected)
    finally:
        store.close()
