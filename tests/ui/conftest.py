"""Fixtures of the tests that drive the app."""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from iot_defender_tui.sandbox.fleet import seed_fleet


@pytest.fixture
def lab(sandbox_url: str, aws_env: Path) -> str:
    """The sandbox's URL with the workshop lab seeded (the three failing checks), in a clean AWS env."""
    seed_fleet("lab")
    return sandbox_url


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC in this process, and back to what it was afterwards (tzset is process-wide)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if saved is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = saved
    time.tzset()


@pytest.fixture
def snap_compare(snap_compare: Any) -> Any:
    """pytest-textual-snapshot's compare, with every input's cursor held still before the picture.

    A focused Input blinks every 0.5 s on a real timer, so on a loaded machine the drive could end in
    either phase and the same screen gave two pictures (CI failed on the action form's name field).
    """

    def compare(app: Any, *args: Any, run_before: Any = None, **kwargs: Any) -> bool:
        async def steady(pilot: Any) -> None:
            done = run_before(pilot) if run_before is not None else None
            if inspect.isawaitable(done):
                await done
            for field in pilot.app.screen.query(Input):
                field.cursor_blink = False  # Textual shows the cursor, still, when blinking stops
            await pilot.pause()

        return bool(snap_compare(app, *args, run_before=steady, **kwargs))

    return compare
