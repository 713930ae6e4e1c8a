"""Which journal the TUI records to: none means read-only, said in the header and the status line; a
`--sandbox` session has its own, and the user's journal never sees it."""

from __future__ import annotations

import gc
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from iot_defender_tui.aws.guard import ReadOnlyError
from iot_defender_tui.aws.journal import Journal
from iot_defender_tui.cli import build_parser
from iot_defender_tui.config import Settings, journal_path
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.ui import launch
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.launch import SandboxChild
from tests.support import ui
from tests.support.sandbox import sandbox_settings

until = partial(ui.until, timeout=30.0)  # this module's waits keep the patience they had


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IOT_DEFENDER_TUI_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _not_a_database(path: Path) -> None:
    path.write_bytes(b"this is not an SQLite database" * 100)


def _newer_schema(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")


@pytest.mark.parametrize("spoil", [_not_a_database, _newer_schema], ids=["corrupt", "newer"])
async def test_an_unopenable_journal_makes_the_app_read_only_and_says_why(
    spoil: Callable[[Path], None], home: Path, sandbox_url: str, aws_env: Path
) -> None:
    seed_fleet("lab")
    path = journal_path()
    path.parent.mkdir(parents=True)
    spoil(path)
    journal, problem = launch.open_journal(sandbox=False)
    assert journal is None and problem is not None and str(path) in problem

    app = DefenderApp(sandbox_settings(sandbox_url), Settings(), journal, journal_problem=problem)
    async with app.run_test(size=(120, 30)) as pilot:
        header = app.query_one("#header")
        await until(pilot, lambda: "connected" in str(header.render_text()))
        text = str(header.render_text())
        assert "READ-ONLY" in text and "journal unavailable" in text
        status = str(app.query_one("#status").render())
        assert status.startswith("Journal unavailable: ") and "Changes are refused" in status
        # The cause leads: at 80 columns the status line shows one row, and the path would hide it.
        cause = "not a database" if spoil is _not_a_database else "newer"
        assert cause in status[:78]
        # The keys that change things are refused as in --read-only, and so is the client itself.
        await pilot.press("2")
        await until(pilot, lambda: app.query("#schedules") and app.focused is not None)
        await pilot.press("o")
        await until(pilot, lambda: "refused" in str(app.query_one("#status").render()))
        assert "journal" in str(app.query_one("#status").render())
        assert app.dd is not None
        with pytest.raises(ReadOnlyError):
            await app.dd.start_audit(["LOGGING_DISABLED_CHECK"])


def _run_tui_without_a_screen(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """run_tui as `iot-defender-tui ARGV` runs it, up to the app it would run; a fake sandbox child."""
    seen: dict[str, object] = {}

    def run(app: DefenderApp) -> None:
        seen.update(app=app, path=None if app.journal is None else app.journal.path)
        if app.journal is not None:  # what a change made in this session leaves
            app.journal.record_intent(
                identity_arn="arn:aws:iam::123456789012:user/moto",
                account="123456789012",
                region="us-east-1",
                operation="StartAuditMitigationActionsTask",
                params={"taskId": "sandbox-task"},
            )

    def fake_sandbox(devices: int = 0, accounts: int = 0) -> SandboxChild:
        process = subprocess.Popen([sys.executable, "-c", "pass"])
        process.wait()
        return SandboxChild(process, "http://127.0.0.1:9")

    monkeypatch.setattr(DefenderApp, "run", run)
    monkeypatch.setattr(launch, "start_sandbox", fake_sandbox)
    for name in launch.DUMMY_CREDENTIALS:
        monkeypatch.setenv(name, "testing")
    try:
        assert launch.run_tui(build_parser().parse_args(argv), Settings()) == 0
    finally:
        gc.unfreeze()
    return seen


def test_a_sandbox_session_never_writes_the_users_journal(home: Path, monkeypatch: pytest.MonkeyPatch):
    with Journal.open() as mine:  # the user's own, with an old entry of theirs left unknown
        mine.record_intent(
            identity_arn="arn:aws:iam::123456789012:user/moto",
            account="123456789012",
            region="us-east-1",
            operation="CreateMitigationAction",
            params={"actionName": "real"},
        )
    seen = _run_tui_without_a_screen(["--sandbox"], monkeypatch)
    sandbox_journal = seen["path"]
    assert isinstance(sandbox_journal, Path) and sandbox_journal != journal_path()
    assert home not in sandbox_journal.parents
    assert not sandbox_journal.exists(), "it goes with its sandbox"
    with Journal.open(read_only=True) as mine:
        assert [e.operation for e in mine.entries()] == ["CreateMitigationAction"]


def test_the_tui_without_sandbox_records_to_the_users_journal(home: Path, monkeypatch: pytest.MonkeyPatch):
    seen = _run_tui_without_a_screen(["--endpoint-url", "http://127.0.0.1:9"], monkeypatch)
    assert seen["path"] == journal_path()
    app = seen["app"]
    assert isinstance(app, DefenderApp) and not app.read_only


def _data_dir_unusable(path: Path) -> None:
    # What an unwritable directory does (root, running the tests, could write anywhere).
    path.parent.rmdir()
    path.parent.write_text("a file where the data directory should be")


@pytest.mark.parametrize(
    "spoil", [_not_a_database, _newer_schema, _data_dir_unusable], ids=["corrupt", "newer", "no-dir"]
)
def test_the_tui_with_an_unopenable_journal_runs_read_only(
    spoil: Callable[[Path], None], home: Path, monkeypatch: pytest.MonkeyPatch
):
    journal_path().parent.mkdir(parents=True)
    spoil(journal_path())
    seen = _run_tui_without_a_screen(["--endpoint-url", "http://127.0.0.1:9"], monkeypatch)
    app = seen["app"]
    assert isinstance(app, DefenderApp) and seen["path"] is None
    assert app.read_only and app.connection.read_only
    assert app.journal_problem is not None and str(journal_path()) in app.journal_problem


async def test_the_journal_badge_shows_at_80_columns(home: Path, sandbox_url: str, aws_env: Path) -> None:
    app = DefenderApp(sandbox_settings(sandbox_url), Settings(), None, journal_problem="cannot open it")
    async with app.run_test(size=(80, 24)) as pilot:
        header = app.query_one("#header")
        await until(pilot, lambda: "refreshed" in str(header.render_text()))
        lines = [strip.text for strip in header.render_lines(header.region.reset_offset)]
        assert "READ-ONLY" in lines[0] and "refreshed" in lines[0], "the first line is not wrapped"
        assert lines[1].strip().startswith("journal unavailable")
