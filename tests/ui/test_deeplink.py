"""`--task TASK_ID`: the app opens on that audit's "All findings" without a key, at 80x24, on the sandbox."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from iot_defender_tui.cli import build_parser
from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import runtime
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.panes.results import Level, ResultsPane
from tests.support.factories import defender_state, seed_cert_findings, seed_task
from tests.support.sandbox import make_client, sandbox_settings
from tests.support.ui import until
from tests.ui.test_results import LAB_CHECKS, shown, static_text


@pytest.fixture
def audit(sandbox_url: str, aws_env: Path) -> tuple[str, str]:
    """The lab fleet and one completed audit of its three failing checks: (url, task id)."""
    runtime().options.audit_seconds = 0.2
    seed_fleet("lab")
    iot = make_client(sandbox_url)
    task_id = iot.start_on_demand_audit_task(targetCheckNames=list(LAB_CHECKS))["taskId"]
    deadline = time.monotonic() + 20
    while iot.describe_audit_task(taskId=task_id)["taskStatus"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, "the audit did not finish"
        time.sleep(0.05)
    return sandbox_url, task_id


def make_app(url: str, task_id: str) -> DefenderApp:
    return DefenderApp(sandbox_settings(url), Settings(idle_poll_seconds=0.3), None, open_task=task_id)


def crumb(pane: ResultsPane) -> str:
    return static_text(pane.query_one("#crumb", Static))


def status(app: DefenderApp) -> str:
    return static_text(app.query_one("#status", Static))


def active(app: DefenderApp) -> str:
    return app.query_one(TabbedContent).active


async def loaded(pilot: Pilot, pane: ResultsPane, rows: int) -> None:
    await until(
        pilot,
        lambda: pane.level == Level.FINDINGS and pane.table.row_count == rows and not pane.stream.loading,
    )


def test_task_flag_parses() -> None:
    args = build_parser().parse_args(["--task", "a1b2_C3-d4", "--sandbox", "--read-only"])
    assert args.task == "a1b2_C3-d4" and args.sandbox and args.read_only
    assert build_parser().parse_args(["--task", "x" * 40]).task == "x" * 40
    assert not hasattr(build_parser().parse_args([]), "task")  # SUPPRESS, like the other TUI flags


@pytest.mark.parametrize("bad", ["", "x" * 41, "abc def", "abc/def", "tâche"])
def test_task_flag_refuses_a_bad_id(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--task", bad])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--task" in err and "not an audit task id" in err


async def test_opens_all_findings_without_a_key(audit: tuple[str, str]) -> None:
    url, task_id = audit
    expected = sum(
        d["nonCompliantResourcesCount"]
        for d in make_client(url).describe_audit_task(taskId=task_id)["auditDetails"].values()
    )
    app = make_app(url, task_id)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await loaded(pilot, pane, expected)
        assert active(app) == "tab-results"
        assert "Audit > All findings > findings" in crumb(pane)
        text = shown(pane)
        # A row of every failing check: the shared certificate, the lab's permissive policy, logging off.
        for words in ("Device certific", "SensorDevicePol", "Logging disabled"):
            assert words in text, text
        assert app.focused is pane.query_one("#findings")
        # The identity is asked for after the findings, and still reaches the header.
        header = app.query_one("#header")
        await until(pilot, lambda: "123456789012" in header.render_text().plain)
        await pilot.press("space")  # keys act on the findings at once
        assert pane.table.mark_count == 1 and "1 marked" in static_text(pane.query_one("#status", Static))

        await pilot.press("escape")  # a mark does not stop escape: up to this audit's checks
        assert pane.level == Level.CHECKS
        await until(pilot, lambda: "All findings" in shown(pane) and "> checks" in crumb(pane))
        assert all(any(check in k for k in pane.table.visible_keys()) for check in LAB_CHECKS)
        await pilot.press("escape")  # up to the task list, filled by the pane's poll
        assert pane.level == Level.TASKS
        await until(pilot, lambda: task_id in pane.table.visible_keys() and "COMPLETED" in shown(pane))
        assert app.focused is pane.query_one("#tasks")
        await pilot.press("2")  # pane keys as usual
        await until(pilot, lambda: active(app) == "tab-schedules")
        assert "Error" not in status(app) and status(app).strip() == ""


async def test_unknown_task_shows_a_message_and_the_task_list(audit: tuple[str, str]) -> None:
    url, task_id = audit
    app = make_app(url, "no-such-task")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Audit task no-such-task not found" in status(app))
        pane = app.query_one(ResultsPane)
        assert active(app) == "tab-results" and pane.level == Level.TASKS
        await until(pilot, lambda: task_id in pane.table.visible_keys())
        assert "COMPLETED" in shown(pane) and "Audit tasks" in crumb(pane)
        assert app.is_running


async def test_a_pane_key_pressed_before_the_audit_opens_wins(audit: tuple[str, str]) -> None:
    url, task_id = audit
    runtime().options.latency_ms = (
        150  # the audit takes a while to open: the key lands before (reset per test)
    )
    app = make_app(url, task_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: app.dd is not None)
        pane = app.query_one(ResultsPane)
        await until(
            pilot,
            lambda: pane.level == Level.FINDINGS and not pane.stream.loading and pane.table.row_count > 0,
        )
        await pilot.pause(0.2)
        assert active(app) == "tab-schedules"  # the deep link loaded behind it, without taking focus
        assert app.focused is not None and pane not in app.focused.ancestors_with_self
        await pilot.press("3")
        await until(
            pilot, lambda: active(app) == "tab-results" and app.focused is pane.query_one("#findings")
        )
        assert "SensorDevicePol" in shown(pane)


async def test_an_audit_larger_than_the_first_page_shows_every_finding_once(
    sandbox_url: str, aws_env: Path
) -> None:
    # The first page (100 findings of any check) comes with the audit's description; the checks' own pages
    # bring those again: the list still holds each finding once, and all of them.
    state = defender_state()
    checks = {"DEVICE_CERTIFICATE_SHARED_CHECK": 180, "DEVICE_CERTIFICATE_AGE_CHECK": 170}
    task = seed_task(state, runtime().clock.now() - 600, checks=tuple(checks))
    for check, count in checks.items():
        seeded = seed_cert_findings(state, task, count, check_name=check)
        task.checks[check].non_compliant = len(seeded)
    app = make_app(sandbox_url, task.task_id)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ResultsPane)
        await loaded(pilot, pane, 350)
        assert set(pane.table.model.keys) == set(task.finding_ids)
        assert len(pane.table.model.keys) == 350
