"""Switching the whole app between contexts without a restart (issue 17): `:` picks one, `ContextChosen`
switches, the header names it, the panes show its region's data, each context keeps its panes' state and
its own read-only mode, and a context that cannot connect says so in its own workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, OptionList

from iot_defender_tui.aws.contexts import Context
from iot_defender_tui.aws.errors import AwsError
from iot_defender_tui.aws.session import ConnectionSettings
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.app_contexts import NO_CONTEXTS
from iot_defender_tui.ui.context_picker import ContextPicker, fuzzy
from iot_defender_tui.ui.header import DefenderHeader
from iot_defender_tui.ui.messages import ContextChosen
from iot_defender_tui.ui.panes.results import ResultsPane
from tests.support import ui
from tests.support.sandbox import FAST, REGION, make_client
from tests.ui.test_results import shown

WEST = "eu-west-1"
EAST = Context(name="east", profile=None, region=REGION)
WEST_RO = Context(name="west", profile=None, region=WEST, read_only=True)


@pytest.fixture
def two_regions(sandbox_url: str, aws_env: Path) -> str:
    """The lab (with its completed audit) in us-east-1; nothing in eu-west-1."""
    seed_fleet("lab")
    return sandbox_url


def make_app(url: str, contexts: list[Context], active: str = "east") -> ui.RecordingApp:
    base = ConnectionSettings(region=REGION, endpoint_url=url, context=active)
    return ui.RecordingApp(base, Settings(), None, tuning=FAST, contexts=contexts)


def header(app: DefenderApp) -> str:
    return str(app.query_one(DefenderHeader).render_text())


def status(app: DefenderApp) -> str:
    return str(app.query_one("#status").render())


def results(app: DefenderApp) -> ResultsPane:
    pane = app.current_pane()
    assert isinstance(pane, ResultsPane), pane
    return pane


async def test_switch_shows_the_other_region_and_back_keeps_the_panes(two_regions: str) -> None:
    app = make_app(two_regions, [EAST, WEST_RO])
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        assert header(app).split("\n")[1].startswith("ctx east  arn:aws:sts::")
        await pilot.press("3")
        await ui.until(pilot, lambda: app.current_pane() is not None and "COMPLETED" in shown(results(app)))
        east_results = results(app)
        await pilot.press("enter")  # the audit's checks
        await ui.until(pilot, lambda: east_results.level == 1 and "non-compliant" in shown(east_results))

        # `:`, letters in order ("wst"), enter.
        await pilot.press("colon")
        await ui.until(pilot, lambda: isinstance(app.screen, ContextPicker))
        await pilot.press("w", "s", "t")
        options = app.screen.query_one(OptionList)
        await ui.until(pilot, lambda: options.option_count == 1)
        await pilot.press("enter")
        await ui.until(pilot, lambda: "ctx west" in header(app) and "connected" in header(app))
        first, second = header(app).split("\n")
        assert WEST in first and "READ-ONLY" in first
        assert second.startswith("ctx west  read-only  arn:aws:sts::")
        assert app.dd is not None and app.dd.region == WEST
        # Its own Results (opened on the pane that was shown): eu-west-1 has no audit.
        await ui.until(pilot, lambda: app.current_pane() is not None and results(app).listed)
        west_results = results(app)
        assert west_results is not east_results
        assert "COMPLETED" not in shown(west_results)

        # Back with the Overview's message: east's Results as left, on the audit's checks.
        app.post_message(ContextChosen("east"))
        await ui.until(pilot, lambda: "ctx east" in header(app) and app.current_pane() is east_results)
        assert east_results.level == 1 and "non-compliant" in shown(east_results)
        assert REGION in header(app) and "READ-ONLY" not in header(app)
        assert app.dd is not None and app.dd.region == REGION
        assert app.errors == []


async def test_read_only_is_per_context(two_regions: str) -> None:
    app = make_app(two_regions, [EAST, WEST_RO], active="west")
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        assert "ctx west  read-only" in header(app)
        await pilot.press("space")  # Settings: toggle the check under the cursor
        await ui.until(pilot, lambda: "Read-only: Toggle check is refused" in status(app))
        assert "read-only context west" in status(app)

        await app.switch_context("east")
        await ui.until(pilot, lambda: app.focused is not None and app.focused.id == "settings-table")
        assert not app.read_only
        table = app.workspace.query_one("#settings-table", DataTable)

        def first_row() -> str:
            return " ".join(str(c) for c in table.get_row_at(0)) if table.row_count else ""

        await ui.until(pilot, lambda: first_row().startswith("✓"))  # the lab's checks, east's
        await pilot.press("space")
        await ui.until(pilot, lambda: first_row().startswith("✗*"))  # toggled, not saved yet
        assert "Read-only" not in status(app)


async def test_tasks_started_in_a_context_are_followed_in_it(two_regions: str) -> None:
    app = make_app(two_regions, [EAST, WEST_RO])
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        task_id = make_client(two_regions).start_on_demand_audit_task(
            targetCheckNames=["DEVICE_CERTIFICATE_SHARED_CHECK"]
        )["taskId"]
        app.track_task("audit", task_id)
        await app.switch_context("west")
        # Asked of east's client (the task is not in eu-west-1), told with east's name.
        await ui.until(pilot, lambda: any(n.startswith("Context east: Audit") for n in app.notes))
        assert "ctx west" in header(app)
        assert not any("not found" in e.lower() for e in app.errors)


async def test_a_failing_context_shows_its_error_and_can_be_left(two_regions: str) -> None:
    broken = Context(name="broken", profile=None, region="nowhere")
    app = make_app(two_regions, [EAST, broken])
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await app.switch_context("broken")
        connecting = app.workspace.query_one("#connecting")
        await ui.until(pilot, lambda: "Cannot connect" in str(connecting.render()))
        assert "ctx broken" in header(app) and "error" in header(app)
        assert "nowhere" in status(app)
        assert app.current_pane() is None
        await app.switch_context("east")
        await ui.until(pilot, lambda: app.current_pane() is not None and "connected" in header(app))
        assert "ctx east" in header(app) and "nowhere" not in status(app)


async def test_client_for_opens_each_context_once(two_regions: str) -> None:
    app = make_app(two_regions, [EAST, WEST_RO, Context(name="bad", profile=None, region="nowhere")])
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        west = await app.client_for(WEST_RO)
        assert west.region == WEST and west is await app.client_for(WEST_RO)
        assert await app.client_for(EAST) is app.dd  # the shown context's own
        assert (await west.identity()).account == "123456789012"
        with pytest.raises(AwsError):
            await app.client_for(app.contexts[2])
        assert "ctx east" in header(app)  # nothing was switched


async def test_colon_without_contexts_says_how_to_add_them(two_regions: str) -> None:
    app = ui.RecordingApp(ConnectionSettings(region=REGION, endpoint_url=two_regions), Settings(), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await pilot.press("colon")
        await ui.until(pilot, lambda: NO_CONTEXTS in status(app))
        assert not isinstance(app.screen, ContextPicker)


async def test_picker_escape_cancels(two_regions: str) -> None:
    app = make_app(two_regions, [EAST, WEST_RO])
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await pilot.press("colon")
        await ui.until(pilot, lambda: isinstance(app.screen, ContextPicker))
        assert app.screen.query_one(Input).has_focus
        await pilot.press("escape")
        await ui.until(pilot, lambda: not isinstance(app.screen, ContextPicker))
        assert "ctx east" in header(app) and len(app.workspaces) == 1


def test_fuzzy_takes_letters_in_order() -> None:
    assert fuzzy("ew1", "west  eu-west-1")
    assert not fuzzy("ew1", "east  us-east-1  account 123456789012")
    assert fuzzy("", "anything")


async def test_no_switch_under_an_open_screen(two_regions: str) -> None:
    """A form or screen over the panes works in its context: `:` is not offered there, nor a switch made."""
    from iot_defender_tui.ui.help import HelpScreen

    app = make_app(two_regions, [EAST, WEST_RO])
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        await pilot.press("question_mark")
        await ui.until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        app.post_message(ContextChosen("west"))
        await ui.until(pilot, lambda: any("then switch to west" in e for e in app.errors))
        assert "ctx east" in header(app) and app.dd is not None and app.dd.region == REGION


async def test_launch_gives_each_context_its_own_read_only(
    sandbox_url: str, aws_env: Path, tmp_path: Path
) -> None:
    """From the flags as `run_tui` reads them: started in the read-only context, the other may change."""
    from iot_defender_tui.cli import build_parser, load_cli_settings
    from iot_defender_tui.ui.launch import app_connection

    config = tmp_path / "config.toml"
    config.write_text(
        f'[[contexts]]\nname = "lab"\nregion = "{REGION}"\nread_only = true\n\n'
        f'[[contexts]]\nname = "elsewhere"\nregion = "{WEST}"\n',
        encoding="utf-8",
    )
    args = build_parser().parse_args(
        ["--config", str(config), "--context", "lab", "--endpoint-url", sandbox_url]
    )
    settings = load_cli_settings(args)
    assert settings is not None
    connection, contexts = app_connection(args, settings)
    assert [c.name for c in contexts] == ["lab", "elsewhere"]
    app = ui.RecordingApp(connection, settings, None, tuning=FAST, contexts=contexts)
    async with app.run_test(size=(80, 24)) as pilot:
        await ui.connected(pilot)
        assert app.read_only and app.dd is not None and app.dd.settings.read_only
        assert "ctx lab  read-only" in header(app)
        await app.switch_context("elsewhere")
        await ui.until(pilot, lambda: app.current_pane() is not None and "connected" in header(app))
        assert not app.read_only and app.dd is not None and not app.dd.settings.read_only
        assert app.dd.region == WEST and "read-only" not in header(app)


async def test_region_list_makes_a_context_per_region(sandbox_url: str, aws_env: Path) -> None:
    from iot_defender_tui.cli import build_parser
    from iot_defender_tui.ui.launch import app_connection

    args = build_parser().parse_args(["--region", f"{REGION},{WEST}", "--endpoint-url", sandbox_url])
    connection, contexts = app_connection(args, Settings())
    assert [c.name for c in contexts] == [f"default/{REGION}", f"default/{WEST}"]
    assert connection.context == f"default/{REGION}" and connection.region == REGION
