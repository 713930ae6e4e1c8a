"""Driving the app in tests: `until` waits for what the screen should show; `RecordingApp` is the real
app on the loopback sandbox, keeping what the user is told; `connected` waits for its first pane."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App
from textual.css.query import NoMatches
from textual.pilot import Pilot

from iot_defender_tui.ui.app import DefenderApp


def _holds(condition: Callable[[], bool]) -> bool:
    """A widget the condition reads may not be mounted yet (a screen just pushed, composed a frame
    later): not yet, rather than an error."""
    try:
        return condition()
    except NoMatches:
        return False


async def until(pilot: Pilot, condition: Callable[[], bool], what: str = "", timeout: float = 10.0) -> None:
    """Let the app run until `condition` holds; after `timeout` seconds fail, saying what was awaited
    and where the app was. Polls (no fixed sleeps): a wait costs only what the app needs."""
    if not isinstance(what, str):  # the copies this replaced took the timeout third
        raise TypeError(f"until(): `what` says what is awaited; pass the timeout by name, not {what!r}")
    deadline = time.monotonic() + timeout
    while not _holds(condition):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what or 'the condition'} ({where(pilot.app)})"
            )
        await pilot.pause(0.05)


def type_burst(app: App[Any], keys: str) -> None:
    """Keys as a fast typist over SSH sends them: all queued before the app handles the first (pilot's
    `press` lets the app settle after each key)."""
    for key in keys:
        app.post_message(events.Key(key, key))


def where(app: App[Any]) -> str:
    """The app's screen and focus, and the real app's header and status line: what a timeout shows."""
    said = [f"screen: {app.screen}", f"focus: {app.focused}"]
    try:
        base = app.screen_stack[0]
        for selector in ("#header", "#status"):
            for widget in base.query(selector):
                shown = widget.render_text() if hasattr(widget, "render_text") else widget.render()
                said.append(f"{selector}: {shown}")
    except Exception as error:  # the timeout is the failure to report, not this detail
        said.append(f"(no more: {error!r})")
    return ", ".join(said)


class RecordingApp(DefenderApp):
    """The real app, recording what the user is told (toasts, bells, errors) so the test can read it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notes: list[str] = []
        self.errors: list[str] = []
        self.bells = 0

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.notes.append(str(message))
        super().notify(message, *args, **kwargs)

    def bell(self) -> None:
        self.bells += 1

    def show_error(self, message: str) -> None:
        self.errors.append(message)
        super().show_error(message)


async def connected(pilot: Pilot, timeout: float = 10.0) -> None:
    """Wait until the app has connected and shows its first pane, focused."""
    app = pilot.app
    assert isinstance(app, DefenderApp)
    await until(pilot, lambda: app.current_pane() is not None and app.focused is not None, "the app", timeout)
