"""The app shell on the sandbox: header, pane keys, help, errors in the status line, and --sandbox launch."""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import pytest
from textual.widgets import Input, TabbedContent

from iot_defender_tui.cli import build_parser
from iot_defender_tui.config import Settings
from iot_defender_tui.ui.app import PANES, DefenderApp, pane_class
from iot_defender_tui.ui.help import HelpScreen
from iot_defender_tui.ui.launch import connection_for, start_sandbox, tuning_for
from iot_defender_tui.ui.panes.schedules_form import ScheduleForm
from tests.support import ui
from tests.support.sandbox import FAST, closed_port_url, sandbox_settings

until = partial(ui.until, timeout=30.0)  # this module's waits keep the patience they had


def header(app: DefenderApp) -> str:
    return str(app.query_one("#header").render_text())


async def test_header_and_pane_keys(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "connected" in header(app) and "refreshed" in header(app))
        text = header(app)
        assert "123456789012" in text and "us-east-1" in text
        assert "arn:aws:sts::123456789012:" in text
        assert "READ-ONLY" not in text
        tabs = app.query_one(TabbedContent)
        present = {pane_id: key for pane_id, key, _ in app.pane_keys}
        assert present == {
            "settings": "1",
            "schedules": "2",
            "results": "3",
            "mitigation": "4",
            "overview": "0",
        }
        for pane_id in ("results", "overview", "mitigation", "schedules", "settings"):
            await pilot.press(present[pane_id])
            await until(pilot, lambda pane_id=pane_id: tabs.active == f"tab-{pane_id}")


async def test_help_lists_pane_and_app_keys(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.focused is not None and app.focused.id == "settings-table")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = str(app.screen.query_one("#help-keys").render())
        for description in ("Toggle check", "Edit threshold", "Save", "Refresh", "Quit", "Settings"):
            assert description in keys
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))


async def test_keymap_from_settings(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(keymap={"refresh": "f5"}), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "refreshed" in header(app))
        keys = {b.binding.id: key for key, b in app.screen.active_bindings.items()}
        assert keys["refresh"] == "f5"


async def test_unreachable_endpoint_shows_error_not_crash(aws_env: Path) -> None:
    app = DefenderApp(sandbox_settings(closed_port_url()), Settings(), None, tuning=FAST)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "error" in header(app), timeout=60)
        await until(pilot, lambda: "127.0.0.1" in str(app.query_one("#status").render()))
        assert app.is_running


async def test_read_only_badge(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab, read_only=True), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "connected" in header(app))
        assert "READ-ONLY" in header(app)


def test_connection_flags_beat_env_beat_config(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(profile="cfg", region="eu-west-1", endpoint_url="http://cfg", read_only=True)
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_IOT", raising=False)
    conn = connection_for(build_parser().parse_args([]), settings)
    assert (conn.profile, conn.region, conn.endpoint_url, conn.read_only) == (
        "cfg",
        "ap-south-1",
        "http://cfg",
        True,
    )
    args = build_parser().parse_args(["--region", "us-west-2", "--endpoint-url", "http://flag"])
    conn = connection_for(args, settings)
    assert (conn.region, conn.endpoint_url) == ("us-west-2", "http://flag")


def test_rate_limit_off_by_flag_config_or_sandbox() -> None:
    parse = build_parser().parse_args
    assert tuning_for(parse([]), Settings()).rate_scale == 1.0
    assert not tuning_for(parse(["--no-rate-limit"]), Settings()).rate_scale
    assert not tuning_for(parse([]), Settings(rate_limit=False)).rate_scale
    assert not tuning_for(parse(["--sandbox"]), Settings()).rate_scale  # a sandbox has no quotas
    assert tuning_for(parse(["--read-only"]), Settings(read_only=True)).rate_scale == 1.0


def test_journal_flags_still_parse() -> None:
    args = build_parser().parse_args(["--region", "us-west-2", "journal", "--reconcile", "--profile", "p"])
    assert args.command == "journal" and args.profile == "p"
    assert isinstance(build_parser().parse_args(["--sandbox", "--devices", "5"]), argparse.Namespace)


def test_sandbox_child_starts_and_stops() -> None:
    child = start_sandbox(devices=0)
    try:
        assert child.url.startswith("http://127.0.0.1:")
        assert child.process.poll() is None
    finally:
        child.stop()
    assert child.process.poll() is not None
    child.stop()  # twice is harmless (atexit calls it again)


def test_every_pane_of_the_table_can_be_composed_and_settings_comes_first() -> None:
    assert PANES[0][0] == "settings"
    assert [pane_class(pane_id).__name__ for pane_id, *_ in PANES] == [name for *_, name in PANES]


async def test_help_lists_every_key_of_the_pane_and_scrolls_at_80x24(lab: str) -> None:
    from textual.containers import VerticalScroll

    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.focused is not None and app.focused.id == "settings-table")
        await pilot.press("3")
        await until(pilot, lambda: app.focused is not None and app.focused.id == "tasks")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = str(app.screen.query_one("#help-keys").render())
        for description in ("Filter", "Sort", "Reverse", "Open", "Back", "Command palette", "Quit", "Down"):
            assert description in keys, description
        box = app.screen.query_one(VerticalScroll)
        assert box.region.height <= 24 and box.region.width <= 80
        assert box.max_scroll_y > 0  # more keys than lines: it scrolls
        await pilot.press("end")
        assert box.scroll_y == box.max_scroll_y


async def test_a_pane_key_pressed_while_connecting_is_kept(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")  # before the client is open
        await until(pilot, lambda: "refreshed" in header(app))
        tabs = app.query_one(TabbedContent)
        await until(pilot, lambda: app.focused is not None and app.focused.id == "tasks")
        assert tabs.active == "tab-results"


def footer_keys(app: DefenderApp) -> set[str]:
    from iot_defender_tui.ui.widgets.footer import Footer

    return {hint.description for hint in app.screen.query_one(Footer).shown}


async def test_a_pane_is_composed_when_first_shown_and_only_once(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.focused is not None and app.focused.id == "settings-table")
        assert [pane.id for pane in app.all_panes()] == ["settings"]
        await pilot.press("4", "4", "2", "4")  # faster than a pane is composed
        tabs = app.query_one(TabbedContent)
        mitigation = app.query_one("#mitigation")
        await until(
            pilot,
            lambda: (
                tabs.active == "tab-mitigation"
                and app.focused is not None
                and mitigation in list(app.focused.ancestors)
            ),
        )
        assert sorted(pane.id for pane in app.all_panes()) == ["mitigation", "schedules", "settings"]
        await pilot.press("2")
        await until(pilot, lambda: app.focused is not None and app.focused.id == "schedule-list")


async def test_the_footer_follows_a_burst_of_key_changes(lab: str) -> None:
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Toggle check" in footer_keys(app))
        await pilot.press("3", "1", "3")  # each changes the keys; the footer follows the last
        await until(pilot, lambda: app.focused is not None and app.focused.id == "tasks")
        await until(pilot, lambda: "Filter" in footer_keys(app))
        assert "Toggle check" not in footer_keys(app)


def test_the_cyclic_collector_runs_while_the_app_runs(aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from iot_defender_tui.cli import main

    seen: list[bool] = []
    monkeypatch.setattr(DefenderApp, "run", lambda self, *args, **kwargs: seen.append(gc.isenabled()))
    try:
        assert main(["--endpoint-url", closed_port_url(), "--region", "us-east-1"]) == 0
    finally:
        gc.unfreeze()  # what start-up froze: this process goes on running other tests
    assert seen == [True]  # held off only while the app was being built (cli.main)
    assert gc.isenabled()


@pytest.mark.parametrize("composed", [False, True], ids=["first-show", "shown-before"])
async def test_keys_typed_right_after_a_pane_key_are_that_panes(lab: str, composed: bool) -> None:
    """`2nabc` in one burst, as over SSH: `n` used to reach the screen while the Schedules pane was being
    composed and focused, and was lost; `abc` then went nowhere."""
    app = DefenderApp(sandbox_settings(lab), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.focused is not None and app.focused.id == "settings-table")
        if composed:
            await pilot.press("2")
            await until(pilot, lambda: app.focused is not None and app.focused.id == "schedule-list")
            await pilot.press("1")
            await until(pilot, lambda: app.focused is not None and app.focused.id == "settings-table")
        ui.type_burst(app, "2nabc")
        await until(pilot, lambda: isinstance(app.screen, ScheduleForm), "the new schedule form")
        form = app.screen
        typed = lambda: [field.value for field in form.query("#name").results(Input)]  # noqa: E731
        await until(pilot, lambda: typed() == ["abc"], "the name typed")
        assert len(app.screen_stack) == 2
