"""A failed first connection is not the end: the status line says why, `r` retries at once, and the app
retries by itself with a growing pause; once connected, the panes show as on a normal start."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from iot_defender_tui.config import Settings
from iot_defender_tui.sandbox import ticker
from iot_defender_tui.sandbox.fleet import seed_fleet
from iot_defender_tui.sandbox.runtime import Options
from iot_defender_tui.sandbox.server import SandboxServer
from iot_defender_tui.ui.app import DefenderApp
from iot_defender_tui.ui.header import DefenderHeader
from tests.support import ui
from tests.support.sandbox import FAST, closed_port_url, sandbox_settings

until = partial(ui.until, timeout=60.0)  # this module's waits keep the patience they had


def header(app: DefenderApp) -> str:
    return str(app.query_one(DefenderHeader).render_text())


def status_line(app: DefenderApp) -> str:
    return str(app.query_one("#status").render())


@pytest.fixture
def late_sandbox(sandbox_url: str, aws_env: Path) -> Iterator[tuple[str, SandboxServer]]:
    """A URL where nothing listens yet, and the sandbox to start there later (the lab seeded)."""
    seed_fleet("lab")
    url = closed_port_url()
    server = SandboxServer("127.0.0.1", int(url.rsplit(":", 1)[1]), Options(audit_seconds=0.5))
    try:
        yield url, server
    finally:
        server.stop()
        ticker.start()  # stopping this server stopped the ticker the session's sandbox shares


def panes_shown(app: DefenderApp) -> bool:
    return app.focused is not None and app.focused.id == "settings-table" and "connected" in header(app)


async def test_r_retries_a_failed_first_connection(late_sandbox: tuple[str, SandboxServer]) -> None:
    url, server = late_sandbox
    app = DefenderApp(sandbox_settings(url), Settings(), None, tuning=FAST)
    app.connect_retry = (3600.0,)  # only the key retries within this test
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "error" in header(app) and "127.0.0.1" in status_line(app))
        await until(pilot, lambda: "r retries now" in str(app.query_one("#connecting").render()))
        server.start()
        await pilot.press("r")
        await until(pilot, lambda: panes_shown(app))
        assert "arn:aws:sts::123456789012:" in header(app)
        await until(pilot, lambda: "refreshed" in header(app))
        assert "127.0.0.1" not in status_line(app)  # the old error is gone


async def test_the_app_retries_by_itself(late_sandbox: tuple[str, SandboxServer], monkeypatch) -> None:
    url, server = late_sandbox
    states: list[str] = []
    set_state = DefenderHeader.set_state
    monkeypatch.setattr(DefenderHeader, "set_state", lambda self, s: (states.append(s), set_state(self, s)))
    app = DefenderApp(sandbox_settings(url), Settings(), None, tuning=FAST)
    app.connect_retry = (0.1, 0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "retrying (2)" in states)
        changes = [s for n, s in enumerate(states) if n == 0 or states[n - 1] != s]
        assert changes[:4] == ["error", "retrying (1)", "error", "retrying (2)"]
        server.start()
        await until(pilot, lambda: panes_shown(app))  # no key pressed
